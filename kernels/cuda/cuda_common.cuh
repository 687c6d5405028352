/* SPDX-License-Identifier: MIT
 * Private state of the CUDA backend (stream, cuBLAS handle, scratch, graph recording) and the
 * small device helpers every op family shares. Included by the .cu files of kernels/cuda only.
 */
#ifndef CN_CUDA_COMMON_CUH
#define CN_CUDA_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

extern "C" {
#include "backend.h"
}
#include "cuda_check.h"

#define CN_CEIL_DIV(a, b) (((a) + (b) - 1) / (b))
#define CN_CUDA_COUNTERS 4096

/* A device-side error word: kernels that find bad data (an id out of range) record the first
 * one here; sync() and download() report it. */
typedef struct cn_cuda_derr {
    int code;       /* 0 = none; 1 = embed id out of range; 2 = codebook id out of range */
    int value, limit, row;
} cn_cuda_derr;

typedef struct cn_cuda {
    int device;
    int sm_count;
    size_t smem_optin;           /* largest dynamic shared memory a block may ask for */
    cudaStream_t stream;
    cublasHandle_t cublas;
    void *cublas_ws;             /* cuBLAS workspace (set once, so recording never allocates) */
    char err[768];
    int sticky;                  /* a sticky error happened: every op now returns CN_EFATAL */
    cn_dtype weight_dtype;       /* what upload_weight makes of 2-D F32 host weights */
    int64_t weight_min_elems;    /* smaller 2-D weights (codebooks, tiny models) stay f32 */
    int gemv_max_m;              /* matmul with M <= this uses the split-K gemv kernels */
    int gemv_max_m_out_in;       /* the same for CN_W_OUT_IN weights */
    int gemv_blocks_per_sm;      /* split-K target: this many blocks per multiprocessor */
    size_t gemv_min_bytes;       /* smaller weights go to cuBLAS (faster there in a graph) */

    void *scratch;               /* one scratch buffer, grown on demand (stream ordered) */
    size_t scratch_bytes;
    unsigned scratch_gen;        /* bumped when the scratch moves */
    void *retired[16];           /* old scratch buffers a recorded graph may still reference */
    int n_retired;

    cn_cuda_derr *derr;          /* device error word */
    unsigned *counters;          /* CN_CUDA_COUNTERS zeroed ints for split-K finishing */

    /* graph recording (graph_begin / graph_end / graph_launch) */
    int capturing;
    int64_t *d_adv;              /* device int64: position advance of the running replay */
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    unsigned exec_scratch_gen;
} cn_cuda;

static inline cn_cuda *cn_cx(cn_backend *be) { return (cn_cuda *)be->impl; }

/* Records a message (printf style) and returns status. */
int cn_cuda_errf(cn_cuda *cx, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Scratch of at least bytes (device memory, contents undefined). NULL on failure (message set). */
void *cn_cuda_scratch(cn_cuda *cx, size_t bytes);
/* The device pointer kernels add to position arguments while recording; NULL otherwise. */
static inline const int64_t *cn_cuda_adv(const cn_cuda *cx) { return cx->capturing ? cx->d_adv : NULL; }

static inline int64_t cn_nelem(const cn_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->nd; i++) n *= t->ne[i];
    return n;
}

static inline int cn_is_weight_type(cn_dtype t) { return t == CN_F32 || t == CN_F16 || t == CN_BF16; }

static inline const char *cn_dtype_name(cn_dtype t)
{
    switch (t) {
    case CN_F32: return "f32";
    case CN_F16: return "f16";
    case CN_BF16: return "bf16";
    case CN_I32: return "i32";
    }
    return "?";
}

/* Entry guard every op starts with. */
#define CN_CUDA_ENTER(cx)                                                                    \
    do {                                                                                     \
        if ((cx)->sticky) return CN_EFATAL;                                                  \
    } while (0)

/* ---- device helpers ---- */

__device__ __forceinline__ float cn_ld(const float *p, int64_t i) { return p[i]; }
__device__ __forceinline__ float cn_ld(const __half *p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ float cn_ld(const __nv_bfloat16 *p, int64_t i) { return __bfloat162float(p[i]); }

#ifndef CN_EMU_WARP   /* the CPU emulation (tests/emu) brings its own, with the same results */
__device__ __forceinline__ float cn_warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float cn_warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
#endif

/* Sum over the block (blockDim.x a multiple of 32, <= 1024); every thread gets the result.
 * red must hold 32 floats of shared memory. */
__device__ __forceinline__ float cn_block_sum(float v, float *red)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = cn_warp_sum(v);
    __syncthreads();
    if (lane == 0) red[w] = v;
    __syncthreads();
    v = lane < nw ? red[lane] : 0.f;
    return cn_warp_sum(v);
}

__device__ __forceinline__ float cn_block_max(float v, float *red)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = cn_warp_max(v);
    __syncthreads();
    if (lane == 0) red[w] = v;
    __syncthreads();
    v = lane < nw ? red[lane] : -INFINITY;
    return cn_warp_max(v);
}

/* Dispatch a template launcher over a weight dtype: CN_WDISPATCH(t, T, stmt) runs stmt with
 * T = float / __half / __nv_bfloat16. */
#define CN_WDISPATCH(t, T, ...)                                                              \
    do {                                                                                     \
        switch (t) {                                                                         \
        case CN_F32: { typedef float T; __VA_ARGS__; } break;                                \
        case CN_F16: { typedef __half T; __VA_ARGS__; } break;                               \
        case CN_BF16: { typedef __nv_bfloat16 T; __VA_ARGS__; } break;                       \
        default: break;                                                                      \
        }                                                                                    \
    } while (0)

#endif
