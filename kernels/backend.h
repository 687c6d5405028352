/* SPDX-License-Identifier: MIT
 * The op table every compute backend fills (CPU reference, CUDA) and the tensor view it works on.
 * The model code (helper/engine) sees only this header: it never asks which backend it runs on.
 *
 * Conventions (fixed once, used by every op):
 *   - A cn_tensor is a view: a pointer into backend memory (host memory for "cpu", device memory
 *     for "cuda"), a dtype and a row-major contiguous shape; ne[0] is the outermost axis (numpy
 *     order). Views of a slice are made by pointer arithmetic (cn_tensor_rows).
 *   - Activations are always CN_F32. Weights may be CN_F32, CN_F16 or CN_BF16 (whatever
 *     upload_weight chose); every op accumulates in fp32.
 *   - Names: N items (batch), T time, C channels, W width, S attention width, V vocabulary.
 *   - Every op returns 0 or a negative CN_E* status; the backend's last_error() says why.
 */
#ifndef CN_BACKEND_H
#define CN_BACKEND_H

#include <stddef.h>
#include <stdint.h>

typedef enum { CN_F32 = 0, CN_F16 = 1, CN_BF16 = 2, CN_I32 = 3 } cn_dtype;

enum {
    CN_OK = 0,
    CN_EINVAL = -1,   /* shapes or arguments do not fit the op */
    CN_ENOMEM = -2,   /* allocation failed */
    CN_EDEVICE = -3,  /* a device call failed (message says which) */
    CN_EUNSUP = -4,   /* this backend does not implement the op or dtype */
    CN_EFATAL = -5,   /* device left unusable (sticky CUDA error): fail the job and restart */
};

typedef struct cn_tensor {
    void *data;         /* backend memory; NULL for an empty view */
    cn_dtype type;
    int nd;             /* 1..4 */
    int64_t ne[4];      /* shape, outermost first */
} cn_tensor;

/* Layout of a projection weight, named at every matmul (Jukebox stores both kinds). */
typedef enum {
    CN_W_IN_OUT = 0,    /* w is (K, N): Jukebox Conv1D `.w`, y = x w */
    CN_W_OUT_IN = 1,    /* w is (N, K): nn.Linear / an embedding used as output, y = x w^T */
} cn_wlayout;

/* Attention masks by key set, numbered as the reference numbers attn_func (facts 8.2). */
typedef enum {
    CN_ATTN_DENSE = 0,      /* j <= i */
    CN_ATTN_BLOCK = 1,      /* j <= i, same block */
    CN_ATTN_TRANSPOSE = 2,  /* j <= i, same column (j mod c == i mod c) */
    CN_ATTN_PREV_BLOCK = 3, /* the whole previous block; block 0 attends zero vectors: output 0 */
    CN_ATTN_CROSS = 6,      /* every key (encoder positions), no mask */
    CN_ATTN_PRIME = 7,      /* j <= i and j < prime_len */
} cn_attn_type;

/* One attention call. Query rows are positions q_pos0 .. q_pos0+q_len-1 of each item; the keys
 * present are positions 0 .. k_len-1 (for CROSS: encoder rows 0 .. k_len-1). Query row r of
 * item n starts at q + (n*q_len + r) * q_row_stride; key/value position j of item n is row
 * (n*k_stride + j) of k and v, each row S = heads*head_dim floats. */
typedef struct cn_attn_desc {
    cn_attn_type type;
    int n_items;
    int heads, head_dim;
    int q_len, q_pos0, q_row_stride;
    int k_len, k_stride;
    int block_len;      /* c = positions / blocks (types 1, 2, 3) */
    int prime_len;      /* P for type 7, already rounded as the reference does */
    int probs_head;     /* with a probs output: which head's probabilities to write */
} cn_attn_desc;

/* Logits filtering and drawing (facts 9.1). Draw n uses the uniform number
 * cn_uniform(seed, stream + n, step): the same on every backend. */
typedef struct cn_sample_desc {
    float temperature;  /* > 0 */
    int top_k;          /* 0 = off */
    float top_p;        /* 0 = off */
    uint64_t seed;
    uint64_t stream;    /* first stream number (candidate index of item 0) */
    uint64_t step;      /* position being drawn */
} cn_sample_desc;

/* One layer of a transformer stack as tf_plan sees it: the tensors upload_weight made (Conv1D
 * matrices in CN_W_IN_OUT layout) and the layer's key/value cache (N, rows, S) of F32. */
typedef struct cn_tf_step_layer {
    cn_attn_type type;
    int rows;
    const cn_tensor *ln0_g, *ln0_b, *attn_w, *attn_b, *proj_w, *proj_b;
    const cn_tensor *ln1_g, *ln1_b, *fc_w, *fc_b, *mlp_w, *mlp_b;
    cn_tensor *k, *v;
} cn_tf_step_layer;

