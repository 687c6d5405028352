/* SPDX-License-Identifier: MIT
 * continuo-bench utilities: clock, temp-file placement with a free-space check, peak RSS and a
 * backend wrapper that records what each uploaded weight costs. Never times anything itself.
 */
#include "bench.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

double cn_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cn_bench_tmp_path(const char *tmp, const char *model, double need, char *path,
                      size_t pathlen, char *err, size_t errlen)
{
    struct statvfs fs;
    if (statvfs(tmp, &fs) != 0)
        return snprintf(err, errlen, "--tmp %s: not a folder this process can use", tmp), -1;
    double avail = (double)fs.f_bavail * (double)fs.f_frsize;
    double want = need * 1.02 + 256e6;
    if (avail < want)
        return snprintf(err, errlen, "--tmp %s has %.2f GB free; the synthetic %s needs "
                        "%.2f GB (+ margin): pick another folder with --tmp", tmp, avail / 1e9,
                        model, need / 1e9), -1;
    printf("  synthetic %s: %.2f GB in %s (%.1f GB free there), deleted once open\n", model,
           need / 1e9, tmp, avail / 1e9);
    snprintf(path, pathlen, "%s/continuo-bench-%ld-%s.safetensors", tmp, (long)getpid(), model);
    return 0;
}

double cn_bench_peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_maxrss * 1024.0;
}

/* --- backend wrapper --- */

typedef struct {
    const void *key;                /* host pointer (uploads) or backend pointer (live) */
    double bytes;
} s_rec;

typedef struct {
    s_rec *r;
    size_t n, cap;
} s_list;

struct cn_bench_wrap {
    cn_backend be;                  /* the wrapper handed to the model code */
    cn_backend_ops ops;
    const cn_backend_ops *real_ops;
    s_list uploads;                 /* host pointer -> backend bytes of its weight */
    s_list live;                    /* backend allocations not yet released */
    double live_bytes, peak_bytes;
    int in_upload;
};

static void s_push(s_list *l, const void *key, double bytes)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 1024;
        s_rec *r = realloc(l->r, cap * sizeof *r);
        if (!r) return;             /* the figures just miss this one */
        l->r = r;
        l->cap = cap;
    }
    l->r[l->n++] = (s_rec){ key, bytes };
}

/* ops receive the wrapper; impl is the real one, so every other op works unchanged */
static cn_bench_wrap *s_self(cn_backend *be)
{
    return (cn_bench_wrap *)((char *)be - offsetof(cn_bench_wrap, be));
}

static void s_track(cn_bench_wrap *w, const void *p, double bytes)
{
    s_push(&w->live, p, bytes);
    w->live_bytes += bytes;
    if (w->live_bytes > w->peak_bytes) w->peak_bytes = w->live_bytes;
}

static void *s_alloc(cn_backend *be, size_t bytes)
{
    cn_bench_wrap *w = s_self(be);
    void *p = w->real_ops->alloc(be, bytes);
    if (p && !w->in_upload) s_track(w, p, (double)bytes);
    return p;
}

static void s_release(cn_backend *be, void *p)
{
    cn_bench_wrap *w = s_self(be);
    for (size_t i = w->live.n; p && i-- > 0;)
        if (w->live.r[i].key == p) {
            w->live_bytes -= w->live.r[i].bytes;
            w->live.r[i] = w->live.r[--w->live.n];
            break;
        }
    w->real_ops->release(be, p);
}

static int s_upload_weight(cn_backend *be, cn_tensor *dst, const cn_tensor *host)
{
    cn_bench_wrap *w = s_self(be);
    w->in_upload = 1;
    int rc = w->real_ops->upload_weight(be, dst, host);
    w->in_upload = 0;
    if (rc == 0) {
        double bytes = (double)cn_tensor_bytes(dst);
        s_push(&w->uploads, host->data, bytes);
        s_track(w, dst->data, bytes);
    }
    return rc;
}

cn_backend *cn_bench_wrap_new(cn_backend *real, cn_bench_wrap **out)
{
    cn_bench_wrap *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->real_ops = real->ops;
    w->ops = *real->ops;
    w->ops.alloc = s_alloc;
    w->ops.release = s_release;
    w->ops.upload_weight = s_upload_weight;
    w->be.ops = &w->ops;
    w->be.impl = real->impl;
    *out = w;
    return &w->be;
}

void cn_bench_wrap_free(cn_bench_wrap **w)
{
    if (!w || !*w) return;
    free((*w)->uploads.r);
    free((*w)->live.r);
    free(*w);
    *w = NULL;
}

cn_backend *cn_bench_wrap_backend(cn_bench_wrap *w)
{
    return &w->be;
}

double cn_bench_wrap_bytes_of(const cn_bench_wrap *w, const void *p)
{
    for (size_t i = 0; i < w->uploads.n; i++)
        if (w->uploads.r[i].key == p) return w->uploads.r[i].bytes;
    return -1;
}

double cn_bench_wrap_live(const cn_bench_wrap *w)
{
    return w->live_bytes;
}

double cn_bench_wrap_peak(cn_bench_wrap *w, int reset)
{
    double p = w->peak_bytes;
    if (reset) w->peak_bytes = w->live_bytes;
    return p;
}
