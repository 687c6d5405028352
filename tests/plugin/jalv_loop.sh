#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole loop in a real host: jalv under JACK's dummy driver, driven through its stdin
# (jalv_drive.sh). A WAV is played through the track and captured; Generate; candidate 2
# selected and continued; Upsample to level 1; clips must be written and the candidate heard
# in place in the recorded output. Modes (second argument):
#   loopback   the plugin's "test:" loopback (sine tones), placement checked exactly;
#   helper     BUILD's continuo-helper on the CPU with the golden tiny models, started here at
#              the local default endpoint (private XDG_RUNTIME_DIR); the plugin's endpoint is
#              empty and it must use that helper, not start one. CN_JALV_HELPER may name
#              another helper command line ("BUILD/continuo-helper --models DIR").
#   autostart  the same models, but nobody listens: Generate makes the plugin start
#              continuo-helper itself; after jalv is closed no such process may remain; a
#              models folder the helper cannot load gives a plain status; after jalv is
#              killed (SIGKILL) the helper it started stops by itself.
# usage: jalv_loop.sh BUILD_DIR [loopback|helper|autostart SOURCE_DIR]  (77: jackd/jalv/helper
# missing)
set -u
build=$1
mode=${2:-loopback}
here=$(cd "$(dirname "$0")" && pwd)
for p in jackd jalv jack_lsp; do
  command -v $p >/dev/null || { echo "skip: $p not installed"; exit 77; }
