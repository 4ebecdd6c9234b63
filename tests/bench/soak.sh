#!/usr/bin/env bash
# Copyright 2026 The handoff Authors.
#
# A soak: one handoffd through ROUNDS rounds of every kind of call it
# answers, each round from fresh `handoff load` connections:
#   Echo, 50,000 calls at -c 16;
#   Work that outlives its deadline (expires queued or running);
#   Work the client cancels mid-run (the calls in flight when -z ends);
#   Batch with a deadline shorter than its items;
#   Stream, ten messages a call, some of them failing;
#   bytes that do not parse.
# After each round, once handoffd reports no call in flight, it prints the
# calls handoffd has counted and the Work jobs it stopped early (both so
# far), the process's resident size, threads and open file descriptors, and
# the queue and busy-worker gauges. At the end handoffd gets SIGTERM and
# must exit 0.
#
# Fails (exit 1) if a round leaves a call in flight, a queued job or a busy
# worker, if the file descriptors after the last round are more than after
# the second, or the threads more than two more (something kept per call or
# per connection: a round opens six connections and makes 60,000 calls;
# gRPC starts some threads of its pool only when a burst needs them), or if
# handoffd does not exit 0. The resident size is reported, not judged:
# tcmalloc keeps freed memory for reuse (README, "The memory allocator"), so
# it rises over the first rounds and then levels off.
#
# Usage: tests/bench/soak.sh BUILD_DIR
# Environment: ROUNDS (10, at least 2), PORT (30291), ADMIN (19291).
set -euo pipefail

BUILD=${1:?usage: tests/bench/soak.sh BUILD_DIR}
ROUNDS=${ROUNDS:-10}
PORT=${PORT:-30291}
ADMIN=${ADMIN:-19291}
HANDOFFD=$BUILD/server/handoffd
HANDOFF=$BUILD/client/handoff

TMP=$(mktemp -d)
HPID=
cleanup() {
  local code=$?
  # A failed run keeps what handoffd said: the only trace of a crash.
  if ((code != 0)) && [[ -s $TMP/handoffd.log ]]; then
    echo "--- handoffd's output:" >&2
    tail -n 50 "$TMP/handoffd.log" >&2
  fi
  [[ -n $HPID ]] && kill -KILL "$HPID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

metric() {  # metric NAME → its value on handoffd's /metrics; empty if none
  { curl -sf "127.0.0.1:$ADMIN/metrics" || true; } | awk -v m="$1" '$1 == m {print $2}'
}
status_of() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
fds_of() { ls "/proc/$1/fd" | wc -l; }

"$HANDOFFD" --listen="127.0.0.1:$PORT" --admin_listen="127.0.0.1:$ADMIN" \
  --workers=2 >"$TMP/handoffd.log" 2>&1 &
HPID=$!
for _ in $(seq 100); do
  curl -sf "127.0.0.1:$ADMIN/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "127.0.0.1:$ADMIN/readyz" >/dev/null || { echo "handoffd did not start" >&2; exit 1; }

printf '\x0a\xff\xff\xff\xff\x0f' >"$TMP/garbage.bin"  # a length past the end
load() { "$HANDOFF" load --insecure "127.0.0.1:$PORT" -O json "$@" >/dev/null 2>&1 || true; }

echo "handoffd $("$HANDOFFD" --version | tr '\n' ' ')"
printf '%-6s %10s %13s %8s %7s %4s %9s %6s %4s\n' \
  round calls stopped_early rss_kB threads fds in_flight queued busy
base_threads= base_fds= failed=0
for round in $(seq "$ROUNDS"); do
  load --call handoff.v1.Gateway.Echo -d '{"payload":"aGk="}' -n 50000 -c 16
  load --call handoff.v1.Gateway.Work -d '{"sleepUs":20000}' -n 2000 -c 50 -t 10ms
  load --call handoff.v1.Gateway.Work -d '{"sleepUs":100000}' -c 8 -z 1s --duration-stop close
  load --call handoff.v1.Gateway.Batch -d '{"items":[{"cpuUs":100},{"sleepUs":5000},{}]}' \
    -n 5000 -c 8 -t 4ms
  load --call handoff.v1.Gateway.Stream -d '[{"payload":"YQ=="},{"sleepUs":3000},{"cpuUs":20000000}]' \
    --stream-call-count 10 -n 2000 -c 8 -t 20ms
  load --call handoff.v1.Gateway.Echo -B "$TMP/garbage.bin" -n 1000 -c 4
  if ! kill -0 "$HPID" 2>/dev/null; then
    echo "handoffd died in round $round" >&2
    exit 1
  fi
  # Calls end on handoffd's side a little after the client's: wait for them.
  for _ in $(seq 100); do
    [[ $(metric handoff_calls_in_flight) == 0 ]] && break
    sleep 0.1
  done
  calls=$({ curl -sf "127.0.0.1:$ADMIN/metrics" || true; } |
    awk '$1 ~ /^handoff_calls_total\{/ {n += $2} END {print n + 0}')
  in_flight=$(metric handoff_calls_in_flight)
  queued=$(metric handoff_queue_depth)
  busy=$(metric handoff_workers_busy)
  threads=$(status_of "$HPID" Threads)
  fds=$(fds_of "$HPID")
  printf '%-6s %10s %13s %8s %7s %4s %9s %6s %4s\n' "$round" "$calls" \
    "$(metric handoff_work_jobs_stopped_early_total)" "$(status_of "$HPID" VmRSS)" \
    "$threads" "$fds" "$in_flight" "$queued" "$busy"
  if [[ $in_flight != 0 || $queued != 0 || $busy != 0 ]]; then
    echo "round $round left work behind" >&2
    failed=1
  fi
  ((round == 2)) && base_threads=$threads base_fds=$fds
done
if [[ -n $base_threads ]] && ((threads > base_threads + 2 || fds > base_fds)); then
  echo "threads $base_threads -> $threads, fds $base_fds -> $fds since round 2" >&2
  failed=1
fi
kill -TERM "$HPID"
code=0
wait "$HPID" || code=$?
HPID=
if [[ $code != 0 ]]; then
  echo "handoffd exited $code after SIGTERM" >&2
  failed=1
fi
echo "handoffd exited $code"
exit "$failed"
