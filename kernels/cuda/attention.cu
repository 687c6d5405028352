/* SPDX-License-Identifier: MIT
 * Attention over the key/value cache: each (query, head) block walks only the keys its mask
 * type admits (block / previous block <= c keys, transpose every c-th), with an online fp32
 * softmax; decode splits the keys over blocks and combines. Never reads a key outside the set.
 */
#include <math.h>

#include "attention.cuh"

#define S_THREADS 128
#define S_CHUNK 128          /* keys scored per pass */
#define S_MIN_PER_SPLIT 16   /* keys a split takes at least */

/* ---- kv_store ---- */

__global__ void s_kv_store(float *k, float *v, const float *src, int len, int src_row_stride,
                           int k_col, int v_col, int S, int pos0, int k_stride,
                           const int64_t *adv)
{
    int n = blockIdx.x / len, r = blockIdx.x - n * len;
    int64_t pos = pos0 + r + (adv ? *adv : 0);
    if (pos < 0 || pos >= k_stride) return;
    const float *row = src + ((int64_t)n * len + r) * src_row_stride;
    int64_t dst = ((int64_t)n * k_stride + pos) * S;
    for (int s = threadIdx.x; s < S; s += blockDim.x) {
        k[dst + s] = row[k_col + s];
        v[dst + s] = row[v_col + s];
    }
}

int cn_cuda_kv_store(cn_backend *be, cn_tensor *k, cn_tensor *v, const cn_tensor *src,
                     int n_items, int len, int src_row_stride, int k_col, int v_col, int S,
                     int pos0, int k_stride)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    if (k->type != CN_F32 || v->type != CN_F32 || src->type != CN_F32)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: kv_store: k, v and src must be f32");
    if (n_items < 0 || len < 0 || S <= 0 || pos0 < 0 || pos0 + len > k_stride ||
        k_col < 0 || v_col < 0 || k_col + S > src_row_stride || v_col + S > src_row_stride)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: kv_store: positions %d..%d of a cache of %d, "
                            "columns k %d v %d of width %d in rows of %d", pos0, pos0 + len - 1,
                            k_stride, k_col, v_col, S, src_row_stride);
    int64_t need = (int64_t)n_items * k_stride * S;
    if (cn_nelem(k) < need || cn_nelem(v) < need ||
        cn_nelem(src) < (int64_t)n_items * len * src_row_stride)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: kv_store: cache k %lld / v %lld elements, "
                            "need %lld; src %lld, need %lld", (long long)cn_nelem(k),
                            (long long)cn_nelem(v), (long long)need, (long long)cn_nelem(src),
                            (long long)n_items * len * src_row_stride);
    if (n_items == 0 || len == 0) return CN_OK;
    s_kv_store<<<(unsigned)(n_items * len), S < 256 ? 128 : 256, 0, cx->stream>>>(
        (float *)k->data, (float *)v->data, (const float *)src->data, len, src_row_stride,
        k_col, v_col, S, pos0, k_stride, cn_cuda_adv(cx));
    CUDA_CHECK_LAUNCH("s_kv_store");
    return CN_OK;
}

/* ---- attention ---- */

typedef struct s_attn {
    const float *q, *k, *v;
    float *out, *probs, *part;
    int type, H, hd, S, q_len, q_pos0, q_row_stride, k_len, k_stride, c, P, probs_head;
    int splits;
    float scale;             /* applied to q.k: 1/sqrt(hd), as the reference's scale^2 */
    const int64_t *adv;
    unsigned *counters;      /* per (row, head): fused combine; NULL: separate kernel */
} s_attn;

__device__ void s_combine(const s_attn &a, int nr, int h, float *wts, float *red);

/* The keys of query position i among kl present: lo + m*step for m < count; *zero when the
 * output is defined as 0 (previous block of block 0). */
