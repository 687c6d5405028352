/* SPDX-License-Identifier: MIT
 * One model of the benchmark: writes its synthetic file, loads it through the engine's loader,
 * works out which weight bytes a decode step reads, times every N and deletes the file.
 * Never keeps a synthetic file after the model is open (it is unlinked at once).
 */
#include "bench_impl.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modelfile.h"
#include "synth_model.h"
#include "windows.h"

/* The safetensors header of PATH as JSON (NULL on any problem). */
static cJSON *s_read_header(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char le[8];
    cJSON *h = NULL;
    if (f && fread(le, 1, 8, f) == 8) {
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--) n = n << 8 | le[i];
        char *b = n < (1u << 30) ? malloc(n + 1) : NULL;
        if (b && fread(b, 1, n, f) == n) {
            b[n] = 0;
            h = cJSON_Parse(b);
        }
        free(b);
    }
    if (f) fclose(f);
    return h;
}

/* A tensor a decode step reads in full: the main transformer's weights (the cross layers'
 * encoder key/value projection runs once per window, not per step) and the output matrix. */
static int s_per_step(const char *name, const char *out_name)
{
    if (strcmp(name, out_name) == 0) return 1;
    return strncmp(name, "prior.transformer.", 18) == 0 && !strstr(name, ".c_enc_kv.");
}

/* Sums the backend bytes of the per-step tensors: each found by its host address in the
 * mapping (data base + offset), priced at what upload_weight made of it, else at F32. */
static double s_step_bytes(cn_modelfile *mf, const cJSON *hdr, const cn_bench_wrap *w)
{
    const char *out_name = cJSON_GetObjectItem(hdr, "prior.x_out.weight") ? "prior.x_out.weight"
                                                                          : "prior.x_emb.weight";
    const char *base = NULL;
    double total = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, hdr) {
        const cJSON *shape = cJSON_GetObjectItem(e, "shape");
        const cJSON *offs = cJSON_GetObjectItem(e, "data_offsets");
        if (!shape || !offs) continue;
        int64_t ne[4] = { 1, 1, 1, 1 }, count = 1;
        int nd = 0;
        const cJSON *d;
        cJSON_ArrayForEach(d, shape) if (nd < 4) count *= ne[nd++] = (int64_t)d->valuedouble;
        int64_t off = (int64_t)cJSON_GetArrayItem(offs, 0)->valuedouble;
        if (!base) {
            cn_tensor v;
            char err[256];
            if (cn_modelfile_tensor(mf, e->string, nd ? nd : 1, ne, -1, &v, err, sizeof err))
                return -1;
            base = (const char *)v.data - off;
        }
        if (!s_per_step(e->string, out_name)) continue;
        double b = cn_bench_wrap_bytes_of(w, base + off);
        total += b >= 0 ? b : 4.0 * (double)count;
    }
    return total;
}

static int s_write(const cn_bench_opts *o, const char *model, char *path, size_t pathlen,
                   cn_bench_model *m, char *err, size_t errlen)
{
    char layout[1024];
    snprintf(layout, sizeof layout, "%s/%s.json", o->layouts, model);
    int64_t bytes = 0;
    if (cn_synth_model_size(layout, o->depth, &bytes, &m->full_depth, err, errlen)) return -1;
    if (o->depth > m->full_depth)
        return snprintf(err, errlen, "--depth %d: %s has %d transformer layers", o->depth, model,
                        m->full_depth), -1;
    m->file_bytes = (double)bytes;
    if (cn_bench_tmp_path(o->tmp, model, (double)bytes, path, pathlen, err, errlen)) return -1;
    double t0 = cn_bench_now();
    if (cn_synth_model_write(layout, o->depth, path, 1234, err, errlen)) {
        unlink(path);
        return -1;
    }
    printf("  written in %.1f s\n", cn_bench_now() - t0);
    return 0;
}

static void s_fill_shape(cn_bench_model *m, const cn_prior_info *in)
{
    m->level = in->level;
    m->n_ctx = in->n_ctx;
    m->width = in->width;
    m->depth = in->depth;
    m->heads = in->heads;
    m->hop = in->hop;
    m->prefix = in->prefix;
    m->n_tokens = in->n_tokens;
    m->chunk = in->chunk_size;
    m->hop_length = cn_hop_length(cn_bench_hop_fraction(in->level), in->n_ctx);
}

/* Opens the written file on the wrapped backend; fills weight and per-step bytes. */
static int s_open(cn_backend *be, const char *path, cn_prior **p, cn_bench_model *m,
                  char *err, size_t errlen)
{
    cJSON *hdr = s_read_header(path);
    cn_modelfile *mf = NULL;
    int rc = cn_modelfile_open(&mf, path, err, errlen);
    unlink(path);                   /* the mapping keeps the data until it is closed */
    if (rc || !hdr) {
        if (!rc) snprintf(err, errlen, "%s: cannot read back its header", path);
        cn_modelfile_close(&mf);
        cJSON_Delete(hdr);
        return -1;
    }
    cn_bench_wrap *w = NULL;
    cn_backend *wb = cn_bench_wrap_new(be, &w);
    double t0 = cn_bench_now();
    rc = wb ? cn_prior_open(p, mf, wb, err, errlen) : -1;
    if (!wb) snprintf(err, errlen, "out of host memory");
    if (rc == 0) {
        m->load_s = cn_bench_now() - t0;
        m->weight_bytes = cn_bench_wrap_live(w);
        m->step_bytes = s_step_bytes(mf, hdr, w);
        s_fill_shape(m, cn_prior_info_get(*p));
    }
    cn_modelfile_close(&mf);
    cJSON_Delete(hdr);
    /* the prior keeps the wrapper as its backend: it is freed with the prior (cn_bench_prior) */
    if (rc) cn_bench_wrap_free(&w);
    else m->wrap = w;
    return rc;
}

int cn_bench_prior(cn_backend *be, const cn_bench_opts *o, const char *model,
                   cn_bench_model *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", model);
    char path[1100];
    size_t fr = 0, tot = 0;
    be->ops->mem_info(be, &fr, &tot);
    if (s_write(o, model, path, sizeof path, m, err, errlen)) return -1;
    cn_prior *p = NULL;
    if (s_open(be, path, &p, m, err, errlen)) return -1;
    for (int i = 0; i < o->n_n; i++) {
        /* default: the first sampled position of a steady-state window (the window before
         * it primes n_ctx - hop_length positions, then samples hop_length new ones) */
        int pos0 = o->pos >= 0 ? o->pos : (int)(m->n_ctx - m->hop_length);
        cn_bench_loop(m->wrap, p, o->n_list[i], pos0, o->steps, o->graphs, (double)fr,
                      &m->s[m->n_s++]);
        cn_bench_step *s = &m->s[m->n_s - 1];
        if (s->ok)
            printf("  N = %2d: %.3f ms per step (median; mean %.3f) from position %d, %s%s\n",
                   s->n, s->step_s * 1e3, s->step_mean_s * 1e3, s->pos0,
                   s->graphs ? "graph replay" : "direct calls (no graphs)",
                   s->fused ? ", one persistent kernel for all layers" : "");
        else
            printf("  N = %2d: not measured: %s\n", s->n, s->why);
        const char *asked = getenv("CN_CUDA_PERSISTENT");
        if (s->ok && !s->fused && asked && !strcmp(asked, "1") && s->fused_why[0])
            printf("          layer by layer: %s\n", s->fused_why);
        fflush(stdout);
    }
    cn_prior_close(&p);
    cn_bench_wrap_free(&m->wrap);
    return 0;
}
