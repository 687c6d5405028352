/* SPDX-License-Identifier: MIT
 * Converter + loader end to end: every golden checkpoint converts, loads, and each tensor equals
 * weights/<key>.npy bit for bit; files that do not fit their hyper-parameters are refused.
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "modelfile.h"
#include "npy.h"

static const char *s_src, *s_bin;
static char s_tmp[256];
static cn_check s_c;

static const char *s_cases[] = { "vqvae", "prior_5b", "prior_5b_lyrics", "prior_1b_lyrics",
                                 "upsampler_level_1", "upsampler_level_0" };

static char *s_slurp(const char *path, long *len)
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
    if (len) *len = n;
    return b;
}

/* Runs continuo-convert on CASE's checkpoint into OUT with EXTRA args; 0 on success. */
static int s_convert(const char *case_name, const char *out, const char *extra)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s/continuo-convert' '%s/tests/golden/%s/checkpoint.pth.tar' "
             "--out '%s' %s 2>'%s/convert.log' >/dev/null", s_bin, s_src, case_name, out,
             extra ? extra : "", s_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static float s_half(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24)
            : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}

/* Compares one tensor with its .npy; returns 1 if identical (after widening fp16). */
static int s_same(const cn_tensor *t, const cn_npy *a)
{
    int64_t n = cn_tensor_nelem(t);
    if (a->dtype != 'f' || a->n != n) return 0;
    const float *w = a->data;
    for (int64_t i = 0; i < n; i++) {
        float v = t->type == CN_F16 ? s_half(((const uint16_t *)t->data)[i])
                                    : ((const float *)t->data)[i];
        if (memcmp(&v, &w[i], sizeof v) != 0) return 0;
    }
    return 1;
}

/* Looks up every state-dict key of the manifest with its shape and stored dtype and compares
 * the data with weights/<key>.npy. Returns the number of differing or failing keys. */
static int s_compare_all(cn_modelfile *mf, const cJSON *sd, const char *case_name, int *count,
                         char *first, size_t firstlen)
{
    int bad = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, sd) {
        const char *key = cJSON_GetObjectItem(e, "key")->valuestring;
        const cJSON *shape = cJSON_GetObjectItem(e, "shape");
        int nd = cJSON_GetArraySize(shape);
        int64_t ne[4] = { 1, 1, 1, 1 };
        for (int i = 0; i < nd && i < 4; i++) ne[i] = cJSON_GetArrayItem(shape, i)->valueint;
        int want = strcmp(cJSON_GetObjectItem(e, "stored_dtype")->valuestring, "float16") == 0
                       ? CN_F16 : CN_F32;
        char err[512], dir[1024], name[1024];
        cn_tensor t;
        cn_npy a = { 0 };
        snprintf(dir, sizeof dir, "%s/tests/golden/%s/weights", s_src, case_name);
        snprintf(name, sizeof name, "%s.npy", key);
        int ok = cn_modelfile_tensor(mf, key, nd ? nd : 1, ne, want, &t, err, sizeof err) == 0 &&
                 cn_npy_load2(&a, dir, name, err, sizeof err) == 0 && s_same(&t, &a);
        if (!ok && bad++ == 0) snprintf(first, firstlen, "%s", key);
        cn_npy_free(&a);
        (*count)++;
    }
    return bad;
}

/* One check line; DETAIL is printed only on failure. */
static int s_ok(const char *what, int ok, const char *detail)
{
    return cn_check_true(&s_c, what, ok, ok ? NULL : detail);
}

