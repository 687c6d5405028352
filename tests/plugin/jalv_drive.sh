# SPDX-License-Identifier: MIT
# Sourced (after jackd_dummy.sh) by the jalv test and by the main job (scripts/setup-and-run.sh):
# continuo.lv2 in jalv on a running private jackd, driven through jalv's stdin. It never starts
# a helper itself; the plugin does that, or the caller.

# jd_state DIR ENDPOINT ARTIST GENRE CLIPS_DIR [MODEL_SET]: writes DIR/state.ttl, the state
# jalv -l loads: the string and path properties jalv has no command for.
jd_state() {
  mkdir -p "$1"
  cat > "$1/state.ttl" <<TTL
@prefix atom: <http://lv2plug.in/ns/ext/atom#> .
@prefix lv2: <http://lv2plug.in/ns/lv2core#> .
@prefix pset: <http://lv2plug.in/ns/ext/presets#> .
@prefix state: <http://lv2plug.in/ns/ext/state#> .
<> a pset:Preset ;
	lv2:appliesTo <http://continuo.dev/lv2/continuo> ;
	state:state [
		<http://continuo.dev/lv2/continuo#endpoint> "$2" ;
		<http://continuo.dev/lv2/continuo#artist> "$3" ;
		<http://continuo.dev/lv2/continuo#genre> "$4" ;
		<http://continuo.dev/lv2/continuo#modelSet> "${6:-}" ;
		<http://continuo.dev/lv2/continuo#clipsDir> "$5"^^atom:Path
	] .
TTL
}

# jd_open WORK: runs jalv (client "continuo", state from WORK/state, plugin messages traced)
# reading commands from the fifo WORK/cmd held open on fd 3, output in WORK/jalv.log. Sets
# jd_pid and jd_log. Returns 1 when its ports are not up within 10 s.
jd_open() {
  rm -f "$1/cmd" && mkfifo "$1/cmd"
  jd_log=$1/jalv.log
  jalv -t -p -n continuo -l "$1/state" http://continuo.dev/lv2/continuo \
    < "$1/cmd" > "$1/jalv.log" 2>&1 &
  jd_pid=$!
  exec 3> "$1/cmd"
  for i in $(seq 100); do
    jack_lsp 2>/dev/null | grep -q "continuo:in_l" && return 0
    kill -0 $jd_pid 2>/dev/null || break
    sleep 0.1
  done
  return 1
}

# jd_say "set SYMBOL VALUE": one jalv command; a moment for run() to see it. jd_mark: the
# plugin's error count before it, which jd_wait compares with.
jd_say() { jd_mark=$(jd_errors); echo "$1" >&3; sleep 0.2; }

# jd_press SYMBOL: a trigger control, on then off.
jd_press() { jd_say "set $1 1"; _m=$jd_mark; jd_say "set $1 0"; jd_mark=$_m; }

# jd_count DIR PATTERN: how many files in DIR have PATTERN in their name.
jd_count() { ls "$1" 2>/dev/null | grep -c -- "$2"; }

# jd_wait DIR PATTERN COUNT SECONDS [LABEL]: waits for COUNT such files; with LABEL, prints the
# plugin's latest status every 10 s and gives up at the plugin's first error since the last
# command. Returns 1 on time-out, error, or when jalv has gone.
jd_wait() {
  for i in $(seq $(($4 * 10))); do
    [ "$(jd_count "$1" "$2")" -ge "$3" ] && return 0
    kill -0 $jd_pid 2>/dev/null || return 1
    if [ -n "${5:-}" ] && [ $((i % 10)) = 0 ]; then
      [ "$(jd_errors)" = "${jd_mark:-}" ] || return 1
      [ $((i % 100)) = 0 ] &&
        echo "   ... $5: $(($i / 10)) s, $(jd_count "$1" "$2") of $3 clips; plugin: $(jd_status)"
    fi
    sleep 0.1
  done
  return 1
}

# jd_errors: how many errors the plugin has logged so far.
jd_errors() { grep -a -c "error: continuo: " "$jd_log" 2>/dev/null || true; }

# jd_status: the plugin's latest status line (trace or error) from the jalv log.
jd_status() {
  grep -a "continuo: " "$jd_log" 2>/dev/null | tail -n 1 | sed 's/.*continuo: //'
}

# jd_play BUILD IN.wav OUT.wav|- SECONDS: plays IN through the track from frame 0 and records
# the output (jack_playrec, built with the tests; retaken while xruns drop audio); prints
# what it did.
jd_play() { jack_take "$1/tests/jack_playrec" "$2" "$3" "$4"; }

# jd_close: ends jalv (TERM: it frees the plugin, whose last instance stops a helper it
# started) and waits up to 20 s for it.
jd_close() {
  [ -n "${jd_pid:-}" ] || return 0
  exec 3>&-
  kill $jd_pid 2>/dev/null || true
  for i in $(seq 200); do kill -0 $jd_pid 2>/dev/null || break; sleep 0.1; done
  kill -9 $jd_pid 2>/dev/null || true   # (callers may run under set -e)
  wait $jd_pid 2>/dev/null || true
  jd_pid=""
}
