/* SPDX-License-Identifier: MIT
 * A small CPU stand-in for the CUDA execution model, enough to run device code written with
 * blocks, warps and a grid barrier as plain C++ on host memory: every thread of every block is
 * a fiber; __syncthreads and warp shuffles are barriers; a spinning wait yields. It checks the
 * logic of kernels (indices, barriers, splits) on a machine without a GPU; it says nothing of
 * their speed, and it cannot see races the fibers' order hides. Test code only.
 */
#ifndef CN_CUDA_EMU_HPP
#define CN_CUDA_EMU_HPP

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <vector>

/* Threads are fibers (ucontext) run one at a time by a scheduler on the calling thread; a
 * fiber runs until it waits at a barrier or yields, so a barrier costs one switch per
 * participant and the order of events is the same on every run. */
struct emu_barrier {
    int count = 0, arrived = 0;
    std::vector<int> waiters;
};

struct emu_block {
    emu_barrier block_bar;
    std::vector<emu_barrier> warp_bar;
    std::vector<float> shfl;
    std::vector<unsigned> mma;      /* 6 fragment words per thread */
    std::vector<float> smem;
};

struct emu_fiber {
    ucontext_t ctx;
    std::vector<char> stack;
    int block, thread, done;
};

inline uint3 emu_grid_dim, emu_block_dim, emu_thread_idx, emu_block_idx;
inline emu_block *emu_cur;
inline std::vector<emu_fiber> emu_fibers;
inline std::vector<emu_block> emu_blocks;
inline std::deque<int> emu_runq;
inline ucontext_t emu_sched;
inline int emu_running;
inline std::function<void()> emu_body;
/* yields in a row with no barrier arrival or atomic in between: past the limit, only threads
 * polling a flag are left */
inline long emu_idle_yields;
#define EMU_IDLE_LIMIT 1000000L

#define threadIdx emu_thread_idx
#define blockIdx emu_block_idx
#define gridDim emu_grid_dim
#define blockDim emu_block_dim

inline void emu_switch_out() { swapcontext(&emu_fibers[(size_t)emu_running].ctx, &emu_sched); }

inline void emu_wait(emu_barrier &b)
{
    emu_idle_yields = 0;
    if (++b.arrived == b.count) {
        b.arrived = 0;
        for (int f : b.waiters) emu_runq.push_back(f);
        b.waiters.clear();
        return;
    }
    b.waiters.push_back(emu_running);
    emu_switch_out();
}

inline void emu_yield()
{
    if (++emu_idle_yields > EMU_IDLE_LIMIT) {
        fprintf(stderr, "FAIL emulated kernel spins without progress: thread %d of block %d "
                "polled %ld times in a row while nothing else moved\n",
                emu_fibers[(size_t)emu_running].thread, emu_fibers[(size_t)emu_running].block,
                EMU_IDLE_LIMIT);
        fflush(stdout);
        _exit(1);   /* not exit(): this runs on a fiber's stack, which exit's destructors free */
    }
    emu_runq.push_back(emu_running);
    emu_switch_out();
}

inline void __syncthreads() { emu_wait(emu_cur->block_bar); }

/* every lane of the warp must call it, as on the device with a full mask */
inline float __shfl_xor_sync(unsigned, float v, int o)
{
    int t = (int)threadIdx.x, w = t >> 5;
    emu_cur->shfl[(size_t)t] = v;
    emu_wait(emu_cur->warp_bar[(size_t)w]);
    float r = emu_cur->shfl[(size_t)((t & ~31) | ((t & 31) ^ o))];
    emu_wait(emu_cur->warp_bar[(size_t)w]);
    return r;
}

/* mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 over the warp's fragments, laid out as
 * the PTX ISA lays them out (lane = 4 g + t: a = A[g][t], A[g+8][t], A[g][t+4], A[g+8][t+4];
 * b = B[t][g], B[t+4][g]; d = D[g][2t], D[g][2t+1], D[g+8][2t], D[g+8][2t+1]). Operands keep
 * their tf32 bits (the low 13 are ignored, as by the tensor cores); each output's eight
 * products are summed in double onto d and rounded once (the hardware's order is its own). */
#define CN_EMU_MMA 1
inline void emu_mma_tf32(float d[4], const unsigned a[4], const unsigned b[2])
{
    int t = (int)threadIdx.x, w = t >> 5, lane = t & 31;
    unsigned *slot = &emu_cur->mma[(size_t)(t & ~31) * 6];
    for (int i = 0; i < 4; i++) slot[lane * 6 + i] = a[i];
    slot[lane * 6 + 4] = b[0], slot[lane * 6 + 5] = b[1];
    emu_wait(emu_cur->warp_bar[(size_t)w]);
    auto f = [](unsigned u) {
        u &= 0xffffe000u;
        float v;
        memcpy(&v, &u, sizeof v);
        return (double)v;
    };
    double A[16][8], B[8][8];
    for (int L = 0; L < 32; L++) {
        int g = L >> 2, q = L & 3;
        const unsigned *s = slot + L * 6;
        A[g][q] = f(s[0]), A[g + 8][q] = f(s[1]), A[g][q + 4] = f(s[2]), A[g + 8][q + 4] = f(s[3]);
        B[q][g] = f(s[4]), B[q + 4][g] = f(s[5]);
    }
    emu_wait(emu_cur->warp_bar[(size_t)w]);
    int g = lane >> 2, q = lane & 3;
    for (int e = 0; e < 4; e++) {
        int row = g + (e >> 1) * 8, col = 2 * q + (e & 1);
        double sum = d[e];
        for (int k = 0; k < 8; k++) sum += A[row][k] * B[k][col];
        d[e] = (float)sum;
    }
}

