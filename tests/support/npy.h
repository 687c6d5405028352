/* SPDX-License-Identifier: MIT
 * Reading NumPy .npy files (format 1.0, '<f4' and '<i4', C order) for tests and tools.
 */
#ifndef CN_NPY_H
#define CN_NPY_H

#include <stdint.h>
#include <stddef.h>

typedef struct cn_npy {
    char dtype;          /* 'f' (float32) or 'i' (int32) */
    int nd;
    int64_t shape[8];
    int64_t n;           /* element count */
    void *data;          /* malloc'd; float* or int32_t* */
} cn_npy;

/* Loads PATH; returns 0 or -1 with a message naming the file and the problem. */
int cn_npy_load(cn_npy *a, const char *path, char *err, size_t errlen);
/* Loads DIR/NAME. */
int cn_npy_load2(cn_npy *a, const char *dir, const char *name, char *err, size_t errlen);
void cn_npy_free(cn_npy *a);

#endif
