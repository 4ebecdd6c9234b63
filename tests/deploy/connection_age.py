#!/usr/bin/python3
"""handoffd's --max_connection_age and keepalive flags, seen from a client.

Behind a plain Kubernetes Service (L4), a gRPC client keeps one HTTP/2
connection and so one replica. deploy/k8s sets HANDOFF_MAX_CONNECTION_AGE so
that handoffd sends GOAWAY after that age and clients reconnect (and spread);
HANDOFF_KEEPALIVE_MIN_TIME / _PERMIT_WITHOUT_CALLS accept the keepalive pings
common clients send. This test, with Debian's python3-grpcio as the client:

1. max_connection_age=1s, grace=2s: the client's channel leaves READY (the
   server's GOAWAY) between 0.8 s and 5 s after connecting; a Work call of
   1.5 s that spans the GOAWAY still ends OK (the grace); the next call
   reconnects and is OK.
2. keepalive: a client pinging every 1 s on an idle connection is told to go
   away (too_many_pings) by a server with --keepalive_min_time=10s, and is
   kept by one with --keepalive_min_time=500ms for the same span.

Usage: connection_age.py --handoffd PATH --workdir DIR
"""

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "util"))
import handoffd_launch  # noqa: E402
import script_checks  # noqa: E402

HEALTH = "/grpc.health.v1.Health/Check"
WORK = "/handoff.v1.Gateway/Work"
SERVING = b"\x08\x01"  # HealthCheckResponse{status: SERVING}


Failure = script_checks.Failure
log = script_checks.Log("connection_age")
expect = log.expect
varint = script_checks.varint


class Server(handoffd_launch.Handoffd):
    def __init__(self, handoffd, workdir, name, **flags):
        env = dict(os.environ, HANDOFF_DRAIN_TIMEOUT="2s")
        env.update({f"HANDOFF_{k.upper()}": v for k, v in flags.items()})
        super().__init__(handoffd, os.path.join(workdir, f"handoffd-{name}.log"),
                         env=env)
        deadline = time.monotonic() + 20
        while not self.ready():
            if self.proc.poll() is not None:
                raise Failure(f"handoffd {name} exited {self.proc.returncode}")
            if time.monotonic() > deadline:
                raise Failure(f"handoffd {name}: /readyz not 200 within 20s")
            time.sleep(0.05)
        log(f"handoffd {name} ready on {self.grpc} with {flags}")

    def ready(self):
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.admin}/readyz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Watched:
    """A channel whose connectivity changes are recorded with their times."""

    def __init__(self, port, options=()):
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=options)
        self.cond = threading.Condition()
        self.states = []
        self.channel.subscribe(self._on_state, try_to_connect=True)

    def _on_state(self, state):
        with self.cond:
            self.states.append((time.monotonic(), state))
            self.cond.notify_all()

    def wait_for(self, pred, timeout):
        """Waits until pred(states) holds; returns whether it did."""
        with self.cond:
            return self.cond.wait_for(lambda: pred(self.states), timeout)

    def left_ready_after(self, t):
        return [s for s in self.states if s[0] >= t and
                s[1] != grpc.ChannelConnectivity.READY]

    def health(self):
        call = self.channel.unary_unary(HEALTH)
        return call(b"", timeout=5) == SERVING

    def close(self):
        self.channel.close()


def is_ready(states):
    return bool(states) and states[-1][1] == grpc.ChannelConnectivity.READY


def connection_age(handoffd, workdir):
    srv = Server(handoffd, workdir, "age", max_connection_age="1s",
                 max_connection_age_grace="2s")
    ch = None
    try:
        ch = Watched(srv.grpc)
        expect(ch.health(), "health SERVING over a fresh connection")
        expect(ch.wait_for(is_ready, 5), "channel READY")
        t_ready = [t for t, s in ch.states if s == grpc.ChannelConnectivity.READY][0]
        # A call that spans the GOAWAY: 1.5 s of sleep on a worker.
        work = ch.channel.unary_unary(WORK)
        fut = work.future(b"\x10" + varint(1_500_000), timeout=10)  # sleep_us
        expect(ch.wait_for(lambda st: ch.left_ready_after(t_ready), 5),
               "the server closed the aged connection (channel left READY "
               "within 5 s)")
        t_left = ch.left_ready_after(t_ready)[0][0]
        age = t_left - t_ready
        log(f"connection closed {age:.2f}s after it was READY")
        expect(0.8 <= age, "not before --max_connection_age (1s, -10% jitter)")
        expect(not fut.done() or fut.code() == grpc.StatusCode.OK,
               "the call in flight was not cut at the GOAWAY")
        try:
            fut.result(timeout=10)
            ok = True
        except grpc.RpcError as e:
            ok = False
            log("Work failed:", e.code(), e.details())
        expect(ok, "a Work call spanning the GOAWAY ended OK within the grace")
        expect(ch.health(), "the next call reconnects and is OK")
    finally:
        if ch:
            ch.close()
        srv.stop()
        expect(srv.proc.returncode == 0, "handoffd exited 0 on SIGTERM")


def keepalive(handoffd, workdir):
    # A client that pings every second, with or without calls, without limit.
    opts = [("grpc.keepalive_time_ms", 1000),
            ("grpc.keepalive_timeout_ms", 5000),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0)]
    span = 6.0  # a 1 s pinger exceeds 2 strikes of a 10 s minimum well before
    for min_time, should_keep in (("10s", False), ("500ms", True)):
        srv = Server(handoffd, workdir, f"keepalive-{min_time}",
                     keepalive_min_time=min_time,
                     keepalive_permit_without_calls="true")
        ch = None
        try:
            ch = Watched(srv.grpc, opts)
            expect(ch.health(), f"min_time {min_time}: health SERVING")
            expect(ch.wait_for(is_ready, 5), f"min_time {min_time}: READY")
            t0 = time.monotonic()
            left = ch.wait_for(lambda st: ch.left_ready_after(t0), span)
            if should_keep:
                expect(not left, f"--keepalive_min_time={min_time}: a client "
                       f"pinging every 1 s keeps its idle connection for {span}s")
            else:
                expect(left, f"--keepalive_min_time={min_time}: a client "
                       "pinging every 1 s is sent away (too_many_pings)")
        finally:
            if ch:
                ch.close()
            srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--handoffd", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    try:
        connection_age(a.handoffd, a.workdir)
        keepalive(a.handoffd, a.workdir)
    except (Failure, handoffd_launch.StartupError) as e:
        log("FAIL:", e)
        for f in sorted(os.listdir(a.workdir)):
            log(f"--- {f}")
            print(open(os.path.join(a.workdir, f)).read()[-2000:])
        return 1
    log("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
