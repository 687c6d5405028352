# SPDX-License-Identifier: MIT
# CUDA backend tests: labelled gpu, and skipped (exit 77) where no CUDA device is present or the
# backend was not built. Run them alone with `ctest -L gpu`.
if(TEST test_cuda_ops)
  set_tests_properties(test_cuda_ops PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()
