#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End to end with the real engine: the golden tiny models (tests/golden) converted with
# continuo-convert, served by continuo-helper on the CPU backend, driven by the `continuo` CLI
# through generate, continue, rerun, back to an earlier node, upsample, tree and export, plus
# refusals. Usage: e2e_cli.sh BUILD_DIR SOURCE_DIR (CN_E2E_BACKEND=cuda for the GPU backend).
# Prints one line per check.
set -u
build=$1 src=$2
helper=$build/helper/continuo-helper cli=$build/helper/continuo convert=$build/continuo-convert
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cn-e2e-XXXXXX")
pass=0 fail=0
check() {  # check NAME CONDITION-STATUS DETAIL
  if [ "$2" -eq 0 ]; then echo "ok   $1: $3"; pass=$((pass + 1));
  else echo "FAIL $1: $3"; fail=$((fail + 1)); fi
}
finish() {
  [ -n "${hpid:-}" ] && kill "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ] && rm -rf "$tmp"
  [ "$fail" -eq 0 ]
  exit $?
}
for m in vqvae prior_5b upsampler_level_1 upsampler_level_0; do
  extra=()
  [ "$m" != vqvae ] && extra=(--vqvae-hps "$src/tests/golden/vqvae/checkpoint.pth.tar")
  if ! "$convert" "$src/tests/golden/$m/checkpoint.pth.tar" --out "$tmp/$m.safetensors" \
       "${extra[@]}" >"$tmp/convert.log" 2>&1; then
    check "convert $m" 1 "$(tail -1 "$tmp/convert.log")"; finish
  fi
done
ep="ipc://$tmp/h.sock"
C=("$cli" --helper "$ep" --quiet)
"$helper" --models "$tmp" --model-set 5b --store "$tmp/store" --endpoint "$ep" \
  --backend "${CN_E2E_BACKEND:-cpu}" \
  --log-level warn 2>"$tmp/helper.log" &
hpid=$!
for _ in $(seq 50); do [ -S "$tmp/h.sock" ] && break; sleep 0.1; done
python3 - "$tmp/prompt.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(2); w.setsampwidth(2); w.setframerate(48000)
w.writeframes(b"".join(struct.pack("<hh", int(8000 * math.sin(i / 20)), 0) for i in range(4800)))
w.close()
PY

out=$("${C[@]}" generate "$tmp/prompt.wav" --artist 0 --genre 0 --seconds 0.2 --total 1 -n 3 \
      --seed 5 --out "$tmp/out" 2>&1); rc=$?
n=$(ls "$tmp/out"/*.wav 2>/dev/null | wc -l)
check "generate: 3 candidates written" $([ $rc -eq 0 ] && [ "$n" -eq 3 ]; echo $?) \
  "exit $rc, $n files; $(echo "$out" | tail -1)"
root=c1.0
out=$("${C[@]}" continue $root --choice 1 --seconds 0.2 2>&1); rc=$?
check "continue candidate 1" $([ $rc -eq 0 ] && echo "$out" | grep -q "child of c1.2"; echo $?) \
  "exit $rc; $(echo "$out" | tail -1)"
out=$("${C[@]}" rerun $root 2>&1); rc=$?
check "rerun the root" $([ $rc -eq 0 ] && echo "$out" | grep -q "child of c1.0"; echo $?) \
  "exit $rc; $(echo "$out" | tail -1)"
out=$("${C[@]}" continue c1.1 --choice -1 --seconds 0.3 -n 2 2>&1); rc=$?
check "back to an earlier node" $([ $rc -eq 0 ] && echo "$out" | grep -q "child of c1.1"; echo $?) \
  "exit $rc; $(echo "$out" | tail -1)"
out=$("${C[@]}" upsample c1.5 --level 0 2>&1); rc=$?
check "upsample to level 0" $([ $rc -eq 0 ]; echo $?) "exit $rc; $(echo "$out" | tail -1)"
out=$("${C[@]}" tree c1 2>&1); rc=$?
check "tree shows 12 nodes, c1.5 complete at L0" \
  $([ $rc -eq 0 ] && [ "$(echo "$out" | grep -c ' codes ')" -eq 12 ] &&
    echo "$out" | grep "c1.5 " | grep -q "L0"; echo $?) "exit $rc; $(echo "$out" | grep 'c1.5 ')"
"${C[@]}" export c1.5 --level 0 --out "$tmp/c1.5.flac" --rate 48000 >/dev/null 2>&1; rc1=$?
"${C[@]}" export c1.5 --level 0 --out "$tmp/c1.5.wav" --rate 22050 >/dev/null 2>&1; rc2=$?
info=$(python3 -c "import wave,sys; w=wave.open(sys.argv[1]); print(w.getframerate(), w.getnframes())" \
       "$tmp/c1.5.wav" 2>&1)
check "export FLAC at 48 kHz and WAV at 22.05 kHz" \
  $([ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ -s "$tmp/c1.5.flac" ] && [ "${info%% *}" = 22050 ]; echo $?) \
  "exit $rc1/$rc2; wav rate and frames: $info"
out=$("${C[@]}" generate "$tmp/prompt.wav" --artist 999 --genre 0 --seconds 0.2 --total 1 2>&1)
rc=$?
check "unknown artist: exit 1 with the helper's message" \
  $([ $rc -eq 1 ] && echo "$out" | grep -q "artist"; echo $?) "exit $rc; $out"
out=$("${C[@]}" generate "$tmp/prompt.wav" --artist 0 --genre 0 --seconds 0.2 --total 30 2>&1)
rc=$?
check "song too long: exit 1 naming the range" \
  $([ $rc -eq 1 ] && echo "$out" | grep -q "song is 30.00 s"; echo $?) "exit $rc; $out"
out=$("${C[@]}" upsample c9.9 --level 0 2>&1); rc=$?
check "unknown node: exit 1" $([ $rc -eq 1 ] && echo "$out" | grep -q "c9.9"; echo $?) "$out"
out=$("$cli" --helper "ipc://$tmp/nobody.sock" tree 2>&1); rc=$?
check "no helper: exit 2" $([ $rc -eq 2 ]; echo $?) "$out"
kill -0 "$hpid" 2>/dev/null
check "the helper is still up after the refusals" $? "pid $hpid"
# Previews decode inside the engine's progress callback: the candidates must not change.
"$helper" --models "$tmp" --model-set 5b --store "$tmp/store2" --endpoint "ipc://$tmp/p.sock" \
  --backend "${CN_E2E_BACKEND:-cpu}" \
  --preview-s 0.0001 --log-level warn 2>>"$tmp/helper.log" &
ppid=$!
for _ in $(seq 50); do [ -S "$tmp/p.sock" ] && break; sleep 0.1; done
"$cli" --helper "ipc://$tmp/p.sock" --quiet generate "$tmp/prompt.wav" --artist 0 --genre 0 \
  --seconds 0.2 --total 1 -n 3 --seed 5 --out "$tmp/out2" >/dev/null 2>&1; rc=$?
kill "$ppid"; wait "$ppid" 2>/dev/null
cmp -s "$tmp/out/c1.2.wav" "$tmp/out2/c1.2.wav"
check "previews on: the same candidates for the same seed" $? "exit $rc; c1.2.wav compared"
finish
