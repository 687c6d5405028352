/* SPDX-License-Identifier: MIT
 * Device code of the persistent decode step (tf_step.cu launches it): one kernel runs every
 * layer for one position of N items, its blocks meeting at a grid barrier between the five
 * phases of a layer (LN0 + c_attn + cache store; attention; c_proj + residual; LN1 + c_fc +
 * gelu; MLP c_proj + residual). Weights are read once, as (out, in) rows, each row's dot
 * products by one warp or a few (K split, summed in a fixed order); activations and caches are
 * fp32 and read through L2 (__ldcg), since other blocks wrote them during this launch.
 */
#ifndef CN_CUDA_TF_STEP_DEV_CUH
#define CN_CUDA_TF_STEP_DEV_CUH

#include <math.h>
#include <string.h>

#include "cuda_common.cuh"

#ifndef S_T
#define S_T 512                 /* threads per block (the CPU emulation test uses fewer) */
#endif
#define S_W (S_T / 32)          /* warps per block */
#define S_NMAX 16               /* most items */
#define S_UNR 4                 /* weight loads in flight per lane */
#define S_SPLITS_MAX 64         /* key splits of one (item, head) */
#ifndef S_KEYS_MAX
#define S_KEYS_MAX 1024         /* keys one split scores */
#define S_HD_MAX 1024
#define S_XS_FLOATS 16384       /* staged inputs: N x a K chunk (at least S_NMAX x 256) */
#endif
#define S_ROUNDS 4              /* tiles a block works on at once */
#ifdef __CUDACC__
#define S_NOINLINE __noinline__  /* (kept out of s_gemv's registers) */
#else
#define S_NOINLINE __attribute__((noinline))
#endif
/* shared memory in floats: block reduction (slot 31: a flag), LN stats, per-warp sums of the
 * tiles in work (tensor-core path: each warp's 16 x 8 outputs), staged inputs (attention: q,
 * scores and per-warp value sums) */
#define S_SM_RED 0
#define S_SM_STATS 32
#define S_SM_SUMS 64
#define S_SUMS_FLOATS (S_ROUNDS * S_NMAX > 128 ? S_ROUNDS * S_NMAX * S_W : 128 * S_W)
#define S_SM_XS (S_SM_SUMS + S_SUMS_FLOATS)
#ifndef S_OV
#define S_OV 8                  /* head dims per lane in one pass of attention's value sums */
#endif
#define S_ATT_FLOATS (S_HD_MAX + S_KEYS_MAX + S_W * 32 * S_OV)   /* q, scores, warps' sums */
#define S_SM_FLOATS (S_SM_XS + (S_XS_FLOATS > S_ATT_FLOATS ? S_XS_FLOATS : S_ATT_FLOATS))

typedef struct s_layer {
    int type, rows;
    const float *ln0_g, *ln0_b, *ln1_g, *ln1_b, *attn_b, *proj_b, *fc_b, *mlp_b;
    const void *attn_t, *proj_t, *fc_t, *mlp_t;   /* (out, in) copies of the Conv1D weights */
    float *k, *v;
} s_layer;

typedef struct s_step {
    const s_layer *layers;
    int depth, N, W, S, M, H, hd, c, P, n_enc, windowed;
    float eps, scale;
    float *x, *qkv, *att, *mh, *part;
    unsigned *bar, *cnt;    /* the grid barrier's word; per (item, head) split counters */
    int pos;
    const int64_t *adv;
    long long pf_bytes;     /* L2 prefetch budget of a block per phase boundary */
} s_step;

enum { S_EPI_QKV, S_EPI_RESIDUAL, S_EPI_GELU };

/* All blocks of the grid (all resident: the launch asks for no more) wait here. One word, as
 * cooperative groups' grid sync keeps it: every block adds 1, block 0 adds 2^31 - (blocks - 1),
 * so the arrival that completes the count flips bit 31 and the low bits are back where they
 * were; each block waits for bit 31 to differ from what its own add saw. No reset, no second
 * word, a single atomic on the critical path. A block that waits more than about 10 s (a block
 * that never became resident: another process holding multiprocessors) traps, a sticky error
 * the helper answers by exiting, not a hang. */
static __device__ __forceinline__ void s_grid_sync(unsigned *bar)
{
    __syncthreads();
    if (threadIdx.x == 0) {
        volatile unsigned *word = bar;
        unsigned add = blockIdx.x == 0 ? 0x80000000u - (gridDim.x - 1) : 1u;
        __threadfence();
        unsigned seen = atomicAdd(bar, add);
#ifdef __CUDA_ARCH__
        long long t0 = clock64();
        while (((seen ^ *word) & 0x80000000u) == 0) {
            __nanosleep(32);
            if (clock64() - t0 > 20000000000LL) __trap();
        }
#else
        while (((seen ^ *word) & 0x80000000u) == 0) __nanosleep(32);
#endif
        __threadfence();
    }
    __syncthreads();
}

