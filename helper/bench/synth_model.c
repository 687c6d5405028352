/* SPDX-License-Identifier: MIT
 * Random-weight model files in a released layout (see synth_model.h). Streams each tensor to
 * disk as it is generated, so a 10 GB model needs no more than one tensor in memory.
 */
#include "synth_model.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

/* Layer index of a transformer key ("prior.transformer._attn_mods.12.attn..."), else -1. */
static int s_layer_of(const char *key)
{
    const char *p = strstr(key, "prior.transformer._attn_mods.");
    if (!p || strncmp(key, "prior.", 6) != 0) return -1;
    return atoi(p + strlen("prior.transformer._attn_mods."));
}

static int s_keep(const char *key, int depth)
{
    int layer = s_layer_of(key);
    return depth <= 0 || layer < 0 || layer < depth;
}

static uint16_t s_f32_to_f16(float f)
{
    union { float f; uint32_t u; } v = { f };
    uint32_t sign = (v.u >> 16) & 0x8000u, e = (v.u >> 23) & 0xff, m = v.u & 0x7fffff;
    if (e < 113) return (uint16_t)sign;                     /* tiny: flush to zero */
    if (e > 142) return (uint16_t)(sign | 0x7bff);          /* large: clamp */
    return (uint16_t)(sign | ((e - 112) << 10) | (m >> 13));
}