__device__ __forceinline__ int s_keys(const s_attn &a, int64_t i, int64_t kl, int64_t *lo,
                                      int64_t *step, int *zero)
{
    int64_t hi;
    *step = 1;
    *zero = 0;
    switch (a.type) {
    case CN_ATTN_DENSE: *lo = 0; hi = i; break;
    case CN_ATTN_BLOCK: *lo = (i / a.c) * a.c; hi = i; break;
    case CN_ATTN_TRANSPOSE: *lo = i % a.c; hi = i; *step = a.c; break;
    case CN_ATTN_PREV_BLOCK:
        if (i / a.c == 0) { *zero = 1; return 0; }
        *lo = (i / a.c - 1) * a.c; hi = *lo + a.c - 1; break;
    case CN_ATTN_CROSS: *lo = 0; hi = kl - 1; break;
    default: *lo = 0; hi = i < a.P - 1 ? i : a.P - 1; break;   /* prime */
    }
    if (hi > kl - 1) hi = kl - 1;
    if (hi < *lo) return 0;
    return (int)((hi - *lo) / *step + 1);
}

/* scores of keys [cs, cs+cn) of the set into sc (scaled q.k); each warp takes 4 keys at a
 * time (4 independent dot products in flight), lanes over d */
__device__ __forceinline__ void s_scores(const s_attn &a, const float *qs, const float *kb,
                                         int64_t lo, int64_t step, int cs, int cn, float *sc)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int idx = warp * 4; idx < cn; idx += 4 * (S_THREADS / 32)) {
        const float *kr[4];
        float s[4];
#pragma unroll
        for (int u = 0; u < 4; u++) {
            kr[u] = kb + (lo + (int64_t)(cs + min(idx + u, cn - 1)) * step) * a.S;
            s[u] = 0.f;
        }
#pragma unroll 4
        for (int d = lane; d < a.hd; d += 32) {   /* unrolled: 16 key loads in flight */
            float qd = qs[d];
#pragma unroll
            for (int u = 0; u < 4; u++) s[u] += qd * kr[u][d];
        }
#pragma unroll
        for (int u = 0; u < 4; u++) {
            float t = cn_warp_sum(s[u]);
            if (lane == 0 && idx + u < cn) sc[idx + u] = t * a.scale;
        }
    }
}