static void s_check_case(const char *case_name)
{
    char out[512], err[512], what[256], extra[1024], first[256] = "";
    snprintf(out, sizeof out, "%s/%s.safetensors", s_tmp, case_name);
    snprintf(extra, sizeof extra, "--vqvae-hps '%s/tests/golden/vqvae/checkpoint.pth.tar'", s_src);
    snprintf(what, sizeof what, "%s: converts", case_name);
    if (!s_ok(what, s_convert(case_name, out, extra) == 0, "continuo-convert "
                       "failed (see convert.log)"))
        return;
    cn_modelfile *mf = NULL;
    snprintf(what, sizeof what, "%s: loads", case_name);
    if (!s_ok(what, cn_modelfile_open(&mf, out, err, sizeof err) == 0, err))
        return;
    snprintf(what, sizeof what, "%s: manifest lists the state dict", case_name);
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/%s/manifest.json", s_src, case_name);
    char *text = s_slurp(path, NULL);
    cJSON *man = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *sd = cJSON_GetObjectItem(cJSON_GetObjectItem(man, "checkpoint"), "state_dict");
    if (s_ok(what, sd != NULL, "cannot read the state-dict list")) {
        int count = 0, bad = s_compare_all(mf, sd, case_name, &count, first, sizeof first);
        char detail[512];
        snprintf(detail, sizeof detail, "%d of %d keys differ or fail to load; first %s", bad,
                 count, first);
        snprintf(what, sizeof what, "%s: %d tensors equal weights/<key>.npy exactly", case_name,
                 count);
        s_ok(what, bad == 0, detail);
        snprintf(what, sizeof what, "%s: every stored tensor used (strict)", case_name);
        s_ok(what, cn_modelfile_check_all_used(mf, err, sizeof err) == 0, err);
    }
    cJSON_Delete(man);
    cn_modelfile_close(&mf);
}


/* Shape of KEY in CASE's manifest state-dict list; returns nd or 0. */
static int s_manifest_shape(const char *case_name, const char *key, int64_t *ne)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/%s/manifest.json", s_src, case_name);
    char *text = s_slurp(path, NULL);
    cJSON *man = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *e, *sd = cJSON_GetObjectItem(cJSON_GetObjectItem(man, "checkpoint"),
                                              "state_dict");
    int nd = 0;
    cJSON_ArrayForEach(e, sd) {
        if (strcmp(cJSON_GetObjectItem(e, "key")->valuestring, key) != 0) continue;
        const cJSON *sh = cJSON_GetObjectItem(e, "shape");
        nd = cJSON_GetArraySize(sh);
        for (int i = 0; i < nd && i < 4; i++) ne[i] = cJSON_GetArrayItem(sh, i)->valueint;
    }
    cJSON_Delete(man);
    return nd;
}

