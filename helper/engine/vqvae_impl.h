/* SPDX-License-Identifier: MIT
 * Private layout of a cn_vqvae, shared by vqvae_build.c (construction from the model file)
 * and vqvae.c (running it). Never included outside those two files.
 */
#ifndef CN_VQVAE_IMPL_H
#define CN_VQVAE_IMPL_H

#include "vqvae.h"

/* One nn.Conv1d or nn.ConvTranspose1d with its uploaded weights.
 * Conv1d w (cout, cin, k); ConvTranspose1d w (cin, cout, k); b (cout). */
typedef struct cn_vq_conv {
    char name[128];         /* state-dict prefix, e.g. "decoders.0.out" */
    int transposed;
    int cin, cout, k, stride, pad, dil;
    cn_tensor w, b;
} cn_vq_conv;

typedef enum { CN_VQ_CONV = 0, CN_VQ_RES = 1 } cn_vq_kind;

/* A layer of a stack, run in order. CONV: conv `a`. RES (ResConv1DBlock):
 * x += scale * C1(relu(C3(relu(x)))), C3 = conv `a` (kernel 3, dilated), C1 = conv `b`. */
typedef struct cn_vq_layer {
    cn_vq_kind kind;
    int a, b;               /* indices into cn_vqvae.convs */
    float scale;
} cn_vq_layer;

typedef struct cn_vq_stack {
    cn_vq_layer *layers;
    int n, cap;
} cn_vq_stack;

struct cn_vqvae {
    cn_backend *be;
    int levels, emb_width, bins;
    int64_t hop[CN_VQVAE_MAX_LEVELS];
    cn_vq_stack enc[CN_VQVAE_MAX_LEVELS];   /* audio (1 ch) -> emb_width, T / hop */
    cn_vq_stack dec[CN_VQVAE_MAX_LEVELS];   /* emb_width -> audio (1 ch), T * hop */
    cn_tensor codebook[CN_VQVAE_MAX_LEVELS]; /* (bins, emb_width) */
    cn_vq_conv *convs;
    int n_convs, cap_convs;
};

/* Output length of conv C over input length T (0 or less: the input is too short). */
int64_t cn_vq_conv_out_len(const cn_vq_conv *c, int64_t T);

#endif
