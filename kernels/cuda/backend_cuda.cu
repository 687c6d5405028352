/* SPDX-License-Identifier: MIT
 * The CUDA backend object: device choice, stream, cuBLAS handle, memory ops, weight upload,
 * errors and the op table. Compute lives in the op-family files; this file never launches math.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_common.cuh"
#include "attention.cuh"
#include "codebook.cuh"
#include "conv.cuh"
#include "eltwise.cuh"
#include "graph.cuh"
#include "matmul.cuh"
#include "norm.cuh"
#include "sample.cuh"
#include "tf_step.cuh"

#define CN_CUBLAS_WORKSPACE (32u << 20)
#define CN_UPLOAD_CHUNK (64u << 20)

int cn_cuda_errf(cn_cuda *cx, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cx->err, sizeof cx->err, fmt, ap);
    va_end(ap);
    return status;
}

static int s_is_sticky(cudaError_t e)
{
    switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorHardwareStackError:
    case cudaErrorAssert:
    case cudaErrorECCUncorrectable:
    case cudaErrorLaunchTimeout:
        return 1;
    default:
        return 0;
    }
}

int cn_cuda_fail(cn_cuda *cx, cudaError_t e, const char *stmt, const char *file, int line)
{
    const char *base = strrchr(file, '/');
    int sticky = s_is_sticky(e);
    if (sticky) cx->sticky = 1;
    snprintf(cx->err, sizeof cx->err, "cuda: %s failed at %s:%d: %s (%s)%s", stmt,
             base ? base + 1 : file, line, cudaGetErrorString(e), cudaGetErrorName(e),
             sticky ? "; the device is unusable, restart the process" : "");
    return sticky ? CN_EFATAL : CN_EDEVICE;
}

int cn_cublas_fail(cn_cuda *cx, cublasStatus_t s, const char *stmt, const char *file, int line)
{
    const char *base = strrchr(file, '/');
    snprintf(cx->err, sizeof cx->err, "cublas: %s failed at %s:%d: %s (%s)", stmt,
             base ? base + 1 : file, line, cublasGetStatusString(s), cublasGetStatusName(s));
    return CN_EDEVICE;
}

void *cn_cuda_scratch(cn_cuda *cx, size_t bytes)
{
    if (bytes <= cx->scratch_bytes) return cx->scratch;
    size_t want = bytes + bytes / 4 + (1u << 20);
    if (cx->scratch != NULL) {
        if (cx->capturing) {
            if (cx->n_retired == (int)(sizeof cx->retired / sizeof cx->retired[0])) {
                cn_cuda_errf(cx, CN_ENOMEM, "cuda: scratch grew more than %d times while "
                             "recording a graph", cx->n_retired);
                return NULL;
            }
            cx->retired[cx->n_retired++] = cx->scratch;   /* the recording still uses it */
        } else {
            cudaStreamSynchronize(cx->stream);
            cudaFree(cx->scratch);
        }
        cx->scratch = NULL;
        cx->scratch_bytes = 0;
    }
    cudaError_t e = cudaMalloc(&cx->scratch, want);
    if (e != cudaSuccess) {
        cx->scratch = NULL;
        cn_cuda_fail(cx, e, "cudaMalloc(scratch)", __FILE__, __LINE__);
        snprintf(cx->err + strlen(cx->err), sizeof cx->err - strlen(cx->err),
                 " (asked for %zu bytes of scratch)", want);
        return NULL;
    }
    cx->scratch_bytes = want;
    cx->scratch_gen++;
    return cx->scratch;
}

/* Reports (once) an error a kernel recorded in the device error word. */
static int s_check_derr(cn_cuda *cx)
{
    volatile cn_cuda_derr *vd = cx->derr;
    cn_cuda_derr d = { vd->code, vd->value, vd->limit, vd->row };
    if (d.code == 0) return CN_OK;
    memset((void *)cx->derr, 0, sizeof *cx->derr);
    if (d.code == 1)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: embed_add: id %d at row %d is out of range; "
                            "the table has %d rows", d.value, d.row, d.limit);
    if (d.code == 2)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: codebook_lookup: id %d at row %d is out of "
                            "range; the codebook has %d rows", d.value, d.row, d.limit);
    return cn_cuda_errf(cx, CN_EINVAL, "cuda: a kernel reported error %d", d.code);
}

static int s_not_while_recording(cn_cuda *cx, const char *op)
{
    if (!cx->capturing) return CN_OK;
    return cn_cuda_errf(cx, CN_EINVAL, "cuda: %s may not be called while a graph is being "
                        "recorded (between graph_begin and graph_end)", op);
}

/* ---- memory ---- */

static const char *s_last_error(cn_backend *be) { return cn_cx(be)->err; }

