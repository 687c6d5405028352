#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole loop in a real host: jalv under JACK's dummy driver, driven through its stdin.
# A WAV is played through the track and captured; Generate; candidate 2 selected and
# continued; Upsample to level 1; clips must be written and the candidate heard in place in
# the recorded output. Helper: the real continuo-helper when CN_JALV_HELPER names its command
# line (e.g. "BUILD/continuo-helper --models DIR"), or with `helper` as second argument (the
# golden tiny models converted here and served by BUILD's continuo-helper on the CPU), else
# the plugin's "test:" loopback.
# usage: jalv_loop.sh BUILD_DIR [helper SOURCE_DIR]  (exit 77: jackd/jalv/helper missing)
set -u
build=$1
mode=${2:-loopback}
for p in jackd jalv jack_lsp; do
  command -v $p >/dev/null || { echo "skip: $p not installed"; exit 77; }
done
work=$(mktemp -d /tmp/continuo-jalv.XXXXXX)
export LV2_PATH=$build/lv2
. "$(dirname "$0")/jackd_dummy.sh"
pids=""
cleanup() { for p in $pids; do kill $p 2>/dev/null; done; sleep 0.3; jackd_stop; [ -n "${CN_KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
fail=0; pass=0
check() { if [ "$2" = 0 ]; then echo "ok   $1"; pass=$((pass+1)); else echo "FAIL $1"; fail=$((fail+1)); fi; }

endpoint="test:300"
prompt_s=2; seconds=4; artist=unknown; genre=unknown
if [ "$mode" = helper ] && [ -z "${CN_JALV_HELPER:-}" ]; then
  src=$3
  [ -x "$build/helper/continuo-helper" ] && [ -x "$build/continuo-convert" ] ||
    { echo "skip: continuo-helper or continuo-convert not built"; exit 77; }
  for m in vqvae prior_5b upsampler_level_1 upsampler_level_0; do
    extra=""
    [ $m != vqvae ] && extra="--vqvae-hps $src/tests/golden/vqvae/checkpoint.pth.tar"
    "$build/continuo-convert" "$src/tests/golden/$m/checkpoint.pth.tar" \
      --out "$work/$m.safetensors" $extra > "$work/convert.log" 2>&1 ||
      { echo "FAIL converting $m: $(tail -1 $work/convert.log)"; exit 1; }
  done
  CN_JALV_HELPER="$build/helper/continuo-helper --models $work --model-set 5b --log-level warn"
fi
if [ -n "${CN_JALV_HELPER:-}" ]; then
  prompt_s=0.2; seconds=0.2; artist=0; genre=0   # the tiny models take at most 0.21 s
  endpoint="ipc://$work/helper.sock"
  $CN_JALV_HELPER --endpoint "$endpoint" --store "$work/store" > "$work/helper.log" 2>&1 &
  pids="$pids $!"
  for i in $(seq 100); do [ -S "$work/helper.sock" ] && break; sleep 0.1; done
fi

jackd_start "cnjalv_$mode" "$work/jackd.log"

mkdir -p "$work/state" "$work/clips"
cat > "$work/state/state.ttl" <<TTL
@prefix atom: <http://lv2plug.in/ns/ext/atom#> .
@prefix lv2: <http://lv2plug.in/ns/lv2core#> .
@prefix pset: <http://lv2plug.in/ns/ext/presets#> .
@prefix state: <http://lv2plug.in/ns/ext/state#> .
<> a pset:Preset ;
	lv2:appliesTo <http://continuo.dev/lv2/continuo> ;
	state:state [
		<http://continuo.dev/lv2/continuo#endpoint> "$endpoint" ;
		<http://continuo.dev/lv2/continuo#artist> "$artist" ;
		<http://continuo.dev/lv2/continuo#genre> "$genre" ;
		<http://continuo.dev/lv2/continuo#clipsDir> "$work/clips"^^atom:Path
	] .
TTL
# The prompt: a 440 Hz tone at 0.5.
python3 - "$work/prompt.wav" $prompt_s <<'PY'
import sys, wave, struct, math
n = int(float(sys.argv[2]) * 48000)
w = wave.open(sys.argv[1], 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(48000)
w.writeframes(b''.join(struct.pack('<h', int(16000*math.sin(2*math.pi*440*i/48000))) for i in range(n)))
PY

mkfifo "$work/cmd"
jalv -p -n continuo -l "$work/state" http://continuo.dev/lv2/continuo < "$work/cmd" > "$work/jalv.log" 2>&1 &
pids="$pids $!"
exec 3> "$work/cmd"
for i in $(seq 100); do jack_lsp 2>/dev/null | grep -q "continuo:in_l" && break; sleep 0.1; done
jack_lsp | grep -q continuo:in_l; check "jalv runs continuo.lv2 on JACK's dummy driver" $?

say() { echo "$1" >&3; sleep 0.2; }
wavs() { ls "$work/clips" 2>/dev/null | grep -c "$1" ; }
wait_wavs() {   # pattern count seconds
  for i in $(seq $(($3 * 10))); do [ "$(wavs "$1")" -ge "$2" ] && return 0; sleep 0.1; done; return 1; }

say "set seconds $seconds"
say "set song_seconds 10"
say "set capture 1"
$build/tests/jack_playrec continuo "$work/prompt.wav" - 0 > "$work/play1.log" 2>&1
check "prompt played through the track and captured ($(cat $work/play1.log))" $?
say "set capture 0"
say "set generate 1"
say "set generate 0"
wait_wavs ".wav" 3 ${CN_JALV_WAIT:-60}; check "Generate: 3 candidate clips written ($(wavs .wav))" $?

$build/tests/jack_playrec continuo "$work/prompt.wav" "$work/out.wav" $(python3 -c "print($prompt_s + 1.5)") > "$work/rec.log" 2>&1
check "recorded the track with the candidate in place ($(cat $work/rec.log))" $?
python3 - "$work/out.wav" "${CN_JALV_HELPER:+real}" $prompt_s <<'PY'
import sys, wave, struct
w = wave.open(sys.argv[1]); n = w.getnframes(); r = w.getframerate()
x = struct.unpack('<%dh' % n, w.readframes(n))
def zc(a):  return 0 if len(a) < 2 else sum(1 for i in range(1, len(a)) if (a[i-1] < 0) != (a[i] < 0)) / 2 / (len(a) / r)
def peak(a): return max([abs(v) for v in a] + [0]) / 32768
e = float(sys.argv[3])
pre, post = x[int(0.1*r):int((e-0.05)*r)], x[int((e+0.02)*r):int((e+0.19)*r)]
print("before the region end: %.1f Hz peak %.3f; after: %.1f Hz peak %.4f" % (zc(pre), peak(pre), zc(post), peak(post)))
ok = peak(post) > 1e-4 if sys.argv[2] == 'real' else (peak(post) > 0.2 and abs(zc(post) - 220) < 12)
sys.exit(0 if ok else 1)
PY
check "candidate 1 heard in place after the region end" $?

say "set candidate 2"
say "set continue 1"
say "set continue 0"
wait_wavs ".wav" 6 ${CN_JALV_WAIT:-60}; check "Continue with candidate 2: 3 more clips ($(wavs .wav))" $?
say "set upsample 1"
wait_wavs "level1" 1 ${CN_JALV_WAIT:-120}; check "Upsample to level 1: clip written ($(wavs level1))" $?
ls -l "$work/clips" | sed 's/^/    /'
grep -E "ready|status|error" "$work/jalv.log" | tail -5 | sed 's/^/    jalv: /'
[ -n "${CN_JALV_HELPER:-}" ] && tail -5 "$work/helper.log" | sed "s/^/    helper: /"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
