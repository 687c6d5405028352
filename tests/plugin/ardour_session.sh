#!/bin/sh
# SPDX-License-Identifier: MIT
# continuo.lv2 in Ardour 7 (headless, ardour7-lua, "None (Dummy)" backend): a session with the
# plugin on a track, a test preset (endpoint "test:" loopback, artist, genre, clips folder), a
# capture and Generate, saved, closed and reopened in a fresh Ardour: controls, properties,
# composition id and clips must come back. Ardour runs ardour_session.lua; this script checks
# the files. usage: ardour_session.sh BUILD_DIR   (exit 77: ardour7-lua not installed)
set -u
build=$(cd "$1" && pwd)   # lilv refuses (and Ardour crashes on) a relative LV2_PATH
here=$(cd "$(dirname "$0")" && pwd)
ardour=${CN_ARDOUR_LUA:-ardour7-lua}
command -v "$ardour" >/dev/null || { echo "skip: $ardour not installed (Debian package ardour)"; exit 77; }
bundle=$build/lv2/continuo.lv2
[ -f "$bundle/continuo.so" ] || { echo "FAIL no plugin bundle at $bundle"; exit 1; }
work=$(mktemp -d /tmp/continuo-ardour.XXXXXX)
trap '[ -n "${CN_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
pass=0; fail=0
check() { if [ "$2" = 0 ]; then echo "ok   $1"; pass=$((pass+1)); else echo "FAIL $1"; fail=$((fail+1)); fi; }

# The test preset, as a user preset bundle next to the plugin (LV2_PATH).
mkdir -p "$work/presets/continuo-test.lv2" "$work/clips" "$work/config"
cat > "$work/presets/continuo-test.lv2/manifest.ttl" <<TTL
@prefix lv2: <http://lv2plug.in/ns/lv2core#> .
@prefix pset: <http://lv2plug.in/ns/ext/presets#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<http://continuo.dev/lv2/continuo#preset-ardour-test> a pset:Preset ;
	lv2:appliesTo <http://continuo.dev/lv2/continuo> ;
	rdfs:seeAlso <test.ttl> .
TTL
cat > "$work/presets/continuo-test.lv2/test.ttl" <<TTL
@prefix atom: <http://lv2plug.in/ns/ext/atom#> .
@prefix cn: <http://continuo.dev/lv2/continuo#> .
@prefix lv2: <http://lv2plug.in/ns/lv2core#> .
@prefix pset: <http://lv2plug.in/ns/ext/presets#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix state: <http://lv2plug.in/ns/ext/state#> .
cn:preset-ardour-test a pset:Preset ;
	lv2:appliesTo <http://continuo.dev/lv2/continuo> ;
	rdfs:label "Ardour test loopback" ;
	lv2:port [ lv2:symbol "n" ; pset:value 2.0 ] , [ lv2:symbol "seconds" ; pset:value 2.0 ] ;
	state:state [
		cn:endpoint "test:100" ;
		cn:artist "ardour-artist" ;
		cn:genre "ardour genre" ;
		cn:clipsDir "$work/clips"^^atom:Path
	] .
TTL

export LV2_PATH="$build/lv2:$work/presets" XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/config"
export CN_ARDOUR_SESSION="$work/session" CN_ARDOUR_PRESET="Ardour test loopback"