static uint32_t s_rng(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Norm gains near 1, everything else small noise: keeps activations finite at any depth. */
static int s_is_gain(const char *key)
{
    size_t n = strlen(key);
    return n > 7 && strcmp(key + n - 7, ".weight") == 0 && strstr(key, "ln") != NULL;
}

static float s_value(int is_gain, uint32_t *rs)
{
    float u = (float)(s_rng(rs) & 0xffffff) / 16777216.0f - 0.5f;
    return is_gain ? 1.0f + 0.1f * u : 0.04f * u;
}

static int s_write_tensor(FILE *f, const char *key, int64_t count, int f16, uint32_t *rs)
{
    enum { CHUNK = 1 << 16 };
    static float buf[CHUNK];
    static uint16_t hbuf[CHUNK];
    int gain = s_is_gain(key);
    for (int64_t done = 0; done < count;) {
        int64_t n = count - done < CHUNK ? count - done : CHUNK;
        for (int64_t i = 0; i < n; i++) buf[i] = s_value(gain, rs);
        size_t w;
        if (f16) {
            for (int64_t i = 0; i < n; i++) hbuf[i] = s_f32_to_f16(buf[i]);
            w = fwrite(hbuf, 2, (size_t)n, f);
        } else {
            w = fwrite(buf, 4, (size_t)n, f);
        }
        if (w != (size_t)n) return -1;
        done += n;
    }
    return 0;
}

/* Builds the safetensors header; tensors F32 first, then F16 (docs/model-file.md). */
static cJSON *s_header(cJSON *sd, cJSON *hp, const char *model, int depth, int64_t *data_bytes)
{
    cJSON *h = cJSON_CreateObject(), *meta = cJSON_CreateObject(), *tied = cJSON_CreateObject();
    int64_t off = 0;
    for (int pass = 0; pass < 2; pass++) {
        cJSON *e;
        cJSON_ArrayForEach(e, sd) {
            const char *key = cJSON_GetObjectItem(e, "key")->valuestring;
            int f16 = strcmp(cJSON_GetObjectItem(e, "dtype_in_model")->valuestring, "float16") == 0;
            if (f16 != pass || !s_keep(key, depth)) continue;
            if (strcmp(key, "prior.x_out.weight") == 0 && cJSON_IsFalse(cJSON_GetObjectItem(hp, "merged_decoder"))) {
                cJSON_AddStringToObject(tied, key, "prior.x_emb.weight");
                continue;
            }
            cJSON *t = cJSON_CreateObject(), *shape = cJSON_CreateArray();
            int64_t count = 1;
            cJSON *d;
            cJSON_ArrayForEach(d, cJSON_GetObjectItem(e, "shape")) {
                cJSON_AddItemToArray(shape, cJSON_CreateNumber(d->valuedouble));
                count *= (int64_t)d->valuedouble;
            }
            cJSON_AddStringToObject(t, "dtype", f16 ? "F16" : "F32");
            cJSON_AddItemToObject(t, "shape", shape);
            cJSON *offs = cJSON_CreateArray();
            cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
            off += count * (f16 ? 2 : 4);
            cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
            cJSON_AddItemToObject(t, "data_offsets", offs);
            cJSON_AddItemToObject(h, key, t);
        }
    }
    if (depth > 0) {
        cJSON_ReplaceItemInObject(hp, "prior_depth", cJSON_CreateNumber(depth));
        cJSON *al = cJSON_GetObjectItem(hp, "alignment_layer");
        if (al && cJSON_IsNumber(al) && al->valueint >= depth)
            cJSON_ReplaceItemInObject(hp, "alignment_layer", cJSON_CreateNull());
    }
    int is_vqvae = strcmp(model, "vqvae") == 0;
    char *hps = cJSON_PrintUnformatted(hp), *tieds = cJSON_PrintUnformatted(tied);
    cJSON_AddStringToObject(meta, "continuo.format", "1");
    cJSON_AddStringToObject(meta, "continuo.kind", is_vqvae ? "vqvae" : "prior");
    cJSON_AddStringToObject(meta, "continuo.model", model);
    cJSON_AddStringToObject(meta, "continuo.hparams", hps);
    cJSON_AddStringToObject(meta, "continuo.tied", tieds);
    if (!is_vqvae)
        cJSON_AddStringToObject(meta, "continuo.vqvae",
            "{\"levels\":3,\"downs_t\":[3,2,2],\"strides_t\":[2,2,2],\"l_bins\":2048,"
            "\"emb_width\":64,\"sr\":44100}");
    cJSON_AddStringToObject(meta, "continuo.source", "synthetic random weights (benchmark)");
    cJSON_AddItemToObject(h, "__metadata__", meta);
    free(hps);
    free(tieds);
    cJSON_Delete(tied);
    *data_bytes = off;
    return h;
}

static int s_write_body(FILE *f, cJSON *sd, cJSON *hp, int depth, unsigned seed)
{
    uint32_t rs = seed ? seed : 1;
    for (int pass = 0; pass < 2; pass++) {
        cJSON *e;
        cJSON_ArrayForEach(e, sd) {
            const char *key = cJSON_GetObjectItem(e, "key")->valuestring;
            int f16 = strcmp(cJSON_GetObjectItem(e, "dtype_in_model")->valuestring, "float16") == 0;
            if (f16 != pass || !s_keep(key, depth)) continue;
            if (strcmp(key, "prior.x_out.weight") == 0 && cJSON_IsFalse(cJSON_GetObjectItem(hp, "merged_decoder")))
                continue;
            int64_t count = 1;
            cJSON *d;
            cJSON_ArrayForEach(d, cJSON_GetObjectItem(e, "shape")) count *= (int64_t)d->valuedouble;
            if (s_write_tensor(f, key, count, f16, &rs) != 0) return -1;
        }
    }
    return 0;
}

/* Parses LAYOUT_JSON; NULL with a message when it is not a released-layout file. */
static cJSON *s_load(const char *layout_json, cJSON **sd, cJSON **hp, cJSON **model, char *err,
                     size_t errlen)
{
    char *text = s_slurp(layout_json);
    int readable = text != NULL;
    cJSON *lay = text ? cJSON_Parse(text) : NULL;
    free(text);
    *sd = lay ? cJSON_GetObjectItem(lay, "state_dict") : NULL;
    *hp = lay ? cJSON_GetObjectItem(lay, "hparams") : NULL;
    *model = lay ? cJSON_GetObjectItem(lay, "model") : NULL;
    if (!cJSON_IsArray(*sd) || !cJSON_IsObject(*hp) || !cJSON_IsString(*model)) {
        snprintf(err, errlen, "%s: %s", layout_json,
                 readable ? "not a released-layout JSON (needs model, hparams, state_dict)"
                             : "cannot read it");
        cJSON_Delete(lay);
        return NULL;
    }
    return lay;
}

int cn_synth_model_size(const char *layout_json, int depth, int64_t *bytes, int *full_depth,
                        char *err, size_t errlen)
{
    cJSON *sd, *hp, *model;
    cJSON *lay = s_load(layout_json, &sd, &hp, &model, err, errlen);
    if (!lay) return -1;
    cJSON *pd = cJSON_GetObjectItem(hp, "prior_depth");
    *full_depth = cJSON_IsNumber(pd) ? pd->valueint : 0;
    int64_t data_bytes = 0;
    cJSON *h = s_header(sd, hp, model->valuestring, depth, &data_bytes);
    char *hs = cJSON_PrintUnformatted(h);
    *bytes = 8 + (int64_t)strlen(hs) + 8 + data_bytes;
    free(hs);
    cJSON_Delete(h);
    cJSON_Delete(lay);
    return 0;
}

int cn_synth_model_write(const char *layout_json, int depth, const char *out_path,
                         unsigned seed, char *err, size_t errlen)
{
    cJSON *sd, *hp, *model;
    cJSON *lay = s_load(layout_json, &sd, &hp, &model, err, errlen);
    if (!lay) return -1;
    int64_t data_bytes = 0;
    cJSON *h = s_header(sd, hp, model->valuestring, depth, &data_bytes);
    char *hs = cJSON_PrintUnformatted(h);
    size_t hlen = strlen(hs), padded = (hlen + 7) & ~(size_t)7;
    FILE *f = fopen(out_path, "wb");
    int rc = -1;
    if (f) {
        uint64_t n = padded;
        unsigned char le[8];
        for (int i = 0; i < 8; i++) le[i] = (unsigned char)(n >> (8 * i));
        rc = (fwrite(le, 1, 8, f) == 8 && fwrite(hs, 1, hlen, f) == hlen) ? 0 : -1;
        for (size_t i = hlen; rc == 0 && i < padded; i++) rc = fputc(' ', f) == ' ' ? 0 : -1;
        if (rc == 0) rc = s_write_body(f, sd, hp, depth, seed);
        if (fclose(f) != 0) rc = -1;
    }
    if (rc != 0) snprintf(err, errlen, "%s: cannot write %.1f MB (disk full?)", out_path,
                          (double)data_bytes / 1e6);
    free(hs);
    cJSON_Delete(h);
    cJSON_Delete(lay);
    return rc;
}
