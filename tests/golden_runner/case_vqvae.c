/* SPDX-License-Identifier: MIT
 * Golden case vqvae: converts the checkpoint, checks the built conv table against the
 * reference's, every weight exactly, then encodes and decodes at each level. Never edits data.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "modelfile.h"
#include "vqvae.h"

static float s_half(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    float f = e == 0 ? ldexpf((float)m, -24)
            : e == 31 ? (m ? NAN : INFINITY)
                      : ldexpf((float)(m | 1024), e - 25);
    return (h & 0x8000) ? -f : f;
}

/* Every state-dict key of the manifest against weights/<key>.npy, exactly. */
static void s_check_weights(golden_ctx *g, const char *dir, cJSON *man, cn_modelfile *mf)
{
    cJSON *sd = cJSON_GetObjectItem(cJSON_GetObjectItem(man, "checkpoint"), "state_dict");
    cJSON *it;
    int n = 0, bad = 0;
    char err[512], first[768] = "";
    cJSON_ArrayForEach(it, sd) {
        const char *key = cJSON_GetStringValue(cJSON_GetObjectItem(it, "key"));
        char file[512];
        cn_npy a = { 0 };
        snprintf(file, sizeof file, "weights/%s.npy", key ? key : "?");
        if (!key || cn_npy_load2(&a, dir, file, err, sizeof err) != 0) {
            if (!bad++) snprintf(first, sizeof first, "%s", key ? err : "key without name");
            continue;
        }
        cn_tensor t;
        int ok = cn_modelfile_tensor(mf, key, a.nd, a.shape, -1, &t, err, sizeof err) == 0;
        for (int64_t i = 0; ok && i < a.n; i++) {
            float v = t.type == CN_F16 ? s_half(((const uint16_t *)t.data)[i])
                                       : ((const float *)t.data)[i];
            if (memcmp(&v, &((float *)a.data)[i], sizeof v) != 0) {
                snprintf(err, sizeof err, "%s: element %lld is %.9g, reference %.9g", key,
                         (long long)i, v, ((float *)a.data)[i]);
                ok = 0;
            }
        }
        if (!ok && !bad++) snprintf(first, sizeof first, "%s", err);
        n++;
        cn_npy_free(&a);
    }
    char what[128];
    snprintf(what, sizeof what, "vqvae: %d weights equal to weights/*.npy", n);
    cn_check_true(&g->check, what, n > 0 && !bad, first);
}

/* facts.layers (Conv1d / ConvTranspose1d rows) against the convs the model built. */
static void s_check_layers(golden_ctx *g, cJSON *man, const cn_vqvae *v)
{
    cJSON *layers = cJSON_GetObjectItem(cJSON_GetObjectItem(man, "facts"), "layers"), *it;
    int n_ref = 0, bad = 0, n_built = cn_vqvae_conv_count(v);
    char first[512] = "";
    cJSON_ArrayForEach(it, layers) {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(it, "kind"));
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(it, "name"));
        if (!kind || !name || strstr(kind, "Conv") != kind) continue;
        n_ref++;
        cn_vqvae_conv_info c = { 0 };
        int found = 0;
        for (int i = 0; i < n_built && !found; i++)
            if (cn_vqvae_conv_get(v, i, &c) == 0 && strcmp(c.name, name) == 0) found = 1;
#define F(k) cJSON_GetObjectItem(it, k)->valueint
        int ok = found && c.transposed == (strcmp(kind, "ConvTranspose1d") == 0) &&
                 c.in_channels == F("in_channels") && c.out_channels == F("out_channels") &&
                 c.kernel == F("kernel") && c.stride == F("stride") &&
                 c.padding == F("padding") && c.dilation == F("dilation");
#undef F
        if (!ok && !bad++)
            snprintf(first, sizeof first, "%s: %s", name, found ? "differs" : "not built");
    }
    if (!bad && n_ref != n_built)
        snprintf(first, sizeof first, "built %d convs, reference has %d", n_built, n_ref);
    char what[128];
    snprintf(what, sizeof what, "vqvae: %d convs match facts.layers", n_ref);
    cn_check_true(&g->check, what, !bad && n_ref == n_built && n_ref > 0, first);
}

