/* SPDX-License-Identifier: MIT
 * One recorded graph per backend: stream capture between graph_begin and graph_end, replay by
 * graph_launch with a device-side position advance. Never records host-synchronous calls.
 */
#include "graph.cuh"

__global__ void s_set_adv(int64_t *adv, int64_t v) { *adv = v; }

void cn_cuda_graph_drop(cn_cuda *cx)
{
    cudaStreamSynchronize(cx->stream);
    if (cx->exec) cudaGraphExecDestroy(cx->exec);
    if (cx->graph) cudaGraphDestroy(cx->graph);
    cx->exec = NULL;
    cx->graph = NULL;
    for (int i = 0; i < cx->n_retired; i++) cudaFree(cx->retired[i]);
    cx->n_retired = 0;
}

int cn_cuda_graph_begin(cn_backend *be)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    if (cx->capturing)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: graph_begin while a recording is open; "
                            "call graph_end first");
    cn_cuda_graph_drop(cx);
    CUDA_CHECK(cudaStreamBeginCapture(cx->stream, cudaStreamCaptureModeRelaxed));
    cx->capturing = 1;
    return CN_OK;
}

int cn_cuda_graph_end(cn_backend *be)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    if (!cx->capturing)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: graph_end without graph_begin");
    cx->capturing = 0;
    cudaGraph_t g = NULL;
    cudaError_t e = cudaStreamEndCapture(cx->stream, &g);
    if (e != cudaSuccess) {
        if (g) cudaGraphDestroy(g);
        return cn_cuda_fail(cx, e, "cudaStreamEndCapture (an op inside the recording failed "
                            "or was not recordable)", __FILE__, __LINE__);
    }
    cx->graph = g;
    CUDA_CHECK(cudaGraphInstantiate(&cx->exec, g, 0));
    cx->exec_scratch_gen = cx->scratch_gen;
    return CN_OK;
}

int cn_cuda_graph_launch(cn_backend *be, int64_t pos_advance)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    if (cx->capturing)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: graph_launch inside a recording");
    if (cx->exec == NULL)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: graph_launch with no recording; call "
                            "graph_begin, the ops, graph_end first");
    if (cx->exec_scratch_gen != cx->scratch_gen)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: graph_launch: an op outside the recording "
                            "needed more scratch memory since it was made; record it again");
    s_set_adv<<<1, 1, 0, cx->stream>>>(cx->d_adv, pos_advance);
    CUDA_CHECK_LAUNCH("s_set_adv");
    CUDA_CHECK(cudaGraphLaunch(cx->exec, cx->stream));
    return CN_OK;
}
