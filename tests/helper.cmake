# SPDX-License-Identifier: MIT
# The render helper's tests: protocol round trips and malformed frames, the store's atomicity
# and crash recovery, the whole loop over a real helper with the engine test double, CURVE,
# bad input, SIGKILL and resume, and a bounded libFuzzer run of the message decoder.
if(NOT TARGET cn_server)
  return()
endif()
add_library(cn_helper_testutil STATIC helper/fake_runner.c helper/htest.c)
target_link_libraries(cn_helper_testutil PUBLIC cn_server cn_testutil PkgConfig::SNDFILE)
target_include_directories(cn_helper_testutil PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/helper)

file(GLOB CN_HELPER_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/helper/test_*.c)
foreach(src ${CN_HELPER_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE cn_helper_testutil)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT 300 LABELS helper ENVIRONMENT
    "CN_SOURCE_DIR=${CMAKE_SOURCE_DIR};CN_BINARY_DIR=${CMAKE_BINARY_DIR}")
endforeach()

# The server over the engine double as its own process (SIGKILL and CLI tests).
add_executable(cn-fake-helper helper/fake_helper.c)
target_link_libraries(cn-fake-helper PRIVATE cn_helper_testutil)
foreach(t test_helper_kill test_helper_cli)
  if(TARGET ${t})
    add_dependencies(${t} cn-fake-helper)
  endif()
endforeach()

# End to end with the real engine and the golden tiny models (needs continuo-helper).
if(TARGET continuo-helper AND TARGET continuo)
  add_test(NAME helper_e2e_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/helper/e2e_cli.sh
           ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(helper_e2e_cli PROPERTIES TIMEOUT 300 LABELS helper)
endif()
