#!/usr/bin/env bash
# Copyright 2026 The handoff Authors.
#
# handoffd against the raw gRPC callback baseline (tests/bench/raw), same run,
# interleaved, driven by h2load (Debian's nghttp2-client):
#
#   1. Echo at -c 16 -m 16 and at -c 50 -m 1: requests/s, p99, and server CPU
#      per call (user+sys from /proc/<pid>/stat over a fixed number of calls),
#      ROUNDS rounds, each starting every server afresh, one at a time, in an
#      order that reverses from round to round; medians and ratios.
#      Both servers link the same malloc (cmake/Malloc.cmake); the script
#      prints which each one runs on, from its /proc/<pid>/maps.
#   2. Overload: Work(cpu_us=1000) at twice handoffd's measured capacity with
#      100 ms deadlines (grpc-timeout) for OVERLOAD_SECONDS: goodput (OK
#      replies/s) against capacity, jobs started after their deadline, and
#      the same offered load against the raw server.
#
# Usage: tests/bench/compare_echo.sh [BUILD_DIR]      (default: build)
# Environment: N (calls per Echo run, 200000), ROUNDS (3), WORKERS (2),
#              OVERLOAD_SECONDS (20), SKIP_ECHO=1, SKIP_OVERLOAD=1,
#              HANDOFFD_FLAGS (extra flags for handoffd, e.g. --queue_depth=32),
#              HOP=1 (also run "raw-hop": the raw server answering Echo from
#              one other thread, the floor of any off-gRPC-thread design),
#              GO=1 (also run "go": tests/bench/go_gateway, handoffd's design
#              written in Go on grpc-go, built here from Debian's golang-go,
#              golang-google-grpc-dev and golang-google-protobuf-dev; the
#              medians add handoffd / go, and the overload runs it too).
set -euo pipefail

BUILD=${1:-build}
HANDOFFD=$BUILD/server/handoffd
RAW=$BUILD/tests/bench/raw/raw_server
N=${N:-200000}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-2}
OVERLOAD_SECONDS=${OVERLOAD_SECONDS:-20}
# Below Linux's ephemeral range (32768-60999): a listener there can find its
# port taken by one of h2load's own client sockets from the round before.
H_PORT=${H_PORT:-30151}
H_ADMIN=${H_ADMIN:-19151}
R_PORT=${R_PORT:-30161}
P_PORT=${P_PORT:-30171}
G_PORT=${G_PORT:-30181}
for bin in "$HANDOFFD" "$RAW"; do
  [[ -x $bin ]] || { echo "missing $bin: build handoffd and raw_server" >&2; exit 1; }
done
command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client" >&2; exit 1; }

TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

if [[ -n ${GO:-} ]]; then
  command -v go >/dev/null || { echo "GO=1 needs go: apt-get install golang-go" >&2; exit 1; }
  GO_GATEWAY=$TMP/go_gateway
  # GOPATH mode: Debian installs its Go packages' sources under /usr/share/gocode.
  (cd "$(dirname "$0")/go_gateway" &&
    GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= go build -o "$GO_GATEWAY" .) || {
    echo "building tests/bench/go_gateway failed; it needs apt-get install" \
      "golang-google-grpc-dev golang-google-protobuf-dev" >&2
    exit 1
  }
fi

# gRPC frames for h2load -d: 1 byte "not compressed", 4 bytes big-endian
# length, then the message.
#   EchoRequest{payload: "hello handoff"}  = 0a 0d "hello handoff"   (15 bytes)
#   WorkRequest{cpu_us: 1000}              = 08 e8 07                 (3 bytes)
printf '\x00\x00\x00\x00\x0f\x0a\x0dhello handoff' >"$TMP/echo.bin"
printf '\x00\x00\x00\x00\x03\x08\xe8\x07' >"$TMP/work.bin"
GRPC_HEADERS=(-H 'content-type: application/grpc' -H 'te: trailers')