/* Writes LEN bytes of BUF to PATH; 0 on success. */
static int s_write(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(buf, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -1;
}

/* Opens PATH expecting a refusal whose message contains NEEDLE; one check line. */
static void s_expect_refused(const char *what, const char *path, const char *needle)
{
    char err[512] = "", detail[700];
    cn_modelfile *mf = NULL;
    int rc = cn_modelfile_open(&mf, path, err, sizeof err);
    cn_modelfile_close(&mf);
    int ok = rc != 0 && strstr(err, needle) != NULL;
    if (ok) snprintf(detail, sizeof detail, "\"%s\"", err);
    else snprintf(detail, sizeof detail, "rc %d, message \"%s\", expected it to mention \"%s\"",
                  rc, err, needle);
    cn_check_true(&s_c, what, ok, detail);
}

/* Kinds, the VQ-VAE geometry of a prior, tied names, embedded id tables. */
static void s_check_metadata(void)
{
    char path[512], err[512], ids[512], extra[1536], cmd[2048];
    cn_modelfile *mf = NULL;
    snprintf(path, sizeof path, "%s/prior_1b_lyrics.safetensors", s_tmp);
    if (!s_ok("prior_1b_lyrics: reopens", cn_modelfile_open(&mf, path, err,
                       sizeof err) == 0, err))
        return;
    int lb = 0, lv = 0, hp_lb = 0;
    cn_hp_int(cn_modelfile_vqvae(mf), "l_bins", &lb, err, sizeof err);
    cn_hp_int(cn_modelfile_vqvae(mf), "levels", &lv, err, sizeof err);
    cn_hp_int(cn_modelfile_hparams(mf), "l_bins", &hp_lb, err, sizeof err);
    char d[256];
    snprintf(d, sizeof d, "continuo.vqvae has l_bins %d levels %d (own hps say l_bins %d)", lb,
             lv, hp_lb);
    s_ok("prior_1b_lyrics: VQ-VAE geometry from --vqvae-hps (64 codes, 3 levels)",
                  lb == 64 && lv == 3 && strcmp(cn_modelfile_kind(mf), "prior") == 0, d);
    cn_tensor emb, out;
    int64_t shape[4];
    int snd = s_manifest_shape("prior_1b_lyrics", "prior.x_emb.weight", shape);
    int ok = cn_modelfile_tensor(mf, "prior.x_emb.weight", snd, shape, CN_F32, &emb, err,
                                 sizeof err) == 0 &&
             cn_modelfile_tensor(mf, "prior.x_out.weight", snd, shape, CN_F32, &out, err,
                                 sizeof err) == 0;
    s_ok("prior_1b_lyrics: prior.x_out.weight is tied to prior.x_emb.weight",
                  ok && emb.data == out.data && cn_modelfile_meta(mf, "continuo.tied"), err);
    cn_modelfile_close(&mf);

    snprintf(ids, sizeof ids, "%s/ids", s_tmp);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && printf 'unknown;0\\nsome band;7\\n' > "
             "'%s/v2_artist_ids.txt' && printf 'unknown;0\\nrock;3\\n' > '%s/v2_genre_ids.txt'",
             ids, ids, ids);
    int made = system(cmd) == 0;
    snprintf(path, sizeof path, "%s/prior_5b_ids.safetensors", s_tmp);
    snprintf(extra, sizeof extra, "--ids '%s' --model custom_ids", ids);
    ok = made && s_convert("prior_5b", path, extra) == 0 &&
         cn_modelfile_open(&mf, path, err, sizeof err) == 0;
    const char *a = ok ? cn_modelfile_meta(mf, "continuo.artist_ids") : NULL;
    const char *g = ok ? cn_modelfile_meta(mf, "continuo.genre_ids") : NULL;
    const char *m = ok ? cn_modelfile_meta(mf, "continuo.model") : NULL;
    s_ok("prior_5b --ids: v2 artist and genre tables embedded, model name kept",
                  a && g && m && strcmp(a, "unknown;0\nsome band;7\n") == 0 &&
                  strcmp(g, "unknown;0\nrock;3\n") == 0 && strcmp(m, "custom_ids") == 0,
                  ok ? "tables or model name differ" : "conversion or load failed");
    cn_modelfile_close(&mf);
}

