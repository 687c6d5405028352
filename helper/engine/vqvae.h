/* SPDX-License-Identifier: MIT
 * The Jukebox VQ-VAE (facts 3): audio -> codes of one level (that level's own encoder and
 * codebook) and codes of one level -> audio (that level's decoder alone), over backend.h.
 * Never knows which backend it runs on; every size comes from the model file's hparams.
 *
 * Shapes: audio is (N items, T samples) mono float at 44.1 kHz, item-major (the reference's
 * (N, T, 1)); codes of level L are (N, T / hop(L)) int32, item-major.
 *
 * Memory: a call works on the whole audio at once (as the reference does), so its scratch is
 * proportional to N x T: three activation buffers of N x max_layer(channels x length) floats
 * (released VQ-VAE, level 0 decode: 3 x 64 x T x 4 bytes per item, ~0.8 GB per item for
 * 24 s) plus what the backend's conv1d needs. Before allocating, a call refuses work whose
 * scratch exceeds the backend's free memory (mem_info), naming both figures. Call with
 * fewer items or shorter audio to go further.
 *
 * Threading: one cn_vqvae is used by one thread at a time.
 */
#ifndef CN_VQVAE_H
#define CN_VQVAE_H

#include <stddef.h>
#include <stdint.h>

#include "../../kernels/backend.h"
#include "modelfile.h"

#define CN_VQVAE_MAX_LEVELS 8

typedef struct cn_vqvae cn_vqvae;

/* Builds the VQ-VAE from MF's hyper-parameters (levels, downs_t, strides_t, emb_width, l_bins,
 * width, depth, m_conv, hvqvae_multipliers, dilation_growth_rate, dilation_cycle,
 * vqvae_reverse_decoder_dilation), checks every tensor's shape and dtype through
 * cn_modelfile_tensor, uploads the weights with be->ops->upload_weight, and finally checks
 * that the file holds no tensor the model does not use. MF and BE are borrowed: they must
 * outlive the cn_vqvae (the weights are copies; MF may be closed after open returns).
 * Returns 0, or -1 with a message naming the hyper-parameter or tensor and the problem. */
int cn_vqvae_open(cn_vqvae **v, cn_modelfile *mf, cn_backend *be, char *err, size_t errlen);
/* Frees the uploaded weights; *v becomes NULL. */
void cn_vqvae_close(cn_vqvae **v);

int cn_vqvae_levels(const cn_vqvae *v);
/* Audio samples per code at LEVEL (8, 32, 128 for the released model); 0 for a bad level. */
int64_t cn_vqvae_hop(const cn_vqvae *v, int level);
/* Codes per level (codebook rows) and the code-vector width. */
int cn_vqvae_bins(const cn_vqvae *v);
int cn_vqvae_emb_width(const cn_vqvae *v);

/* The convolutions as built, for checking the construction against the reference's module
 * table: index 0 .. count-1 in build order (per level: encoder, then decoder in run order).
 * NAME is the state-dict prefix ("encoders.0.level_blocks.0.model.0.0"); the pointer lives
 * as long as V. Returns 0, or -1 for an index out of range. */
typedef struct cn_vqvae_conv_info {
    const char *name;
    int transposed;     /* nn.ConvTranspose1d */
    int in_channels, out_channels, kernel, stride, padding, dilation;
} cn_vqvae_conv_info;
int cn_vqvae_conv_count(const cn_vqvae *v);
int cn_vqvae_conv_get(const cn_vqvae *v, int i, cn_vqvae_conv_info *out);

/* AUDIO (n_items x T host floats) -> CODES (n_items x T/hop(level) host int32).
 * T must be a positive multiple of hop(level); samples must be finite.
 * Returns 0, or a negative CN_E* status with a message naming the value and the limit. */
int cn_vqvae_encode(cn_vqvae *v, const float *audio, int n_items, int64_t T, int level,
                    int32_t *codes, char *err, size_t errlen);
/* As cn_vqvae_encode; also copies the encoder output before quantisation to LATENT
 * (n_items x emb_width x T/hop host floats, channels first) when LATENT is not NULL. */
int cn_vqvae_encode_latent(cn_vqvae *v, const float *audio, int n_items, int64_t T, int level,
                           int32_t *codes, float *latent, char *err, size_t errlen);

/* CODES (n_items x n_codes host int32, each in [0, bins)) of LEVEL -> AUDIO (n_items x
 * n_codes*hop(level) host floats), decoded from that level alone, not clipped.
 * Returns 0, or a negative CN_E* status with a message naming the value and the limit. */
int cn_vqvae_decode(cn_vqvae *v, const int32_t *codes, int n_items, int64_t n_codes, int level,
                    float *audio, char *err, size_t errlen);

#endif
