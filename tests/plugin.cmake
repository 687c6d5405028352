# SPDX-License-Identifier: MIT
# continuo.lv2 tests: realtime safety through a lilv-free host with an LD_PRELOAD shim, state,
# bad input, ttl validation (sord_validate) and jalv under JACK's dummy driver.
if(NOT TARGET continuo_lv2)
  return()
endif()
set(CN_PT ${CMAKE_CURRENT_SOURCE_DIR}/plugin)
set(CN_PLUGIN_ENV "CN_PLUGIN_BUNDLE=${CMAKE_BINARY_DIR}/lv2/continuo.lv2"
    "CN_SOURCE_DIR=${CMAKE_SOURCE_DIR}" "CN_BINARY_DIR=${CMAKE_BINARY_DIR}")

add_library(cn_rt_shim SHARED ${CN_PT}/rt_shim.c)
target_link_libraries(cn_rt_shim PRIVATE ${CMAKE_DL_LIBS})
add_library(cn_plugin_harness STATIC ${CN_PT}/harness.c ${CMAKE_CURRENT_SOURCE_DIR}/support/check.c)
target_link_libraries(cn_plugin_harness PUBLIC cn_plugin_host m)
target_include_directories(cn_plugin_harness PUBLIC ${CN_PT} ${CMAKE_SOURCE_DIR}/plugin ${CMAKE_CURRENT_SOURCE_DIR}/support)

foreach(t test_plugin_rt test_plugin_state test_plugin_bad)
  if(EXISTS ${CN_PT}/${t}.c)
    add_executable(${t} ${CN_PT}/${t}.c)
    target_link_libraries(${t} PRIVATE cn_plugin_harness ${CMAKE_DL_LIBS} m)
    target_link_options(${t} PRIVATE -rdynamic)
    add_dependencies(${t} continuo_lv2 cn_rt_shim)
    add_test(NAME ${t} COMMAND ${t})
    set_tests_properties(${t} PROPERTIES TIMEOUT 300 ENVIRONMENT
      "${CN_PLUGIN_ENV};LD_PRELOAD=$<TARGET_FILE:cn_rt_shim>")
  endif()
endforeach()

# Bad links to a real helper (wrong CURVE key, another protocol version): needs the helper's
# test library, so it is built only with the helper.
if(TARGET cn_helper_testutil)
  add_executable(test_plugin_link ${CN_PT}/test_plugin_link.c ${CN_PT}/link_fixtures.c)
  target_link_libraries(test_plugin_link PRIVATE cn_plugin_harness cn_helper_testutil
                        ${CMAKE_DL_LIBS} m)
  add_dependencies(test_plugin_link continuo_lv2)
  add_test(NAME test_plugin_link COMMAND test_plugin_link)
  set_tests_properties(test_plugin_link PROPERTIES TIMEOUT 120 ENVIRONMENT "${CN_PLUGIN_ENV}")
endif()

add_test(NAME plugin_ttl COMMAND sh ${CN_PT}/validate_ttl.sh ${CMAKE_BINARY_DIR}/lv2/continuo.lv2)

pkg_check_modules(CN_TJACK IMPORTED_TARGET jack)
if(CN_TJACK_FOUND)
  add_executable(jack_playrec ${CN_PT}/jack_playrec.c ${CN_PT}/jack_test_client.c)
  target_link_libraries(jack_playrec PRIVATE PkgConfig::CN_TJACK PkgConfig::SNDFILE)
  add_test(NAME plugin_jalv COMMAND sh ${CN_PT}/jalv_loop.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(plugin_jalv PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE
                       ENVIRONMENT "${CN_PLUGIN_ENV}")
  # The same loop with the real helper and the golden tiny models (skipped until built).
  add_test(NAME plugin_jalv_helper COMMAND sh ${CN_PT}/jalv_loop.sh ${CMAKE_BINARY_DIR} helper
           ${CMAKE_SOURCE_DIR})
  set_tests_properties(plugin_jalv_helper PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE
                       ENVIRONMENT "${CN_PLUGIN_ENV};CN_JALV_WAIT=240")
  # Nobody listens at the local default endpoint: Generate makes the plugin start
  # continuo-helper itself (tiny models), and closing jalv stops it.
  add_test(NAME plugin_jalv_autostart COMMAND sh ${CN_PT}/jalv_loop.sh ${CMAKE_BINARY_DIR}
           autostart ${CMAKE_SOURCE_DIR})
  set_tests_properties(plugin_jalv_autostart PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77
                       RUN_SERIAL TRUE ENVIRONMENT "${CN_PLUGIN_ENV};CN_JALV_WAIT=240")
endif()
if(TARGET continuo-jack AND CN_TJACK_FOUND)
  add_test(NAME plugin_jack COMMAND sh ${CN_PT}/jack_loop.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(plugin_jack PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
endif()

# Benchmark (not a test): run() CPU time per second of 48 kHz stereo.
add_executable(bench_plugin_run ${CN_PT}/bench_plugin_run.c)
target_link_libraries(bench_plugin_run PRIVATE cn_plugin_harness ${CMAKE_DL_LIBS} m)
add_dependencies(bench_plugin_run continuo_lv2)