/* Rows per tile (S_W / tr warps share a row, splitting its K): the most even spread of tiles
 * over the grid, each warp keeping at least one segment of K. */
static __host__ __device__ inline int s_rows_per_tile(int R, int K, int seg, int grid)
{
    int best = S_W;
    double best_eff = -1.0;
    for (int tr = S_W; tr >= 1; tr >>= 1) {
        int wpr = S_W / tr;
        if (wpr > 1 && (K + seg - 1) / seg < wpr) break;
        int tiles = (R + tr - 1) / tr, rounds = (tiles + grid - 1) / grid;
        double eff = (double)tiles / ((double)rounds * grid);
        if (eff > best_eff + 1e-9) best_eff = eff, best = tr;
    }
    return best;
}

/* Whether a kernel for weights of es bytes and up to nn items runs its matrices on tensor cores
 * (s_gemv_mma, below): 2-byte weights and more than 4 items; the FMA path (s_gemv) otherwise.
 * The plan asks the same with the item count, which is above 4 exactly when the launch's nn is. */
static constexpr __host__ __device__ bool s_mma_path(int es, int nn) { return es == 2 && nn > 4; }

/* Geometry of the tensor-core path, also used by the plan and the prefetch */
#define S_MK 64

static __host__ __device__ inline int s_kpad(int K) { return (K + S_MK - 1) / S_MK * S_MK; }

/* Element (r, k) of an (R, K) weight in the tensor-core layout with K padded to Kp: 8-row
 * groups, then 64-wide k blocks, then lanes (4 g + t holds row g, k = 8 s + 4 h + t), then
 * the lane's 16 values in (s, h) order. */
static __host__ __device__ inline int64_t s_mma_at(int r, int k, int Kp)
{
    int lane = (r & 7) * 4 + (k & 3), e = ((k & 63) >> 3) * 2 + ((k >> 2) & 1);
    return ((((int64_t)(r >> 3) * (Kp / S_MK) + (k >> 6)) * 32 + lane) << 4) + e;
}

/* Rows per tile of the tensor-core path (8 per warp group, S_W*8/tr warps splitting a group's
 * k blocks): the most even spread of tiles over the grid. */
static __host__ __device__ inline int s_mma_rows_per_tile(int R, int Kp, int grid)
{
    int best = 8 * S_W;
    double best_eff = -1.0;
    for (int tr = 8 * S_W; tr >= 8; tr >>= 1) {
        int wpr = 8 * S_W / tr;
        if (wpr > 1 && Kp / S_MK < wpr) break;
        int tiles = (R + tr - 1) / tr, rounds = (tiles + grid - 1) / grid;
        double eff = (double)tiles / ((double)rounds * grid);
        if (eff > best_eff + 1e-9) best_eff = eff, best = tr;
    }
    return best;
}

/* Hints L2 to fetch tiles t0, t0 + grid, ... (at most `count`) of weights wt (R, K) cut into
 * tiles of tr rows, at most *budget bytes, which it lowers by what it asks for (Hopper bulk
 * prefetch; nothing elsewhere). */
static __device__ S_NOINLINE void s_prefetch_tiles(const void *wt, int R, int K, int es,
                                                        int tr, int t0, int count,
                                                        long long *budget)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    size_t tile = (size_t)tr * K * es;
    for (int t = t0, i = 0; i < count && t * tr < R && *budget >= 16; t += gridDim.x, i++) {
        size_t bytes = (size_t)min(tr, R - t * tr) * K * es;
        if ((long long)bytes > *budget) bytes = (size_t)*budget & ~(size_t)15;
        const char *base = (const char *)wt + (size_t)t * tile;
        for (size_t off = (size_t)threadIdx.x * 4096; off < bytes; off += (size_t)S_T * 4096) {
            unsigned n = (unsigned)min((size_t)4096, bytes - off) & ~15u;
            if (n) asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(base + off),
                                "r"(n) : "memory");
        }
        *budget -= (long long)bytes;
    }
#else
    (void)wt, (void)R, (void)K, (void)es, (void)tr, (void)t0, (void)count, (void)budget;
#endif
}

/* This block's next group of S_ROUNDS tiles after the group from tile t0, asked for while the
 * block reads the current group (from L2, where the previous ask put it) */
static __device__ __forceinline__ void s_prefetch_next_group(const void *wt, int R, int K, int es,
                                                             int tr, int t0)
{
    long long unlimited = 1LL << 40;
    s_prefetch_tiles(wt, R, K, es, tr, t0 + S_ROUNDS * gridDim.x, S_ROUNDS, &unlimited);
}

/* This block's tiles of a phase's weights, in the order s_gemv reads them, up to *budget
 * bytes: issued before a grid barrier, so that memory keeps streaming while the grid waits
 * and the next phase starts from L2. */
