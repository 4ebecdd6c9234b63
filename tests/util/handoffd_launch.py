"""Starts handoffd for a scripted test, on ports the kernel picks.

A test that asks the kernel for a free port, closes it and hands the number to
handoffd races everything else that binds: the next such request may return
the same number (two replicas of one test did, in CI), and another test's
server may take it first, so that the test talks to the wrong process.
handoffd listening on port 0 and naming the ports it got in its start-up line
has no such window; the C++ integration tests read that line the same way
(tests/integration/server/handoffd_process.h).
"""

import os
import re
import subprocess
import time

# handoffd's start-up line (server/main.cc), printed once both ports are bound.
_STARTUP = re.compile(
    r"serving gRPC on port (\d+) \(admin HTTP on port (\d+)\)")


class StartupError(Exception):
    pass


class Handoffd:
    """A handoffd subprocess, its output in `logpath`; `grpc` and `admin` are
    the loopback ports it is listening on. `args` must not name --listen or
    --admin_listen: the command line would win over the ports set here."""

    def __init__(self, binary, logpath, args=(), env=None, timeout=30):
        env = dict(os.environ if env is None else env)
        env["HANDOFF_LISTEN"] = "127.0.0.1:0"
        env["HANDOFF_ADMIN_LISTEN"] = "127.0.0.1:0"
        self.logpath = logpath
        self.log = open(logpath, "w")
        self.proc = subprocess.Popen([binary, *args], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.grpc, self.admin = self._ports(timeout)

    def _ports(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            m = _STARTUP.search(self.output())
            if m:
                return int(m.group(1)), int(m.group(2))
            if self.proc.poll() is not None:
                raise StartupError(
                    f"handoffd exited {self.proc.returncode} before listening: "
                    f"{self.output()[-2000:]}")
            if time.monotonic() > deadline:
                self.kill()
                raise StartupError(f"handoffd did not print its ports within "
                                   f"{timeout}s: {self.output()[-2000:]}")
            time.sleep(0.02)

    def output(self):
        self.log.flush()
        with open(self.logpath) as f:
            return f.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
