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
foreach(t test_helper_kill test_helper_cli test_helper_device)
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

# Fuzzing the decoder: seeds and a bounded mutation run with any compiler; with clang, a
# libFuzzer + ASan/UBSan build run for a bounded time (CN_FUZZ_SECONDS, default 20).
add_executable(cn-fuzz-seeds helper/fuzz_seeds.c helper/fuzz_proto.c)
target_link_libraries(cn-fuzz-seeds PRIVATE cn_proto)
add_test(NAME helper_fuzz_mutations COMMAND cn-fuzz-seeds --run 200000)
set_tests_properties(helper_fuzz_mutations PROPERTIES LABELS helper TIMEOUT 120)
find_program(CN_CLANG NAMES clang clang-16 clang-15 clang-14)
if(CN_CLANG)
  set(CN_FUZZ_SECONDS 20 CACHE STRING "seconds the libFuzzer run of the decoder lasts in ctest")
  set(fuzz_bin ${CMAKE_CURRENT_BINARY_DIR}/cn-fuzz-decoder)
  add_custom_command(OUTPUT ${fuzz_bin}
    COMMAND ${CN_CLANG} -g -O1 -fsanitize=fuzzer,address,undefined
            -I${CMAKE_SOURCE_DIR}/proto -I${CMAKE_BINARY_DIR}/proto/gen
            ${CMAKE_CURRENT_SOURCE_DIR}/helper/fuzz_proto.c ${CMAKE_SOURCE_DIR}/proto/cn_proto.c
            ${CMAKE_BINARY_DIR}/proto/gen/continuo.pb-c.c -lprotobuf-c -lzmq -o ${fuzz_bin}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/helper/fuzz_proto.c ${CMAKE_SOURCE_DIR}/proto/cn_proto.c
            cn_proto
    COMMENT "clang libFuzzer build of the message decoder")
  add_custom_target(cn-fuzz-proto ALL DEPENDS ${fuzz_bin})
  add_test(NAME helper_fuzz_decoder COMMAND bash -c
    "d=$(mktemp -d) && '$<TARGET_FILE:cn-fuzz-seeds>' \"$d\" && '${fuzz_bin}' -max_total_time=${CN_FUZZ_SECONDS} -seed=1 -max_len=4096 \"$d\" 2>&1 | tail -4; s=\${PIPESTATUS[0]}; rm -rf \"$d\"; exit $s")
  set_tests_properties(helper_fuzz_decoder PROPERTIES LABELS helper TIMEOUT 300)
else()
  message(STATUS "continuo: clang not found, the libFuzzer run of the decoder is skipped")
endif()

# Benchmark (not a test): round trip and audio throughput over ipc and tcp loopback.
add_executable(cn-bench-helper helper/bench_transport.c)
target_link_libraries(cn-bench-helper PRIVATE cn_helper_testutil)