template <bool MMA>
static __device__ __forceinline__ void s_prefetch(const void *wt, int R, int K, int es,
                                                  long long *budget)
{
    int kp = MMA ? s_kpad(K) : K;
    int tr = MMA ? s_mma_rows_per_tile(R, kp, gridDim.x) : s_rows_per_tile(R, K, 512 / es,
                                                                          gridDim.x);
    s_prefetch_tiles(wt, R, kp, es, tr, blockIdx.x, 1 << 30, budget);
}

/* mean and 1/sqrt(var + eps) of every item's row (N rows of W, ld apart, at x, from global
 * memory or from shared memory) into stats[m], stats[S_NMAX + m] */
template <bool SHARED>
static __device__ void s_ln_stats(const s_step &p, const float *x, int ld, float *stats)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    for (int m = w; m < p.N; m += S_W) {
        const float *xr = x + (int64_t)m * ld;
        float s = 0.f;
        for (int i = lane; i < p.W; i += 32) s += SHARED ? xr[i] : __ldcg(xr + i);
        float mean = cn_warp_sum(s) / (float)p.W, v = 0.f;
        for (int i = lane; i < p.W; i += 32) {
            float d = (SHARED ? xr[i] : __ldcg(xr + i)) - mean;
            v += d * d;
        }
        float var = cn_warp_sum(v) / (float)p.W;
        if (lane == 0) stats[m] = mean, stats[S_NMAX + m] = 1.0f / sqrtf(var + p.eps);
    }
    __syncthreads();
}

/* xs (N rows of kc, ld apart) = columns [k0, k0+kc) of src (N x K), LayerNorm applied when g
 * is not NULL: with the stats in shared memory, or, when the whole row is staged (kc == K),
 * computed from xs so that x is read from L2 once. */
static __device__ void s_stage(const s_step &p, float *xs, int ld, const float *src, int K, int k0,
                               int kc, const float *g, const float *b, float *stats)
{
    int from_xs = g && kc == K;
    for (int i = threadIdx.x; i < p.N * kc; i += S_T) {
        int m = i / kc, k = k0 + (i - m * kc);
        float v = __ldcg(src + (int64_t)m * K + k);
        if (g && !from_xs) v = (v - stats[m]) * stats[S_NMAX + m] * g[k] + b[k];
        xs[m * ld + (k - k0)] = v;
    }
    if (!from_xs) return;
    __syncthreads();
    s_ln_stats<true>(p, xs, ld, stats);
    for (int i = threadIdx.x; i < p.N * kc; i += S_T) {
        int m = i / kc, k = i - m * kc;
        xs[m * ld + k] = (xs[m * ld + k] - stats[m]) * stats[S_NMAX + m] * g[k] + b[k];
    }
}

/* What becomes of y = acc + bias of item m, output r. */
static __device__ __forceinline__ void s_epilogue(const s_step &p, const s_layer &L, int epi, int m,
                                                  int r, float v, int store)
{
    if (epi == S_EPI_QKV) {
        p.qkv[(int64_t)m * 3 * p.S + r] = v;
        if (store >= 0 && r >= p.S && store < L.rows) {
            float *dst = r < 2 * p.S ? L.k : L.v;
            int col = r < 2 * p.S ? r - p.S : r - 2 * p.S;
            dst[((int64_t)m * L.rows + store) * p.S + col] = v;
        }
    } else if (epi == S_EPI_GELU) {
        p.mh[(int64_t)m * p.M + r] = v / (1.0f + expf(-1.702f * v));
    } else {
        float *xp = p.x + (int64_t)m * p.W + r;
        *xp = __ldcg(xp) + v;
    }
}

/* acc[m] += the VEC weights at w . xs[m][k .. k+VEC) for every item */
template <typename T, int NN, int VEC>
static __device__ __forceinline__ void s_fma(float *acc, const uint4 &raw, const float *xs, int kc,
                                             int k, int N)
{
    T wv[VEC];
    memcpy(wv, &raw, sizeof wv);   /* not a pointer cast: no aliasing of uint4 as T */
    float wf[VEC];
#pragma unroll
    for (int e = 0; e < VEC; e++) wf[e] = cn_ld(wv, e);
#pragma unroll
    for (int m = 0; m < NN; m++) {
        if (m >= N) break;
        const float4 *xp = reinterpret_cast<const float4 *>(xs + m * kc + k);
#pragma unroll
        for (int q = 0; q < VEC / 4; q++) {
            float4 x4 = xp[q];
            acc[m] += wf[4 * q] * x4.x + wf[4 * q + 1] * x4.y + wf[4 * q + 2] * x4.z +
                      wf[4 * q + 3] * x4.w;
        }
    }
}

