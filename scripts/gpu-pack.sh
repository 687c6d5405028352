#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the GPU tests and benchmarks for Hopper (sm_90) in build-gpu and packs them, with the
# shared libraries they need beyond the CUDA driver and runtime, into .gpu-pack/gpu-pack.tar.xz
# (git-ignored; continuo-convert is copied by the configure step), for a GPU machine that has the CUDA runtime but not this project's
# dependencies. There: scripts/gpu-check.sh .gpu-pack/gpu-pack.tar.xz
set -e
cd "$(dirname "$0")/.."
B=${B:-build-gpu}
cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 >/dev/null
ninja -C "$B" -j"${JOBS:-2}" continuo-golden continuo-bench test_engine \
  test_cuda_ops test_prior_cache test_tf_step_cuda continuo-cuda-opbench
stage=$(mktemp -d)
mkdir -p "$stage/bin" "$stage/lib" .gpu-pack
for b in tests/continuo-golden helper/continuo-bench continuo-convert tests/test_engine \
         tests/test_cuda_ops tests/test_prior_cache tests/test_tf_step_cuda \
         kernels/cuda/continuo-cuda-opbench; do
  cp "$B/$b" "$stage/bin/"
done
strip "$stage"/bin/* 2>/dev/null || true
for b in "$stage"/bin/*; do ldd "$b" 2>/dev/null; done | awk '/=>/ {print $3}' | sort -u |
  grep -v -E 'lib(c|m|pthread|dl|rt|cuda|cudart|cublas|cublasLt|stdc\+\+|gcc_s)\.so|ld-linux' |
  while read -r l; do cp -L "$l" "$stage/lib/"; done
tar -C "$stage" -cJf .gpu-pack/gpu-pack.tar.xz bin lib
rm -rf "$stage"
ls -la .gpu-pack/gpu-pack.tar.xz