template <int DPT>
__global__ void __launch_bounds__(S_THREADS) s_attention(s_attn a)
{
    extern __shared__ float sm[];
    float *red = sm, *qs = sm + 32, *sc = qs + a.hd;
    int nr = blockIdx.x, h = blockIdx.y, split = blockIdx.z;
    int n = nr / a.q_len, r = nr - n * a.q_len;
    int64_t adv = a.adv ? *a.adv : 0;
    int64_t i = a.q_pos0 + r + adv;
    int64_t kl = a.k_len + (a.type == CN_ATTN_CROSS ? 0 : adv);
    int64_t lo, step;
    int zero;
    int count = s_keys(a, i, kl, &lo, &step, &zero);
    int per = CN_CEIL_DIV(count, a.splits);
    if (a.splits > 1 && per < S_MIN_PER_SPLIT) per = S_MIN_PER_SPLIT;
    int mb = split * per, me = min(count, mb + per);

    const float *qr = a.q + (int64_t)nr * a.q_row_stride + h * a.hd;
    for (int d = threadIdx.x; d < a.hd; d += S_THREADS) qs[d] = qr[d];
    const float *kb = a.k + (int64_t)n * a.k_stride * a.S + h * a.hd;
    const float *vb = a.v + (int64_t)n * a.k_stride * a.S + h * a.hd;
    __syncthreads();

    float mrun = -INFINITY, lrun = 0.f, acc[DPT];
#pragma unroll
    for (int t = 0; t < DPT; t++) acc[t] = 0.f;
    for (int cs = mb; cs < me; cs += S_CHUNK) {
        int cn = min(S_CHUNK, me - cs);
        s_scores(a, qs, kb, lo, step, cs, cn, sc);
        __syncthreads();
        float cm = -INFINITY;
        for (int idx = threadIdx.x; idx < cn; idx += S_THREADS) cm = fmaxf(cm, sc[idx]);
        cm = cn_block_max(cm, red);
        float mnew = fmaxf(mrun, cm), corr = expf(mrun - mnew), ls = 0.f;
        for (int idx = threadIdx.x; idx < cn; idx += S_THREADS) {
            float p = expf(sc[idx] - mnew);
            sc[idx] = p;
            ls += p;
        }
        ls = cn_block_sum(ls, red);   /* its barriers also publish sc */
        lrun = lrun * corr + ls;
        mrun = mnew;
#pragma unroll
        for (int t = 0; t < DPT; t++) {
            int d = threadIdx.x + t * S_THREADS;
            if (d >= a.hd) break;
            const float *vd = vb + (lo + (int64_t)cs * step) * a.S + d;
            int64_t vs = step * a.S;
            float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
            int idx = 0;
            for (; idx + 8 <= cn; idx += 8) {   /* 8 independent loads in flight */
                float v0 = vd[idx * vs], v1 = vd[(idx + 1) * vs], v2 = vd[(idx + 2) * vs];
                float v3 = vd[(idx + 3) * vs], v4 = vd[(idx + 4) * vs], v5 = vd[(idx + 5) * vs];
                float v6 = vd[(idx + 6) * vs], v7 = vd[(idx + 7) * vs];
                s0 += sc[idx] * v0 + sc[idx + 4] * v4;
                s1 += sc[idx + 1] * v1 + sc[idx + 5] * v5;
                s2 += sc[idx + 2] * v2 + sc[idx + 6] * v6;
                s3 += sc[idx + 3] * v3 + sc[idx + 7] * v7;
            }
            for (; idx < cn; idx++) s0 += sc[idx] * vd[idx * vs];
            acc[t] = acc[t] * corr + ((s0 + s1) + (s2 + s3));
        }
        __syncthreads();
    }

    if (a.splits > 1) {
        float *pp = a.part + ((int64_t)(nr * a.H + h) * a.splits + split) * (a.hd + 2);
        if (threadIdx.x == 0) { pp[0] = mrun; pp[1] = lrun; }
#pragma unroll
        for (int t = 0; t < DPT; t++) {
            int d = threadIdx.x + t * S_THREADS;
            if (d < a.hd) pp[2 + d] = acc[t];
        }
        if (a.counters == NULL) return;
        /* the last split of this (row, head) to finish combines them all (fixed order) */
        __shared__ int last;
        unsigned *cnt = a.counters + nr * a.H + h;
        __threadfence();
        __syncthreads();
        if (threadIdx.x == 0) last = atomicAdd(cnt, 1u) == (unsigned)(a.splits - 1);
        __syncthreads();
        if (!last) return;
        __threadfence();
        s_combine(a, nr, h, sc, red);
        if (threadIdx.x == 0) *cnt = 0;
        return;
    }
    float inv = lrun > 0.f ? 1.0f / lrun : 0.f;
    float *orow = a.out + (int64_t)nr * a.S + h * a.hd;
#pragma unroll
    for (int t = 0; t < DPT; t++) {
        int d = threadIdx.x + t * S_THREADS;
        if (d < a.hd) orow[d] = zero ? 0.f : acc[t] * inv;
    }
    if (a.probs == NULL || h != a.probs_head) return;
    float *prow = a.probs + (int64_t)nr * a.k_len;
    for (int j = threadIdx.x; j < a.k_len; j += S_THREADS) prow[j] = 0.f;
    __syncthreads();
    for (int cs = 0; cs < count; cs += S_CHUNK) {
        int cn = min(S_CHUNK, count - cs);
        s_scores(a, qs, kb, lo, step, cs, cn, sc);
        __syncthreads();
        for (int idx = threadIdx.x; idx < cn; idx += S_THREADS) {
            int64_t j = lo + (int64_t)(cs + idx) * step;
            if (j < a.k_len) prow[j] = expf(sc[idx] - mrun) * inv;
        }
        __syncthreads();
    }
}

/* out = sum_s e^(m_s - M) acc_s / sum_s e^(m_s - M) l_s for (row nr, head h); splits <= 128,
 * blockDim >= splits; wts holds 128 floats, red 32 (shared). Reads partials through L2. */
