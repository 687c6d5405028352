#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's main command: installs dependencies, builds, and runs the co-composition loop in
# a real LV2 host: jalv on JACK's dummy driver with continuo.lv2, the bundled prompt played
# through the track, the local CPU helper started BY THE PLUGIN, 3 candidates, one continued,
# upsampled to level 0, clips in build/demo/clips. Models: the golden set's tiny random ones.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
bash scripts/install-deps.sh
build=${CONTINUO_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
ninja -C "$build" -j "$(nproc)"

start=$(date +%s)
demo="$top/$build/demo"
clips="$demo/clips"
step() { echo; echo "== [$(( $(date +%s) - start )) s] $*"; }
die() {
  echo >&2
  echo "setup-and-run: FAILED: $*" >&2
  grep -a "error: continuo: " "$demo/jalv.log" 2>/dev/null | tail -3 | sed 's/^/  plugin: /' >&2
  tail -3 "$demo/run/continuo-helper.log" 2>/dev/null | sed 's/^/  helper: /' >&2
  echo "  logs: $demo/jalv.log, $demo/run/continuo-helper.log, $demo/jackd.log" >&2
  exit 1
}
for p in jackd jalv jack_lsp python3; do
  command -v $p >/dev/null || die "$p is not installed (scripts/install-deps.sh installs it)"
done
for f in lv2/continuo.lv2/continuo.so helper/continuo-helper tests/jack_playrec continuo-convert; do
  [ -e "$build/$f" ] || die "$build/$f was not built (see the ninja output above)"
done

# A private runtime and data folder: the plugin's local default endpoint
# (ipc://$XDG_RUNTIME_DIR/continuo-helper.sock) is free, so the plugin starts its own helper.
rm -rf "$demo" && mkdir -p "$clips" "$demo/run"
chmod 700 "$demo/run"
export XDG_RUNTIME_DIR="$demo/run" XDG_DATA_HOME="$demo/data" CONTINUO_MODELS="$demo/models"
export LV2_PATH="$top/$build/lv2"
unset CONTINUO_HELPER   # the plugin finds $build/helper/continuo-helper next to its bundle
. tests/plugin/jackd_dummy.sh
. tests/plugin/jalv_drive.sh
trap 'jd_close; jackd_stop || true' EXIT

step "converting the golden set's tiny random models into $CONTINUO_MODELS"
bash scripts/make-tiny-models.sh "$build" "$CONTINUO_MODELS" > "$demo/convert.log" 2>&1 ||
  die "converting the tiny models: $(tail -1 "$demo/convert.log")"
python3 scripts/make-prompt.py "$demo/prompt.wav" 0.2 || die "writing the prompt"

step "starting jackd (dummy driver, 48 kHz) and jalv with continuo.lv2 (helper endpoint: the local default)"
jackd_start continuo_demo "$demo/jackd.log"
jd_state "$demo/state" "" 0 0 "$clips" 5b
jd_open "$demo" || die "jalv did not start continuo.lv2 (is $LV2_PATH/continuo.lv2 there?)"
jd_say "set n 3"
jd_say "set seconds 0.5"
jd_say "set song_seconds 1.5"

step "playing the bundled prompt (0.2 s of stereo chords at 48 kHz) through the track, Capture armed"
jd_say "set capture 1"
jd_play "$build" "$demo/prompt.wav" - 0 | sed 's/^/   jack_playrec: /' || die "playing the prompt"
jd_say "set capture 0"

step "Generate: nobody answers at ipc://$XDG_RUNTIME_DIR/continuo-helper.sock, so the plugin starts continuo-helper on the CPU; 3 candidates of 0.5 s"
jd_press generate
jd_wait "$clips" .wav 3 300 generate || die "Generate: $(jd_count "$clips" .wav) of 3 candidates arrived (limit 300 s)"
grep -a -m1 "started .*continuo-helper" "$demo/jalv.log" | sed 's/.*continuo: /   plugin: /'
grep -a -m1 "answered after" "$demo/jalv.log" | sed 's/.*continuo: /   plugin: /'
gen=$(ls "$clips" | tr '\n' ' ')
echo "   3 candidates written: $gen"

step "candidate 1 plays in place right after the region: recording the track"
jd_play "$build" "$demo/prompt.wav" "$demo/track-with-candidate-1.wav" 1.0 | sed 's/^/   jack_playrec: /' ||
  die "recording the track"
python3 - "$demo/track-with-candidate-1.wav" <<'PY' || die "candidate 1 was not heard after the prompt"
import math, struct, sys, wave
w = wave.open(sys.argv[1]); r = w.getframerate(); n = w.getnframes()
x = struct.unpack('<%dh' % n, w.readframes(n))
def rms(a, b): s = x[int(a * r):int(b * r)]; return math.sqrt(sum(v * v for v in s) / len(s)) / 32768
print("   recorded: prompt (0-0.2 s) rms %.3f; candidate 1 in place (0.2-0.7 s) rms %.3f"
      % (rms(0, 0.2), rms(0.21, 0.7)))
sys.exit(0 if rms(0.21, 0.7) > 0.01 else 1)
PY

step "Continue with candidate 2: 3 continuations of 0.5 s"
jd_say "set candidate 2"
jd_press continue
jd_wait "$clips" .wav 6 300 continue || die "Continue: $(jd_count "$clips" .wav) of 6 clips arrived (limit 300 s)"
echo "   $(jd_status)"
cont=$(ls "$clips" | grep -v -F -x "$(ls "$clips" | head -n 3)" | tr '\n' ' ')

step "Upsample continuation 2 (its whole path) to level 0, full quality, 44.1 kHz"
jd_say "set upsample 2"
jd_wait "$clips" level0 1 600 upsample || die "Upsample to level 0: no clip arrived (limit 600 s)"
echo "   $(jd_status)"

step "closing jalv: the plugin's last instance stops the helper it started"
jd_close
jackd_stop || true
jackd_pid=""
left=$(ps -eo args= | grep -v grep | grep -c -- "--models $CONTINUO_MODELS" || true)
[ "$left" = 0 ] || die "$left continuo-helper process(es) still running after jalv closed"
echo "   no continuo-helper left running"

step "done in $(( $(date +%s) - start )) s"
python3 - "$clips" <<'PY'
import os, sys, wave
for f in sorted(os.listdir(sys.argv[1])):
    w = wave.open(os.path.join(sys.argv[1], f))
    print("   %-28s %.2f s at %d Hz" % (f, w.getnframes() / w.getframerate(), w.getframerate()))
PY
cat <<MSG

Clips (WAV at the host's rate, 48 kHz) are in
  $clips
  the 3 candidates: $gen
  the 3 continuations of candidate 2 (each the path after the prompt, candidate 2 + 0.5 s):
    $cont
  continuation 2 upsampled to level 0: $(ls "$clips" | grep level0)
  The track as recorded, candidate 1 in place after the prompt:
  $demo/track-with-candidate-1.wav
Model: the golden set's tiny random models (the 5b structure at toy size with random weights,
converted into $CONTINUO_MODELS), run on the CPU by continuo-helper, which the plugin
started and stopped itself. They sound like noise. For music, convert the released models
(docs/convert.md) into ~/.local/share/continuo/models and set the plugin's model set.
To open the clips in Ardour: Session > Import (Alt+I), select the WAVs in the folder above,
choose "Add files as new tracks" and Import (or drag them from a file manager onto a track).
MSG
