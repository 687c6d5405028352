/* SPDX-License-Identifier: MIT
 * Recording a sequence of ops as one CUDA graph and replaying it with advanced positions
 * (the optional graph_begin / graph_end / graph_launch slots of backend.h).
 */
#ifndef CN_CUDA_GRAPH_CUH
#define CN_CUDA_GRAPH_CUH

#include "cuda_common.cuh"

int cn_cuda_graph_begin(cn_backend *be);
int cn_cuda_graph_end(cn_backend *be);
int cn_cuda_graph_launch(cn_backend *be, int64_t pos_advance);
/* Frees the recording and the scratch buffers only it referenced (stream synchronised). */
void cn_cuda_graph_drop(cn_cuda *cx);

#endif
