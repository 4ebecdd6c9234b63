#!/usr/bin/python3
"""Calls a real handoffd from Python (Debian's python3-grpcio).

Run by ctest (label interop) as:
  /usr/bin/python3 interop_test.py --handoffd PATH --stubs DIR
DIR holds gateway_pb2*.py and health_pb2*.py, generated at build time by
protoc and grpc_python_plugin. The test starts handoffd itself on free
loopback ports, waits until its health check says SERVING, and stops it.

Only Debian's /usr/bin/python3 can import Debian's grpcio: a pyenv python
first on PATH cannot, hence the absolute interpreter.
"""
import argparse
import socket
import subprocess
import sys
import unittest

ARGS = None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HandoffdInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import grpc
        import gateway_pb2_grpc
        import health_pb2_grpc

        cls.grpc = grpc
        port, admin = free_port(), free_port()
        cls.server = subprocess.Popen([
            ARGS.handoffd, f"--listen=127.0.0.1:{port}",
            f"--admin_listen=127.0.0.1:{admin}", "--workers=2"])
        cls.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        cls.gateway = gateway_pb2_grpc.GatewayStub(cls.channel)
        cls.health = health_pb2_grpc.HealthStub(cls.channel)
        cls.wait_serving()

    @classmethod
    def wait_serving(cls):
        import health_pb2
        # wait_for_ready rides out the time before handoffd listens; the
        # deadline bounds it. SERVING is the server's own readiness signal.
        reply = cls.health.Check(health_pb2.HealthCheckRequest(),
                                 timeout=30, wait_for_ready=True)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, reply

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.terminate()
        assert cls.server.wait(timeout=30) == 0, "handoffd did not exit 0"

    def test_health_serving(self):
        import health_pb2
        reply = self.health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        self.assertEqual(reply.status, health_pb2.HealthCheckResponse.SERVING)

    def test_echo(self):
        import gateway_pb2
        reply = self.gateway.Echo(gateway_pb2.EchoRequest(payload=b"hello"), timeout=5)
        self.assertEqual(reply.payload, b"hello")

    def test_work_returns_its_timings(self):
        import gateway_pb2
        reply = self.gateway.Work(
            gateway_pb2.WorkRequest(cpu_us=100, sleep_us=1000, payload=b"w"), timeout=5)
        self.assertEqual(reply.payload, b"w")
        self.assertGreaterEqual(reply.ran_us, 1000)

    def test_work_past_deadline_is_deadline_exceeded(self):
        import gateway_pb2
        with self.assertRaises(self.grpc.RpcError) as caught:
            self.gateway.Work(gateway_pb2.WorkRequest(sleep_us=5_000_000), timeout=0.2)
        self.assertEqual(caught.exception.code(), self.grpc.StatusCode.DEADLINE_EXCEEDED)

    def test_stream_replies_in_order(self):
        import gateway_pb2
        requests = [gateway_pb2.WorkRequest(payload=bytes([i])) for i in range(10)]
        replies = list(self.gateway.Stream(iter(requests), timeout=10))
        self.assertEqual([r.payload for r in replies], [bytes([i]) for i in range(10)])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--handoffd", required=True)
    parser.add_argument("--stubs", required=True)
    ARGS, rest = parser.parse_known_args()
    sys.path.insert(0, ARGS.stubs)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