/* A file whose hyper-parameters do not fit its tensors is refused, naming the tensor. */
static void s_check_shape_mismatch(void)
{
    char path[1024], hp_path[512], out[512], extra[2048], err[512] = "";
    snprintf(path, sizeof path, "%s/tests/golden/prior_5b/manifest.json", s_src);
    char *text = s_slurp(path, NULL);
    cJSON *man = text ? cJSON_Parse(text) : NULL;
    free(text);
    cJSON *hp = cJSON_GetObjectItem(cJSON_GetObjectItem(man, "facts"), "hparams");
    cJSON *w = cJSON_GetObjectItem(hp, "prior_width");
    int width = w ? w->valueint : 0;
    if (w) cJSON_SetNumberValue(w, width + 16);
    char *js = hp ? cJSON_Print(hp) : NULL;
    snprintf(hp_path, sizeof hp_path, "%s/wide.json", s_tmp);
    snprintf(out, sizeof out, "%s/prior_5b_wide.safetensors", s_tmp);
    snprintf(extra, sizeof extra, "--hparams '%s' --vqvae-hps "
             "'%s/tests/golden/vqvae/checkpoint.pth.tar'", hp_path, s_src);
    cn_modelfile *mf = NULL;
    int ok = js && s_write(hp_path, js, strlen(js)) == 0 && s_convert("prior_5b", out, extra) == 0
             && cn_modelfile_open(&mf, out, err, sizeof err) == 0;
    free(js);
    cJSON_Delete(man);
    if (!s_ok("prior_5b with prior_width + 16: converts and opens", ok, err))
        return;
    int hw = 0, lb = 0;
    cn_hp_int(cn_modelfile_hparams(mf), "prior_width", &hw, err, sizeof err);
    cn_hp_int(cn_modelfile_vqvae(mf), "l_bins", &lb, err, sizeof err);
    int64_t need[2] = { lb, hw };
    cn_tensor t;
    int rc = cn_modelfile_tensor(mf, "prior.x_emb.weight", 2, need, CN_F32, &t, err, sizeof err);
    char want[256], detail[800];
    snprintf(want, sizeof want, "prior.x_emb.weight: shape (%d, %d) in file, the "
             "hyper-parameters need (%d, %d)", lb, width, lb, hw);
    snprintf(detail, sizeof detail, "got \"%s\", want \"%s\"", rc ? err : "(accepted)", want);
    int ok2 = rc != 0 && strcmp(err, want) == 0;
    cn_check_true(&s_c, "shape mismatch refused naming the tensor and both shapes", ok2,
                  ok2 ? err : detail);
    int64_t wshape[4];
    const char *cw = "prior.transformer._attn_mods.0.attn.c_attn.w";
    rc = cn_modelfile_tensor(mf, cw, s_manifest_shape("prior_5b", cw, wshape), wshape,
                             CN_F32, &t, err, sizeof err);
    cn_check_true(&s_c, "fp16 Conv1D weight asked as F32 refused naming the dtype",
                  rc != 0 && strstr(err, "dtype F16 in file") != NULL, err);
    rc = cn_modelfile_check_all_used(mf, err, sizeof err);
    cn_check_true(&s_c, "strict load: unused tensors reported", rc != 0 &&
                  strstr(err, "not used") != NULL, err);
    cn_modelfile_close(&mf);
}

/* Truncated or foreign files are refused with a message naming the problem. */
static void s_check_truncated(void)
{
    char path[512], bad[512];
    long len = 0;
    snprintf(path, sizeof path, "%s/vqvae.safetensors", s_tmp);
    char *buf = s_slurp(path, &len);
    if (!s_ok("vqvae.safetensors readable", buf != NULL && len > 4096, path))
        return;
    snprintf(bad, sizeof bad, "%s/cut.safetensors", s_tmp);
    s_write(bad, buf, (size_t)len - 100);
    s_expect_refused("model file missing its last 100 bytes refused", bad, "past the end");
    s_write(bad, buf, 200);
    s_expect_refused("model file cut inside its header refused", bad, "header length");
    s_write(bad, "not a model file at all, just text\n", 35);
    s_expect_refused("a text file refused", bad, "not a safetensors file");
    free(buf);
}

/* 600 damaged copies of a model file (bytes of the header overwritten, JSON punctuation put
 * in, the file cut short): each opens or is refused with a message; none may crash. */
