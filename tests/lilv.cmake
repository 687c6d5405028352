# SPDX-License-Identifier: MIT
# A small lilv host for the offline path (lv2apply gives no urid:map or worker, which
# continuo.lv2 requires): finds the bundle through LV2_PATH, runs a WAV, restores a preset.
if(NOT TARGET continuo_lv2)
  return()
endif()
pkg_check_modules(CN_LILV IMPORTED_TARGET lilv-0)
if(NOT CN_LILV_FOUND)
  message(STATUS "lilv-0 not found: test plugin_lilv_offline is not built")
  return()
endif()
add_executable(lilv_offline ${CMAKE_CURRENT_SOURCE_DIR}/plugin/lilv_offline.c ${CMAKE_CURRENT_SOURCE_DIR}/plugin/lilv_host.c
               ${CMAKE_CURRENT_SOURCE_DIR}/support/check.c)
target_include_directories(lilv_offline PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_link_libraries(lilv_offline PRIVATE PkgConfig::CN_LILV PkgConfig::SNDFILE m)
add_dependencies(lilv_offline continuo_lv2)
add_test(NAME plugin_lilv_offline COMMAND lilv_offline)
set_tests_properties(plugin_lilv_offline PROPERTIES TIMEOUT 120
                     ENVIRONMENT "LV2_PATH=${CMAKE_BINARY_DIR}/lv2")
