#!/bin/sh
# SPDX-License-Identifier: MIT
# Benchmark (prints figures, never pass/fail): xruns under JACK while continuo.lv2 runs in jalv
# and its helper is healthy, slow, hung, dead or unreachable. It never judges the figures.
#
# For each JACK period (CN_BENCH_PERIODS, default "256 64") a private jackd on the dummy driver
# (jackd_dummy.sh, server name cnbench_xruns) and, per condition, a fresh jalv with the plugin:
#   machine      no plugin: bench_jack_probe alone (the machine's own xruns, for comparison)
#   healthy      the real continuo-helper serving the golden tiny models on the CPU
#   slow         the same helper, SIGSTOPped 0.8 s of every 1.2 s during the window
#   hung         the same helper, SIGSTOPped for the whole window
#   dead         the same helper, SIGKILLed once it has spent 30 ms of CPU on the first Generate
#   unreachable  an ipc endpoint nobody listens on
# A 0.2 s prompt is captured first (jack_playrec); then, for CN_BENCH_SECONDS (20), the probe
# plays a tone with the transport rolling while Generate, Continue (candidate 2), Upsample,
# Run again and Back are pressed through jalv's stdin and `monitors` is polled every 0.5 s.
# One line per condition: the probe's xruns and cycles in the window, jalv's xruns over its
# life, jalv's process callback (libcn_bench_cycle_shim.so) worst wall time, worst thread CPU
# time and mean wall time, the DSP load,
# non-finite output samples, the status codes seen and the last error the plugin logged.
# usage: bench_xruns.sh BUILD_DIR SOURCE_DIR   (exit 77: jackd/jalv/helper missing)
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
trap '' PIPE   # a dead jalv must not kill the script through its stdin fifo
secs=${CN_BENCH_SECONDS:-20}
periods=${CN_BENCH_PERIODS:-"256 64"}
conds=${CN_BENCH_CONDITIONS:-"machine healthy slow hung dead unreachable"}
for p in jackd jalv jack_lsp python3; do
  command -v $p >/dev/null || { echo "skip: $p not installed"; exit 77; }
done
for f in helper/continuo-helper continuo-convert tests/jack_playrec tests/bench_jack_probe \
         tests/libcn_bench_cycle_shim.so lv2/continuo.lv2/continuo.so; do
  [ -e "$build/$f" ] || { echo "skip: $build/$f not built"; exit 77; }