done
work=$(mktemp -d /tmp/continuo-jalv.XXXXXX)
export LV2_PATH=$build/lv2
. "$here/jackd_dummy.sh"
. "$here/jalv_drive.sh"
pids=""
cleanup() {
  jd_close; for p in $pids; do kill $p 2>/dev/null; done; sleep 0.3; jackd_stop
  [ -n "${CN_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail=0; pass=0
check() { if [ "$2" = 0 ]; then echo "ok   $1"; pass=$((pass+1)); else echo "FAIL $1"; fail=$((fail+1)); fi; }
# Processes whose command line names this test's models folder (the helpers it caused).
helpers() { ps -eo pid=,args= | grep -v grep | grep -c -- "--models $work/models" ; }

endpoint="test:300"
prompt_s=2; seconds=4; artist=unknown; genre=unknown; model_set=""
if [ "$mode" != loopback ]; then
  # A private runtime folder: the local default endpoint and the plugin's helper log live here.
  export XDG_RUNTIME_DIR=$work/run XDG_DATA_HOME=$work/data
  mkdir -p -m 700 "$XDG_RUNTIME_DIR"
  endpoint=""; prompt_s=0.2; seconds=0.2; artist=0; genre=0; model_set=5b   # tiny: <= 0.21 s
  if [ -z "${CN_JALV_HELPER:-}" ]; then
    [ -x "$build/helper/continuo-helper" ] && [ -x "$build/continuo-convert" ] ||
      { echo "skip: continuo-helper or continuo-convert not built"; exit 77; }
    bash "$3/scripts/make-tiny-models.sh" "$build" "$work/models" > "$work/convert.log" 2>&1 ||
      { echo "FAIL converting the tiny models: $(tail -1 $work/convert.log)"; exit 1; }
  fi
fi
sock=$work/run/continuo-helper.sock
if [ "$mode" = helper ]; then
  ${CN_JALV_HELPER:-$build/helper/continuo-helper --models $work/models --model-set 5b} \
    --log-level warn --endpoint "ipc://$sock" --store "$work/store" > "$work/helper.log" 2>&1 &
  pids="$pids $!"
  for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
elif [ "$mode" = autostart ]; then
  export CONTINUO_MODELS=$work/models
  unset CONTINUO_HELPER   # found next to the bundle: BUILD/lv2/continuo.lv2 -> BUILD/helper
  check "nobody listens at the local default endpoint before Generate" $([ ! -e "$sock" ]; echo $?)
fi

jackd_start "cnjalv_$mode" "$work/jackd.log"
mkdir -p "$work/clips"
jd_state "$work/state" "$endpoint" "$artist" "$genre" "$work/clips" "$model_set"
if [ "$mode" = loopback ]; then   # a 440 Hz tone at 0.5, so the 220 Hz candidate stands out
  python3 - "$work/prompt.wav" $prompt_s <<'PY'
import sys, wave, struct, math
n = int(float(sys.argv[2]) * 48000)
w = wave.open(sys.argv[1], 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(48000)
w.writeframes(b''.join(struct.pack('<h', int(16000*math.sin(2*math.pi*440*i/48000))) for i in range(n)))
PY
else                              # the main job's bundled prompt (stereo chords)
  python3 "$here/../../scripts/make-prompt.py" "$work/prompt.wav" $prompt_s
fi
jd_open "$work"; check "jalv runs continuo.lv2 on JACK's dummy driver" $?

jd_say "set seconds $seconds"
jd_say "set song_seconds 10"
jd_say "set capture 1"
jd_play "$build" "$work/prompt.wav" - 0 > "$work/play1.log" 2>&1
check "prompt played through the track and captured ($(cat $work/play1.log))" $?
jd_say "set capture 0"
jd_press generate
if [ "$mode" = autostart ]; then
  for i in $(seq 100); do [ "$(helpers)" -ge 1 ] && break; sleep 0.1; done
  check "Generate started continuo-helper ($(helpers) process; $(grep -a -m1 'started ' "$work/jalv.log" | sed 's/.*continuo: //'))" \
    $([ "$(helpers)" = 1 ]; echo $?)
fi
jd_wait "$work/clips" .wav 3 ${CN_JALV_WAIT:-60}; check "Generate: 3 candidate clips written ($(jd_count "$work/clips" .wav))" $?
if [ "$mode" = helper ]; then
  check "the plugin used the running helper and started none ($(helpers) process, no $XDG_RUNTIME_DIR/continuo-helper.log)" \
    $([ ! -e "$XDG_RUNTIME_DIR/continuo-helper.log" ] && [ "$(helpers)" -le 1 ]; echo $?)
fi

jd_play "$build" "$work/prompt.wav" "$work/out.wav" $(python3 -c "print($prompt_s + 1.5)") > "$work/rec.log" 2>&1
check "recorded the track with the candidate in place ($(cat $work/rec.log))" $?
if [ "$mode" = loopback ]; then heard="tone 220"; else heard=any; fi
python3 "$here/inplace_check.py" "$work/out.wav" $prompt_s 0.19 $heard
jack_check_heard "candidate 1 heard in place after the region end" $? "$work/rec.log"

jd_say "set candidate 2"
jd_press continue
jd_wait "$work/clips" .wav 6 ${CN_JALV_WAIT:-60}; check "Continue with candidate 2: 3 more clips ($(jd_count "$work/clips" .wav))" $?
jd_say "set upsample 1"
jd_wait "$work/clips" level1 1 ${CN_JALV_WAIT:-120}; check "Upsample to level 1: clip written ($(jd_count "$work/clips" level1))" $?
ls -l "$work/clips" | sed 's/^/    /'
grep -a "continuo: " "$work/jalv.log" | tail -4 | sed 's/^/    jalv: /'
[ "$mode" = helper ] && tail -3 "$work/helper.log" | sed "s/^/    helper: /"

if [ "$mode" = autostart ]; then
  # jalv again: the prompt played through the track and captured, then Generate.
  reopen_and_generate() {
    jd_open "$work"
    jd_say "set capture 1"
    jd_play "$build" "$work/prompt.wav" - 0 > "$work/$1" 2>&1
    jd_say "set capture 0"
    jd_press generate
  }
  tail -3 "$XDG_RUNTIME_DIR/continuo-helper.log" | sed "s/^/    helper log: /"
  jd_close
  check "jalv closed: no continuo-helper left ($(helpers) process)" $([ "$(helpers)" = 0 ]; echo $?)
  # A models folder the helper cannot load: the status says so, and the plugin keeps running.
  mkdir -p "$work/empty"
  export CONTINUO_MODELS=$work/empty
  reopen_and_generate play2.log
  for i in $(seq 200); do grep -aq "could not start continuo-helper" "$work/jalv.log" && break; sleep 0.1; done
  msg=$(grep -a -m1 "could not start continuo-helper" "$work/jalv.log" | sed 's/.*continuo: //')
  echo "    $msg"
  check "unloadable models: status says 'could not start continuo-helper' naming $work/empty" \
    $(echo "$msg" | grep -q "models in $work/empty"; echo $?)
  check "the plugin still runs after the helper failed" $(kill -0 $jd_pid; echo $?)
  jd_close
  check "no continuo-helper left" $([ "$(helpers)" = 0 ] &&
    [ "$(ps -eo args= | grep -v grep | grep -c -- "--models $work/empty")" = 0 ]; echo $?)
  # The host killed mid-Generate, so the plugin cannot stop its helper: the helper sees its
  # standard input (a pipe only the host held) end and stops by itself.
  export CONTINUO_MODELS=$work/models
  reopen_and_generate play3.log
  for i in $(seq 100); do [ "$(helpers)" -ge 1 ] && break; sleep 0.1; done
  started=$(helpers)
  exec 3>&-; kill -9 $jd_pid; wait $jd_pid 2>/dev/null; jd_pid=""
  for i in $(seq 150); do [ "$(helpers)" = 0 ] && break; sleep 0.1; done
  why=$(grep -a -m1 "standard input" "$XDG_RUNTIME_DIR/continuo-helper.log" | sed 's/.*info: //')
  check "jalv killed (SIGKILL) after Generate started a helper ($started): no helper left 15 s later ($(helpers)); its log: $why" \
    $([ "$started" = 1 ] && [ "$(helpers)" = 0 ] && [ -n "$why" ]; echo $?)
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
