#!/usr/bin/env bash
# Copyright 2026 The handoff Authors.
#
# A mixed-cost overload: handoffd with WORKERS workers, offered at once, open
# loop, for DURATION seconds,
#   short: Work(cpu_us=1000)                  at SHORT_RPS calls/s
#   long:  Work(cpu_us=1000, sleep_us=49000)  at LONG_RPS calls/s
# each call with a DEADLINE, from two `handoff load` processes. The
# defaults offer each kind a whole pool's worth of worker time (2 x 1 ms x
# 1000/s, 2 x 50 ms x 20/s on 2 workers), so twice the capacity in all.
#
# Reports, for each kind, the calls by status, and the share of the
# workers' time that went to calls that succeeded (OK calls x their cost,
# over DURATION x WORKERS): what admission is for, under a mix where one
# mean cost fits neither kind. With a second build, runs it too, after the
# first, for a comparison in the same sitting.
#
# Usage: tests/bench/mixed_overload.sh BUILD_DIR [OTHER_BUILD_DIR]
# Environment: WORKERS (2), DURATION (15, seconds), SHORT_RPS (2000), LONG_RPS (40),
#              DEADLINE (200ms), PORT (30191), ADMIN (19191).
set -euo pipefail

WORKERS=${WORKERS:-2}
DURATION=${DURATION:-15}
SHORT_RPS=${SHORT_RPS:-2000}
LONG_RPS=${LONG_RPS:-40}
DEADLINE=${DEADLINE:-200ms}
PORT=${PORT:-30191}
ADMIN=${ADMIN:-19191}

TMP=$(mktemp -d)
HPID=
cleanup() {
  [[ -n $HPID ]] && kill -KILL "$HPID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# ok_calls FILE → the OK count in a `handoff load` report
ok_calls() { awk '/\[OK\]/ {print $2; found = 1} END {if (!found) print 0}' "$1"; }

run() {
  local build=$1
  for bin in "$build/server/handoffd" "$build/client/handoff"; do
    [[ -x $bin ]] || { echo "missing $bin" >&2; exit 1; }
  done
  "$build/server/handoffd" --listen="127.0.0.1:$PORT" --admin_listen="127.0.0.1:$ADMIN" \
    --workers="$WORKERS" >"$TMP/handoffd.log" 2>&1 &
  HPID=$!
  local up=
  for _ in $(seq 100); do
    if curl -sf "http://127.0.0.1:$ADMIN/readyz" >/dev/null; then up=1; break; fi
    sleep 0.1  # polling for readiness, bounded
  done
  [[ -n $up ]] || { echo "handoffd did not become ready" >&2; exit 1; }
  local load=("$build/client/handoff" load --insecure --call handoff.v1.Gateway.Work
              --async -z "${DURATION}s" -t "$DEADLINE" "127.0.0.1:$PORT")
  "${load[@]}" -d '{"cpu_us":1000}' -r "$SHORT_RPS" -c 2000 >"$TMP/short.txt" 2>&1 &
  local short=$!
  "${load[@]}" -d '{"cpu_us":1000,"sleep_us":49000}' -r "$LONG_RPS" -c 200 \
    >"$TMP/long.txt" 2>&1 &
  local long=$!
  wait "$short" "$long"
  local late
  late=$(curl -s "http://127.0.0.1:$ADMIN/metrics" |
         awk '$1 == "handoff_jobs_started_after_deadline_total" {print $2}')
  kill -TERM "$HPID"
  wait "$HPID" 2>/dev/null || true
  HPID=
  echo "== $build: $WORKERS workers, ${DURATION}s, deadline $DEADLINE"
  for kind in short long; do
    printf '%-6s' "$kind:"
    awk '/^ +\[[A-Za-z]+\]/ {gsub(/[][]/, "", $1); printf " %s %s", $1, $2} END {print ""}' "$TMP/$kind.txt"
  done
  awk -v s="$(ok_calls "$TMP/short.txt")" -v l="$(ok_calls "$TMP/long.txt")" \
      -v secs="$DURATION" -v w="$WORKERS" -v late="${late:-?}" \
    'BEGIN {printf "worker time on calls that succeeded: %.1f%% (short %.1f s, long %.1f s of %d s); jobs started after their deadline: %s\n",
            100 * (s * 0.001 + l * 0.050) / (secs * w), s * 0.001, l * 0.050, secs * w, late}'
}

run "$1"
[[ -n ${2:-} ]] && run "$2"
exit 0
