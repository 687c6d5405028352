# SPDX-License-Identifier: MIT
# Sourced by the JACK tests: start and stop a private jackd on the dummy driver.
# jackd's shared registry holds 8 servers and only frees a dead server's slot when a server
# of the same name starts, so each test uses a fixed name and stops its server with TERM,
# waiting for it to unregister. ctest runs the JACK tests alone (RUN_SERIAL): on a loaded
# machine the dummy driver's xruns drop audio and the in-place checks would measure noise.

# jackd_start NAME LOGFILE [PERIOD]: exports JACK_DEFAULT_SERVER, sets jackd_pid; exits 1 with the
# server's own words when it is not up within 20 s.
jackd_start() {
  export JACK_DEFAULT_SERVER=$1
  # A server of this name left by an interrupted run would answer in place of ours.
  if pkill -TERM -f "^jackd -n $1 -d dummy" 2>/dev/null; then sleep 1; fi
  jackd -n "$1" -d dummy -r 48000 -p "${3:-256}" > "$2" 2>&1 &
  jackd_pid=$!
  for i in $(seq 200); do
    jack_lsp >/dev/null 2>&1 && return 0
    kill -0 $jackd_pid 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL jackd -n $1 -d dummy did not start within 20 s; it said:"
  sed 's/^/    jackd: /' "$2" | tail -8
  exit 1
}

# jackd_stop: TERM, then wait up to 3 s for it to leave the registry.
jackd_stop() {
  [ -n "${jackd_pid:-}" ] || return 0
  kill $jackd_pid 2>/dev/null
  for i in $(seq 30); do kill -0 $jackd_pid 2>/dev/null || return 0; sleep 0.1; done
  kill -9 $jackd_pid 2>/dev/null
}

# jack_take PLAYREC IN OUT|- SECONDS: jack_playrec (as client "continuo") plays IN through the
# track and records OUT. A recording is taken again, up to 4 takes, while the machine drops
# audio (xruns): without realtime scheduling a loaded machine's gaps would be measured instead
# of the plugin. Prints jack_playrec's line (and each retake on stderr).
jack_take() {
  for take in 1 2 3 4; do
    jt_out=$("$1" continuo "$2" "$3" "$4" 2>&1) || { echo "$jt_out"; return 1; }
    [ "$3" = - ] && break
    echo "$jt_out" | grep -qE "xruns 0([^0-9]|$)" && break
    [ $take -lt 4 ] && echo "take $take dropped audio ($jt_out); recording again" >&2
  done
  echo "$jt_out"
}

# jack_check_heard WHAT STATUS TAKE_LOG: `check` for an audio measure of a recorded take; when
# it failed and even the last take dropped audio, the measure says nothing about the plugin:
# reported as inconclusive (neither passed nor failed), with the take's xruns.
jack_check_heard() {
  if [ "$2" != 0 ] && ! grep -qE "xruns 0([^0-9]|$)" "$3"; then
    echo "SKIP $1: inconclusive, every take dropped audio ($(tail -n 1 "$3"))"
    return 0
  fi
  check "$1" "$2"
}
