#!/usr/bin/env bash
# `handoff load` against h2load on the same server, same connections and
# concurrency, same run, interleaved: requests/s and the load generator's
# own CPU per call (user+sys of the generator process / calls).
#
#   deploy/ghz/compare_h2load.sh [BUILD_DIR]        (default: build)
#
# The server is tests/bench/raw's raw_server (the raw-echo baseline; no
# reflection, so `handoff load` sends the same pre-serialized EchoRequest
# with -B) on a loopback port. Shapes: h2load -c C -m M against
# handoff load --connections C -c C*M. Every run is bounded by -n.
# Environment: N (calls per run, 50000), ROUNDS (3), PORT (50771), ENGINE
# (handoff load's --engine: auto, the default, takes h2 here; grpc).
set -euo pipefail

BUILD=${1:-build}
RAW=$BUILD/tests/bench/raw/raw_server
HANDOFF=$BUILD/client/handoff
N=${N:-50000}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-50771}
ENGINE=${ENGINE:-auto}
for bin in "$RAW" "$HANDOFF"; do
  [[ -x $bin ]] || { echo "missing $bin: build raw_server and handoff" >&2; exit 1; }
done
command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client" >&2; exit 1; }

TMP=$(mktemp -d)
SERVER=
cleanup() {
  [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

# EchoRequest{payload: "hello handoff"}, bare for handoff load, and framed
# for h2load (1 byte "not compressed" + 4 bytes big-endian length).
printf '\x0a\x0dhello handoff' >"$TMP/echo.msg"
printf '\x00\x00\x00\x00\x0f\x0a\x0dhello handoff' >"$TMP/echo.bin"

"$RAW" --listen=127.0.0.1:$PORT 2>"$TMP/raw.log" &
SERVER=$!
# Ready when a call succeeds: handoff load with its own connect timeout.
"$HANDOFF" load 127.0.0.1:$PORT --insecure --call handoff.v1.Gateway.Echo \
  -B "$TMP/echo.msg" -n 1 -c 1 --connect-timeout 10s >/dev/null

cpu_us_per_call() {  # /usr/bin/time -f "%U %S" output file
  awk -v n="$N" '/^[0-9.]+ [0-9.]+$/ {printf "%.1f", ($1 + $2) / n * 1e6}' "$1"
}

run_h2load() {  # C M -> "rps cpu_us"
  /usr/bin/time -f "%U %S" -o "$TMP/time" \
    h2load -n "$N" -c "$1" -m "$2" -d "$TMP/echo.bin" \
      -H 'content-type: application/grpc' -H 'te: trailers' \
      "http://127.0.0.1:$PORT/handoff.v1.Gateway/Echo" >"$TMP/h2load.out"
  grep -q "$N succeeded" "$TMP/h2load.out" || { cat "$TMP/h2load.out" >&2; exit 1; }
  echo "$(awk '/^finished in/ {print $4}' "$TMP/h2load.out") $(cpu_us_per_call "$TMP/time")"
}

run_handoff() {  # C M -> "rps cpu_us"
  /usr/bin/time -f "%U %S" -o "$TMP/time" \
    "$HANDOFF" load 127.0.0.1:$PORT --insecure --call handoff.v1.Gateway.Echo \
      -B "$TMP/echo.msg" -n "$N" --connections "$1" -c $(($1 * $2)) --engine "$ENGINE" \
      -O json >"$TMP/load.json"
  /usr/bin/python3 - "$TMP/load.json" "$N" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["statusCodeDistribution"] == {"OK": int(sys.argv[2])}, r["statusCodeDistribution"]
print(f'{r["rps"]:.0f}', end=" ")
PY
  cpu_us_per_call "$TMP/time"
  echo
}

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

printf '%-24s %-6s %12s %14s\n' shape round "h2load rps" "handoff rps" >&2
for shape in "16 16" "50 1"; do
  read -r C M <<<"$shape"
  : >"$TMP/h2.rps"; : >"$TMP/ho.rps"; : >"$TMP/h2.cpu"; : >"$TMP/ho.cpu"
  for round in $(seq "$ROUNDS"); do
    # Assigned first: set -e does not see a failure inside a here-string's
    # substitution, and a run that failed would be read as zeros.
    h2_out=$(run_h2load "$C" "$M")
    ho_out=$(run_handoff "$C" "$M")
    read -r h2_rps h2_cpu <<<"$h2_out"
    read -r ho_rps ho_cpu <<<"$ho_out"
    echo "$h2_rps" >>"$TMP/h2.rps"; echo "$ho_rps" >>"$TMP/ho.rps"
    echo "$h2_cpu" >>"$TMP/h2.cpu"; echo "$ho_cpu" >>"$TMP/ho.cpu"
    printf '%-24s %-6s %12.0f %14.0f   (client CPU/call: h2load %s us, handoff %s us)\n' \
      "-c $C -m $M" "$round" "$h2_rps" "$ho_rps" "$h2_cpu" "$ho_cpu"
  done
  h2=$(median <"$TMP/h2.rps"); ho=$(median <"$TMP/ho.rps")
  printf '%-24s %-6s %12.0f %14.0f   ratio %.2f; median client CPU/call: h2load %s us, handoff %s us\n' \
    "-c $C -m $M" median "$h2" "$ho" "$(echo "$ho / $h2" | bc -l)" \
    "$(median <"$TMP/h2.cpu")" "$(median <"$TMP/ho.cpu")"
done