/* One row's part of a staged chunk: segments sub, sub+wpr, ... of 32*VEC inputs. */
template <typename T, int NN>
static __device__ __forceinline__ void s_row_chunk(float *acc, const T *wr, const float *xs, int kc,
                                                   int sub, int wpr, int N)
{
    constexpr int VEC = 16 / sizeof(T), SEG = 32 * VEC;
    int lane = threadIdx.x & 31, nseg = (kc + SEG - 1) / SEG, s = sub;
    for (; s + (S_UNR - 1) * wpr < nseg; s += S_UNR * wpr) {
        uint4 raw[S_UNR];
        int kk[S_UNR];
#pragma unroll
        for (int u = 0; u < S_UNR; u++) {
            kk[u] = (s + u * wpr) * SEG + lane * VEC;
            raw[u] = kk[u] < kc ? __ldg(reinterpret_cast<const uint4 *>(wr + kk[u]))
                                : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int u = 0; u < S_UNR; u++)
            if (kk[u] < kc) s_fma<T, NN, VEC>(acc, raw[u], xs, kc, kk[u], N);
    }
    for (; s < nseg; s += wpr) {
        int k = s * SEG + lane * VEC;
        if (k < kc)
            s_fma<T, NN, VEC>(acc, __ldg(reinterpret_cast<const uint4 *>(wr + k)), xs, kc, k, N);
    }
}

/* y (N x R) = in (N x K) . wt^T + bias, then the epilogue; wt is (R, K) row-major. in is src,
 * LayerNorm'd with (g, b) and the stats in shared memory when g is not NULL. A block takes its
 * tiles S_ROUNDS at a time: each chunk of the input is staged once for all of them, and each
 * warp's sums per chunk are added up in shared memory, in chunk order. */
template <typename T, int NN>
static __device__ void s_gemv(const s_step &p, const s_layer &L, int epi, const T *wt,
                              const float *bias, int R, int K, const float *src, const float *g,
                              const float *b, float *sm, int store)
{
    constexpr int VEC = 16 / sizeof(T), SEG = 32 * VEC;
    float *stats = sm + S_SM_STATS, *sums = sm + S_SM_SUMS, *xs = sm + S_SM_XS;
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    int tr = s_rows_per_tile(R, K, SEG, gridDim.x), wpr = S_W / tr;
    int row_in = w / wpr, sub = w - row_in * wpr, tiles = (R + tr - 1) / tr;
    int kc_max = (S_XS_FLOATS / p.N) / SEG * SEG, staged = 0;   /* staged: all of K in xs */
    if (g && K > kc_max && (int)blockIdx.x < tiles) s_ln_stats<false>(p, p.x, p.W, stats);
    for (int t0 = blockIdx.x; t0 < tiles; t0 += S_ROUNDS * gridDim.x) {
        s_prefetch_next_group(wt, R, K, (int)sizeof(T), tr, t0);
        for (int i = threadIdx.x; i < S_ROUNDS * S_W * S_NMAX; i += S_T) sums[i] = 0.f;
        for (int k0 = 0; k0 < K; k0 += kc_max) {
            int kc = min(kc_max, K - k0);
            __syncthreads();
            if (!staged) s_stage(p, xs, kc, src, K, k0, kc, g, b, stats);
            staged = kc == K;
            __syncthreads();
            for (int j = 0; j < S_ROUNDS && t0 + j * (int)gridDim.x < tiles; j++) {
                int r = (t0 + j * gridDim.x) * tr + row_in;
                float acc[NN];
#pragma unroll
                for (int m = 0; m < NN; m++) acc[m] = 0.f;
                if (r < R) s_row_chunk<T, NN>(acc, wt + (int64_t)r * K + k0, xs, kc, sub, wpr, p.N);
#pragma unroll
                for (int m = 0; m < NN; m++) acc[m] = cn_warp_sum(acc[m]);
                if (lane == 0)
#pragma unroll
                    for (int m = 0; m < NN; m++) sums[(j * S_W + w) * S_NMAX + m] += acc[m];
            }
        }
        __syncthreads();
        for (int j = 0; j < S_ROUNDS && t0 + j * (int)gridDim.x < tiles; j++) {
            int r = (t0 + j * gridDim.x) * tr + row_in;
            if (sub != 0 || r >= R || lane >= p.N) continue;
            float v = 0.f;
            for (int i = 0; i < wpr; i++) v += sums[(j * S_W + w + i) * S_NMAX + lane];
            s_epilogue(p, L, epi, lane, r, v + bias[r], store);
        }
        __syncthreads();
    }
}

/* ---- Tensor-core gemv (2-byte weights, more than 4 items) ----
 * For N > 4 the FMA path above reads N floats of x from shared memory for every weight, more
 * than shared memory delivers at the rate weights stream in. Here a warp multiplies 8 weight
 * rows by up to 16 items with mma.sync m16n8k8 (tf32, fp32 accumulation): items are the 16
 * rows of A, taken from the staged x as a tf32 high part plus a tf32 low part (two mma, so x
 * keeps about 22 of its 24 bits), and 8 weight rows are B (bf16 and fp16 are exact in tf32).
 * The plan stores the weights so that each lane's part of a 64-wide k block of 8 rows is 32
 * contiguous bytes (s_mma_at, above), K padded with zeros to a multiple of 64. */