start_handoffd() {
  "$HANDOFFD" --listen=127.0.0.1:$H_PORT --admin_listen=127.0.0.1:$H_ADMIN \
    --workers="$WORKERS" ${HANDOFFD_FLAGS:-} "$@" 2>"$TMP/handoffd.log" &
  HPID=$!
  PIDS+=("$HPID")
  wait_port $H_PORT
}
start_raw() {
  "$RAW" --listen=127.0.0.1:$R_PORT 2>"$TMP/raw.log" &
  RPID=$!
  PIDS+=("$RPID")
  wait_port $R_PORT
}
start_hop() {
  "$RAW" --listen=127.0.0.1:$P_PORT --hop 2>"$TMP/hop.log" &
  PPID_HOP=$!
  PIDS+=("$PPID_HOP")
  wait_port $P_PORT
}
go_counts() {  # what go_gateway said on SIGTERM: OK failed refused finished-late
  sed -n 's/^go_gateway: \([0-9]*\) OK, \([0-9]*\) failed (\([0-9]*\) refused), \([0-9]*\) finished late$/\1 \2 \3 \4/p' "$TMP/go.log"
}
start_go() {
  "$GO_GATEWAY" -listen=127.0.0.1:$G_PORT -workers="$WORKERS" 2>"$TMP/go.log" &
  GPID=$!
  PIDS+=("$GPID")
  wait_port $G_PORT
}
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $1 never opened" >&2
  exit 1
}
cpu_ticks() {  # utime + stime of a process, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}
metric() {  # a handoffd metric's value (sum over matching lines)
  curl -s "http://127.0.0.1:$H_ADMIN/metrics" |
    awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {printf "%d\n", s}'
}
HZ=$(getconf CLK_TCK)

# run_echo NAME PID PORT "h2load flags" → one line: name flags rps p99_us cpu_us_per_call
run_echo() {
  local name=$1 pid=$2 port=$3 flags=$4
  local before after out rps p99 ok
  before=$(cpu_ticks "$pid")
  # shellcheck disable=SC2086
  rm -f "$TMP/lat.log"  # h2load appends
  out=$(h2load -n "$N" $flags -d "$TMP/echo.bin" "${GRPC_HEADERS[@]}" \
    --log-file="$TMP/lat.log" "http://127.0.0.1:$port/handoff.v1.Gateway/Echo")
  after=$(cpu_ticks "$pid")
  rps=$(awk '/^finished in/ {gsub(",", "", $4); print $4}' <<<"$out")
  ok=$(awk '/^requests:/ {print $8}' <<<"$out")
  [[ $ok == "$N" ]] || { echo "$name: only $ok of $N succeeded" >&2; echo "$out" >&2; }
  p99=$(awk '{print $3}' "$TMP/lat.log" | sort -n |
    awk '{a[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; print a[i]}')
  awk -v n="$name" -v f="$flags" -v r="$rps" -v p="$p99" -v b="$before" \
    -v a="$after" -v hz="$HZ" -v N="$N" \
    'BEGIN {printf "%-9s %-12s %10.0f req/s  p99 %6d us  cpu %6.2f us/call\n",
            n, f, r, p, (a - b) / hz * 1e6 / N}'
}

