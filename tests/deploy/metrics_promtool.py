#!/usr/bin/python3
"""handoffd's real /metrics, read by Prometheus's own checker.

A mistake in the text exposition does not fail a build or a unit test that
looks for a few lines; it fails the scrape, or is quietly misread by every
Prometheus and dashboard. So this test:

1. Starts handoffd on loopback ports of its own choosing (read from its
   start-up line) and waits until /readyz is 200.
2. Makes one call of each kind, with python3-grpcio and hand-encoded
   messages (as connection_age.py does), so that every family and each
   method's series has samples: Echo OK; Work OK; Work whose deadline is
   shorter than its cpu_us (DEADLINE_EXCEEDED); Work with cpu_us out of range
   (INVALID_ARGUMENT); a method handoffd does not serve (UNIMPLEMENTED,
   method="unknown"); Call to the built-in "reverse" handler and to an
   unknown one; Batch; Stream.
3. Scrapes /metrics once those calls are all counted (polled, with a
   deadline) and runs `promtool check metrics` on it: the text format
   parser (HELP/TYPE, label escaping, values) and promlint (help text,
   naming: _total on counters only, base units, reserved suffixes). Any
   parse error or lint fails the test with promtool's output.
4. Checks what promtool 2.42 (Debian 12) parses without complaint but a
   scrape still gets wrong: every sample under the TYPE line of its family,
   each family in one block, no series twice, and each histogram with
   ascending `le`, cumulative buckets ending in +Inf, and _sum and _count
   (_count equal to the +Inf bucket).
5. Breaks the real scrape in each of those ways in turn (and a few that
   promtool catches) and requires promtool or step 4 to reject each one, so
   that a checker that accepts everything cannot pass.

Exit status 0 when every check holds, 1 on a failure, 77 (a ctest skip)
when promtool is not installed (Debian package `prometheus`).

Usage: metrics_promtool.py --handoffd PATH --workdir DIR [--promtool PATH]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "util"))
import handoffd_launch  # noqa: E402
import script_checks  # noqa: E402

SKIP = 77
GATEWAY = "/handoff.v1.Gateway/"
# What the calls below add to handoff_calls_total, by (method, code).
EXPECTED_CALLS = {
    ("Echo", "OK"): 1,
    ("Work", "OK"): 1,
    ("Work", "DEADLINE_EXCEEDED"): 1,
    ("Work", "INVALID_ARGUMENT"): 1,
    ("unknown", "UNIMPLEMENTED"): 1,
    ("Call", "OK"): 1,
    ("Call", "UNIMPLEMENTED"): 1,
    ("Batch", "OK"): 1,
    ("Stream", "OK"): 1,
}


Failure = script_checks.Failure
log = script_checks.Log("metrics_promtool")
expect = log.expect
varint = script_checks.varint


# --- protobuf wire format, for the few messages of gateway.proto used here --

def pb_uint(field, v):
    return varint(field << 3) + varint(v) if v else b""


def pb_bytes(field, b):
    return varint(field << 3 | 2) + varint(len(b)) + b if b else b""


def work_request(cpu_us=0, sleep_us=0, payload=b""):
    return pb_uint(1, cpu_us) + pb_uint(2, sleep_us) + pb_bytes(3, payload)


# --- the calls ----------------------------------------------------------------

def code_of(call):
    """The status code a unary call ends with."""
    try:
        call()
        return grpc.StatusCode.OK
    except grpc.RpcError as e:
        return e.code()


def make_calls(port):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        def unary(method):
            return ch.unary_unary(GATEWAY + method)

        echo = pb_bytes(1, b"handoff")
        expect(unary("Echo")(echo, timeout=10) == echo,
               "Echo OK, the payload back")
        expect(code_of(lambda: unary("Work")(
                   work_request(cpu_us=100, sleep_us=1000), timeout=10))
               == grpc.StatusCode.OK, "Work of 1.1 ms OK")
        # A deadline shorter than the expected run (cpu_us): refused at
        # admission with the server's own DEADLINE_EXCEEDED, long before the
        # client's deadline could race it.
        expect(code_of(lambda: unary("Work")(
                   work_request(cpu_us=5_000_000), timeout=3))
               == grpc.StatusCode.DEADLINE_EXCEEDED,
               "Work of 5 s CPU with a 3 s deadline DEADLINE_EXCEEDED")
        expect(code_of(lambda: unary("Work")(
                   work_request(cpu_us=20_000_000), timeout=10))
               == grpc.StatusCode.INVALID_ARGUMENT,
               "Work with cpu_us over 10 s INVALID_ARGUMENT")
        expect(code_of(lambda: unary("NoSuchMethod")(b"", timeout=10))
               == grpc.StatusCode.UNIMPLEMENTED,
               "an unknown method UNIMPLEMENTED")
        call = pb_bytes(1, b"reverse") + pb_bytes(2, b"abc")
        expect(unary("Call")(call, timeout=10) == pb_bytes(1, b"cba"),
               "Call reverse(abc) == cba")
        expect(code_of(lambda: unary("Call")(
                   pb_bytes(1, b"no-such-handler"), timeout=10))
               == grpc.StatusCode.UNIMPLEMENTED,
               "Call of an unknown handler UNIMPLEMENTED")
        batch = b"".join(pb_bytes(1, work_request(cpu_us=100, payload=p))
                         for p in (b"a", b"b", b"c"))
        expect(code_of(lambda: unary("Batch")(batch, timeout=10))
               == grpc.StatusCode.OK, "Batch of 3 OK")
        replies = list(ch.stream_stream(GATEWAY + "Stream")(
            iter([work_request(cpu_us=100, payload=b"%d" % i)
                  for i in range(3)]), timeout=10))
        expect(len(replies) == 3, "Stream of 3 OK, 3 replies")


# --- the text format, read strictly enough for the invariants below ----------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})?[ \t]+(\S+)(?:[ \t]+-?\d+)?$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"\s*(?:,|$)')
_TYPE = re.compile(rf"^# TYPE ({_NAME}) (\w+)$")
# The samples a family of each type has, by suffix of the family's name.
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"),
             "summary": ("", "_sum", "_count")}


def parse_labels(text):
    labels, pos = [], 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"bad labels at {text[pos:]!r}")
        labels.append((m.group(1), m.group(2)))
        pos = m.end()
    return tuple(labels)


def invariant_problems(text):
    """What promtool 2.42 lets through: returns a list of problems."""
    problems = []
    families = {}        # name -> type
    samples = {}         # family -> how many samples it has
    closed = set()       # families whose block has ended
    current = None
    series = set()
    hist = {}            # (family, labels but le) -> buckets, _sum, _count
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or (line.startswith("#") and
                                not line.startswith("# TYPE ")):
            continue
        m = _TYPE.match(line)
        if m:
            name, typ = m.groups()
            if name in families:
                problems.append(f"line {n}: family {name} declared again")
            families[name] = typ
            samples.setdefault(name, 0)
            if current:
                closed.add(current)
            current = name
            continue
        m = _SAMPLE.match(line)
        if not m:
            problems.append(f"line {n}: not a sample: {line!r}")
            continue
        name, label_text, value = m.groups()
        try:
            labels = parse_labels(label_text or "")
            v = float(value)
        except ValueError as e:
            problems.append(f"line {n}: {e}: {line!r}")
            continue
        typ = families.get(current)
        suffix = next((s for s in _SUFFIXES.get(typ, ("",))
                       if current and name == current + s), None)
        if suffix is None:
            owner = next((f for f in families if name.startswith(f)), None)
            where = (f"after family {owner}'s block ended" if owner in closed
                     else "under no TYPE line of its family")
            problems.append(f"line {n}: {name} {where}")
            continue
        key = (name, tuple(sorted(labels)))
        if key in series:
            problems.append(f"line {n}: series {line.rsplit(' ', 1)[0]} twice")
        series.add(key)
        samples[current] += 1
        if typ == "histogram":
            le = [val for k, val in labels if k == "le"]
            rest = tuple(sorted((k, val) for k, val in labels if k != "le"))
            h = hist.setdefault((current, rest), {"buckets": []})
            if suffix == "_bucket":
                if len(le) != 1:
                    problems.append(f"line {n}: bucket without one le label")
                    continue
                h["buckets"].append((float(le[0]), v, n))
            else:
                h[suffix] = v
    for (family, rest), h in hist.items():
        labels = ",".join(f'{k}="{v}"' for k, v in rest)
        what = f"histogram {family}{{{labels}}}"
        b = h["buckets"]
        if not b or b[-1][0] != float("inf"):
            problems.append(f"{what}: no le=\"+Inf\" bucket last")
        for (le0, c0, _), (le1, c1, n1) in zip(b, b[1:]):
            if le1 <= le0:
                problems.append(f"line {n1}: {what}: le {le1} after {le0}")
            if c1 < c0:
                problems.append(f"line {n1}: {what}: bucket le={le1} {c1:g} < "
                                f"le={le0} {c0:g}: not cumulative")
        for s in ("_sum", "_count"):
            if s not in h:
                problems.append(f"{what}: no {family}{s}")
        if b and "_count" in h and h["_count"] != b[-1][1]:
            problems.append(f"{what}: _count {h['_count']:g} != +Inf bucket "
                            f"{b[-1][1]:g}")
    problems += [f"family {f} has no sample"
                 for f, n in samples.items() if not n]
    return problems


def promtool_check(promtool, text):
    """(exit code, output) of `promtool check metrics` on text."""
    p = subprocess.run([promtool, "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=60)
    return p.returncode, (p.stdout + p.stderr).strip()


def calls_counted(text):
    """handoff_calls_total, by (method, code)."""
    got = {}
    for m in re.finditer(r'^handoff_calls_total\{method="(\w+)",code="(\w+)"\} '
                         r'(\d+)$', text, re.M):
        got[(m.group(1), m.group(2))] = int(m.group(3))
    return got


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=5) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read().decode()


def scrape_when_counted(port, timeout=10):
    """The first scrape in which every call made is counted and none is in
    flight: a call's status can reach the client just before handoffd counts
    it."""
    deadline = time.monotonic() + timeout
    while True:
        status, ctype, text = scrape(port)
        got = calls_counted(text)
        if (all(got.get(k, 0) >= v for k, v in EXPECTED_CALLS.items())
                and re.search(r"^handoff_calls_in_flight 0$", text, re.M)):
            return status, ctype, text
        if time.monotonic() > deadline:
            raise Failure(f"calls not all counted within {timeout}s: {got}")
        time.sleep(0.05)


# --- breaking the real scrape, to show the checks can fail -------------------

def _sub_once(pattern, repl, text):
    out, n = re.subn(pattern, repl, text, count=1, flags=re.M)
    if n != 1:
        raise Failure(f"mutation {pattern!r} found nothing to change")
    return out


def _move_to_end(pattern, text):
    line = re.search(pattern, text, re.M)
    if not line:
        raise Failure(f"mutation {pattern!r} found nothing to move")
    return _sub_once(pattern, "", text) + line.group(0)


MUTATIONS = {
    # A bucket with more than the next one.
    "non-cumulative bucket": lambda t: _sub_once(
        r'^(handoff_call_duration_seconds_bucket\{method="Echo",le="0.0001"\}) \d+$',
        r"\1 999", t),
    "no +Inf bucket": lambda t: _sub_once(
        r'^handoff_call_duration_seconds_bucket\{method="Echo",le="\+Inf"\} \d+\n',
        "", t),
    "no _count": lambda t: _sub_once(
        r'^handoff_call_duration_seconds_count\{method="Echo"\} \d+\n', "", t),
    "_count not the +Inf bucket": lambda t: _sub_once(
        r'^(handoff_call_duration_seconds_count\{method="Echo"\}) \d+$',
        r"\1 999", t),
    "a series twice": lambda t: _sub_once(
        r"^(handoff_queue_depth \d+\n)", r"\1\1", t),
    "a family split in two blocks": lambda t: _move_to_end(
        r'^handoff_calls_total\{method="Echo",code="OK"\} \d+\n', t),
    "an unescaped quote in a label": lambda t: _sub_once(
        r'handler="reverse"', 'handler="rev"erse"', t),
    "no HELP": lambda t: _sub_once(r"^# HELP handoff_queue_depth .*\n", "", t),
    "a gauge named _total": lambda t: _sub_once(
        r"^# TYPE handoff_jobs_completed_total counter$",
        "# TYPE handoff_jobs_completed_total gauge", t),
    "an unknown TYPE": lambda t: _sub_once(
        r"^# TYPE handoff_queue_depth gauge$", "# TYPE handoff_queue_depth gauges",
        t),
}


PROCESS_SERIES = ["process_cpu_seconds_total", "process_resident_memory_bytes",
                  "process_virtual_memory_bytes", "process_open_fds",
                  "process_max_fds", "process_start_time_seconds"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--handoffd", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--promtool", default=shutil.which("promtool"))
    a = ap.parse_args()
    if not a.promtool or not os.access(a.promtool, os.X_OK):
        # The one tool whose absence skips: .ci/run installs it, install-deps.sh
        # does not (README, Metrics).
        log("SKIP: promtool not found: apt-get install prometheus "
            "(.ci/run installs it)")
        return SKIP
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    srv = None
    try:
        srv = handoffd_launch.Handoffd(a.handoffd,
                                       os.path.join(a.workdir, "handoffd.log"))
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{srv.admin}/readyz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if srv.proc.poll() is not None:
                raise Failure(f"handoffd exited {srv.proc.returncode}")
            if time.monotonic() > deadline:
                raise Failure("/readyz not 200 within 20s")
            time.sleep(0.05)
        log(f"handoffd ready: gRPC {srv.grpc}, admin {srv.admin}")
        make_calls(srv.grpc)
        status, ctype, text = scrape_when_counted(srv.admin)
        with open(os.path.join(a.workdir, "metrics.txt"), "w") as f:
            f.write(text)
        expect(status == 200, "/metrics 200")
        expect(ctype.startswith("text/plain; version=0.0.4"),
               f"/metrics Content-Type is the text format 0.0.4 ({ctype})")
        got = calls_counted(text)
        expect(all(got.get(k, 0) == v for k, v in EXPECTED_CALLS.items()),
               f"handoff_calls_total counted each call once: {got}")

        # The process collector's series, as every Prometheus client's:
        # this handoffd's, started moments ago.
        process = dict(re.findall(r"^(process_\w+) (\S+)$", text, re.M))
        expect(sorted(process) == sorted(PROCESS_SERIES),
               f"/metrics has the process_* series ({sorted(process)})")
        started = float(process["process_start_time_seconds"])
        expect(time.time() - 120 < started <= time.time() + 1,
               f"process_start_time_seconds is this handoffd's start ({started})")
        expect(int(process["process_open_fds"]) > 2 and
               int(process["process_resident_memory_bytes"]) > 0,
               "process_open_fds and process_resident_memory_bytes are its own")

        rc, out = promtool_check(a.promtool, text)
        if rc != 0:
            raise Failure(f"`promtool check metrics` exited {rc} on "
                          f"{a.workdir}/metrics.txt:\n{out}")
        log("ok: promtool check metrics: no error, no lint")
        problems = invariant_problems(text)
        if problems:
            raise Failure("/metrics breaks the text format's rules:\n  "
                          + "\n  ".join(problems))
        log("ok: families in one block each, no series twice, histograms "
            "cumulative with +Inf, _sum and _count")

        for what, mutate in MUTATIONS.items():
            bad = mutate(text)
            rc, out = promtool_check(a.promtool, bad)
            problems = invariant_problems(bad)
            why = (f"promtool: {out.splitlines()[0]}" if rc else
                   problems[0] if problems else "both passed it")
            expect(rc != 0 or problems,
                   f"the scrape with {what} is rejected ({why})")
    except (Failure, handoffd_launch.StartupError, grpc.RpcError) as e:
        log("FAIL:", e)
        if srv:
            log("--- handoffd.log")
            print(srv.output()[-3000:])
        return 1
    finally:
        if srv:
            srv.kill()
    log("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