# run_phase NAME: Ardour once more when it dies before the end (seen once in ~25 runs).
run_phase() {
  for try in 1 2; do
    [ "$1" = create ] && rm -rf "$work/session" "$work/clips"/*
    CN_ARDOUR_PHASE=$1 timeout 120 "$ardour" "$here/ardour_session.lua" > "$work/$1.log" 2>&1
    rc=$?
    grep -q "^phase $1 done" "$work/$1.log" && break
    echo "note: ardour7-lua phase $1 ended early (exit $rc, try $try):"
    grep -v "^ok \|^FAIL " "$work/$1.log" | tail -6 | sed 's/^/    ardour: /'
  done
  grep -E "^(ok  |FAIL)" "$work/$1.log"
  pass=$((pass + $(grep -c "^ok  " "$work/$1.log"))); fail=$((fail + $(grep -c "^FAIL" "$work/$1.log")))
  grep -q "^phase $1 done" "$work/$1.log"; check "ardour7-lua phase $1 ran to the end" $?
}

# state_of: prints KEY=VALUE for the plugin's saved state that the session file points to.
state_of() {
  python3 - "$work/session" <<'PY'
import os, re, sys
sess = sys.argv[1]
xml = open(os.path.join(sess, "continuo.ardour")).read()
proc = re.search(r'<Processor id="(\d+)"[^>]*unique-id="http://continuo.dev/lv2/continuo"', xml)
sdir = re.search(r'<lv2 [^>]*state-dir="([^"]+)"', xml[proc.start():])
base = os.path.join(sess, "plugins", proc.group(1), sdir.group(1))
ttl = open(os.path.join(base, "state.ttl")).read()
print("dir=" + sdir.group(1))
for key, val in re.findall(r'<http://continuo.dev/lv2/continuo#([\w-]+)>\s+("""[^"]*"""|"[^"]*"(?:\^\^\S+)?|<[^>]*>)', ttl):
    v = val.strip('"').split('"')[0] if not val.startswith('<') else val[1:-1]
    if val.startswith('<') and v:
        v = os.path.realpath(os.path.join(base, v))
    print("%s=%s" % (key, v.replace("\n", "|")))
PY
}
val() { printf '%s\n' "$1" | sed -n "s/^$2=//p"; }
wav_info() {  # "channels rate seconds peak" of a 24-bit (or 16-bit) PCM WAV, or "not a WAV"
  python3 -c "import sys,wave
try:
  w=wave.open(sys.argv[1]); b=w.readframes(w.getnframes()); k=w.getsampwidth()
  x=[int.from_bytes(b[i:i+k],'little',signed=True) for i in range(0,len(b),k)]
  print(w.getnchannels(), w.getframerate(), round(w.getnframes()/w.getframerate(),3),
        round(max(map(abs,x+[0]))/2**(8*k-1),3))
except Exception as e: print('not a WAV:', e)" "$1"
}

echo "== Ardour: create the session, Generate, save"
run_phase create
[ -f "$work/session/continuo.ardour" ] || { echo "$pass passed, $((fail+1)) failed (no session file)"; exit 1; }
s1=$(state_of 2>&1)
echo "saved state: $(printf '%s' "$s1" | tr '\n' ' ')"
[ "$(val "$s1" endpoint)" = "test:100" ] && [ "$(val "$s1" artist)" = "ardour-artist" ] &&
  [ "$(val "$s1" genre)" = "ardour genre" ]
check "saved state holds the preset's endpoint, artist and genre" $?
comp=$(val "$s1" composition)
[ -n "$comp" ]; check "saved state holds a composition id ($comp)" $?
[ "$(val "$s1" clipsDir)" = "$(realpath "$work/clips")" ]
check "saved clips folder resolves to the preset's folder ($(val "$s1" clipsDir))" $?
c0=$(val "$s1" clip-0-0); c1=$(val "$s1" clip-0-1)
case "$c0$c1" in "$work/session/"*"$work/session/"*) in_sess=0 ;; *) in_sess=1 ;; esac
check "both candidate clips are files inside the session folder (made with makePath)" $in_sess
for c in "$c0" "$c1"; do   # the loopback's candidates: 0.25-peak sines
  i=$(wav_info "$c")
  check "clip $(basename "$c"): 2 s WAV at the session rate, 0.25 peak (channels rate s peak: $i)" \
    "$(echo "$i" | grep -qE '^1 48000 2\.0 0\.2[45]' && echo 0 || echo 1)"
done
n_ext=$(ls "$work/clips" | grep -c '\.wav$')
[ "$n_ext" = 2 ]; check "the clips folder received the 2 candidates too ($n_ext)" $?
rm -f "$work/clips"/*.wav   # the session must not need them

echo "== Ardour again: reopen the session, check, select candidate 2, save"
run_phase reopen
s2=$(state_of 2>&1)
echo "saved state: $(printf '%s' "$s2" | tr '\n' ' ')"
[ "$(val "$s2" dir)" != "$(val "$s1" dir)" ]
check "the reopened plugin wrote a new state ($(val "$s1" dir) -> $(val "$s2" dir))" $?
for k in endpoint artist genre composition tree clipsDir; do
  [ -n "$(val "$s1" $k)" ] && [ "$(val "$s2" $k)" = "$(val "$s1" $k)" ]; check "restored $k came back unchanged ($(val "$s2" $k))" $?
done
[ "$(val "$s2" selected)" = 1 ]; check "selected candidate saved as 2 (index $(val "$s2" selected))" $?
c0=$(val "$s2" clip-0-0); c1=$(val "$s2" clip-0-1)
[ -f "$c0" ] && [ -f "$c1" ]; check "the re-saved state still names both clip files ($(basename "$c0") $(basename "$c1"))" $?

[ $fail = 0 ] || { echo "--- ardour output (last lines):"; tail -15 "$work/reopen.log" 2>/dev/null | sed 's/^/    /'; }
echo "$pass passed, $fail failed"
[ $fail = 0 ]
