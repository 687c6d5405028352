/* SPDX-License-Identifier: MIT
 * Converted model files (docs/model-file.md): maps the file, checks every header entry against
 * the mapping, and hands out shape-checked views. Never copies or writes tensor data.
 */
#define _POSIX_C_SOURCE 200809L
#include "modelfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest header we accept: the released 5b_lyrics file needs ~150 kB of tensor entries plus
 * the id tables (~250 kB); 64 MiB is far above any real file and bounds a hostile one. */
#define S_MAX_HEADER ((uint64_t)64 << 20)

typedef struct s_entry {
    const char *name;    /* points into the parsed header */
    cn_dtype type;
    int nd;
    int64_t ne[4];
    uint64_t begin, end; /* relative to the data start */
    int used;
} s_entry;

typedef struct s_key {
    const char *name;
    int idx;
} s_key;

struct cn_modelfile {
    char *path;
    void *map;
    size_t size;
    const uint8_t *data;  /* first byte after the header */
    uint64_t data_len;
    cJSON *header;
    cJSON *hparams, *vqvae, *tied;
    const char *kind;
    s_entry *ent;         /* header order */
    int n;
    s_key *sorted;        /* names with their index into ent, sorted by name */
};

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int s_cmp_key(const void *a, const void *b)
{
    return strcmp(((const s_key *)a)->name, ((const s_key *)b)->name);
}

static int s_find_raw(const cn_modelfile *mf, const char *name)
{
    int lo = 0, hi = mf->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(name, mf->sorted[mid].name);
        if (c == 0) return mf->sorted[mid].idx;
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return -1;
}

/* Resolves a tied alias to its target, then finds the entry; -1 if absent. */
static int s_find(const cn_modelfile *mf, const char *name)
{
    const cJSON *t = mf->tied ? cJSON_GetObjectItemCaseSensitive(mf->tied, name) : NULL;
    if (cJSON_IsString(t)) name = t->valuestring;
    return s_find_raw(mf, name);
}

static int s_map(cn_modelfile *mf, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return s_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return s_fail(err, errlen, "%s: not a regular file", path);
    }
    if (st.st_size < 8) {
        close(fd);
        return s_fail(err, errlen, "%s: %lld bytes; a model file has at least 8 (header length)",
                      path, (long long)st.st_size);
    }
    mf->size = (size_t)st.st_size;
    mf->map = mmap(NULL, mf->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (mf->map == MAP_FAILED) {
        mf->map = NULL;
        return s_fail(err, errlen, "%s: mmap failed: %s", path, strerror(errno));
    }
    return 0;
}

static int s_parse_header(cn_modelfile *mf, char *err, size_t errlen)
{
    const uint8_t *p = mf->map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | p[i];
    if (hlen > S_MAX_HEADER || hlen > mf->size - 8)
        return s_fail(err, errlen,
                      "%s: header length %llu runs past the end of the file (%zu bytes): "
                      "not a safetensors file, or truncated", mf->path,
                      (unsigned long long)hlen, mf->size);
    if ((8 + hlen) % 8 != 0)
        return s_fail(err, errlen, "%s: data starts at byte %llu, not a multiple of 8 "
                      "(not written by continuo-convert?)", mf->path,
                      (unsigned long long)(8 + hlen));
    mf->header = cJSON_ParseWithLength((const char *)p + 8, (size_t)hlen);
    if (!cJSON_IsObject(mf->header))
        return s_fail(err, errlen, "%s: header is not a JSON object (not a safetensors file)",
                      mf->path);
    mf->data = p + 8 + hlen;
    mf->data_len = mf->size - 8 - hlen;
    return 0;
}

static int s_parse_dtype(const char *s, cn_dtype *t)
{
    if (strcmp(s, "F32") == 0) *t = CN_F32;
    else if (strcmp(s, "F16") == 0) *t = CN_F16;
    else return -1;
    return 0;
}

