/* SPDX-License-Identifier: MIT
 * Backend tensor helpers for the prior code: upload from a model file, allocate, release.
 * Never computes anything and never keeps a pointer into the model file.
 */
#include "tensor_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cn_tu_upload(cn_backend *be, cn_modelfile *mf, const char *name, int nd, const int64_t *ne,
                 cn_tensor *out, char *err, size_t errlen)
{
    cn_tensor host;
    if (cn_modelfile_tensor(mf, name, nd, ne, -1, &host, err, errlen)) return -1;
    if (be->ops->upload_weight(be, out, &host)) {
        snprintf(err, errlen, "%s: upload: %s", name, be->ops->last_error(be));
        memset(out, 0, sizeof *out);
        return -1;
    }
    return 0;
}

static float s_half(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    float f = e == 0 ? ldexpf((float)m, -24)
            : e == 31 ? (m ? NAN : INFINITY)
                      : ldexpf((float)(m | 1024), e - 25);
    return (h & 0x8000) ? -f : f;
}

int cn_tu_upload_f32(cn_backend *be, cn_modelfile *mf, const char *name, int nd,
                     const int64_t *ne, cn_tensor *out, char *err, size_t errlen)
{
    cn_tensor host;
    if (cn_modelfile_tensor(mf, name, nd, ne, -1, &host, err, errlen)) return -1;
    int64_t n = cn_tensor_nelem(&host);
    float *wide = NULL;
    const void *src = host.data;
    if (host.type == CN_F16) {
        if (!(wide = malloc((size_t)(n ? n : 1) * sizeof *wide)))
            return snprintf(err, errlen, "%s: out of memory", name), -1;
        for (int64_t i = 0; i < n; i++) wide[i] = s_half(((const uint16_t *)host.data)[i]);
        src = wide;
    }
    int rc = cn_tu_alloc(be, out, CN_F32, host.nd, host.ne);
    if (rc) snprintf(err, errlen, "%s: out of backend memory", name);
    else if ((rc = cn_tu_put(be, out, src, err, errlen))) cn_tu_release(be, out);
    free(wide);
    return rc ? -1 : 0;
}

int cn_tu_alloc(cn_backend *be, cn_tensor *t, cn_dtype type, int nd, const int64_t *ne)
{
    *t = cn_tensor_make(NULL, type, nd, ne);
    size_t bytes = cn_tensor_bytes(t);
    t->data = be->ops->alloc(be, bytes ? bytes : 1);
    return t->data ? 0 : CN_ENOMEM;
}

void cn_tu_release(cn_backend *be, cn_tensor *t)
{
    if (t && t->data) be->ops->release(be, t->data);
    if (t) memset(t, 0, sizeof *t);
}

int cn_tu_put(cn_backend *be, cn_tensor *t, const void *host, char *err, size_t errlen)
{
    int rc = be->ops->upload(be, t->data, host, cn_tensor_bytes(t));
    if (rc) snprintf(err, errlen, "upload: %s", be->ops->last_error(be));
    return rc;
}