/* A whole stack for tf_plan. A step at position pos does, for every layer, what the model code
 * does for one position (len 1): LN0, c_attn (keys and values stored at the layer's cache row),
 * attention with the layer's mask over the rows present, c_proj added to x, LN1, c_fc with
 * gelu_quick, the MLP's c_proj added to x. Cache rows are addressed as the model code addresses
 * them: `windowed` block layers use block-relative rows (one block; previous-block layers a
 * ring of two blocks read from row c on), the others row pos; cross layers read n_enc rows. */
typedef struct cn_tf_step_desc {
    int n_items, width, S, heads, mlp, depth;
    int block_len, prime_len, n_enc, windowed;
    float eps;
    const cn_tf_step_layer *layers;     /* depth of them; only read during tf_plan */
    cn_tensor *qkv, *att, *mh;          /* scratch of at least n_items rows of 3S / S / mlp */
} cn_tf_step_desc;

typedef struct cn_backend cn_backend;

typedef struct cn_backend_ops {
    const char *name;
    void (*destroy)(cn_backend *be);
    const char *(*last_error)(cn_backend *be);

    /* memory */
    void *(*alloc)(cn_backend *be, size_t bytes);          /* zero-filled; NULL on failure */
    void (*release)(cn_backend *be, void *p);
    int (*upload)(cn_backend *be, void *dst, const void *host, size_t bytes);
    int (*download)(cn_backend *be, void *host, const void *src, size_t bytes);
    int (*copy)(cn_backend *be, void *dst, const void *src, size_t bytes);  /* within backend */
    int (*sync)(cn_backend *be);
    /* Makes a backend copy of a host weight (F32 or F16) in the backend's preferred dtype;
     * dst->data is allocated here and freed with release(). */
    int (*upload_weight)(cn_backend *be, cn_tensor *dst, const cn_tensor *host);
    /* Bytes of device memory free and total (CPU: physical memory). */
    int (*mem_info)(cn_backend *be, size_t *free_bytes, size_t *total_bytes);

    /* y (M, N) = beta*y + x (M, K) . W + b;  W as `layout` says; b (N) may be NULL. */
    int (*matmul)(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                  cn_wlayout layout, const cn_tensor *b, float beta);
    /* y (M, W) = LayerNorm over the last axis (biased variance) * g + b. y may alias x. */
    int (*layernorm)(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *g,
                     const cn_tensor *b, float eps);
    /* in place: x * sigmoid(1.702 x) */
    int (*gelu_quick)(cn_backend *be, cn_tensor *x);
    /* y = max(x, 0); y may alias x */
    int (*relu)(cn_backend *be, cn_tensor *y, const cn_tensor *x);
    /* y += alpha * x, same element count */
    int (*axpy)(cn_backend *be, cn_tensor *y, const cn_tensor *x, float alpha);
    /* y (M, W) += table (V, W) [ids[m]] for each m; ids (M) CN_I32 in backend memory; an id < 0
     * adds nothing; an id >= V is an error. */
    int (*embed_add)(cn_backend *be, cn_tensor *y, const cn_tensor *table, const cn_tensor *ids);
    /* y (N, B, A) = x (N, A, B) transposed per item */
    int (*transpose)(cn_backend *be, cn_tensor *y, const cn_tensor *x);

    /* Copies rows of a [q|k|v] or [k|v] projection into a key/value cache:
     * for item n, row r < len: k[(n*k_stride + pos0 + r)] = src[(n*len + r)*src_row_stride + k_col
     * .. +S], likewise v from v_col. src is CN_F32 (N*len, src_row_stride). */
    int (*kv_store)(cn_backend *be, cn_tensor *k, cn_tensor *v, const cn_tensor *src,
                    int n_items, int len, int src_row_stride, int k_col, int v_col, int S,
                    int pos0, int k_stride);
    /* out (N, q_len, S) = softmax(q k^T / sqrt(head_dim), masked by d->type) v, per head.
     * probs, when not NULL, receives head d->probs_head's probabilities (N, q_len, k_len). */
    int (*attention)(cn_backend *be, cn_tensor *out, const float *q, const float *k,
                     const float *v, const cn_attn_desc *d, cn_tensor *probs);

    /* y (N, Cout, Tout) = conv1d(x (N, Cin, T), w (Cout, Cin, K), b (Cout)), zero padding */
    int (*conv1d)(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                  const cn_tensor *b, int stride, int pad, int dilation);
    /* y (N, Cout, Tout) = conv_transpose1d(x (N, Cin, T), w (Cin, Cout, K), b (Cout)) */
    int (*conv_transpose1d)(cn_backend *be, cn_tensor *y, const cn_tensor *x,
                            const cn_tensor *w, const cn_tensor *b, int stride, int pad);
    /* ids (N*T) = argmin_k ||x[n,:,t] - codebook[k]||^2 for x (N, D, T) channel-first and
     * codebook (K, D); ties pick the lowest k, as the reference does. */
    int (*codebook_nearest)(cn_backend *be, cn_tensor *ids, const cn_tensor *x,
                            const cn_tensor *codebook);
    /* y (N, D, T) = codebook[ids] channel-first */
    int (*codebook_lookup)(cn_backend *be, cn_tensor *y, const cn_tensor *ids,
                           const cn_tensor *codebook);

    /* y (N, V) = filtered(x / temperature): removed entries -inf (facts 9.1). y may alias x. */
    int (*filter_logits)(cn_backend *be, cn_tensor *y, const cn_tensor *x,
                         const cn_sample_desc *s);
    /* ids (N) CN_I32 = a draw per row from softmax(filtered(logits / temperature)).
     * logits is scratch: it may be overwritten. */
    int (*sample)(cn_backend *be, cn_tensor *ids, cn_tensor *logits, const cn_sample_desc *s);

    /* Optional (NULL where a backend has none; the CPU has none): record a sequence of ops once
     * and replay it (CUDA: a CUDA graph). Between graph_begin and graph_end ops are recorded,
     * not run; only compute ops and copy may be called (alloc, release, upload, download, sync
     * fail). graph_launch runs the recording with every position argument advanced by
     * pos_advance: kv_store pos0, attention q_pos0 and k_len (k_len not for CN_ATTN_CROSS), and
     * the sample step. Pointers, shapes and all other arguments are those of the recording;
     * data in backend memory (ids, activations, caches) is read afresh at every launch. One
     * recording per backend; graph_begin drops the previous one. */
    int (*graph_begin)(cn_backend *be);
    int (*graph_end)(cn_backend *be);
    int (*graph_launch)(cn_backend *be, int64_t pos_advance);

    /* Optional fused ops (NULL where a backend has none, as on the CPU: the model code then
     * makes the same calls one by one). Results equal those of the separate calls. */
    /* y = gelu_quick(x W + b): matmul (beta 0) then gelu_quick in one pass */
    int (*matmul_gelu)(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                       cn_wlayout layout, const cn_tensor *b);
    /* y (n_items*len, N) = x W + b, then kv_store(k, v, y, n_items, len, N, k_col, v_col, S,
     * pos0, k_stride); a graph replay advances pos0 as it does kv_store's. */
    int (*matmul_kv_store)(cn_backend *be, cn_tensor *y, const cn_tensor *x, const cn_tensor *w,
                           cn_wlayout layout, const cn_tensor *b, cn_tensor *k, cn_tensor *v,
                           int n_items, int len, int k_col, int v_col, int S, int pos0,
                           int k_stride);

    /* Optional whole-stack decode step (NULL where a backend has none, as on the CPU).
     * tf_plan prepares one for a stack (it may copy weights into its own layout) and returns
     * NULL, with last_error saying why, when it does not run this stack or is not switched on
     * (CUDA: CN_CUDA_PERSISTENT=1); the model code then makes the per-layer calls. tf_step
     * runs one position of every item through every layer, x (n_items, width) in place; its
     * results equal the per-layer calls' within the matmul tolerance; a graph replay advances
     * pos like kv_store's pos0. Not inside a recording: tf_plan, tf_plan_free. */
    void *(*tf_plan)(cn_backend *be, const cn_tf_step_desc *d);
    int (*tf_step)(cn_backend *be, void *plan, cn_tensor *x, int pos);
    void (*tf_plan_free)(cn_backend *be, void *plan);
} cn_backend_ops;

