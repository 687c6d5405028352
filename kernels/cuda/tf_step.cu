/* SPDX-License-Identifier: MIT
 * The persistent decode step's plan and launch (backend.h tf_plan / tf_step / tf_plan_free):
 * checks that a stack fits the kernel (tf_step_dev.cuh), makes (out, in) copies of its four
 * matrices per layer (for the tensor-core path, in its own layout with K padded to 64), and
 * launches one kernel of exactly as many blocks as fit on the device at once, so that its grid
 * barrier cannot wait on a block that never runs. Switched on with CN_CUDA_PERSISTENT=1; the
 * copies double the memory the matrices take, so a plan is made only where they leave room to
 * spare (s_copies_fit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tf_step.cuh"
#include "tf_step_dev.cuh"

static_assert(S_XS_FLOATS / S_NMAX >= 256 && S_XS_FLOATS / S_NMAX - 36 >= S_MK,
              "the staging area holds a K chunk of every path for the most items");

typedef struct s_plan {
    s_step p;               /* x and pos are filled per launch */
    s_layer *d_layers;
    void **mats;            /* the (out, in) copies */
    int n_mats;
    cn_dtype wt;
    int grid;
} s_plan;

template <typename T>
__global__ void s_transpose_w(T *dst, const T *src, int K, int N)
{
    __shared__ T tile[32][33];
    int n = blockIdx.x * 32 + threadIdx.x, k = blockIdx.y * 32 + threadIdx.y;
    for (int i = 0; i < 32; i += 8)
        if (n < N && k + i < K) tile[threadIdx.y + i][threadIdx.x] = src[(int64_t)(k + i) * N + n];
    __syncthreads();
    n = blockIdx.x * 32 + threadIdx.y;
    k = blockIdx.y * 32 + threadIdx.x;
    for (int i = 0; i < 32; i += 8)
        if (n + i < N && k < K) dst[(int64_t)(n + i) * K + k] = tile[threadIdx.x][threadIdx.y + i];
}

/* dst in the tensor-core layout (s_mma_at, K padded to Kp and zeroed beforehand) from src
 * (K, N): one thread per element, reading along N */
template <typename T>
__global__ void s_mma_layout_w(T *dst, const T *src, int K, int N, int Kp)
{
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int64_t)K * N) return;
    int k = (int)(i / N), n = (int)(i - (int64_t)k * N);
    dst[s_mma_at(n, k, Kp)] = src[i];
}

/* Bytes of the copy of w (K, N) that the kernel reads: (N, K), or the tensor-core layout. */
static size_t s_copy_bytes(const cn_tensor *w, int mma)
{
    int64_t K = w->ne[0], N = w->ne[1];
    return (size_t)N * (size_t)(mma ? s_kpad((int)K) : K) * cn_dtype_size(w->type);
}

/* A device copy of w (K, N) as the kernel reads it (s_copy_bytes); NULL with a message on
 * failure. */
static void *s_transposed(cn_cuda *cx, s_plan *pl, const cn_tensor *w, int mma)
{
    int K = (int)w->ne[0], N = (int)w->ne[1];
    void *dst = NULL;
    size_t bytes = s_copy_bytes(w, mma);
    if (cudaMalloc(&dst, bytes) != cudaSuccess) {
        cudaGetLastError();
        cn_cuda_errf(cx, CN_ENOMEM, "cuda: tf_plan: no device memory for a %.1f MB copy of a "
                     "weight", bytes / 1e6);
        return NULL;
    }
    pl->mats[pl->n_mats++] = dst;
    cudaError_t e = cudaSuccess;
    if (mma) {   /* zeroed first: the padding of K */
        unsigned blocks = (unsigned)CN_CEIL_DIV((int64_t)K * N, 256);
        e = cudaMemsetAsync(dst, 0, bytes, cx->stream);
        if (e == cudaSuccess) {
            CN_WDISPATCH(w->type, T, s_mma_layout_w<T><<<blocks, 256, 0, cx->stream>>>(
                (T *)dst, (const T *)w->data, K, N, s_kpad(K)));
        }
    } else {
        dim3 grid((unsigned)CN_CEIL_DIV(N, 32), (unsigned)CN_CEIL_DIV(K, 32)), block(32, 8);
        CN_WDISPATCH(w->type, T, s_transpose_w<T><<<grid, block, 0, cx->stream>>>(
            (T *)dst, (const T *)w->data, K, N));
    }
    if (e == cudaSuccess) e = cudaGetLastError();   /* the launch's */
    if (e == cudaSuccess) return dst;
    cn_cuda_fail(cx, e, "copy of a weight for the persistent step", __FILE__, __LINE__);
    return NULL;
}

