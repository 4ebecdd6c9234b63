#!/usr/bin/env bash
# Copyright 2026 The handoff Authors.
#
# bench_dispatch against the Go peer benchmark (../shared/bench/go), in the
# same sitting, interleaved ROUNDS times; prints medians and the ratio
# handoff / Go (below 1: handoff is faster). Then the host's floor under a
# round trip between two threads (BM_CrossThreadFloor: one cache line there
# and back), against Go's ping-pong and handoff's: a ping-pong ratio to Go
# cannot go below the floor's.
#
# Usage: tests/bench/compare_go.sh [BUILD_DIR] [GO_BENCH_DIR]
# Environment: ROUNDS (3); ONE_CPU=1 runs both limited to one CPU (Go then
#              has GOMAXPROCS=1, and handoff's parked threads do not spin).
# Needs: golang-go (apt-get install golang-go); bench_dispatch built.
set -euo pipefail
BUILD="${1:-build}"
GODIR="${2:-$(dirname "$0")/../../../shared/bench/go}"
ROUNDS="${ROUNDS:-3}"
BENCH="$BUILD/tests/bench/bench_dispatch"
[ -x "$BENCH" ] || { echo "build $BENCH first" >&2; exit 1; }
command -v go >/dev/null || { echo "go missing: apt-get install golang-go" >&2; exit 1; }
ON=()
[ -n "${ONE_CPU:-}" ] && ON=("$(cd "$(dirname "$0")/../unit/dispatch" && pwd)/on_one_cpu.sh")
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
cp -r "$GODIR"/. "$TMP/go"; chmod -R u+w "$TMP/go"
for r in $(seq "$ROUNDS"); do
  "${ON[@]}" "$BENCH" --benchmark_min_time=0.5 --benchmark_format=csv 2>/dev/null >>"$TMP/cc.csv"
  (cd "$TMP/go" && "${ON[@]}" env GOFLAGS=-mod=mod GOPROXY=off go test -bench . -benchtime 500ms \
     -count 1 2>/dev/null) >>"$TMP/go.txt"
done
python3 - "$TMP/cc.csv" "$TMP/go.txt" <<'PY'
import csv, re, statistics, sys
cc, go = {}, {}
for row in csv.reader(open(sys.argv[1])):
    if not row or not row[0].startswith('"BM_') and not row[0].startswith('BM_'):
        continue
    name = row[0].strip('"')
    ns = float(row[2]) if not row[7] else 1e9 / float(row[7])  # real_time or 1/items_per_second
    cc.setdefault(name, []).append(ns)
for line in open(sys.argv[2]):
    m = re.match(r'Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op', line)
    if m:
        go.setdefault(m.group(1), []).append(float(m.group(2)))
pairs = [("BM_UnbufferedPingPong/real_time", "UnbufferedPingPong"),
         ("BM_UnbufferedStream/real_time", "UnbufferedHandoffStream"),
         ("BM_Buffered1024Stream/real_time", "Buffered1024Stream"),
         ("BM_BufferedSameThread", "BufferedSameG"),
         ("BM_Select2", "Select2"),
         ("BM_ChanChanDispatch/real_time/threads:2", "ChanChanDispatch")]
print(f"{'shape':42} {'handoff ns':>11} {'Go ns':>9} {'ratio':>6}")
for c, g in pairs:
    if c in cc and g in go:
        a, b = statistics.median(cc[c]), statistics.median(go[g])
        print(f"{c:42} {a:11.1f} {b:9.1f} {a/b:6.2f}")
floor, pp = "BM_CrossThreadFloor/real_time", "BM_UnbufferedPingPong/real_time"
if floor in cc and pp in cc and "UnbufferedPingPong" in go:
    f = statistics.median(cc[floor])
    print(f"cross-thread floor {f:.1f} ns: {f / statistics.median(go['UnbufferedPingPong']):.2f}x"
          f" Go's ping-pong; handoff's ping-pong is {statistics.median(cc[pp]) / f:.2f}x the floor")
PY
