/* SPDX-License-Identifier: MIT
 * Small helpers the prior code shares: backend tensors allocated or uploaded from a model file
 * with a message on failure, released with their view cleared. Never computes anything.
 */
#ifndef CN_TENSOR_UTIL_H
#define CN_TENSOR_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "../../kernels/backend.h"
#include "modelfile.h"

/* Looks NAME up in mf with shape ne (nd axes, F32 or F16) and uploads it to be into *out.
 * Returns 0, or -1 with the loader's or the backend's message in err. */
int cn_tu_upload(cn_backend *be, cn_modelfile *mf, const char *name, int nd, const int64_t *ne,
                 cn_tensor *out, char *err, size_t errlen);
/* The same, but always stored as F32 on the backend (F16 widened on the host): for tables the
 * model copies rows of or adds with axpy, and small embeddings kept exact. */
int cn_tu_upload_f32(cn_backend *be, cn_modelfile *mf, const char *name, int nd,
                     const int64_t *ne, cn_tensor *out, char *err, size_t errlen);
/* Zero-filled backend tensor of shape ne. Returns 0 or CN_ENOMEM (no message). */
int cn_tu_alloc(cn_backend *be, cn_tensor *t, cn_dtype type, int nd, const int64_t *ne);
/* Releases t's backend memory (if any) and clears the view. */
void cn_tu_release(cn_backend *be, cn_tensor *t);
/* Host to backend copy into t (whole tensor). Returns 0 or a status with be's message. */
int cn_tu_put(cn_backend *be, cn_tensor *t, const void *host, char *err, size_t errlen);

#endif
