/* SPDX-License-Identifier: MIT
 * Golden case filter: temperature / top-k / top-p filtering through the backend's
 * filter_logits against the reference's filtered logits (same -inf mask, values 1e-6 rel).
 */
#include <math.h>
#include <stdio.h>

#include "golden.h"

#define FILTER_REL_TOL 1e-6

/* Runs filter_logits on `in` with setting s in backend memory; writes the result to host out. */
static int s_run(golden_ctx *g, const cn_npy *in, const cn_sample_desc *s, float *out,
                 char *err, size_t errlen)
{
    cn_backend *be = g->be;
    int64_t V = in->shape[in->nd - 1], rows = in->n / V;
    size_t bytes = (size_t)in->n * sizeof(float);
    void *d = be->ops->alloc(be, bytes);
    if (d == NULL) {
        snprintf(err, errlen, "alloc of %zu bytes failed", bytes);
        return -1;
    }
    cn_tensor t = cn_tensor_2d(d, CN_F32, rows, V);
    int rc = be->ops->upload(be, d, in->data, bytes);
    if (rc == 0) rc = be->ops->filter_logits(be, &t, &t, s);
    if (rc == 0) rc = be->ops->download(be, out, d, bytes);
    if (rc == 0) rc = be->ops->sync(be);
    if (rc != 0) snprintf(err, errlen, "backend status %d: %s", rc, be->ops->last_error(be));
    be->ops->release(be, d);
    return rc;
}

/* One check: the -inf positions identical, kept values within FILTER_REL_TOL relative. */
static void s_compare(golden_ctx *g, const char *what, const float *got, const float *want,
                      int64_t n)
{
    int64_t mask_bad = 0, first = -1, kept = 0;
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        int gi = isinf(got[i]) && got[i] < 0, wi = isinf(want[i]) && want[i] < 0;
        if (gi != wi) {
            if (first < 0) first = i;
            mask_bad++;
            continue;
        }
        if (gi) continue;
        kept++;
        double rel = fabs((double)got[i] - want[i]) / fmax(fabs((double)want[i]), 1e-30);
        if (!(rel <= worst)) worst = rel;   /* NaN makes worst NaN and fails below */
    }
    char detail[256], where[64] = "";
    if (first >= 0) snprintf(where, sizeof where, " (first at %lld)", (long long)first);
    snprintf(detail, sizeof detail, "%lld kept, %lld removed; mask mismatches %lld%s; "
             "max rel diff %.3g (tol %.0e)", (long long)kept, (long long)(n - kept - mask_bad),
             (long long)mask_bad, where, worst, FILTER_REL_TOL);
    cn_check_true(&g->check, what, mask_bad == 0 && worst <= FILTER_REL_TOL, detail);
}

static void s_setting(golden_ctx *g, const char *case_dir, const cn_npy *in, const char *prefix,
                      int index, const cn_sample_desc *s)
{
    char name[64], what[160], err[512];
    snprintf(name, sizeof name, "%s_%d.npy", prefix, index);
    snprintf(what, sizeof what, "filter %s_%d (T %.3g, top_k %d, top_p %.3g)", prefix, index,
             (double)s->temperature, s->top_k, (double)s->top_p);
    cn_npy want = { 0 };
    if (golden_npy(g, case_dir, name, &want) != 0) return;
    float got[4096];
    if (want.n != in->n || in->n > (int64_t)(sizeof got / sizeof got[0])) {
        cn_check_true(&g->check, what, 0, "output and input sizes differ or exceed 4096");
    } else if (s_run(g, in, s, got, err, sizeof err) != 0) {
        cn_check_true(&g->check, what, 0, err);
    } else {
        s_compare(g, what, got, want.data, want.n);
    }
    cn_npy_free(&want);
}

/* settings[i].key as a number; 0 and *ok = 0 when it is missing */
static double s_num(const cJSON *it, const char *key, int *ok)
{
    const cJSON *v = cJSON_GetObjectItem(it, key);
    if (!cJSON_IsNumber(v)) {
        *ok = 0;
        return 0;
    }
    return v->valuedouble;
}

int golden_case_filter(golden_ctx *g, const char *case_dir)
{
    cJSON *m = golden_manifest(g, case_dir);
    if (m == NULL) return -1;
    cn_npy in = { 0 }, ties = { 0 };
    int ok = golden_npy(g, case_dir, "in_logits.npy", &in) == 0 &&
             golden_npy(g, case_dir, "in_logits_ties.npy", &ties) == 0;
    cJSON *settings = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "facts"), "settings");
    if (ok && !cJSON_IsArray(settings))
        ok = cn_check_true(&g->check, "filter manifest", 0, "facts.settings is missing");
    cJSON *it;
    if (ok) cJSON_ArrayForEach(it, settings) {
        cn_sample_desc s = { 0 };
        int have = 1;
        int index = (int)s_num(it, "index", &have);
        s.temperature = (float)s_num(it, "temperature", &have);
        s.top_k = (int)s_num(it, "top_k", &have);
        s.top_p = (float)s_num(it, "top_p", &have);
        if (!have) {
            ok = cn_check_true(&g->check, "filter manifest", 0,
                               "a setting lacks index, temperature, top_k or top_p");
            continue;
        }
        s_setting(g, case_dir, &in, "out_filtered", index, &s);
        if (cJSON_IsTrue(cJSON_GetObjectItem(it, "has_ties_output")))
            s_setting(g, case_dir, &ties, "out_filtered_ties", index, &s);
    }
    cn_npy_free(&in);
    cn_npy_free(&ties);
    cJSON_Delete(m);
    return ok ? 0 : -1;
}