__device__ void s_combine(const s_attn &a, int nr, int h, float *wts, float *red)
{
    const float *pp = a.part + (int64_t)(nr * a.H + h) * a.splits * (a.hd + 2);
    float m = threadIdx.x < a.splits ? __ldcg(pp + threadIdx.x * (a.hd + 2)) : -INFINITY;
    float M = cn_block_max(m, red);
    float e = (m > -INFINITY) ? expf(m - M) : 0.f;
    float l = threadIdx.x < a.splits ? __ldcg(pp + threadIdx.x * (a.hd + 2) + 1) : 0.f;
    float L = cn_block_sum(e * l, red);
    if (threadIdx.x < 128) wts[threadIdx.x] = e;
    __syncthreads();
    float *orow = a.out + (int64_t)nr * a.S + h * a.hd;
    for (int d = threadIdx.x; d < a.hd; d += blockDim.x) {
        float o = 0.f;
        for (int s = 0; s < a.splits; s += 8) {   /* 8 loads in flight, summed in split order */
            float t[8];
#pragma unroll
            for (int u = 0; u < 8; u++)
                t[u] = s + u < a.splits && wts[s + u] != 0.f
                           ? __ldcg(pp + (s + u) * (a.hd + 2) + 2 + d) : 0.f;
#pragma unroll
            for (int u = 0; u < 8; u++)
                if (s + u < a.splits && wts[s + u] != 0.f) o += wts[s + u] * t[u];
        }
        orow[d] = L > 0.f ? o / L : 0.f;
    }
}

/* the combine as its own kernel, for calls with more (row, head) pairs than counters */
__global__ void s_attn_combine(s_attn a)
{
    __shared__ float wts[128];
    __shared__ float red[32];
    s_combine(a, blockIdx.x, blockIdx.y, wts, red);
}

/* the most keys a query of this call (or of a replay advancing it) can see */
static int64_t s_max_keys(const cn_attn_desc *d)
{
    switch (d->type) {
    case CN_ATTN_BLOCK:
    case CN_ATTN_PREV_BLOCK: return d->block_len;
    case CN_ATTN_TRANSPOSE: return CN_CEIL_DIV(d->k_stride, d->block_len);
    case CN_ATTN_PRIME: return d->prime_len < d->k_stride ? d->prime_len : d->k_stride;
    case CN_ATTN_CROSS: return d->k_len;
    default: return d->k_stride;
    }
}

static int s_check(cn_cuda *cx, const cn_tensor *out, const cn_attn_desc *d, const cn_tensor *probs)
{
    int t = d->type;
    if (t != CN_ATTN_DENSE && t != CN_ATTN_BLOCK && t != CN_ATTN_TRANSPOSE &&
        t != CN_ATTN_PREV_BLOCK && t != CN_ATTN_CROSS && t != CN_ATTN_PRIME)
        return cn_cuda_errf(cx, CN_EUNSUP, "cuda: attention type %d is not supported "
                            "(0, 1, 2, 3, 6, 7 are)", t);
    if (d->heads <= 0 || d->head_dim <= 0 || d->n_items < 0 || d->q_len < 0 || d->k_len < 0 ||
        d->q_pos0 < 0 || d->q_row_stride < d->heads * d->head_dim || d->k_stride < d->k_len)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: attention: heads %d x head_dim %d, q rows of "
                            "%d, k_len %d in a cache of %d, q_pos0 %d", d->heads, d->head_dim,
                            d->q_row_stride, d->k_len, d->k_stride, d->q_pos0);
    if ((t == CN_ATTN_BLOCK || t == CN_ATTN_TRANSPOSE || t == CN_ATTN_PREV_BLOCK) &&
        d->block_len <= 0)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: attention type %d needs block_len > 0 (is %d)",
                            t, d->block_len);
    if (t == CN_ATTN_PRIME && d->prime_len <= 0)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: prime attention needs prime_len > 0 (is %d)",
                            d->prime_len);
    if (d->head_dim > 4 * S_THREADS)
        return cn_cuda_errf(cx, CN_EUNSUP, "cuda: attention: head_dim %d; at most %d",
                            d->head_dim, 4 * S_THREADS);
    int64_t S = (int64_t)d->heads * d->head_dim;
    if (out->type != CN_F32 || cn_nelem(out) != (int64_t)d->n_items * d->q_len * S)
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: attention: out has %lld %s elements, want "
                            "%lld f32", (long long)cn_nelem(out), cn_dtype_name(out->type),
                            (long long)d->n_items * d->q_len * S);
    if (d->q_len > 0 && t != CN_ATTN_CROSS) {
        /* the last query's largest key must be present (as the CPU checks) */
        int64_t last = (int64_t)d->q_pos0 + d->q_len - 1, c = d->block_len, hi = last;
        if (t == CN_ATTN_PREV_BLOCK) hi = last < c ? -1 : (last / c) * c - 1;
        if (t == CN_ATTN_PRIME && hi > d->prime_len - 1) hi = d->prime_len - 1;
        if (hi >= d->k_len)
            return cn_cuda_errf(cx, CN_EINVAL, "cuda: attention type %d: query position %lld "
                                "needs key %lld but only k_len = %d keys are present", t,
                                (long long)last, (long long)hi, d->k_len);
    }
    if (probs && (probs->type != CN_F32 || d->probs_head < 0 || d->probs_head >= d->heads ||
                  cn_nelem(probs) != (int64_t)d->n_items * d->q_len * d->k_len))
        return cn_cuda_errf(cx, CN_EINVAL, "cuda: attention: probs has %lld elements, want "
                            "%lld f32; probs_head %d of %d", (long long)cn_nelem(probs),
                            (long long)d->n_items * d->q_len * d->k_len, d->probs_head,
                            d->heads);
    return CN_OK;
}