/* tf32 bits of x rounded to nearest (ties away), as cvt.rna.tf32.f32 */
static __device__ __forceinline__ unsigned s_tf32(float x)
{
    unsigned u;
    memcpy(&u, &x, sizeof u);
    return (u + 0x1000u) & 0xffffe000u;
}

static __device__ __forceinline__ unsigned s_f_bits(float x)
{
    unsigned u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static __device__ __forceinline__ float s_bits_f(unsigned u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* d += a . b for one m16n8k8 tf32 tile (fragments as the PTX ISA lays them out) */
static __device__ __forceinline__ void s_mma(float d[4], const unsigned a[4], const unsigned b[2])
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, "
                 "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#elif defined(CN_EMU_MMA)
    emu_mma_tf32(d, a, b);
#elif defined(__CUDA_ARCH__)
    __trap();   /* built for a device without tf32 mma: the plan never picks this path there */
#endif
}

/* One 64-wide k block (kb, chunk-relative; k < kc valid) of 8 weight rows at wq times the
 * staged items (ld apart) onto d. */
template <typename T, int NN>
static __device__ __forceinline__ void s_mma_kblock(float d[4], const T *wq, const float *xs,
                                                    int ld, int kb, int kc, int N)
{
    int lane = threadIdx.x & 31, gq = lane >> 2, tq = lane & 3;
    const uint4 *wp = reinterpret_cast<const uint4 *>(wq + lane * 16);
    uint4 raw[2] = { __ldg(wp), __ldg(wp + 1) };
    T wv[16];
    memcpy(wv, raw, sizeof wv);   /* not a pointer cast: no aliasing of uint4 as T */
#pragma unroll
    for (int s8 = 0; s8 < 8; s8++) {
        int k = kb * S_MK + s8 * 8 + tq;
        /* a bf16 or fp16 weight as a float has its low 13 bits zero: it is its own tf32 */
        unsigned bw[2] = { s_f_bits(cn_ld(wv, 2 * s8)), s_f_bits(cn_ld(wv, 2 * s8 + 1)) };
        float xa[4] = { 0.f, 0.f, 0.f, 0.f };
        if (gq < N) {
            if (k < kc) xa[0] = xs[gq * ld + k];
            if (k + 4 < kc) xa[2] = xs[gq * ld + k + 4];
        }
        if (NN > 8 && gq + 8 < N) {
            if (k < kc) xa[1] = xs[(gq + 8) * ld + k];
            if (k + 4 < kc) xa[3] = xs[(gq + 8) * ld + k + 4];
        }
        unsigned hi[4], lo[4];
#pragma unroll
        for (int i = 0; i < 4; i++) {
            hi[i] = s_tf32(xa[i]);
            lo[i] = s_tf32(xa[i] - s_bits_f(hi[i]));
        }
        s_mma(d, hi, bw);
        s_mma(d, lo, bw);
    }
}

/* s_gemv on tensor cores: wt in the s_mma_at layout. Each warp keeps its 16 x 8 sums of up to
 * S_ROUNDS tiles in registers over the K chunks; the warps of a group are then added in warp
 * order through shared memory. Staged rows are ld = a multiple of 32 plus 4 floats apart, so
 * that the 32 lanes' x reads fall in 32 different banks. */
template <typename T, int NN>
static __device__ void s_gemv_mma(const s_step &p, const s_layer &L, int epi, const T *wt,
                                  const float *bias, int R, int K, const float *src,
                                  const float *g, const float *b, float *sm, int store)
{
    float *stats = sm + S_SM_STATS, *red = sm + S_SM_SUMS, *xs = sm + S_SM_XS;
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, gq = lane >> 2, tq = lane & 3;
    int Kp = s_kpad(K);
    int tr = s_mma_rows_per_tile(R, Kp, gridDim.x), wpr = 8 * S_W / tr;
    int grp = w / wpr, sub = w - grp * wpr, tiles = (R + tr - 1) / tr, staged = 0;
    int kc_max = (S_XS_FLOATS / p.N - 36) / S_MK * S_MK;
    if (g && K > kc_max && (int)blockIdx.x < tiles) s_ln_stats<false>(p, p.x, p.W, stats);
    for (int t0 = blockIdx.x; t0 < tiles; t0 += S_ROUNDS * gridDim.x) {
        s_prefetch_next_group(wt, R, Kp, (int)sizeof(T), tr, t0);
        float d[S_ROUNDS][4];
#pragma unroll
        for (int j = 0; j < S_ROUNDS; j++) d[j][0] = d[j][1] = d[j][2] = d[j][3] = 0.f;
        for (int k0 = 0; k0 < K; k0 += kc_max) {
            int kc = min(kc_max, K - k0), ld = (kc + 31) / 32 * 32 + 4;
            __syncthreads();
            if (!staged) s_stage(p, xs, ld, src, K, k0, kc, g, b, stats);
            staged = kc == K;
            __syncthreads();
            int kbn = (kc + S_MK - 1) / S_MK;
#pragma unroll
            for (int j = 0; j < S_ROUNDS; j++) {
                int G = (t0 + j * (int)gridDim.x) * (tr / 8) + grp;
                if (t0 + j * (int)gridDim.x >= tiles || G * 8 >= R) continue;
#pragma unroll 2   /* two k blocks' loads in flight per lane */
                for (int kb = sub; kb < kbn; kb += wpr)
                    s_mma_kblock<T, NN>(d[j], wt + s_mma_at(G * 8, k0 + kb * S_MK, Kp), xs, ld,
                                        kb, kc, p.N);
            }
        }
#pragma unroll
        for (int j = 0; j < S_ROUNDS; j++) {
            int tile = t0 + j * (int)gridDim.x;
            if (tile >= tiles) break;
            __syncthreads();
            float *o = red + w * 128;
            o[gq * 8 + 2 * tq] = d[j][0], o[gq * 8 + 2 * tq + 1] = d[j][1];
            o[(gq + 8) * 8 + 2 * tq] = d[j][2], o[(gq + 8) * 8 + 2 * tq + 1] = d[j][3];
            __syncthreads();
            for (int i = threadIdx.x; i < (S_W / wpr) * p.N * 8; i += S_T) {
                int gi = i / (p.N * 8), m = (i / 8) % p.N, oc = i % 8, r = tile * tr + gi * 8 + oc;
                if (r >= R) continue;
                float v = 0.f;
                for (int q = 0; q < wpr; q++) v += red[(gi * wpr + q) * 128 + m * 8 + oc];
                s_epilogue(p, L, epi, m, r, v + bias[r], store);
            }
        }
        __syncthreads();
    }
}

/* The keys of query position i among kl present: lo + j*step for j < count (the model code's
 * masks, as attention.cu); *zero when the output is 0 (previous block of block 0). */
static __device__ __forceinline__ int s_key_set(const s_step &p, int type, int i, int kl, int *lo,
                                                int *step, int *zero)
{
    int hi, c = p.c;
    *step = 1;
    *zero = 0;
    switch (type) {
    case CN_ATTN_DENSE: *lo = 0; hi = i; break;
    case CN_ATTN_BLOCK: *lo = (i / c) * c; hi = i; break;
    case CN_ATTN_TRANSPOSE: *lo = i % c; hi = i; *step = c; break;
    case CN_ATTN_PREV_BLOCK:
        if (i / c == 0) { *zero = 1; *lo = 0; return 0; }
        *lo = (i / c - 1) * c; hi = *lo + c - 1; break;
    case CN_ATTN_CROSS: *lo = 0; hi = kl - 1; break;
    default: *lo = 0; hi = i < p.P - 1 ? i : p.P - 1; break;   /* prime */
    }
    if (hi > kl - 1) hi = kl - 1;
    if (hi < *lo) return 0;
    return (hi - *lo) / *step + 1;
}

/* Cache row written and query position read at pos, as transformer.c addresses them. */
static __device__ __forceinline__ void s_addr(const s_step &p, int type, int pos, int *store,
                                              int *q0, int *k_len)
{
    int c = p.c;
    *store = *q0 = pos;
    *k_len = pos + 1;
    if (type == CN_ATTN_CROSS) {
        *store = -1;
        *k_len = p.n_enc;
    } else if (type == CN_ATTN_BLOCK && p.windowed) {
        *store = *q0 = pos % c;
        *k_len = *q0 + 1;
    } else if (type == CN_ATTN_PREV_BLOCK && p.windowed) {
        int b = pos / c;
        *store = pos % (2 * c);
        *q0 = b == 0 ? pos : c * ((b - 1) % 2 + 1) + pos % c;
        *k_len = *q0 + 1;
    }
}

/* The last of a (item, head)'s splits to finish adds them up, in split order. */
static __device__ void s_attn_combine(const s_step &p, int u, int splits, float *att, float *red)
{
    volatile float *last = red + 31;   /* block reductions use at most S_W <= 31 slots */
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) *last = atomicAdd(&p.cnt[u], 1u) == (unsigned)(splits - 1);
    __syncthreads();
    if (*last == 0.f) return;
    __threadfence();
    int st = p.hd + 2;
    const float *pp = p.part + (int64_t)u * S_SPLITS_MAX * st;
    float mx = -INFINITY;
    for (int s = 0; s < splits; s++) mx = fmaxf(mx, __ldcg(pp + s * st));
    for (int d = threadIdx.x; d < p.hd; d += S_T) {
        float l = 0.f, o = 0.f;
        for (int s = 0; s < splits; s++) {
            float ms = __ldcg(pp + s * st);
            if (ms == -INFINITY) continue;
            float f = expf(ms - mx);
            l += __ldcg(pp + s * st + 1) * f;
            o += __ldcg(pp + s * st + 2 + d) * f;
        }
        att[d] = l > 0.f ? o / l : 0.f;
    }
    if (threadIdx.x == 0) p.cnt[u] = 0;
}