/* Fills e from one header entry and checks it against the data size. */
static int s_parse_entry(cn_modelfile *mf, const cJSON *it, s_entry *e, char *err, size_t errlen)
{
    const char *nm = it->string;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
    e->name = nm;
    if (!cJSON_IsString(dt) || s_parse_dtype(dt->valuestring, &e->type) != 0)
        return s_fail(err, errlen, "%s: tensor %s: dtype %s; this engine reads F32 and F16",
                      mf->path, nm, cJSON_IsString(dt) ? dt->valuestring : "(missing)");
    int nd = cJSON_GetArraySize(sh);
    if (!cJSON_IsArray(sh) || nd > 4)
        return s_fail(err, errlen, "%s: tensor %s: shape has %d axes; at most 4 are supported",
                      mf->path, nm, nd);
    uint64_t count = 1;
    e->nd = nd == 0 ? 1 : nd;
    e->ne[0] = 1;
    for (int i = 0; i < nd; i++) {
        const cJSON *d = cJSON_GetArrayItem(sh, i);
        if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 9.0e15)
            return s_fail(err, errlen, "%s: tensor %s: axis %d of the shape is not a size",
                          mf->path, nm, i);
        e->ne[i] = (int64_t)d->valuedouble;
        if (e->ne[i] != 0 && count > UINT64_MAX / 8 / (uint64_t)e->ne[i])
            return s_fail(err, errlen, "%s: tensor %s: shape too large", mf->path, nm);
        count *= (uint64_t)e->ne[i];
    }
    const cJSON *b = cJSON_GetArrayItem(off, 0), *en = cJSON_GetArrayItem(off, 1);
    if (cJSON_GetArraySize(off) != 2 || !cJSON_IsNumber(b) || !cJSON_IsNumber(en) ||
        b->valuedouble < 0 || en->valuedouble < b->valuedouble)
        return s_fail(err, errlen, "%s: tensor %s: data_offsets is not [begin, end]",
                      mf->path, nm);
    e->begin = (uint64_t)b->valuedouble;
    e->end = (uint64_t)en->valuedouble;
    uint64_t es = e->type == CN_F32 ? 4 : 2;
    if (e->end - e->begin != count * es)
        return s_fail(err, errlen, "%s: tensor %s: %llu bytes in data_offsets, its shape "
                      "needs %llu", mf->path, nm, (unsigned long long)(e->end - e->begin),
                      (unsigned long long)(count * es));
    if (e->end > mf->data_len)
        return s_fail(err, errlen, "%s: tensor %s ends at data byte %llu, past the end of the "
                      "data (%llu bytes): file truncated?", mf->path, nm,
                      (unsigned long long)e->end, (unsigned long long)mf->data_len);
    if (e->begin % es != 0)
        return s_fail(err, errlen, "%s: tensor %s starts at data byte %llu, not aligned to its "
                      "%llu-byte elements", mf->path, nm, (unsigned long long)e->begin,
                      (unsigned long long)es);
    return 0;
}