int cn_cuda_attention(cn_backend *be, cn_tensor *out, const float *q, const float *k,
                      const float *v, const cn_attn_desc *d, cn_tensor *probs)
{
    cn_cuda *cx = cn_cx(be);
    CN_CUDA_ENTER(cx);
    int rc = s_check(cx, out, d, probs);
    if (rc) return rc;
    int rows = d->n_items * d->q_len;
    if (rows == 0) return CN_OK;
    s_attn a;
    a.q = q; a.k = k; a.v = v;
    a.out = (float *)out->data;
    a.probs = probs ? (float *)probs->data : NULL;
    a.part = NULL;
    a.type = d->type; a.H = d->heads; a.hd = d->head_dim; a.S = d->heads * d->head_dim;
    a.q_len = d->q_len; a.q_pos0 = d->q_pos0; a.q_row_stride = d->q_row_stride;
    a.k_len = d->k_len; a.k_stride = d->k_stride;
    a.c = d->block_len > 0 ? d->block_len : 1;
    a.P = d->prime_len;
    a.probs_head = d->probs_head;
    a.scale = (float)(1.0 / sqrt((double)d->head_dim));
    a.adv = cn_cuda_adv(cx);
    a.counters = NULL;
    int64_t blocks = (int64_t)rows * d->heads;
    a.splits = 1;
    if (probs == NULL && blocks < 2 * cx->sm_count) {
        a.splits = (int)CN_CEIL_DIV(4 * cx->sm_count, blocks);
        int64_t useful = CN_CEIL_DIV(s_max_keys(d), S_MIN_PER_SPLIT);
        if (a.splits > useful) a.splits = (int)(useful > 1 ? useful : 1);
        if (a.splits > 128) a.splits = 128;
        if (blocks <= CN_CUDA_COUNTERS) a.counters = cx->counters;
        a.part = (float *)cn_cuda_scratch(cx, (size_t)blocks * a.splits * (a.hd + 2) * 4);
        if (a.part == NULL) return CN_ENOMEM;
    }
    if (d->heads > 65535)
        return cn_cuda_errf(cx, CN_EUNSUP, "cuda: attention: %d heads; at most 65535", d->heads);
    dim3 grid((unsigned)rows, (unsigned)d->heads, (unsigned)a.splits);
    size_t smem = (32 + a.hd + S_CHUNK) * sizeof(float);
    int dpt = CN_CEIL_DIV(a.hd, S_THREADS);
    switch (dpt) {
    case 1: s_attention<1><<<grid, S_THREADS, smem, cx->stream>>>(a); break;
    case 2: s_attention<2><<<grid, S_THREADS, smem, cx->stream>>>(a); break;
    case 3: s_attention<3><<<grid, S_THREADS, smem, cx->stream>>>(a); break;
    default: s_attention<4><<<grid, S_THREADS, smem, cx->stream>>>(a); break;
    }
    CUDA_CHECK_LAUNCH("s_attention");
    if (a.splits > 1 && a.counters == NULL) {
        s_attn_combine<<<dim3((unsigned)rows, (unsigned)d->heads), 128, 0, cx->stream>>>(a);
        CUDA_CHECK_LAUNCH("s_attn_combine");
    }
    return CN_OK;
}
