# SPDX-License-Identifier: MIT
# Device code run on the CPU (tests/emu/cuda_emu.hpp): the persistent decode step's logic
# checked against the layer-by-layer transformer on a machine without a GPU. Needs only the
# CUDA headers.
if(NOT CUDAToolkit_FOUND)
  return()
endif()
add_executable(test_tf_step_emu emu/test_tf_step_emu.cpp)
target_compile_features(test_tf_step_emu PRIVATE cxx_std_20)
target_include_directories(test_tf_step_emu PRIVATE ${CMAKE_SOURCE_DIR}/kernels/cuda
                           ${CMAKE_SOURCE_DIR}/kernels ${CMAKE_CURRENT_SOURCE_DIR}/emu
                           ${CUDAToolkit_INCLUDE_DIRS})
target_link_libraries(test_tf_step_emu PRIVATE cn_testutil cn_engine Threads::Threads)
add_test(NAME test_tf_step_emu COMMAND test_tf_step_emu)
set_tests_properties(test_tf_step_emu PROPERTIES TIMEOUT 300)