median() {  # of a column of numbers; the mean of the middle two for an even count
  sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

if [[ -z ${SKIP_ECHO:-} ]]; then
  echo "== Echo: handoffd (dispatcher, $WORKERS workers) vs raw gRPC callback; N=$N, $ROUNDS rounds, interleaved"
  # Every round starts each server afresh, one at a time, in an order that
  # reverses from round to round. Two processes of one binary, started side
  # by side and measured in turn, can differ by 10% for their whole lives on
  # this kind of host (where their threads and memory landed); a server
  # started once per run would carry that into every round of its ratio.
  servers=(handoffd raw)
  [[ -n ${HOP:-} ]] && servers+=(raw-hop)
  [[ -n ${GO:-} ]] && servers+=(go)
  : >"$TMP/results"
  ok_total=0
  go_ok=0 go_failed=0
  for round in $(seq "$ROUNDS"); do
    order=("${servers[@]}")
    if ((round % 2 == 0)); then
      order=()
      for ((i = ${#servers[@]} - 1; i >= 0; i--)); do order+=("${servers[i]}"); done
    fi
    for server in "${order[@]}"; do
      case $server in
        handoffd) start_handoffd; pid=$HPID; port=$H_PORT ;;
        raw) start_raw; pid=$RPID; port=$R_PORT ;;
        raw-hop) start_hop; pid=$PPID_HOP; port=$P_PORT ;;
        go) start_go; pid=$GPID; port=$G_PORT ;;
      esac
      # Which malloc the process runs on (cmake/Malloc.cmake): both servers
      # should have the same, or the ratio measures allocators.
      if ((round == 1)) && [[ $server != go ]]; then
        m=system
        grep -q libtcmalloc "/proc/$pid/maps" && m=tcmalloc
        echo "$server: malloc $m" | tee -a "$TMP/mallocs"
      fi
      # Warm-up: connections, allocator, CPU frequency.
      h2load -n 20000 -c 16 -m 16 -d "$TMP/echo.bin" "${GRPC_HEADERS[@]}" \
        "http://127.0.0.1:$port/handoff.v1.Gateway/Echo" >/dev/null
      [[ $server == handoffd ]] && ok_before=$(metric 'handoff_calls_total{method="Echo",code="OK"}')
      for flags in "-c 16 -m 16" "-c 50 -m 1"; do
        run_echo "$server" "$pid" "$port" "$flags" | tee -a "$TMP/results"
      done
      if [[ $server == handoffd ]]; then
        ok_total=$((ok_total + $(metric 'handoff_calls_total{method="Echo",code="OK"}') - ok_before))
        # Any other outcome, by code.
        curl -s "http://127.0.0.1:$H_ADMIN/metrics" |
          grep -E '^handoff_calls_total\{method="Echo"|^handoff_jobs_rejected_total' |
          grep -v -e 'code="OK"' -e ' 0$' | sed "s/^/  round $round, not OK: /" || true
      fi
      kill -TERM "$pid"
      wait "$pid" 2>/dev/null || true
      PIDS=()
      if [[ $server == go ]]; then  # its own count: h2load cannot see grpc-status
        read -r g_ok g_failed _ _ < <(go_counts)
        go_ok=$((go_ok + ${g_ok:-0})); go_failed=$((go_failed + ${g_failed:-0}))
      fi
    done
  done
  echo "handoffd Echo OK replies during the runs: $ok_total (expected $((N * ROUNDS * 2)))"
  [[ -n ${GO:-} ]] &&
    echo "go Echo OK replies, warm-up included: $go_ok (expected $(((N * 2 + 20000) * ROUNDS))), not OK: $go_failed"
  if (($(awk '{print $3}' "$TMP/mallocs" | sort -u | wc -l) > 1)); then
    echo "WARNING: the servers run on different mallocs; the ratios compare allocators too"
  fi
  echo "-- medians (ratio = handoffd / raw)"
  col_median() {  # SERVER FLAGS FIELD: the median of a column of one server's lines
    grep "^$(printf '%-9s' "$1") $2 " "$TMP/results" | awk -v f="$3" '{print $f}' | median
  }
  ratio_line() {  # FLAGS COL A-NAME A B-NAME B
    awk -v fl="$1" -v c="$2" -v an="$3" -v a="$4" -v bn="$5" -v b="$6" \
      'BEGIN {printf "%-12s %-4s %-8s %10.2f  %-4s %10.2f  ratio %.2f\n", fl, c, an, a, bn, b, a / b}'
  }
  for flags in "-c 16 -m 16" "-c 50 -m 1"; do
    for col in rps p99 cpu; do
      case $col in rps) f=6 ;; p99) f=9 ;; cpu) f=12 ;; esac
      h=$(col_median handoffd "$flags" $f)
      r=$(col_median raw "$flags" $f)
      ratio_line "$flags" $col handoffd "$h" raw "$r"
      [[ -n ${HOP:-} ]] && ratio_line "$flags" $col raw-hop "$(col_median raw-hop "$flags" $f)" raw "$r"
      if [[ -n ${GO:-} ]]; then
        g=$(col_median go "$flags" $f)
        ratio_line "$flags" $col go "$g" raw "$r"
        ratio_line "$flags" $col handoffd "$h" go "$g"
      fi
    done
  done