static void *s_alloc(cn_backend *be, size_t bytes)
{
    cn_cuda *cx = cn_cx(be);
    void *p = NULL;
    if (cx->sticky || s_not_while_recording(cx, "alloc") != CN_OK) return NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        size_t fr = 0, tot = 0;
        cn_cuda_fail(cx, e, "cudaMalloc", __FILE__, __LINE__);
        cudaGetLastError();
        cudaMemGetInfo(&fr, &tot);
        snprintf(cx->err + strlen(cx->err), sizeof cx->err - strlen(cx->err),
                 ": asked for %.1f MiB, %.1f MiB of %.1f MiB free", bytes / 1048576.0,
                 fr / 1048576.0, tot / 1048576.0);
        return NULL;
    }
    e = cudaMemsetAsync(p, 0, bytes, cx->stream);
    if (e != cudaSuccess) {
        cn_cuda_fail(cx, e, "cudaMemsetAsync", __FILE__, __LINE__);
        cudaFree(p);
        return NULL;
    }
    return p;
}

static void s_release(cn_backend *be, void *p)
{
    cn_cuda *cx = cn_cx(be);
    if (p == NULL) return;
    cudaStreamSynchronize(cx->stream);
    cudaFree(p);
}

static int s_upload(cn_backend *be, void *dst, const void *host, size_t bytes)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int rc = s_not_while_recording(cx, "upload");
    if (rc) return rc;
    CUDA_CHECK(cudaMemcpyAsync(dst, host, bytes, cudaMemcpyHostToDevice, cx->stream));
    CUDA_CHECK(cudaStreamSynchronize(cx->stream));
    return CN_OK;
}

static int s_download(cn_backend *be, void *host, const void *src, size_t bytes)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int rc = s_not_while_recording(cx, "download");
    if (rc) return rc;
    CUDA_CHECK(cudaMemcpyAsync(host, src, bytes, cudaMemcpyDeviceToHost, cx->stream));
    CUDA_CHECK(cudaStreamSynchronize(cx->stream));
    return s_check_derr(cx);
}

static int s_copy(cn_backend *be, void *dst, const void *src, size_t bytes)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    if (bytes == 0) return CN_OK;
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cx->stream));
    return CN_OK;
}

static int s_sync(cn_backend *be)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int rc = s_not_while_recording(cx, "sync");
    if (rc) return rc;
    CUDA_CHECK(cudaStreamSynchronize(cx->stream));
    return s_check_derr(cx);
}

static int s_mem_info(cn_backend *be, size_t *free_bytes, size_t *total_bytes)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
    return CN_OK;
}

/* ---- weights ---- */

/* The device dtype of a host weight: 2-D matrices of at least weight_min_elems elements
 * (projections, embeddings of released models) become bf16 (or what CN_CUDA_WEIGHTS says), fp16
 * ones stay fp16; vectors, conv kernels and small matrices (the VQ-VAE codebooks, 2048 x 64,
 * so codes match the CPU; tiny test models) stay f32. */
static cn_dtype s_weight_dtype(const cn_cuda *cx, const cn_tensor *host)
{
    if (host->nd != 2 || cn_nelem(host) < cx->weight_min_elems) return CN_F32;
    if (host->type == CN_F16 && cx->weight_dtype != CN_F32) return CN_F16;
    return cx->weight_dtype;
}

static int s_upload_weight(cn_backend *be, cn_tensor *dst, const cn_tensor *host)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int rc = s_not_while_recording(cx, "upload_weight");
    if (rc) return rc;
    if (host->type != CN_F32 && host->type != CN_F16)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: upload_weight takes f32 or f16 host "
                            "weights, not %s", cn_dtype_name(host->type));
    if (host->nd < 1 || host->nd > 4)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: upload_weight: %d dimensions; 1..4 allowed",
                            host->nd);
    int64_t n = cn_nelem(host);
    cn_dtype dt = s_weight_dtype(cx, host);
    size_t dsz = dt == CN_F32 ? 4 : 2, hsz = host->type == CN_F32 ? 4 : 2;
    void *d = s_alloc(be, (size_t)n * dsz);
    if (d == NULL) return cx->sticky ? CN_EFATAL : CN_ENOMEM;
    *dst = *host;
    dst->type = dt;
    dst->data = d;
    if (dt == host->type) return s_upload(be, d, host->data, (size_t)n * hsz);
    int64_t chunk = CN_UPLOAD_CHUNK / hsz;
    void *stage = cn_cuda_scratch(cx, (size_t)(n < chunk ? n : chunk) * hsz);
    if (stage == NULL) {
        s_release(be, d);
        dst->data = NULL;
        return CN_ENOMEM;
    }
    for (int64_t i = 0; i < n; i += chunk) {
        int64_t m = n - i < chunk ? n - i : chunk;
        rc = s_upload(be, stage, (const char *)host->data + i * hsz, (size_t)m * hsz);
        if (rc == CN_OK) rc = cn_cuda_convert(cx, (char *)d + i * dsz, dt, stage, host->type, m);
        if (rc != CN_OK) {
            s_release(be, d);
            dst->data = NULL;
            return rc;
        }
    }
    return s_sync(be);
}