struct cn_backend {
    const cn_backend_ops *ops;
    void *impl;         /* backend-private state */
};

/* Creates a backend by name ("cpu", "cuda"). NULL with a message in err when the name is
 * unknown, the backend was not built, or no device is present. */
cn_backend *cn_backend_new(const char *name, char *err, size_t errlen);
void cn_backend_destroy(cn_backend **be);
/* Whether a backend of this name was compiled in (a device may still be absent). */
int cn_backend_available(const char *name);

/* The uniform draw in [0, 1) shared by every backend: a counter-based hash of
 * (seed, stream, step), so CPU and GPU draw the same numbers. */
double cn_uniform(uint64_t seed, uint64_t stream, uint64_t step);

/* View helpers. */
size_t cn_dtype_size(cn_dtype t);
int64_t cn_tensor_nelem(const cn_tensor *t);
size_t cn_tensor_bytes(const cn_tensor *t);
cn_tensor cn_tensor_make(void *data, cn_dtype t, int nd, const int64_t *ne);
cn_tensor cn_tensor_2d(void *data, cn_dtype t, int64_t rows, int64_t cols);
/* Rows [r0, r0+n) along the outermost axis. */
cn_tensor cn_tensor_rows(const cn_tensor *t, int64_t r0, int64_t n);

#endif