static void s_check_mutations(void)
{
    char path[512], bad[512], err[512];
    long len = 0;
    snprintf(path, sizeof path, "%s/prior_1b_lyrics.safetensors", s_tmp);
    snprintf(bad, sizeof bad, "%s/mutated.safetensors", s_tmp);
    unsigned char *buf = (unsigned char *)s_slurp(path, &len);
    if (!s_ok("prior_1b_lyrics.safetensors readable", buf != NULL && len > 16, path)) return;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | buf[i];
    const char *punct = "0123456789-e.,[]{}\"";
    unsigned seed = 12345;
    int opened = 0, refused = 0, unnamed = 0;
    for (int it = 0; it < 600; it++) {
        unsigned char *c = malloc((size_t)len);
        memcpy(c, buf, (size_t)len);
        long n = len;
        seed = seed * 1103515245u + 12345u;
        long at = 8 + (long)((seed >> 8) % hl);
        if (it % 3 == 0) c[at % (8 + (long)hl)] = (unsigned char)(seed >> 3);
        else if (it % 3 == 1) n = (long)((seed >> 4) % (unsigned)len);
        else c[at] = (unsigned char)punct[(seed >> 5) % 19];
        s_write(bad, c, (size_t)n);
        free(c);
        cn_modelfile *mf = NULL;
        err[0] = 0;
        if (cn_modelfile_open(&mf, bad, err, sizeof err) == 0) opened++;
        else if (err[0]) refused++;
        else unnamed++;
        cn_modelfile_close(&mf);
    }
    free(buf);
    char detail[256];
    snprintf(detail, sizeof detail, "%d opened, %d refused with a message, %d refused silently",
             opened, refused, unnamed);
    cn_check_true(&s_c, "600 damaged files: no crash, every refusal has a message", unnamed == 0,
                  detail);
}

/* Hyper-parameter accessors: values, and messages for missing or mistyped keys. */
static void s_check_hp(void)
{
    char path[512], err[512];
    cn_modelfile *mf = NULL;
    snprintf(path, sizeof path, "%s/vqvae.safetensors", s_tmp);
    if (!s_ok("vqvae: reopens", cn_modelfile_open(&mf, path, err, sizeof err) == 0,
                       err))
        return;
    const cJSON *hp = cn_modelfile_hparams(mf);
    int downs[8], n = cn_hp_int_list(hp, "downs_t", downs, 8, err, sizeof err);
    s_ok("vqvae hparams downs_t = [3, 2, 2]", n == 3 && downs[0] == 3 &&
                  downs[1] == 2 && downs[2] == 2, err);
    s_ok("vqvae kind, no continuo.vqvae", strcmp(cn_modelfile_kind(mf), "vqvae")
                  == 0 && cn_modelfile_vqvae(mf) == NULL, cn_modelfile_kind(mf));
    int v;
    double dv;
    int rc = cn_hp_int(hp, "no_such_key", &v, err, sizeof err);
    cn_check_true(&s_c, "missing key: \"hparams: no_such_key missing\"",
                  rc != 0 && strcmp(err, "hparams: no_such_key missing") == 0, err);
    rc = cn_hp_double(hp, "local_logdir", &dv, err, sizeof err);
    cn_check_true(&s_c, "string as number: \"hparams: local_logdir is not a number\"",
                  rc != 0 && strcmp(err, "hparams: local_logdir is not a number") == 0, err);
    rc = cn_hp_int_list(hp, "downs_t", downs, 2, err, sizeof err);
    cn_check_true(&s_c, "list longer than the caller's room refused", rc < 0, err);
    s_ok("dilation_cycle is null", cn_hp_is_null(hp, "dilation_cycle"), "");
    cn_modelfile_close(&mf);
}

int main(void)
{
    s_src = getenv("CN_SOURCE_DIR");
    s_bin = getenv("CN_BINARY_DIR");
    if (!s_src || !s_bin) {
        fprintf(stderr, "test_modelfile: set CN_SOURCE_DIR and CN_BINARY_DIR (ctest does)\n");
        return 1;
    }
    snprintf(s_tmp, sizeof s_tmp, "/tmp/cn_test_modelfile.XXXXXX");
    if (!mkdtemp(s_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    for (size_t i = 0; i < sizeof s_cases / sizeof *s_cases; i++) s_check_case(s_cases[i]);
    s_check_metadata();
    s_check_shape_mismatch();
    s_check_truncated();
    s_check_mutations();
    s_check_hp();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    if (system(cmd) != 0) fprintf(stderr, "test_modelfile: could not remove %s\n", s_tmp);
    return cn_check_finish(&s_c);
}