/* ---- lifetime ---- */

static void s_destroy(cn_backend *be)
{
    cn_cuda *cx = cn_cx(be);
    if (cx->capturing) {
        cudaGraph_t g = NULL;
        cudaStreamEndCapture(cx->stream, &g);
        if (g) cudaGraphDestroy(g);
    }
    cudaStreamSynchronize(cx->stream);
    cn_cuda_graph_drop(cx);
    if (cx->scratch) cudaFree(cx->scratch);
    if (cx->d_adv) cudaFree(cx->d_adv);
    if (cx->counters) cudaFree(cx->counters);
    if (cx->derr) cudaFreeHost(cx->derr);
    if (cx->cublas) cublasDestroy(cx->cublas);
    if (cx->cublas_ws) cudaFree(cx->cublas_ws);
    if (cx->stream) cudaStreamDestroy(cx->stream);
    free(cx);
    free(be);
}

static cn_backend_ops s_ops;

static void s_fill_ops(void)
{
    s_ops.name = "cuda";
    s_ops.destroy = s_destroy;
    s_ops.last_error = s_last_error;
    s_ops.alloc = s_alloc;
    s_ops.release = s_release;
    s_ops.upload = s_upload;
    s_ops.download = s_download;
    s_ops.copy = s_copy;
    s_ops.sync = s_sync;
    s_ops.upload_weight = s_upload_weight;
    s_ops.mem_info = s_mem_info;
    s_ops.matmul = cn_cuda_matmul;
    s_ops.layernorm = cn_cuda_layernorm;
    s_ops.gelu_quick = cn_cuda_gelu_quick;
    s_ops.relu = cn_cuda_relu;
    s_ops.axpy = cn_cuda_axpy;
    s_ops.embed_add = cn_cuda_embed_add;
    s_ops.transpose = cn_cuda_transpose;
    s_ops.kv_store = cn_cuda_kv_store;
    s_ops.attention = cn_cuda_attention;
    s_ops.conv1d = cn_cuda_conv1d;
    s_ops.conv_transpose1d = cn_cuda_conv_transpose1d;
    s_ops.codebook_nearest = cn_cuda_codebook_nearest;
    s_ops.codebook_lookup = cn_cuda_codebook_lookup;
    s_ops.filter_logits = cn_cuda_filter_logits;
    s_ops.sample = cn_cuda_sample;
    s_ops.graph_begin = cn_cuda_graph_begin;
    s_ops.graph_end = cn_cuda_graph_end;
    s_ops.graph_launch = cn_cuda_graph_launch;
    s_ops.tf_plan = cn_cuda_tf_plan;
    s_ops.tf_step = cn_cuda_tf_step;
    s_ops.tf_plan_free = cn_cuda_tf_plan_free;
    const char *fu = getenv("CN_CUDA_FUSED");   /* 0: leave the fused slots empty (A/B timing) */
    if (fu == NULL || strcmp(fu, "0") != 0) {
        s_ops.matmul_gelu = cn_cuda_matmul_gelu;
        s_ops.matmul_kv_store = cn_cuda_matmul_kv_store;
    }
}

static int s_env_weights(cn_dtype *out, char *err, size_t errlen)
{
    const char *w = getenv("CN_CUDA_WEIGHTS");
    *out = CN_BF16;
    if (w == NULL || *w == 0 || strcmp(w, "bf16") == 0) return 0;
    if (strcmp(w, "f16") == 0) { *out = CN_F16; return 0; }
    if (strcmp(w, "f32") == 0) { *out = CN_F32; return 0; }
    snprintf(err, errlen, "CN_CUDA_WEIGHTS='%s'; expected bf16, f16 or f32", w);
    return -1;
}