/* Scores of keys j0 .. j0+nk-1 of the key set into sc[] (scaled): warp w takes keys w,
 * w + S_W, ..., two at a time so that both rows' loads are in flight together. */
static __device__ __forceinline__ void s_scores(const s_step &p, const float *qs, const float *kb,
                                                int lo, int step, int j0, int nk, float *sc)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    for (int j = w; j < nk; j += 2 * S_W) {
        int j2 = j + S_W < nk ? j + S_W : j;
        const float *kr = kb + (int64_t)(lo + (j0 + j) * step) * p.S;
        const float *kr2 = kb + (int64_t)(lo + (j0 + j2) * step) * p.S;
        float s = 0.f, s2 = 0.f;
        for (int d = lane; d < p.hd; d += 32) {
            float qd = qs[d];
            s += qd * __ldcg(kr + d);
            s2 += qd * __ldcg(kr2 + d);
        }
        s = cn_warp_sum(s);
        s2 = cn_warp_sum(s2);
        if (lane == 0) {
            sc[j] = s * p.scale;
            if (j2 != j) sc[j2] = s2 * p.scale;
        }
    }
}

/* out[d] = sum over keys of e[j] * v[j][d] for d < hd: warp w sums keys w, w + S_W, ... for
 * 32 * S_OV dims at a time (lane + 32 i), then the warps' sums are added in warp order. out is
 * att (divided by l, or 0 when there is nothing to attend) for one split, else the split's
 * partial. */
