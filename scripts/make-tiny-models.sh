#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Converts the golden set's tiny random models (tests/golden) into a model folder the helper
# and the plugin can load: vqvae, prior_5b (top), upsampler_level_1, upsampler_level_0.
# They have the released structure at toy sizes and random weights: they make noise, fast.
# Usage: make-tiny-models.sh BUILD_DIR OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?build dir}
out=${2:?output dir}
mkdir -p "$out"
golden="$here/tests/golden"
convert="$build/continuo-convert"
"$convert" "$golden/vqvae/checkpoint.pth.tar" --out "$out/vqvae.safetensors" 2>/dev/null
for m in prior_5b upsampler_level_1 upsampler_level_0; do
  "$convert" "$golden/$m/checkpoint.pth.tar" --out "$out/$m.safetensors" \
    --vqvae-hps "$golden/vqvae/checkpoint.pth.tar" 2>/dev/null
done
echo "tiny models in $out: vqvae, prior_5b (top level), upsampler_level_1, upsampler_level_0"
