# SPDX-License-Identifier: MIT
# CUDA backend tests: labelled gpu, and skipped (exit 77) where no CUDA device is present or the
# backend was not built. Run them alone with `ctest -L gpu`.
if(TEST test_cuda_ops)
  set_tests_properties(test_cuda_ops PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()
# The cached sampler against the full forward on the CUDA backend, layer by layer and as the
# persistent whole-stack step (CN_CUDA_PERSISTENT=1).
if(TEST test_prior_cache)
  add_test(NAME test_prior_cache_cuda COMMAND test_prior_cache)
  add_test(NAME test_prior_cache_cuda_fused COMMAND test_prior_cache)
  set_tests_properties(test_prior_cache_cuda test_prior_cache_cuda_fused PROPERTIES
    LABELS gpu SKIP_RETURN_CODE 77 TIMEOUT 600)
  set_tests_properties(test_prior_cache_cuda PROPERTIES ENVIRONMENT "CN_TEST_BACKEND=cuda")
  set_tests_properties(test_prior_cache_cuda_fused PROPERTIES ENVIRONMENT
    "CN_TEST_BACKEND=cuda;CN_CUDA_PERSISTENT=1")
endif()
# The persistent whole-stack step against the CPU transformer on every kernel path.
if(TEST test_tf_step_cuda)
  set_tests_properties(test_tf_step_cuda PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()
