/* SPDX-License-Identifier: MIT
 * .npy reader: parses the header dict (descr, fortran_order, shape) and reads the raw data.
 * Every read is bounded by the file size; anything else is an error, never a crash.
 */
#include "npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_fail(char *err, size_t errlen, const char *path, const char *what)
{
    snprintf(err, errlen, "%s: %s", path, what);
    return -1;
}

static int s_parse_shape(cn_npy *a, const char *hdr)
{
    const char *p = strstr(hdr, "'shape'");
    if (!p) return -1;
    p = strchr(p, '(');
    if (!p) return -1;
    p++;
    a->nd = 0;
    a->n = 1;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || a->nd >= 8) return -1;
        a->shape[a->nd++] = v;
        a->n *= v;
        p = end;
    }
    return 0;
}

int cn_npy_load(cn_npy *a, const char *path, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f) return s_fail(err, errlen, path, "cannot open");
    unsigned char pre[10];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] != 1) {
        fclose(f);
        return s_fail(err, errlen, path, "not a .npy version 1.0 file");
    }
    size_t hlen = (size_t)pre[8] | ((size_t)pre[9] << 8);
    char *hdr = calloc(1, hlen + 1);
    if (!hdr || fread(hdr, 1, hlen, f) != hlen) {
        free(hdr);
        fclose(f);
        return s_fail(err, errlen, path, "header is cut short");
    }
    int ok = 1;
    if (strstr(hdr, "'<f4'")) a->dtype = 'f';
    else if (strstr(hdr, "'<i4'")) a->dtype = 'i';
    else ok = 0;
    if (ok && strstr(hdr, "'fortran_order': True")) ok = 0;
    if (ok && s_parse_shape(a, hdr) != 0) ok = 0;
    free(hdr);
    if (!ok) {
        fclose(f);
        return s_fail(err, errlen, path, "unsupported header (need '<f4' or '<i4', C order)");
    }
    a->data = malloc((size_t)a->n * 4 + 1);
    if (!a->data || fread(a->data, 4, (size_t)a->n, f) != (size_t)a->n) {
        fclose(f);
        cn_npy_free(a);
        return s_fail(err, errlen, path, "data is cut short");
    }
    fclose(f);
    return 0;
}

int cn_npy_load2(cn_npy *a, const char *dir, const char *name, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return cn_npy_load(a, path, err, errlen);
}

void cn_npy_free(cn_npy *a)
{
    free(a->data);
    a->data = NULL;
}
