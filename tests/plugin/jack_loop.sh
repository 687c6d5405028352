#!/bin/sh
# SPDX-License-Identifier: MIT
# continuo-jack under JACK's dummy driver, driven through its stdin: a played WAV captured,
# Generate (test: loopback helper), clips written, candidate heard in place, xruns counted.
# usage: jack_loop.sh BUILD_DIR   (exit 77: jackd not installed)
set -u
build=$1
command -v jackd >/dev/null || { echo "skip: jackd not installed"; exit 77; }
work=$(mktemp -d /tmp/continuo-jack.XXXXXX)
. "$(dirname "$0")/jackd_dummy.sh"
pids=""
cleanup() { for p in $pids; do kill $p 2>/dev/null; done; sleep 0.3; jackd_stop; rm -rf "$work"; }
trap cleanup EXIT
fail=0; pass=0
check() { if [ "$2" = 0 ]; then echo "ok   $1"; pass=$((pass+1)); else echo "FAIL $1"; fail=$((fail+1)); fi; }
jackd_start cnjack "$work/jackd.log"
python3 - "$work/prompt.wav" <<'PY'
import sys, wave, struct, math
w = wave.open(sys.argv[1], 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(48000)
w.writeframes(b''.join(struct.pack('<h', int(16000*math.sin(2*math.pi*440*i/48000))) for i in range(96000)))
PY
mkfifo "$work/cmd"
$build/plugin/jack/continuo-jack --endpoint test:200 --session "$work/session" \
  --clips "$work/clips" < "$work/cmd" > "$work/cj.log" 2>&1 &
pids="$pids $!"
exec 3> "$work/cmd"
for i in $(seq 100); do jack_lsp 2>/dev/null | grep -q "continuo:in_l" && break; sleep 0.1; done
jack_lsp | grep -q continuo:in_l; check "continuo-jack is a JACK client" $?
say() { echo "$1" >&3; sleep 0.3; }
say "capture on"
$build/tests/jack_playrec continuo "$work/prompt.wav" - 0 > "$work/p.log" 2>&1
check "prompt captured ($(cat $work/p.log))" $?
say "capture off"
say "generate"
for i in $(seq 300); do [ "$(ls $work/clips 2>/dev/null | grep -c wav)" -ge 3 ] && break; sleep 0.1; done
[ "$(ls $work/clips | grep -c wav)" -ge 3 ]; check "Generate: 3 clips in the clips folder" $?
jack_take $build/tests/jack_playrec "$work/prompt.wav" "$work/out.wav" 4 > "$work/r.log" 2>&1
check "recorded ($(cat $work/r.log))" $?
python3 "$(dirname "$0")/inplace_check.py" "$work/out.wav" 2.0 1.5 tone 220
jack_check_heard "candidate 1 heard in place" $? "$work/r.log"
say "status"
say "quit"
sed 's/^/    /' "$work/cj.log" | tail -8
echo "$pass passed, $fail failed"
[ $fail = 0 ]
