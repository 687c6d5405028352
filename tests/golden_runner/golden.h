/* SPDX-License-Identifier: MIT
 * The golden runner's shared context: the backend under test, the converter, the check
 * counters, and one entry point per golden case (case_<name>.c).
 */
#ifndef CN_GOLDEN_H
#define CN_GOLDEN_H

#include <cjson/cJSON.h>

#include "backend.h"
#include "check.h"
#include "npy.h"

typedef struct golden_ctx {
    cn_backend *be;
    const char *backend_name;
    const char *convert;     /* path of continuo-convert */
    const char *root;        /* the golden directory */
    const char *tmpdir;      /* scratch folder for converted files, removed at exit */
    cn_check check;
} golden_ctx;

/* Converts CASE_DIR/checkpoint.pth.tar to TMPDIR/<case>.safetensors with continuo-convert
 * (extra_args appended, e.g. "--vqvae-hps DIR/vqvae/checkpoint.pth.tar"). Returns 0 and the
 * output path, or -1 after recording a failed check with the converter's message. */
int golden_convert(golden_ctx *g, const char *case_name, const char *extra_args,
                   char *out_path, size_t out_len);
/* Loads CASE_DIR/manifest.json; NULL after recording a failed check. Caller cJSON_Deletes. */
cJSON *golden_manifest(golden_ctx *g, const char *case_dir);
/* Loads an array of the case or records a failed check. */
int golden_npy(golden_ctx *g, const char *case_dir, const char *name, cn_npy *a);

typedef int (*golden_case_fn)(golden_ctx *g, const char *case_dir);

int golden_case_vqvae(golden_ctx *g, const char *case_dir);
int golden_case_prior_5b(golden_ctx *g, const char *case_dir);
int golden_case_prior_5b_lyrics(golden_ctx *g, const char *case_dir);
int golden_case_prior_1b_lyrics(golden_ctx *g, const char *case_dir);
int golden_case_upsampler_level_0(golden_ctx *g, const char *case_dir);
int golden_case_upsampler_level_1(golden_ctx *g, const char *case_dir);
int golden_case_labels(golden_ctx *g, const char *case_dir);
int golden_case_windows(golden_ctx *g, const char *case_dir);
int golden_case_filter(golden_ctx *g, const char *case_dir);

#endif