static int s_cmp_begin(const void *a, const void *b)
{
    const s_entry *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Tensors must not overlap (the format stores each tensor once, back to back). */
static int s_check_overlap(cn_modelfile *mf, char *err, size_t errlen)
{
    s_entry *tmp = malloc(sizeof *tmp * (size_t)(mf->n ? mf->n : 1));
    if (!tmp) return s_fail(err, errlen, "%s: out of memory", mf->path);
    memcpy(tmp, mf->ent, sizeof *tmp * (size_t)mf->n);
    qsort(tmp, (size_t)mf->n, sizeof *tmp, s_cmp_begin);
    int rc = 0;
    for (int i = 1; i < mf->n && rc == 0; i++)
        if (tmp[i].begin < tmp[i - 1].end && tmp[i].begin != tmp[i].end)
            rc = s_fail(err, errlen, "%s: tensors %s and %s overlap in the data", mf->path,
                        tmp[i - 1].name, tmp[i].name);
    free(tmp);
    return rc;
}

static int s_parse_entries(cn_modelfile *mf, char *err, size_t errlen)
{
    int total = cJSON_GetArraySize(mf->header);
    mf->ent = calloc((size_t)(total ? total : 1), sizeof *mf->ent);
    mf->sorted = calloc((size_t)(total ? total : 1), sizeof *mf->sorted);
    if (!mf->ent || !mf->sorted) return s_fail(err, errlen, "%s: out of memory", mf->path);
    const cJSON *it;
    cJSON_ArrayForEach(it, mf->header) {
        if (strcmp(it->string, "__metadata__") == 0) continue;
        if (!cJSON_IsObject(it))
            return s_fail(err, errlen, "%s: header entry %s is not an object", mf->path,
                          it->string);
        if (s_parse_entry(mf, it, &mf->ent[mf->n], err, errlen) != 0) return -1;
        mf->sorted[mf->n] = (s_key){ it->string, mf->n };
        mf->n++;
    }
    qsort(mf->sorted, (size_t)mf->n, sizeof *mf->sorted, s_cmp_key);
    for (int i = 1; i < mf->n; i++)
        if (strcmp(mf->sorted[i].name, mf->sorted[i - 1].name) == 0)
            return s_fail(err, errlen, "%s: tensor %s appears twice", mf->path,
                          mf->sorted[i].name);
    return s_check_overlap(mf, err, errlen);
}

/* Parses metadata KEY (a JSON text) into *out; required or not. */
static int s_meta_json(cn_modelfile *mf, const char *key, int required, int want_object,
                       cJSON **out, char *err, size_t errlen)
{
    const char *text = cn_modelfile_meta(mf, key);
    if (!text) {
        if (!required) return 0;
        return s_fail(err, errlen, "%s: metadata %s missing (not converted by "
                      "continuo-convert?)", mf->path, key);
    }
    *out = cJSON_Parse(text);
    if (!*out || (want_object && !cJSON_IsObject(*out)))
        return s_fail(err, errlen, "%s: metadata %s is not a JSON object", mf->path, key);
    return 0;
}

static int s_check_tied(cn_modelfile *mf, char *err, size_t errlen)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, mf->tied) {
        if (!cJSON_IsString(t) || s_find_raw(mf, t->valuestring) < 0)
            return s_fail(err, errlen, "%s: tied name %s points to %s, which is not stored",
                          mf->path, t->string, cJSON_IsString(t) ? t->valuestring : "?");
        if (s_find_raw(mf, t->string) >= 0)
            return s_fail(err, errlen, "%s: %s is both stored and tied to %s", mf->path,
                          t->string, t->valuestring);
    }
    return 0;
}

static int s_parse_meta(cn_modelfile *mf, char *err, size_t errlen)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(mf->header, "__metadata__");
    if (!cJSON_IsObject(md))
        return s_fail(err, errlen, "%s: no __metadata__ (a safetensors file, but not one "
                      "written by continuo-convert)", mf->path);
    const char *fmt = cn_modelfile_meta(mf, "continuo.format");
    if (!fmt || strcmp(fmt, "1") != 0)
        return s_fail(err, errlen, "%s: continuo.format is %s; this engine reads format 1",
                      mf->path, fmt ? fmt : "missing");
    mf->kind = cn_modelfile_meta(mf, "continuo.kind");
    if (!mf->kind || (strcmp(mf->kind, "vqvae") != 0 && strcmp(mf->kind, "prior") != 0))
        return s_fail(err, errlen, "%s: continuo.kind is %s; expected vqvae or prior",
                      mf->path, mf->kind ? mf->kind : "missing");
    int prior = strcmp(mf->kind, "prior") == 0;
    if (s_meta_json(mf, "continuo.hparams", 1, 1, &mf->hparams, err, errlen) != 0 ||
        s_meta_json(mf, "continuo.vqvae", prior, 1, &mf->vqvae, err, errlen) != 0 ||
        s_meta_json(mf, "continuo.tied", 0, 1, &mf->tied, err, errlen) != 0)
        return -1;
    return s_check_tied(mf, err, errlen);
}