/* The xor butterfly of cuda_common.cuh's cn_warp_sum / cn_warp_max over the warp's 32
 * values, with the same additions in the same order (every lane ends with the same value),
 * in two barrier phases instead of ten. */
#define CN_EMU_WARP 1
template <typename F>
inline float emu_butterfly(float v, F op)
{
    int t = (int)threadIdx.x, w = t >> 5;
    float *slot = &emu_cur->shfl[(size_t)(t & ~31)];
    slot[t & 31] = v;
    emu_wait(emu_cur->warp_bar[(size_t)w]);
    float x[32], y[32];
    for (int l = 0; l < 32; l++) x[l] = slot[l];
    for (int o = 16; o > 0; o >>= 1) {
        for (int l = 0; l < 32; l++) y[l] = op(x[l], x[l ^ o]);
        for (int l = 0; l < 32; l++) x[l] = y[l];
    }
    emu_wait(emu_cur->warp_bar[(size_t)w]);
    return x[t & 31];
}
inline float cn_warp_sum(float v)
{
    return emu_butterfly(v, [](float a, float b) { return a + b; });
}
inline float cn_warp_max(float v)
{
    return emu_butterfly(v, [](float a, float b) { return fmaxf(a, b); });
}

inline float __ldcg(const float *p) { return *p; }
inline uint4 __ldg(const uint4 *p) { return *p; }
inline unsigned atomicAdd(unsigned *p, unsigned v)
{
    emu_idle_yields = 0;
    unsigned o = *p;
    *p = o + v;
    return o;
}
inline unsigned atomicExch(unsigned *p, unsigned v)
{
    emu_idle_yields = 0;
    unsigned o = *p;
    *p = v;
    return o;
}
inline void __threadfence() {}
inline void __nanosleep(unsigned) { emu_yield(); }
using std::max;
using std::min;

inline float *emu_smem() { return emu_cur->smem.data(); }

inline void emu_entry()
{
    emu_body();
    emu_fibers[(size_t)emu_running].done = 1;
}

/* Runs body() as grid blocks of `block` threads (a multiple of 32), each block with
 * smem_floats of zeroed shared memory (emu_smem()). Exits the process on a deadlock, or when
 * only threads polling a flag are left (a barrier that never opens). */
inline void emu_launch(int grid, int block, size_t smem_floats, const std::function<void()> &body)
{
    emu_grid_dim = make_uint3((unsigned)grid, 1, 1);
    emu_block_dim = make_uint3((unsigned)block, 1, 1);
    emu_body = body;
    emu_idle_yields = 0;
    emu_blocks.assign((size_t)grid, emu_block());
    for (auto &b : emu_blocks) {
        b.block_bar.count = block;
        b.warp_bar.assign((size_t)block / 32, emu_barrier());
        for (auto &w : b.warp_bar) w.count = 32;
        b.shfl.assign((size_t)block, 0.f);
        b.mma.assign((size_t)block * 6, 0u);
        b.smem.assign(smem_floats, 0.f);
    }
    emu_fibers.assign((size_t)grid * block, emu_fiber());
    for (int i = 0; i < grid * block; i++) {
        emu_fiber &f = emu_fibers[(size_t)i];
        f.block = i / block, f.thread = i % block, f.done = 0;
        f.stack.assign(256 * 1024, 0);
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack.data();
        f.ctx.uc_stack.ss_size = f.stack.size();
        f.ctx.uc_link = &emu_sched;
        makecontext(&f.ctx, emu_entry, 0);
        emu_runq.push_back(i);
    }
    while (!emu_runq.empty()) {
        emu_running = emu_runq.front();
        emu_runq.pop_front();
        const emu_fiber &f = emu_fibers[(size_t)emu_running];
        emu_thread_idx = make_uint3((unsigned)f.thread, 0, 0);
        emu_block_idx = make_uint3((unsigned)f.block, 0, 0);
        emu_cur = &emu_blocks[(size_t)f.block];
        swapcontext(&emu_sched, &emu_fibers[(size_t)emu_running].ctx);
    }
    for (const auto &f : emu_fibers)
        if (!f.done) {
            fprintf(stderr, "FAIL emulated kernel deadlocked: thread %d of block %d waits "
                    "forever\n", f.thread, f.block);
            exit(1);
        }
}

#endif
