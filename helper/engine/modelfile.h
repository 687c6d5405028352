/* SPDX-License-Identifier: MIT
 * Reading a converted model file (.safetensors written by continuo-convert): mmap, tensor
 * directory, hyper-parameters from the metadata, and checked tensor lookup.
 * Never copies tensor data: views point into the mapping until cn_modelfile_close.
 * Format: docs/model-file.md.
 */
#ifndef CN_MODELFILE_H
#define CN_MODELFILE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../../kernels/backend.h"

typedef struct cn_modelfile cn_modelfile;

/* Opens and maps PATH and parses its header. Returns 0, or -1 with a message in err naming
 * the file and the problem (not a safetensors file, header past the end, a tensor outside
 * the data, missing continuo metadata, ...). */
int cn_modelfile_open(cn_modelfile **mf, const char *path, char *err, size_t errlen);
void cn_modelfile_close(cn_modelfile **mf);

/* "vqvae" or "prior" (metadata continuo.kind). */
const char *cn_modelfile_kind(const cn_modelfile *mf);
/* Parsed JSON of metadata continuo.hparams (owned by mf). */
const cJSON *cn_modelfile_hparams(const cn_modelfile *mf);
/* Parsed JSON of metadata continuo.vqvae (geometry of the VQ-VAE a prior was trained on;
 * NULL in a vqvae file). */
const cJSON *cn_modelfile_vqvae(const cn_modelfile *mf);
/* A metadata string by key (e.g. "continuo.artist_ids"), or NULL. */
const char *cn_modelfile_meta(const cn_modelfile *mf, const char *key);

/* Looks up NAME (tied names resolve to their target) and checks that the stored shape is
 * exactly `ne` (nd axes) and that the dtype is `want` (CN_F32 or CN_F16; pass -1 to accept
 * either). On success fills *out with a host view into the mapping and marks the tensor used.
 * On failure returns -1 with a message such as
 *   "prior.x_emb.weight: shape (64, 32) in file, the hyper-parameters need (64, 48)". */
int cn_modelfile_tensor(cn_modelfile *mf, const char *name, int nd, const int64_t *ne,
                        int want, cn_tensor *out, char *err, size_t errlen);
/* Whether NAME exists (after resolving ties). */
int cn_modelfile_has(const cn_modelfile *mf, const char *name);
/* After building a model: -1 with the first tensor name no lookup asked for (strict load). */
int cn_modelfile_check_all_used(const cn_modelfile *mf, char *err, size_t errlen);

/* Hyper-parameter accessors over cn_modelfile_hparams: -1 with "hparams: KEY missing" or
 * "hparams: KEY is not a number" when absent or of the wrong type. */
int cn_hp_int(const cJSON *hp, const char *key, int *out, char *err, size_t errlen);
int cn_hp_double(const cJSON *hp, const char *key, double *out, char *err, size_t errlen);
int cn_hp_bool(const cJSON *hp, const char *key, int *out, char *err, size_t errlen);
/* Integer list (e.g. downs_t); returns count or -1. */
int cn_hp_int_list(const cJSON *hp, const char *key, int *out, int max, char *err, size_t errlen);
/* True when the key is absent or JSON null. */
int cn_hp_is_null(const cJSON *hp, const char *key);

#endif