/* Fills cx (already zeroed) for device dev; on failure writes err and returns -1. */
static int s_open(cn_cuda *cx, int dev, char *err, size_t errlen)
{
    cudaError_t e;
    int v = 0;
#define S_TRY(stmt)                                                                          \
    if ((e = (stmt)) != cudaSuccess) {                                                       \
        snprintf(err, errlen, "cuda: %s failed: %s", #stmt, cudaGetErrorString(e));          \
        return -1;                                                                           \
    }
    cx->device = dev;
    S_TRY(cudaSetDevice(dev));
    S_TRY(cudaDeviceGetAttribute(&cx->sm_count, cudaDevAttrMultiProcessorCount, dev));
    S_TRY(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    cx->smem_optin = (size_t)v;
    S_TRY(cudaStreamCreateWithFlags(&cx->stream, cudaStreamNonBlocking));
    S_TRY(cudaHostAlloc((void **)&cx->derr, sizeof *cx->derr, cudaHostAllocMapped));
    memset(cx->derr, 0, sizeof *cx->derr);
    S_TRY(cudaMalloc((void **)&cx->d_adv, sizeof(int64_t)));
    S_TRY(cudaMemset(cx->d_adv, 0, sizeof(int64_t)));
    S_TRY(cudaMalloc((void **)&cx->counters, CN_CUDA_COUNTERS * sizeof(unsigned)));
    S_TRY(cudaMemset(cx->counters, 0, CN_CUDA_COUNTERS * sizeof(unsigned)));
    void *ws = cn_cuda_scratch(cx, 1);   /* makes the scratch exist before any recording */
    if (ws == NULL) { snprintf(err, errlen, "%s", cx->err); return -1; }
#undef S_TRY
    cublasStatus_t s = cublasCreate(&cx->cublas);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetStream(cx->cublas, cx->stream);
    if (s == CUBLAS_STATUS_SUCCESS) s = cublasSetMathMode(cx->cublas, CUBLAS_DEFAULT_MATH);
    if (s == CUBLAS_STATUS_SUCCESS) {
        void *wsp = NULL;
        if (cudaMalloc(&wsp, CN_CUBLAS_WORKSPACE) != cudaSuccess) {
            snprintf(err, errlen, "cuda: no memory for the %u MiB cuBLAS workspace",
                     CN_CUBLAS_WORKSPACE >> 20);
            return -1;
        }
        cx->cublas_ws = wsp;
        s = cublasSetWorkspace(cx->cublas, wsp, CN_CUBLAS_WORKSPACE);
    }
    if (s != CUBLAS_STATUS_SUCCESS) {
        snprintf(err, errlen, "cublas: setting up the handle failed: %s", cublasGetStatusString(s));
        return -1;
    }
    const char *g = getenv("CN_CUDA_GEMV_MAX_M");
    cx->gemv_max_m = g ? atoi(g) : 4;
    if (cx->gemv_max_m > 16) cx->gemv_max_m = 16;
    /* the out_in kernel loses to cuBLAS from 3 rows on (H100): 2 unless the user set a value */
    cx->gemv_max_m_out_in = g ? cx->gemv_max_m : 2;
    const char *me = getenv("CN_CUDA_WEIGHTS_MIN_ELEMS");
    cx->weight_min_elems = me && *me ? atoll(me) : (int64_t)1 << 18;
    const char *bp = getenv("CN_CUDA_GEMV_BLOCKS_PER_SM");
    cx->gemv_blocks_per_sm = bp && atoi(bp) > 0 ? atoi(bp) : 4;
    /* H100, graph replay: a 1920-wide upsampler layer runs faster on cuBLAS (7.1-7.4 us per
     * matrix against 8-18 us split-K, whole step 4.24 against 5.16 ms); 5b-sized matrices stay
     * on the split-K kernels, whose finishing pass also fuses bias, gelu and kv_store */
    const char *mb = getenv("CN_CUDA_GEMV_MIN_BYTES");
    cx->gemv_min_bytes = mb && *mb ? (size_t)atoll(mb) : (size_t)8 << 20;
    return 0;
}

extern "C" cn_backend *cn_cuda_backend_new(char *err, size_t errlen)
{
    int count = 0, dev = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        snprintf(err, errlen, "no CUDA device: %s",
                 e != cudaSuccess ? cudaGetErrorString(e) : "the driver lists none");
        cudaGetLastError();
        return NULL;
    }
    const char *d = getenv("CN_CUDA_DEVICE");
    if (d && *d) dev = atoi(d);
    if (dev < 0 || dev >= count) {
        snprintf(err, errlen, "CN_CUDA_DEVICE=%d, but there %s %d CUDA device%s (0..%d)", dev,
                 count == 1 ? "is" : "are", count, count == 1 ? "" : "s", count - 1);
        return NULL;
    }
    cn_backend *be = (cn_backend *)calloc(1, sizeof *be);
    cn_cuda *cx = (cn_cuda *)calloc(1, sizeof *cx);
    if (be == NULL || cx == NULL) {
        free(be);
        free(cx);
        snprintf(err, errlen, "cuda: out of host memory");
        return NULL;
    }
    if (s_env_weights(&cx->weight_dtype, err, errlen) != 0) {
        free(be);
        free(cx);
        return NULL;
    }
    s_fill_ops();
    be->ops = &s_ops;
    be->impl = cx;
    if (s_open(cx, dev, err, errlen) != 0) {
        s_destroy(be);
        return NULL;
    }
    return be;
}
