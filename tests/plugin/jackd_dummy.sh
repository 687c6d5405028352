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