static __device__ __forceinline__ void s_values(const s_step &p, const float *vb, int lo, int step,
                                                int j0, int nk, const float *e, float *wo,
                                                float *out, int single, float l)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    for (int d0 = 0; d0 < p.hd; d0 += 32 * S_OV) {
        float o[S_OV];
#pragma unroll
        for (int i = 0; i < S_OV; i++) o[i] = 0.f;
#pragma unroll 2
        for (int j = w; j < nk; j += S_W) {
            const float *vr = vb + (int64_t)(lo + (j0 + j) * step) * p.S + d0 + lane;
            float ej = e[j];
#pragma unroll
            for (int i = 0; i < S_OV; i++)
                if (d0 + lane + 32 * i < p.hd) o[i] += ej * __ldcg(vr + 32 * i);
        }
#pragma unroll
        for (int i = 0; i < S_OV; i++) wo[w * 32 * S_OV + lane + 32 * i] = o[i];
        __syncthreads();
        for (int d = d0 + threadIdx.x; d < p.hd && d < d0 + 32 * S_OV; d += S_T) {
            float acc = 0.f;
            for (int ww = 0; ww < S_W; ww++) acc += wo[ww * 32 * S_OV + d - d0];
            out[d] = single ? (l > 0.f ? acc / l : 0.f) : acc;
        }
        __syncthreads();
    }
}

/* softmax(q k^T * scale) v for every (item, head), its keys split over blocks. */
static __device__ void s_attention(const s_step &p, const s_layer &L, int q0, int k_len, float *sm)
{
    float *red = sm + S_SM_RED, *qs = sm + S_SM_XS, *sc = qs + S_HD_MAX, *wo = sc + S_KEYS_MAX;
    int lo, step, zero;
    int cnt = s_key_set(p, L.type, q0, k_len, &lo, &step, &zero);
    int U = p.N * p.H;
    int per = (int)(((int64_t)cnt * U + 2 * gridDim.x - 1) / (2 * gridDim.x));
    per = min(max(per, 32), S_KEYS_MAX);
    if (cnt > per * S_SPLITS_MAX) per = (cnt + S_SPLITS_MAX - 1) / S_SPLITS_MAX;
    int splits = cnt > 0 ? (cnt + per - 1) / per : 1;
    for (int it = blockIdx.x; it < U * splits; it += gridDim.x) {
        int u = it / splits, sp = it - u * splits, m = u / p.H, h = u - m * p.H;
        int j0 = sp * per, nk = zero ? 0 : max(0, min(cnt, j0 + per) - j0);
        const float *q = p.qkv + (int64_t)m * 3 * p.S + h * p.hd;
        const float *kb = L.k + (int64_t)m * L.rows * p.S + h * p.hd;
        const float *vb = L.v + (int64_t)m * L.rows * p.S + h * p.hd;
        __syncthreads();
        for (int d = threadIdx.x; d < p.hd; d += S_T) qs[d] = __ldcg(q + d);
        __syncthreads();
        s_scores(p, qs, kb, lo, step, j0, nk, sc);
        __syncthreads();
        float mx = -INFINITY, l = 0.f;
        for (int j = threadIdx.x; j < nk; j += S_T) mx = fmaxf(mx, sc[j]);
        mx = cn_block_max(mx, red);
        for (int j = threadIdx.x; j < nk; j += S_T) {
            float e = expf(sc[j] - mx);
            sc[j] = e;
            l += e;
        }
        l = cn_block_sum(l, red);
        float *att = p.att + (int64_t)m * p.S + h * p.hd;
        float *pp = p.part + ((int64_t)u * S_SPLITS_MAX + sp) * (p.hd + 2);
        s_values(p, vb, lo, step, j0, nk, sc, wo, splits == 1 ? att : pp + 2, splits == 1, l);
        if (splits > 1) {
            if (threadIdx.x == 0) pp[0] = nk > 0 ? mx : -INFINITY, pp[1] = l;
            s_attn_combine(p, u, splits, att, red);
        }
    }
}