/* Whether tensor t is of type want with these dimensions (b = 0: a vector). */
static int s_is(const cn_tensor *t, cn_dtype want, int64_t a, int64_t b)
{
    return t && t->data && t->type == want && cn_nelem(t) == (b ? a * b : a) &&
           (!b || (t->nd == 2 && t->ne[0] == a));
}

/* Why the kernel does not run this stack, or NULL. */
static const char *s_unfit(const cn_tf_step_desc *d, cn_dtype wt)
{
    int vec = 16 / (int)cn_dtype_size(wt), hd = d->heads > 0 ? d->S / d->heads : 0;
    if (d->n_items < 1 || d->n_items > S_NMAX) return "more than 16 items";
    if (d->width % vec || d->S % vec || d->mlp % vec) return "widths not a multiple of 16 bytes";
    if (hd < 1 || hd * d->heads != d->S || hd > S_HD_MAX) return "head width";
    if (d->depth < 1 || d->block_len < 1) return "depth or block length";
    for (int l = 0; l < d->depth; l++) {
        const cn_tf_step_layer *L = &d->layers[l];
        int W = d->width, S = d->S, M = d->mlp, R = L->type == CN_ATTN_CROSS ? S : 3 * S;
        if (!s_is(L->attn_w, wt, W, R) || !s_is(L->proj_w, wt, S, W) ||
            !s_is(L->fc_w, wt, W, M) || !s_is(L->mlp_w, wt, M, W))
            return "matrices of mixed types or shapes";
        if (!s_is(L->ln0_g, CN_F32, W, 0) || !s_is(L->ln0_b, CN_F32, W, 0) ||
            !s_is(L->ln1_g, CN_F32, W, 0) || !s_is(L->ln1_b, CN_F32, W, 0) ||
            !s_is(L->attn_b, CN_F32, R, 0) || !s_is(L->proj_b, CN_F32, W, 0) ||
            !s_is(L->fc_b, CN_F32, M, 0) || !s_is(L->mlp_b, CN_F32, W, 0))
            return "vectors that are not f32";
        if (!L->k || !L->v || L->k->type != CN_F32 || L->v->type != CN_F32 || L->rows < 1 ||
            cn_nelem(L->k) < (int64_t)d->n_items * L->rows * S)
            return "key/value cache";
    }
    return NULL;
}

template <typename T, int NN>
static int s_occupancy(int *per_sm)
{
    size_t smem = S_SM_FLOATS * sizeof(float);
    cudaFuncSetAttribute(s_tf_step_kernel<T, NN>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                         (int)smem);
    return cudaOccupancyMaxActiveBlocksPerMultiprocessor(per_sm, s_tf_step_kernel<T, NN>, S_T,
                                                         smem) == cudaSuccess ? 0 : -1;
}

static int s_blocks_per_sm(cn_dtype wt, int nn)
{
    int per = 0, rc = -1;
    CN_WDISPATCH(wt, T, rc = nn <= 4 ? s_occupancy<T, 4>(&per) : s_occupancy<T, 16>(&per));
    const char *e = getenv("CN_CUDA_PERSISTENT_BLOCKS_PER_SM");
    int want = e && atoi(e) > 0 ? atoi(e) : 2;
    return rc ? 0 : per < want ? per : want;
}