int cn_modelfile_open(cn_modelfile **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    cn_modelfile *mf = calloc(1, sizeof *mf);
    if (!mf || !(mf->path = strdup(path))) {
        free(mf);
        return s_fail(err, errlen, "%s: out of memory", path);
    }
    if (s_map(mf, path, err, errlen) != 0 || s_parse_header(mf, err, errlen) != 0 ||
        s_parse_entries(mf, err, errlen) != 0 || s_parse_meta(mf, err, errlen) != 0) {
        cn_modelfile_close(&mf);
        return -1;
    }
    *out = mf;
    return 0;
}

void cn_modelfile_close(cn_modelfile **mfp)
{
    cn_modelfile *mf = mfp ? *mfp : NULL;
    if (!mf) return;
    if (mf->map) munmap(mf->map, mf->size);
    cJSON_Delete(mf->header);
    cJSON_Delete(mf->hparams);
    cJSON_Delete(mf->vqvae);
    cJSON_Delete(mf->tied);
    free(mf->ent);
    free(mf->sorted);
    free(mf->path);
    free(mf);
    *mfp = NULL;
}

const char *cn_modelfile_kind(const cn_modelfile *mf) { return mf->kind; }
const cJSON *cn_modelfile_hparams(const cn_modelfile *mf) { return mf->hparams; }
const cJSON *cn_modelfile_vqvae(const cn_modelfile *mf) { return mf->vqvae; }

const char *cn_modelfile_meta(const cn_modelfile *mf, const char *key)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(mf->header, "__metadata__");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(md, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int cn_modelfile_has(const cn_modelfile *mf, const char *name)
{
    return s_find(mf, name) >= 0;
}

static void s_shape_str(char *buf, size_t len, int nd, const int64_t *ne)
{
    size_t k = (size_t)snprintf(buf, len, "(");
    for (int i = 0; i < nd && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, i ? ", %lld" : "%lld", (long long)ne[i]);
    if (k < len) snprintf(buf + k, len - k, ")");
}

static const char *s_dtype_name(int t)
{
    return t == CN_F32 ? "F32" : t == CN_F16 ? "F16" : "?";
}

int cn_modelfile_tensor(cn_modelfile *mf, const char *name, int nd, const int64_t *ne,
                        int want, cn_tensor *out, char *err, size_t errlen)
{
    int i = s_find(mf, name);
    if (i < 0) return s_fail(err, errlen, "%s: not in %s", name, mf->path);
    s_entry *e = &mf->ent[i];
    int same = e->nd == nd;
    for (int k = 0; same && k < nd; k++) same = e->ne[k] == ne[k];
    if (!same) {
        char have[128], need[128];
        s_shape_str(have, sizeof have, e->nd, e->ne);
        s_shape_str(need, sizeof need, nd, ne);
        return s_fail(err, errlen, "%s: shape %s in file, the hyper-parameters need %s",
                      name, have, need);
    }
    if (want >= 0 && (int)e->type != want)
        return s_fail(err, errlen, "%s: dtype %s in file, the model needs %s", name,
                      s_dtype_name(e->type), s_dtype_name(want));
    *out = cn_tensor_make((void *)(mf->data + e->begin), e->type, e->nd, e->ne);
    e->used = 1;
    return 0;
}

int cn_modelfile_check_all_used(const cn_modelfile *mf, char *err, size_t errlen)
{
    for (int i = 0; i < mf->n; i++)
        if (!mf->ent[i].used)
            return s_fail(err, errlen, "%s: tensor %s is not used by the model built from "
                          "its hyper-parameters (strict load)", mf->path, mf->ent[i].name);
    return 0;
}
