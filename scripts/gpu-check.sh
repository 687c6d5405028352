#!/bin/bash
# SPDX-License-Identifier: MIT
# Every GPU check and benchmark, from the pack scripts/gpu-pack.sh made, run in the repository
# root on a machine with an NVIDIA GPU (the golden set comes from tests/golden): the CUDA op
# tests, the golden cases through CUDA, the cached sampler layer by layer and as the persistent
# step, the persistent step on every kernel path, the engine end to end on CUDA, then the
# benchmark with and without the persistent step.
# Logs go to OUT (default /tmp/gpu-check); a summary line per check is printed.
# usage: scripts/gpu-check.sh PACK.tar.xz [quick|sweep]
#   quick: N = 1, 3 and 16 (16: the tensor-core path), 16 steps, 2 models
#   sweep: no tests; the persistent step's bench rows (5b at depth 24, an upsampler at full
#          depth, N = 1, 3, 8, 16) under each L2 prefetch budget of PREFETCH_KB (default
#          "0 64 128 512"), against the layer-by-layer rows
set -u
pack=$1
out=${OUT:-/tmp/gpu-check}
g=$(mktemp -d)
mkdir -p "$out"
tar -C "$g" -xJf "$pack" || exit 1
export LD_LIBRARY_PATH=$g/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export CN_SOURCE_DIR=$PWD CN_BINARY_DIR=$g/bin
nvidia-smi --query-gpu=name,memory.total,clocks.max.mem --format=csv,noheader | tee "$out/gpu.txt"
run() {   # run NAME COMMAND...: the command's output to OUT/NAME.log, its last line shown
  local name=$1; shift
  local t0=$SECONDS
  "$@" > "$out/$name.log" 2>&1
  echo "$name: exit $?, $((SECONDS - t0)) s: $(grep -v '^$' "$out/$name.log" | tail -1)"
}
if [ "${2:-}" = sweep ]; then
  sw=(--backend cuda --layouts tests/golden/released_layouts --vq-seconds 0
      --n 1,3,8,16 --steps 16)
  names=()
  for m in "prior_5b --depth 24" "upsampler_level_1"; do
    names+=("sweep_layers_${m%% *}")
    # shellcheck disable=SC2086
    run "sweep_layers_${m%% *}" "$g/bin/continuo-bench" "${sw[@]}" --model $m
    for kb in ${PREFETCH_KB:-0 64 128 512}; do
      names+=("sweep_${m%% *}_pf$kb")
      # shellcheck disable=SC2086
      run "sweep_${m%% *}_pf$kb" env CN_CUDA_PERSISTENT=1 CN_CUDA_PERSISTENT_PREFETCH_KB=$kb \
        "$g/bin/continuo-bench" "${sw[@]}" --model $m
    done
  done
  for n in "${names[@]}"; do
    echo "== $n"
    grep -E "^ +(1|3|8|16) +[0-9]+ |layer by layer" "$out/$n.log"
  done
  rm -rf "$g"
  exit 0
fi
run test_cuda_ops "$g/bin/test_cuda_ops"
run golden_cuda "$g/bin/continuo-golden" --backend cuda --convert "$g/bin/continuo-convert" tests/golden
run prior_cache_cuda env CN_TEST_BACKEND=cuda "$g/bin/test_prior_cache"
run prior_cache_cuda_fused env CN_TEST_BACKEND=cuda CN_CUDA_PERSISTENT=1 "$g/bin/test_prior_cache"
run tf_step_cuda "$g/bin/test_tf_step_cuda"
run engine_cuda env CN_TEST_BACKEND=cuda "$g/bin/test_engine"
run engine_cuda_fused env CN_TEST_BACKEND=cuda CN_CUDA_PERSISTENT=1 "$g/bin/test_engine"
bench=(--backend cuda --layouts tests/golden/released_layouts)
[ "${2:-}" = quick ] && bench+=(--model prior_5b --model upsampler_level_1 --n 1,3,16 --steps 16)
run bench "$g/bin/continuo-bench" "${bench[@]}"
run bench_fused env CN_CUDA_PERSISTENT=1 "$g/bin/continuo-bench" "${bench[@]}"
grep -h -E "N = |song|x floor" "$out/bench.log" "$out/bench_fused.log" | head -60
rm -rf "$g"