/* Layer table and matrix copies of the stack; 0 or a status with the message set. */
static int s_fill(cn_cuda *cx, s_plan *pl, const cn_tf_step_desc *d)
{
    s_layer *h = (s_layer *)calloc((size_t)d->depth, sizeof *h);
    if (!h) return cn_cuda_errf(cx, CN_ENOMEM, "cuda: tf_plan: out of host memory");
    int rc = CN_OK, mma = s_mma_path((int)cn_dtype_size(pl->wt), d->n_items);
    for (int l = 0; l < d->depth && rc == CN_OK; l++) {
        const cn_tf_step_layer *L = &d->layers[l];
        s_layer *o = &h[l];
        o->type = L->type;
        o->rows = L->rows;
        o->ln0_g = (const float *)L->ln0_g->data, o->ln0_b = (const float *)L->ln0_b->data;
        o->ln1_g = (const float *)L->ln1_g->data, o->ln1_b = (const float *)L->ln1_b->data;
        o->attn_b = (const float *)L->attn_b->data, o->proj_b = (const float *)L->proj_b->data;
        o->fc_b = (const float *)L->fc_b->data, o->mlp_b = (const float *)L->mlp_b->data;
        o->k = (float *)L->k->data, o->v = (float *)L->v->data;
        if (!(o->attn_t = s_transposed(cx, pl, L->attn_w, mma)) ||
            !(o->proj_t = s_transposed(cx, pl, L->proj_w, mma)) ||
            !(o->fc_t = s_transposed(cx, pl, L->fc_w, mma)) ||
            !(o->mlp_t = s_transposed(cx, pl, L->mlp_w, mma)))
            rc = CN_EDEVICE;
    }
    cudaError_t e = cudaSuccess;
    size_t tab = (size_t)d->depth * sizeof *h;
    if (rc == CN_OK && (e = cudaMalloc((void **)&pl->d_layers, tab)) == cudaSuccess)
        e = cudaMemcpy(pl->d_layers, h, tab, cudaMemcpyHostToDevice);
    free(h);
    if (rc == CN_OK && e != cudaSuccess)
        rc = cn_cuda_fail(cx, e, "cudaMalloc/cudaMemcpy of the layer table", __FILE__, __LINE__);
    return rc;
}

/* Whether the (out, in) copies of the stack's matrices fit with room to spare: they are an
 * option, so they may take only memory that leaves max(1 GiB, 5% of the device) free for what
 * the engine allocates later. 0, or CN_ENOMEM with the message set. */
static int s_copies_fit(cn_cuda *cx, const cn_tf_step_desc *d, cn_dtype wt)
{
    size_t need = 0, fr = 0, tot = 0;
    int mma = s_mma_path((int)cn_dtype_size(wt), d->n_items);
    for (int l = 0; l < d->depth; l++) {
        const cn_tf_step_layer *L = &d->layers[l];
        need += s_copy_bytes(L->attn_w, mma) + s_copy_bytes(L->proj_w, mma) +
                s_copy_bytes(L->fc_w, mma) + s_copy_bytes(L->mlp_w, mma);
    }
    if (cudaMemGetInfo(&fr, &tot) != cudaSuccess) {
        cudaGetLastError();
        return cn_cuda_errf(cx, CN_EDEVICE, "cuda: tf_plan: cudaMemGetInfo failed");
    }
    size_t keep = tot / 20 > ((size_t)1 << 30) ? tot / 20 : (size_t)1 << 30;
    if (need + keep <= fr) return CN_OK;
    return cn_cuda_errf(cx, CN_ENOMEM, "cuda: tf_plan: the (out, in) copies of the weights need "
                        "%.2f GB and %.2f GB must stay free; %.2f GB are free, so decode steps "
                        "run layer by layer", need / 1e9, keep / 1e9, fr / 1e9);
}

void cn_cuda_tf_plan_free(cn_backend *be, void *plan)
{
    s_plan *pl = (s_plan *)plan;
    if (!pl) return;
    if (be) cudaStreamSynchronize(cn_cx(be)->stream);
    for (int i = 0; i < pl->n_mats; i++) cudaFree(pl->mats[i]);
    cudaFree(pl->d_layers);
    cudaFree(pl->p.part);
    cudaFree(pl->p.bar);
    free(pl->mats);
    free(pl);
}

