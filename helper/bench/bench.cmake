# SPDX-License-Identifier: MIT
# continuo-bench (helper/bench): prints speed figures for released model shapes with random
# weights; not a test. The released layouts' folder is baked in (--layouts overrides it).
file(GLOB CN_BENCH_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/bench/*.c)
add_executable(continuo-bench ${CN_BENCH_SOURCES})
target_link_libraries(continuo-bench PRIVATE cn_engine)
target_compile_definitions(continuo-bench PRIVATE
  CN_BENCH_LAYOUTS="${PROJECT_SOURCE_DIR}/tests/golden/released_layouts")
if(CONTINUO_CUDA)
  target_compile_definitions(continuo-bench PRIVATE CONTINUO_HAVE_CUDA=1)
  target_link_libraries(continuo-bench PRIVATE CUDA::cudart)
endif()