done
work=$(mktemp -d /tmp/continuo-xruns.XXXXXX)
export LV2_PATH=$build/lv2
. "$(dirname "$0")/jackd_dummy.sh"
. "$(dirname "$0")/jalv_drive.sh"   # jd_state
helper_pid=""; jalv_pid=""; bg_pid=""
s_stop_all() {   # jalv first (EOF on its stdin: it quits and flushes its output), then the rest
  exec 3>&-
  [ -n "$jalv_pid" ] && for i in $(seq 30); do kill -0 $jalv_pid 2>/dev/null || break; sleep 0.1; done
  [ -n "$jalv_pid" ] && kill $jalv_pid 2>/dev/null
  [ -n "$bg_pid" ] && kill $bg_pid 2>/dev/null
  [ -n "$helper_pid" ] && { kill -CONT $helper_pid 2>/dev/null; kill $helper_pid 2>/dev/null; }
  sleep 0.3
  bg_pid=""; helper_pid=""; jalv_pid=""
}
cleanup() { s_stop_all; jackd_stop; [ -n "${CN_KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

# The golden tiny models, converted as jalv_loop.sh's helper mode does.
for m in vqvae prior_5b upsampler_level_1 upsampler_level_0; do
  extra=""
  [ $m != vqvae ] && extra="--vqvae-hps $src/tests/golden/vqvae/checkpoint.pth.tar"
  "$build/continuo-convert" "$src/tests/golden/$m/checkpoint.pth.tar" \
    --out "$work/$m.safetensors" $extra > "$work/convert.log" 2>&1 ||
    { echo "FAIL converting $m: $(tail -1 $work/convert.log)"; exit 1; }
done
python3 - "$work/prompt.wav" <<'PY'
import sys, wave, struct, math
w = wave.open(sys.argv[1], 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(48000)
w.writeframes(b''.join(struct.pack('<h', int(16000*math.sin(2*math.pi*440*i/48000))) for i in range(9600)))
PY

s_helper() {   # start the real helper on $work/h.sock; sets helper_pid
  rm -f "$work/h.sock"
  "$build/helper/continuo-helper" --models "$work" --model-set 5b --log-level warn \
    --endpoint "ipc://$work/h.sock" --store "$work/store" > "$work/helper-$1.log" 2>&1 &
  helper_pid=$!
  for i in $(seq 100); do [ -S "$work/h.sock" ] && return 0; sleep 0.1; done
  echo "note: helper socket not up after 10 s"
}

s_jalv() {   # cond endpoint: jalv with the plugin, its stdin on fd 3; sets jalv_pid
  mkdir -p "$work/clips-$1"
  jd_state "$work/state-$1" "$2" 0 0 "$work/clips-$1"
  rm -f "$work/cmd"; mkfifo "$work/cmd"
  CN_BENCH_CYCLES="$work/cycles-$1" LD_PRELOAD="$build/tests/libcn_bench_cycle_shim.so" \
    jalv -n continuo -l "$work/state-$1" http://continuo.dev/lv2/continuo \
    < "$work/cmd" > "$work/jalv-$1.log" 2>&1 &
  jalv_pid=$!
  exec 3> "$work/cmd"
  for i in $(seq 100); do jack_lsp 2>/dev/null | grep -q "continuo:in_l" && return 0; sleep 0.1; done
  echo "note: jalv's ports did not appear within 10 s; jalv said: $(tail -2 "$work/jalv-$1.log")"
}

say() { echo "$1" >&3; }
press() { say "set $1 1"; sleep 0.1; say "set $1 0"; }

s_cpu_ticks() { awk '{print $14 + $15}' /proc/$helper_pid/stat 2>/dev/null || echo 0; }
s_kill_when_busy() {   # SIGKILL the helper once it has spent 30 ms of CPU on the Generate
  t0=$(s_cpu_ticks)
  for k in $(seq 150); do [ $(($(s_cpu_ticks) - t0)) -ge 3 ] && break; sleep 0.02; done
  kill -KILL $helper_pid
  echo "    (dead: helper SIGKILLed after $(($(s_cpu_ticks) - t0)) ticks of work on the Generate)" \
    > "$work/dead-note"
}

s_slow_loop() { while kill -STOP $1 2>/dev/null; do sleep 0.8; kill -CONT $1; sleep 0.4; done; }

# The window: probe in the background, presses and `monitors` polls in the foreground.
s_window() {   # cond
  "$build/tests/bench_jack_probe" continuo $secs > "$work/probe-$1.log" 2>&1 &
  probe=$!
  sleep 0.3
  step=$(python3 -c "print(max(1, int($secs * 2 / 6)))")   # half-seconds between presses
  i=0
  while kill -0 $probe 2>/dev/null; do
    case $i in
      0) press generate ;;
      $step) say "set candidate 2"; press continue ;;
      $((step * 2))) say "set upsample 1" ;;
      $((step * 3))) say "set upsample 0"; press rerun ;;
      $((step * 4))) press back ;;
      $((step * 5))) press generate ;;
    esac
    [ $i = 0 ] && [ "$1" = dead ] && s_kill_when_busy
    say monitors
    sleep 0.5
    i=$((i + 1))
  done
  wait $probe
}

