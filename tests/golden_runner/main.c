/* SPDX-License-Identifier: MIT
 * continuo-golden: runs every case listed in GOLDEN_DIR/index.json against the reference's
 * numbers and prints one line per check, then "N passed, M failed".
 * Usage: continuo-golden [--backend cpu|cuda] [--convert PATH] GOLDEN_DIR
 * Exit: 0 all passed, 1 a check failed, 77 the backend has no device here (skipped).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "golden.h"

static const struct { const char *name; golden_case_fn fn; } s_cases[] = {
    { "vqvae", golden_case_vqvae },
    { "prior_5b", golden_case_prior_5b },
    { "prior_5b_lyrics", golden_case_prior_5b_lyrics },
    { "prior_1b_lyrics", golden_case_prior_1b_lyrics },
    { "upsampler_level_0", golden_case_upsampler_level_0 },
    { "upsampler_level_1", golden_case_upsampler_level_1 },
    { "labels", golden_case_labels },
    { "windows", golden_case_windows },
    { "filter", golden_case_filter },
};

static char *s_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = 0;
    fclose(f);
    return buf;
}

cJSON *golden_manifest(golden_ctx *g, const char *case_dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", case_dir);
    char *text = s_read_file(path);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!j) cn_check_true(&g->check, path, 0, "cannot read or parse");
    return j;
}

int golden_npy(golden_ctx *g, const char *case_dir, const char *name, cn_npy *a)
{
    char err[512];
    if (cn_npy_load2(a, case_dir, name, err, sizeof err) == 0) return 0;
    cn_check_true(&g->check, name, 0, err);
    return -1;
}

int golden_convert(golden_ctx *g, const char *case_name, const char *extra_args,
                   char *out_path, size_t out_len)
{
    char cmd[8192], log[4096];
    snprintf(out_path, out_len, "%s/%s.safetensors", g->tmpdir, case_name);
    snprintf(log, sizeof log, "%s/%s.convert.log", g->tmpdir, case_name);
    snprintf(cmd, sizeof cmd, "'%s' '%s/%s/checkpoint.pth.tar' --out '%s' %s >'%s' 2>&1",
             g->convert, g->root, case_name, out_path, extra_args ? extra_args : "", log);
    if (system(cmd) == 0) return 0;
    char *msg = s_read_file(log);
    char what[256];
    snprintf(what, sizeof what, "%s: convert checkpoint", case_name);
    cn_check_true(&g->check, what, 0, msg ? msg : "converter failed");
    free(msg);
    return -1;
}

static int s_listed(cJSON *index, const char *name)
{
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(index, "cases"))
        if (cJSON_IsString(c) && strcmp(c->valuestring, name) == 0) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    golden_ctx g = { .backend_name = "cpu", .convert = "continuo-convert" };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) g.backend_name = argv[++i];
        else if (strcmp(argv[i], "--convert") == 0 && i + 1 < argc) g.convert = argv[++i];
        else if (argv[i][0] != '-') g.root = argv[i];
        else {
            fprintf(stderr, "usage: continuo-golden [--backend cpu|cuda] [--convert PATH] DIR\n");
            return 2;
        }
    }
    if (!g.root) {
        fprintf(stderr, "continuo-golden: give the golden directory\n");
        return 2;
    }
    char err[512];
    g.be = cn_backend_new(g.backend_name, err, sizeof err);
    if (!g.be) {
        printf("skipped: backend %s: %s\n", g.backend_name, err);
        return 77;
    }
    char tmpl[] = "/tmp/continuo-golden-XXXXXX";
    g.tmpdir = mkdtemp(tmpl);
    char path[4096];
    snprintf(path, sizeof path, "%s/index.json", g.root);
    char *text = s_read_file(path);
    cJSON *index = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!index || !g.tmpdir) {
        printf("FAIL %s: cannot read index.json or make a scratch folder\n", g.root);
        return 1;
    }
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(index, "cases")) {
        int known = 0;
        for (size_t k = 0; k < sizeof s_cases / sizeof s_cases[0]; k++)
            known |= cJSON_IsString(c) && strcmp(c->valuestring, s_cases[k].name) == 0;
        if (!known) cn_check_true(&g.check, c->valuestring, 0, "unknown golden case");
    }
    for (size_t k = 0; k < sizeof s_cases / sizeof s_cases[0]; k++) {
        if (!s_listed(index, s_cases[k].name)) continue;
        snprintf(path, sizeof path, "%s/%s", g.root, s_cases[k].name);
        printf("== %s (%s backend)\n", s_cases[k].name, g.backend_name);
        s_cases[k].fn(&g, path);
    }
    cJSON_Delete(index);
    snprintf(path, sizeof path, "rm -rf '%s'", g.tmpdir);
    if (system(path) != 0) fprintf(stderr, "continuo-golden: could not remove %s\n", g.tmpdir);
    cn_backend_destroy(&g.be);
    return cn_check_finish(&g.check);
}