fi

if [[ -z ${SKIP_OVERLOAD:-} ]]; then
  echo
  echo "== Overload: Work(cpu_us=1000), $WORKERS workers, 100 ms deadlines, ${OVERLOAD_SECONDS}s"
  start_handoffd
  # Capacity: closed loop, enough concurrency to keep every worker busy (16
  # calls in flight) but not to fill the queue, no deadline pressure (the
  # default deadline is 10 s).
  ok0=$(metric 'handoff_calls_total{method="Work",code="OK"}')
  t0=$(date +%s.%N)
  h2load -D 5 -c 2 -m 8 -d "$TMP/work.bin" "${GRPC_HEADERS[@]}" \
    "http://127.0.0.1:$H_PORT/handoff.v1.Gateway/Work" >/dev/null
  t1=$(date +%s.%N)
  ok1=$(metric 'handoff_calls_total{method="Work",code="OK"}')
  CAP=$(awk -v a="$ok0" -v b="$ok1" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%d", (b - a) / (t1 - t0)}')
  echo "capacity (closed loop, handoffd): $CAP OK/s"
  CLIENTS=20
  RPS=$(( (2 * CAP + CLIENTS - 1) / CLIENTS ))
  OFFERED=$((RPS * CLIENTS))
  echo "offered: $OFFERED calls/s ($CLIENTS clients x $RPS/s, open loop)"

  # The servers' own counters start a call's deadline when they read its
  # headers; a call that waited in socket buffers first looks better to the
  # server than to its client. So goodput is also counted at the client:
  # replies that arrived within the 100 ms (h2load's log). h2load cannot see
  # grpc-status, so for handoffd that is a range: at least "in time" minus
  # every non-OK reply, at most the smaller of "in time" and the server's OK
  # count. The raw server never answers non-OK: its figure is exact.
  overload() {  # overload PORT → h2load's summary line; $TMP/ol.log
    rm -f "$TMP/ol.log"  # h2load appends
    h2load -D "$OVERLOAD_SECONDS" -c $CLIENTS -m 256 --rps=$RPS \
      -d "$TMP/work.bin" "${GRPC_HEADERS[@]}" -H 'grpc-timeout: 100m' \
      --log-file="$TMP/ol.log" \
      "http://127.0.0.1:$1/handoff.v1.Gateway/Work" | awk '/^requests:/'
  }
  in_time() { awk '$2 == 200 && $3 <= 100000 {n++} END {print n + 0}' "$TMP/ol.log"; }
  late0=$(metric handoff_jobs_started_after_deadline_total)
  ok0=$(metric 'handoff_calls_total{method="Work",code="OK"}')
  de0=$(metric 'handoff_calls_total{method="Work",code="DEADLINE_EXCEEDED"}')
  re0=$(metric 'handoff_calls_total{method="Work",code="RESOURCE_EXHAUSTED"}')
  st0=$(metric handoff_work_jobs_started_total)
  rf0=$(metric 'handoff_jobs_rejected_total{reason="queue_full"}')
  echo "handoffd: $(overload $H_PORT)"
  ok1=$(metric 'handoff_calls_total{method="Work",code="OK"}')
  de1=$(metric 'handoff_calls_total{method="Work",code="DEADLINE_EXCEEDED"}')
  re1=$(metric 'handoff_calls_total{method="Work",code="RESOURCE_EXHAUSTED"}')
  st1=$(metric handoff_work_jobs_started_total)
  rf1=$(metric 'handoff_jobs_rejected_total{reason="queue_full"}')
  late1=$(metric handoff_jobs_started_after_deadline_total)
  all1=$(metric 'handoff_calls_total{method="Work"')
  all0=$((ok0 + de0 + re0))  # Work saw no other codes before the run
  notok=$((all1 - ok1 - (all0 - ok0)))
  awk -v ok=$((ok1 - ok0)) -v s="$OVERLOAD_SECONDS" -v cap="$CAP" \
    -v de=$((de1 - de0)) -v re=$((re1 - re0)) -v st=$((st1 - st0)) \
    -v late=$((late1 - late0)) -v it="$(in_time)" -v notok="$notok" \
    -v rf=$((rf1 - rf0)) \
    'BEGIN {lo = it - notok; hi = it < ok ? it : ok
            printf "handoffd: goodput %.0f OK/s = %.1f%% of capacity (server count); client-side, OK within 100 ms: %.0f..%.0f/s = %.1f..%.1f%%\n          shed: %d RESOURCE_EXHAUSTED (%d of them: queue full), %d DEADLINE_EXCEEDED; work started %d; jobs started after their deadline: %d\n",
            ok / s, 100 * ok / s / cap, lo / s, hi / s, 100 * lo / s / cap, 100 * hi / s / cap, re, rf, de, st, late}'
  kill -TERM "$HPID"
  wait "$HPID" 2>/dev/null || true
  PIDS=()

  # overload_fresh raw|go: start that server afresh, overload it, stop it
  # (which makes it print its counts); sets IN_TIME.
  overload_fresh() {
    local pid port
    case $1 in
      raw) start_raw; pid=$RPID; port=$R_PORT ;;
      go) start_go; pid=$GPID; port=$G_PORT ;;
    esac
    printf '%-10s%s\n' "$1:" "$(overload "$port")"
    IN_TIME=$(in_time)
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    PIDS=()
  }
  overload_fresh raw
  awk -v s="$OVERLOAD_SECONDS" -v cap="$CAP" -v it="$IN_TIME" -F'[ =]' '/calls=/ {
      for (i = 1; i <= NF; i++) v[$i] = $(i + 1)
      printf "raw:      goodput %.0f OK/s = %.1f%% of capacity (server count); client-side, OK within 100 ms: %.0f/s = %.1f%%\n          replies after their deadline by the server clock (wasted work): %d of %d\n",
             v["ok_in_time"] / s, 100 * v["ok_in_time"] / s / cap, it / s, 100 * it / s / cap, v["late"], v["calls"] }' "$TMP/raw.log"

  if [[ -n ${GO:-} ]]; then
    overload_fresh go
    read -r g_ok g_failed g_refused g_late < <(go_counts)
    # A range, as for handoffd: "in time" at the client less the refusals
    # (the only failures answered before the deadline: go_gateway/main.go), up to
    # the smaller of "in time" and the server's OK count.
    awk -v ok="${g_ok:-0}" -v notok="${g_failed:-0}" -v re="${g_refused:-0}" \
      -v late="${g_late:-0}" -v it="$IN_TIME" -v s="$OVERLOAD_SECONDS" -v cap="$CAP" \
      'BEGIN {lo = it - re; if (lo < 0) lo = 0; hi = it < ok ? it : ok
              printf "go:       goodput %.0f OK/s = %.1f%% of capacity (server count); client-side, OK within 100 ms: %.0f..%.0f/s = %.1f..%.1f%%\n          not OK: %d (%d refused at once); jobs whose work ended after their deadline (wasted): %d\n",
                     ok / s, 100 * ok / s / cap, lo / s, hi / s, 100 * lo / s / cap, 100 * hi / s / cap, notok, re, late}'
  fi
fi
