# SPDX-License-Identifier: MIT
# Plugin benchmark under JACK (not a test): xruns and jalv's cycle times while the helper is
# healthy, slow, hung, dead or unreachable. `ninja bench_xruns` runs it (docs/bench.md).
if(NOT TARGET continuo_lv2)
  return()
endif()
pkg_check_modules(CN_BJACK IMPORTED_TARGET jack)
if(NOT CN_BJACK_FOUND)
  return()
endif()
set(CN_BPT ${CMAKE_CURRENT_SOURCE_DIR}/plugin)
add_executable(bench_jack_probe ${CN_BPT}/bench_jack_probe.c ${CN_BPT}/jack_test_client.c)
target_link_libraries(bench_jack_probe PRIVATE PkgConfig::CN_BJACK m)
add_library(cn_bench_cycle_shim SHARED ${CN_BPT}/bench_cycle_shim.c)
target_link_libraries(cn_bench_cycle_shim PRIVATE PkgConfig::CN_BJACK Threads::Threads
                      ${CMAKE_DL_LIBS})
set(CN_BDEPS continuo_lv2 bench_jack_probe cn_bench_cycle_shim)
foreach(t jack_playrec continuo-helper)
  if(TARGET ${t})
    list(APPEND CN_BDEPS ${t})
  endif()
endforeach()
add_custom_target(bench_xruns
  COMMAND sh ${CN_BPT}/bench_xruns.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR}
  DEPENDS ${CN_BDEPS} USES_TERMINAL)
