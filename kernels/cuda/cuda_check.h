/* SPDX-License-Identifier: MIT
 * CUDA_CHECK / CUBLAS_CHECK: run a CUDA or cuBLAS statement and on failure record the statement,
 * file and line in the backend's last_error and return a status. They never exit or abort.
 */
#ifndef CN_CUDA_CHECK_H
#define CN_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>

struct cn_cuda;

/* Record a failed CUDA call; returns CN_EFATAL for sticky errors (and marks the context
 * unusable), CN_EDEVICE otherwise. */
int cn_cuda_fail(struct cn_cuda *cx, cudaError_t e, const char *stmt, const char *file, int line);
int cn_cublas_fail(struct cn_cuda *cx, cublasStatus_t s, const char *stmt, const char *file,
                   int line);

/* Inside a function of a backend op that has `cx` in scope and returns int. */
#define CUDA_CHECK(stmt)                                                                     \
    do {                                                                                     \
        cudaError_t e_ = (stmt);                                                             \
        if (e_ != cudaSuccess) return cn_cuda_fail(cx, e_, #stmt, __FILE__, __LINE__);       \
    } while (0)

#define CUBLAS_CHECK(stmt)                                                                   \
    do {                                                                                     \
        cublasStatus_t s_ = (stmt);                                                          \
        if (s_ != CUBLAS_STATUS_SUCCESS) return cn_cublas_fail(cx, s_, #stmt, __FILE__, __LINE__); \
    } while (0)

/* After a <<<>>> launch: a bad configuration shows up here, a fault at the next sync. */
#define CUDA_CHECK_LAUNCH(what)                                                              \
    do {                                                                                     \
        cudaError_t e_ = cudaGetLastError();                                                 \
        if (e_ != cudaSuccess) return cn_cuda_fail(cx, e_, "launch of " what, __FILE__, __LINE__); \
    } while (0)

#endif
