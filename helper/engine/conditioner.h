/* SPDX-License-Identifier: MIT
 * The upsamplers' conditioner (facts 6): level-above codes -> embedding -> conv -> residual
 * stacks and transposed convs (x stride^down) -> LayerNorm, one vector per code position.
 * Never reads this level's own codes or labels.
 */
#ifndef CN_CONDITIONER_H
#define CN_CONDITIONER_H

#include <stddef.h>
#include <stdint.h>

#include "../../kernels/backend.h"
#include "modelfile.h"

#define CN_COND_MAX_DOWN 8
#define CN_COND_MAX_DEPTH 64

typedef struct cn_cond_conv {
    cn_tensor w, b;         /* Conv1d w (cout, cin, k); ConvTranspose1d w (cin, cout, k) */
    int cin, cout, k, stride, pad, dil;
} cn_cond_conv;

typedef struct cn_conditioner {
    cn_backend *be;
    int width;              /* output width W (the prior's) */
    int cond_width, n_state, depth, down_t, stride_t, bins, growth, cycle;
    float res_scale;
    cn_tensor x_emb;        /* (bins, W) */
    cn_tensor ln_g, ln_b;   /* (W) */
    cn_cond_conv in;        /* W -> cond_width, kernel 3 */
    cn_cond_conv res3[CN_COND_MAX_DOWN][CN_COND_MAX_DEPTH];  /* dilated kernel-3 convs */
    cn_cond_conv res1[CN_COND_MAX_DOWN][CN_COND_MAX_DEPTH];  /* kernel-1 convs */
    cn_cond_conv up[CN_COND_MAX_DOWN];                       /* transposed convs */
} cn_conditioner;

/* The hyper-parameters the conditioner is built from. */
typedef struct cn_cond_hparams {
    int width, bins;                    /* prior width, level-above codes */
    int down_t, stride_t;               /* of the level above (vqvae downs_t/strides_t) */
    int cond_width, cond_depth;
    double m_conv;
    int growth, cycle;                  /* dilation growth^(k mod cycle); cycle 0 = none */
    int res_scale;                      /* cond_res_scale: residuals scaled by 1/sqrt(depth) */
    int c_res;                          /* cond_c_res: residual blocks named ".blocks." */
} cn_cond_hparams;

int cn_conditioner_load(cn_conditioner *c, cn_modelfile *mf, cn_backend *be,
                        const cn_cond_hparams *hp, char *err, size_t errlen);
void cn_conditioner_free(cn_conditioner *c);
/* How many code positions one level-above code covers (stride_t^down_t). */
int cn_conditioner_factor(const cn_conditioner *c);
/* out (N, T*factor, W) = conditioner(ids (N*T) CN_I32 backend codes of the level above). */
int cn_conditioner_forward(cn_conditioner *c, const cn_tensor *ids, int N, int T,
                           cn_tensor *out, char *err, size_t errlen);

#endif
