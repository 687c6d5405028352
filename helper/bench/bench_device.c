/* SPDX-License-Identifier: MIT
 * What the bench needs to know about the device: its name and peak memory bandwidth (CUDA
 * runtime attributes). Never allocates device memory or changes device settings.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CONTINUO_HAVE_CUDA
#include <cuda_runtime_api.h>

static int s_dev(void)
{
    const char *d = getenv("CN_CUDA_DEVICE");
    return d && *d ? atoi(d) : 0;
}
#endif

double cn_bench_device_peak(const char *backend, char *src, size_t srclen)
{
    snprintf(src, srclen, "unknown on this backend (give --peak-gbs)");
    if (strcmp(backend, "cuda") != 0) return 0;
#ifdef CONTINUO_HAVE_CUDA
    int khz = 0, bits = 0, dev = s_dev();
    if (cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&bits, cudaDevAttrGlobalMemoryBusWidth, dev) != cudaSuccess ||
        khz <= 0 || bits <= 0) {
        cudaGetLastError();
        snprintf(src, srclen, "the CUDA runtime does not report it (give --peak-gbs)");
        return 0;
    }
    double gbs = 2.0 * khz * 1e3 * (bits / 8.0) / 1e9;
    snprintf(src, srclen, "device attributes: memory clock %.0f MHz x %d-bit bus x 2 (DDR)",
             khz / 1e3, bits);
    return gbs;
#else
    return 0;
#endif
}

void cn_bench_device_name(const char *backend, char *name, size_t len)
{
    snprintf(name, len, "%s", backend);
#ifdef CONTINUO_HAVE_CUDA
    struct cudaDeviceProp p;
    if (strcmp(backend, "cuda") == 0 && cudaGetDeviceProperties(&p, s_dev()) == cudaSuccess)
        snprintf(name, len, "cuda device %d: %s, %.1f GiB, %d SMs", s_dev(), p.name,
                 (double)p.totalGlobalMem / (1 << 30), p.multiProcessorCount);
    else
        cudaGetLastError();
#endif
}