static void s_check_encode(golden_ctx *g, const char *dir, cn_vqvae *v, const cn_npy *audio,
                           int level)
{
    char name[64], what[96], err[512];
    cn_npy want = { 0 }, lat = { 0 };
    snprintf(name, sizeof name, "out_codes_level%d.npy", level);
    if (golden_npy(g, dir, name, &want)) return;
    snprintf(name, sizeof name, "dbg_encoder_out_level%d.npy", level);
    if (golden_npy(g, dir, name, &lat)) {
        cn_npy_free(&want);
        return;
    }
    int N = (int)audio->shape[0];
    int64_t T = audio->shape[1];
    int32_t *codes = calloc((size_t)want.n, sizeof *codes);
    float *latent = calloc((size_t)lat.n, sizeof *latent);
    snprintf(what, sizeof what, "vqvae: encode level %d", level);
    int st = codes && latent && want.n * cn_vqvae_hop(v, level) == N * T &&
                     lat.n == want.n * cn_vqvae_emb_width(v)
                 ? cn_vqvae_encode_latent(v, audio->data, N, T, level, codes, latent, err,
                                          sizeof err)
                 : -1;
    if (st != 0) {
        cn_check_true(&g->check, what, 0, st == -1 ? "golden shapes do not fit the model" : err);
    } else {
        snprintf(what, sizeof what, "vqvae: encoder output level %d (diagnostic)", level);
        cn_check_close(&g->check, what, latent, lat.data, lat.n, 1e-4);
        snprintf(what, sizeof what, "vqvae: out_codes_level%d", level);
        cn_check_equal_i32(&g->check, what, codes, want.data, want.n);
    }
    free(codes);
    free(latent);
    cn_npy_free(&want);
    cn_npy_free(&lat);
}

static void s_check_decode(golden_ctx *g, const char *dir, cn_vqvae *v, int level)
{
    char name[64], what[96], err[512];
    cn_npy codes = { 0 }, want = { 0 };
    snprintf(name, sizeof name, "out_codes_level%d.npy", level);
    if (golden_npy(g, dir, name, &codes)) return;
    snprintf(name, sizeof name, "out_decoded_level%d.npy", level);
    if (golden_npy(g, dir, name, &want)) {
        cn_npy_free(&codes);
        return;
    }
    int N = (int)codes.shape[0];
    int64_t L = codes.shape[1];
    float *audio = calloc((size_t)want.n, sizeof *audio);
    snprintf(what, sizeof what, "vqvae: out_decoded_level%d", level);
    int st = audio && want.n == N * L * cn_vqvae_hop(v, level)
                 ? cn_vqvae_decode(v, codes.data, N, L, level, audio, err, sizeof err)
                 : -1;
    if (st != 0)
        cn_check_true(&g->check, what, 0, st == -1 ? "golden shapes do not fit the model" : err);
    else
        cn_check_close(&g->check, what, audio, want.data, want.n, 1e-5);
    free(audio);
    cn_npy_free(&codes);
    cn_npy_free(&want);
}

static void s_run_model(golden_ctx *g, const char *dir, cJSON *man, cn_modelfile *mf)
{
    char err[512];
    cn_vqvae *v = NULL;
    if (!cn_check_true(&g->check, "vqvae: open model (all tensors checked and used)",
                       cn_vqvae_open(&v, mf, g->be, err, sizeof err) == 0, err))
        return;
    s_check_layers(g, man, v);
    s_check_weights(g, dir, man, mf);
    cn_npy audio = { 0 };
    if (golden_npy(g, dir, "in_audio.npy", &audio) == 0) {
        for (int l = 0; l < cn_vqvae_levels(v); l++) s_check_encode(g, dir, v, &audio, l);
        cn_npy_free(&audio);
    }
    for (int l = 0; l < cn_vqvae_levels(v); l++) s_check_decode(g, dir, v, l);
    cn_vqvae_close(&v);
}

int golden_case_vqvae(golden_ctx *g, const char *case_dir)
{
    char path[4096], err[512];
    if (golden_convert(g, "vqvae", "", path, sizeof path)) return -1;
    cJSON *man = golden_manifest(g, case_dir);
    if (!man) return -1;
    cn_modelfile *mf = NULL;
    if (cn_check_true(&g->check, "vqvae: open converted file",
                      cn_modelfile_open(&mf, path, err, sizeof err) == 0, err)) {
        s_run_model(g, case_dir, man, mf);
        cn_modelfile_close(&mf);
    }
    cJSON_Delete(man);
    return 0;
}