/* The step: every layer's five phases, the grid meeting between them. sm: S_SM_FLOATS of
 * shared memory. */
/* s_gemv_mma or s_gemv, as s_mma_path says (the plan lays the weights out to match) */
template <typename T, int NN>
static __device__ __forceinline__ void s_gemv_any(const s_step &p, const s_layer &L, int epi,
                                                  const T *wt, const float *bias, int R, int K,
                                                  const float *src, const float *g,
                                                  const float *b, float *sm, int store)
{
    if constexpr (s_mma_path(sizeof(T), NN))
        s_gemv_mma<T, NN>(p, L, epi, wt, bias, R, K, src, g, b, sm, store);
    else
        s_gemv<T, NN>(p, L, epi, wt, bias, R, K, src, g, b, sm, store);
}

template <typename T, int NN>
static __device__ void s_tf_step_body(const s_step &p, float *sm)
{
    int pos = p.pos + (int)(p.adv ? *p.adv : 0);
    const int es = (int)sizeof(T);
    constexpr bool MMA = s_mma_path(sizeof(T), NN);
    for (int l = 0; l < p.depth; l++) {
        const s_layer L = p.layers[l];
        int store, q0, k_len, R = L.type == CN_ATTN_CROSS ? p.S : 3 * p.S;
        long long pf = p.pf_bytes;
        s_addr(p, L.type, pos, &store, &q0, &k_len);
        s_gemv_any<T, NN>(p, L, S_EPI_QKV, (const T *)L.attn_t, L.attn_b, R, p.W, p.x, L.ln0_g,
                      L.ln0_b, sm, store);
        /* attention reads no weights: fetch two phases ahead across its two barriers */
        s_prefetch<MMA>(L.proj_t, p.W, p.S, es, &pf);
        s_prefetch<MMA>(L.fc_t, p.M, p.W, es, &pf);
        s_grid_sync(p.bar);
        s_attention(p, L, q0, k_len, sm);
        s_grid_sync(p.bar);
        s_gemv_any<T, NN>(p, L, S_EPI_RESIDUAL, (const T *)L.proj_t, L.proj_b, p.W, p.S, p.att,
                      NULL, NULL, sm, -1);
        pf = p.pf_bytes;
        s_prefetch<MMA>(L.fc_t, p.M, p.W, es, &pf);
        s_grid_sync(p.bar);
        s_gemv_any<T, NN>(p, L, S_EPI_GELU, (const T *)L.fc_t, L.fc_b, p.M, p.W, p.x, L.ln1_g,
                      L.ln1_b, sm, -1);
        pf = p.pf_bytes;
        s_prefetch<MMA>(L.mlp_t, p.W, p.M, es, &pf);
        s_grid_sync(p.bar);
        s_gemv_any<T, NN>(p, L, S_EPI_RESIDUAL, (const T *)L.mlp_t, L.mlp_b, p.W, p.M, p.mh, NULL,
                      NULL, sm, -1);
        if (l + 1 < p.depth) {
            const s_layer &Ln = p.layers[l + 1];
            pf = p.pf_bytes;
            s_prefetch<MMA>(Ln.attn_t, Ln.type == CN_ATTN_CROSS ? p.S : 3 * p.S, p.W, es, &pf);
            s_grid_sync(p.bar);
        }
    }
}

#ifdef __CUDACC__
template <typename T, int NN>
__global__ void __launch_bounds__(S_T) s_tf_step_kernel(s_step p)
{
    extern __shared__ float4 sm4[];
    s_tf_step_body<T, NN>(p, reinterpret_cast<float *>(sm4));
}
#endif

#endif
