#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's main command: installs dependencies, builds, and runs one co-composition on the
# local default set-up (CPU helper over ipc://) with the tiny models of the golden set:
# a bundled prompt -> 3 candidates -> continue one -> upsample that path to level 0 -> export.
# The clips are left in build/demo/clips.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
bash scripts/install-deps.sh
build=${CONTINUO_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
ninja -C "$build" -j "$(nproc)"

demo="$top/$build/demo"
rm -rf "$demo" && mkdir -p "$demo/clips"
bash scripts/make-tiny-models.sh "$build" "$demo/models"
python3 scripts/make-prompt.py "$demo/prompt.wav" 0.2
endpoint="ipc://$demo/helper.sock"
"$build/helper/continuo-helper" --models "$demo/models" --model-set 5b --backend cpu \
  --store "$demo/store" --endpoint "$endpoint" --log-level warn 2>"$demo/helper.log" &
helper_pid=$!
trap 'kill $helper_pid 2>/dev/null || true' EXIT
cli=("$build/helper/continuo" --helper "$endpoint" --quiet)

echo "== generate: 3 candidates of 0.5 s after the 0.2 s prompt (song of 1.5 s)"
"${cli[@]}" generate "$demo/prompt.wav" --artist 3 --genre 1 --seconds 0.5 --total 1.5 -n 3 \
  --seed 1 --out "$demo/clips" | tee "$demo/generate.log"
first=$(awk '/^candidate 0:/ {print $3}' "$demo/generate.log")
echo "== continue: 2 candidates of 0.3 s after $first"
"${cli[@]}" continue "$first" --choice -1 --seconds 0.3 -n 2 --out "$demo/clips" | tee "$demo/continue.log"
chosen=$(awk '/^candidate 0:/ {print $3}' "$demo/continue.log")
echo "== upsample $chosen to level 0 (full quality) and export at 48 kHz"
"${cli[@]}" upsample "$chosen" --level 0 | tail -n 1
"${cli[@]}" export "$chosen" --level 0 --out "$demo/clips/$chosen-level0.wav" --rate 48000
echo "== the composition tree"
"${cli[@]}" tree
cat <<MSG

Done. Clips (WAV) are in $demo/clips:
  candidates and continuations (top level, decoded), and $chosen-level0.wav (upsampled path).
These come from the golden set's tiny random models: the structure of the released Jukebox
models at toy size with random weights, so they sound like noise. Convert the released models
(docs/convert.md) and start continuo-helper with --models DIR --model-set 5b_lyrics for music.
To use a clip in Ardour: Session > Import (Alt+I), pick the WAV, "Add files as new tracks",
or drag it from a file manager onto a track.
MSG