s_report() {   # cond period
  python3 - "$1" "$2" "$work/probe-$1.log" "$work/cycles-$1" "$work/jalv-$1.log" \
    "$work/clips-$1" <<'PY'
import os, re, sys
cond, period, probe, cycles, jalv, clips = sys.argv[1:]
names = {0: 'idle', 1: 'capturing', 2: 'connecting', 3: 'queued', 4: 'generating',
         5: 'upsampling', 6: 'ready', 7: 'helper down', 8: 'error'}
def kv(path):   # the figures line (JACK may have written warnings before it)
    try: lines = [l for l in open(path, errors='replace') if l.startswith('cycles ')]
    except OSError: return {}
    t = lines[-1].split() if lines else []
    return {t[i]: t[i + 1] for i in range(0, len(t) - 1, 2)}
p, c = kv(probe), kv(cycles)
seen, errs = [], []
if os.path.exists(jalv):
    for line in open(jalv, errors='replace'):
        m = re.search(r'status = (\d+)', line)
        if m:
            s = names.get(int(m.group(1)), m.group(1))
            if not seen or seen[-1] != s: seen.append(s)
        if line.startswith('error: continuo:'):
            errs.append(line[len('error: continuo:'):].strip())
nclips = len(os.listdir(clips)) if os.path.isdir(clips) else 0
line = '%-11s p=%-3s xruns %s (window) %s (jalv life)  cycles %s  jalv callback: worst %s us ' \
       '(CPU %s us at %s s, %s cycles over 1 ms CPU) mean %s us of %.0f us' % (
    cond, period, p.get('xruns', '?'), c.get('xruns', '-'), p.get('cycles', '?'),
    c.get('worst_us', '-'), c.get('worst_cpu_us', '-'), c.get('worst_cpu_at_s', '-'),
    c.get('cpu_over_1ms', '-'), c.get('mean_us', '-'), int(period) / 48e-3)
line += '  dsp %s  nonfinite %s  peak %s' % (p.get('max_dsp_load', '?'), p.get('nonfinite', '?'),
                                            p.get('out_peak', '?'))
if cond != 'machine':
    line += '  clips %d\n    status: %s' % (nclips, ' -> '.join(seen) or '(none)')
    last = []
    for e in reversed(errs):
        e = re.sub(r'ipc://\S+', 'ipc://...', e)[:110]
        if e not in last: last.insert(0, e)
        if len(last) == 2: break
    line += '\n    errors logged: %d%s' % (len(errs), ''.join('\n      "%s"' % e for e in last))
print(line)
PY
}

echo "bench_xruns: jalv + continuo.lv2 on jackd -d dummy -r 48000, $secs s window per condition"
for period in $periods; do
  if JACK_DEFAULT_SERVER=cnbench_xruns jack_lsp >/dev/null 2>&1; then   # would be reused silently
    echo "FAIL a jackd named cnbench_xruns is already running (an earlier run's?); stop it first"
    exit 1
  fi
  jackd_start cnbench_xruns "$work/jackd-$period.log" $period
  for cond in $conds; do
    rm -rf "$work/store"
    case $cond in
      machine) "$build/tests/bench_jack_probe" - $secs > "$work/probe-$cond.log" 2>&1
               s_report $cond $period; continue ;;
      unreachable) endpoint="ipc://$work/nobody.sock" ;;
      *) s_helper $cond; endpoint="ipc://$work/h.sock" ;;
    esac
    s_jalv $cond "$endpoint"
    say "set seconds 0.2"; say "set song_seconds 10"; say "set n 8"; say "set capture 1"
    sleep 0.3
    "$build/tests/jack_playrec" continuo "$work/prompt.wav" - 0 > "$work/play-$cond.log" 2>&1
    say "set capture 0"
    sleep 0.5
    case $cond in
      slow) s_slow_loop $helper_pid & bg_pid=$! ;;
      hung) kill -STOP $helper_pid ;;
    esac
    s_window $cond
    say monitors
    sleep 0.5
    s_stop_all
    s_report $cond $period
    [ $cond = dead ] && cat "$work/dead-note" 2>/dev/null
  done
  jackd_stop
  jackd_pid=""
done
echo "note: one JACK xrun is reported to every client; 'window' counts the probe's, 'jalv life'"
echo "      jalv's from start to quit. The machine line is JACK with no plugin at all."
