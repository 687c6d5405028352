/* SPDX-License-Identifier: MIT
 * Writes a model file with random weights in the exact layout of a released model (from its
 * layout JSON), optionally at reduced depth, so benchmarks run released shapes without the
 * released files. Never used for anything but timing: the values are noise.
 */
#ifndef CN_SYNTH_MODEL_H
#define CN_SYNTH_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* layout_json: tests/golden/released_layouts/<model>.json (keys, shapes, dtypes, hparams).
 * depth: transformer layers to keep (0 = all). Writes OUT_PATH (.safetensors as
 * docs/model-file.md). Returns 0, or -1 with a message naming the file and the problem. */
int cn_synth_model_write(const char *layout_json, int depth, const char *out_path,
                         unsigned seed, char *err, size_t errlen);

/* Bytes the file for (layout_json, depth) will take, for a free-space check before writing,
 * and the released transformer depth (hparams prior_depth; 0 for the VQ-VAE).
 * Returns 0, or -1 with a message. */
int cn_synth_model_size(const char *layout_json, int depth, int64_t *bytes, int *full_depth,
                        char *err, size_t errlen);

#endif