static s_plan *s_plan_new(cn_cuda *cx, const cn_tf_step_desc *d, cn_dtype wt, int grid)
{
    s_plan *pl = (s_plan *)calloc(1, sizeof *pl);
    if (pl) pl->mats = (void **)calloc((size_t)d->depth * 4, sizeof(void *));
    if (!pl || !pl->mats) {
        if (pl) free(pl);
        cn_cuda_errf(cx, CN_ENOMEM, "cuda: tf_plan: out of host memory");
        return NULL;
    }
    pl->wt = wt;
    pl->grid = grid;
    s_step *p = &pl->p;
    p->depth = d->depth, p->N = d->n_items, p->W = d->width, p->S = d->S, p->M = d->mlp;
    p->H = d->heads, p->hd = d->S / d->heads, p->c = d->block_len, p->P = d->prime_len;
    p->n_enc = d->n_enc, p->windowed = d->windowed, p->eps = d->eps;
    const char *pf = getenv("CN_CUDA_PERSISTENT_PREFETCH_KB");
    p->pf_bytes = (pf && *pf ? atoll(pf) : 128) * 1024;
    p->scale = 1.0f / sqrtf((float)p->hd);
    p->qkv = (float *)d->qkv->data, p->att = (float *)d->att->data, p->mh = (float *)d->mh->data;
    size_t part = (size_t)p->N * p->H * S_SPLITS_MAX * (p->hd + 2) * sizeof(float);
    size_t ctl = (1 + (size_t)p->N * p->H) * sizeof(unsigned);
    if (cudaMalloc((void **)&p->part, part) != cudaSuccess ||
        cudaMalloc((void **)&p->bar, ctl) != cudaSuccess ||
        cudaMemset(p->bar, 0, ctl) != cudaSuccess) {
        cudaGetLastError();
        cn_cuda_errf(cx, CN_ENOMEM, "cuda: tf_plan: no device memory for %.1f MB of attention "
                     "partials", part / 1e6);
        cn_cuda_tf_plan_free(NULL, pl);
        return NULL;
    }
    p->cnt = p->bar + 1;
    return pl;
}

void *cn_cuda_tf_plan(cn_backend *be, const cn_tf_step_desc *d)
{
    cn_cuda *cx = cn_cx(be);
    const char *on = getenv("CN_CUDA_PERSISTENT");
    if (!on || strcmp(on, "1")) {
        cn_cuda_errf(cx, CN_EUNSUP, "cuda: tf_plan: off (CN_CUDA_PERSISTENT=1 switches it on)");
        return NULL;
    }
    if (cx->sticky || cx->capturing || d->depth < 1 || !d->layers[0].attn_w) {
        cn_cuda_errf(cx, CN_EINVAL, "cuda: tf_plan: not while recording, after a fatal error "
                     "or for an empty stack");
        return NULL;
    }
    cn_dtype wt = d->layers[0].attn_w->type;
    const char *why = s_unfit(d, wt);
    int per_sm = why ? 0 : s_blocks_per_sm(wt, d->n_items);
    if (why || per_sm < 1) {
        cn_cuda_errf(cx, CN_EUNSUP, "cuda: tf_plan: this stack does not fit the persistent "
                     "kernel: %s", why ? why : "no block fits a multiprocessor");
        return NULL;
    }
    if (s_copies_fit(cx, d, wt)) return NULL;
    s_plan *pl = s_plan_new(cx, d, wt, per_sm * cx->sm_count);
    if (!pl) return NULL;
    if (s_fill(cx, pl, d) != CN_OK || cudaStreamSynchronize(cx->stream) != cudaSuccess) {
        cudaGetLastError();
        cn_cuda_tf_plan_free(be, pl);
        return NULL;
    }
    return pl;
}

int cn_cuda_tf_step(cn_backend *be, void *plan, cn_tensor *x, int pos)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    s_plan *pl = (s_plan *)plan;
    if (!pl || x->type != CN_F32 || cn_nelem(x) != (int64_t)pl->p.N * pl->p.W || pos < 0)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: tf_step: x must be %d x %d f32, pos >= 0 "
                            "(got %lld elements, pos %d)", pl ? pl->p.N : 0, pl ? pl->p.W : 0,
                            (long long)cn_nelem(x), pos);
    s_step p = pl->p;
    p.layers = pl->d_layers;
    p.x = (float *)x->data;
    p.pos = pos;
    p.adv = cn_cuda_adv(cx);
    size_t smem = S_SM_FLOATS * sizeof(float);
    CN_WDISPATCH(pl->wt, T, {
        if (p.N <= 4) s_tf_step_kernel<T, 4><<<pl->grid, S_T, smem, cx->stream>>>(p);
        else s_tf_step_kernel<T, 16><<<pl->grid, S_T, smem, cx->stream>>>(p);
    });
    CUDA_CHECK_LAUNCH("s_tf_step_kernel");
    return CN_OK;
}
