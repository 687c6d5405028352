/* SPDX-License-Identifier: MIT
 * A whole transformer stack's decode step as one persistent kernel (backend.h tf_plan,
 * tf_step, tf_plan_free); switched on with CN_CUDA_PERSISTENT=1.
 */
#ifndef CN_CUDA_TF_STEP_CUH
#define CN_CUDA_TF_STEP_CUH

#include "cuda_common.cuh"

void *cn_cuda_tf_plan(cn_backend *be, const cn_tf_step_desc *d);
int cn_cuda_tf_step(cn_backend *be, void *plan, cn_tensor *x, int pos);
void cn_cuda_tf_plan_free(cn_backend *be, void *plan);

#endif
