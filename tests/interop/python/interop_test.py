#!/usr/bin/python3
"""Calls a real handoffd from Python (Debian's python3-grpcio).

Run by ctest (label interop) as:
  /usr/bin/python3 interop_test.py --handoffd PATH --stubs DIR --tls_testdata DIR
      --readme README.md
The stubs DIR holds gateway_pb2*.py and health_pb2*.py, generated at build
time by protoc and grpc_python_plugin; the TLS one, the test certificates
(tests/integration/server/testdata/tls). Each test class starts handoffd
itself on loopback ports of its own choosing (the second with mutual TLS), waits until its
health check says SERVING, and stops it.

Only Debian's /usr/bin/python3 can import Debian's grpcio: a pyenv python
first on PATH cannot, hence the absolute interpreter.
"""
import argparse
import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "util"))
import handoffd_launch  # noqa: E402

ARGS = None


class HandoffdCase(unittest.TestCase):
    """Starts handoffd for the class on loopback ports it picks, waits until its
    health check over `channel` says SERVING, and stops it at the end, which
    must exit 0. A subclass adds flags and says how to open the channel."""

    @classmethod
    def extra_flags(cls):
        return []

    @classmethod
    def open_channel(cls, target):
        return cls.grpc.insecure_channel(target)

    @classmethod
    def setUpClass(cls):
        import grpc
        import gateway_pb2_grpc
        import health_pb2
        import health_pb2_grpc

        cls.grpc = grpc
        cls.logdir = tempfile.TemporaryDirectory()
        cls.server = handoffd_launch.Handoffd(
            ARGS.handoffd, os.path.join(cls.logdir.name, "handoffd.log"),
            args=["--workers=2", *cls.extra_flags()])
        cls.target = f"127.0.0.1:{cls.server.grpc}"
        cls.channel = cls.open_channel(cls.target)
        cls.gateway = gateway_pb2_grpc.GatewayStub(cls.channel)
        cls.health = health_pb2_grpc.HealthStub(cls.channel)
        # handoffd is listening once it has named its ports; SERVING is its
        # own readiness signal. The deadline bounds the wait.
        reply = cls.health.Check(health_pb2.HealthCheckRequest(),
                                 timeout=30, wait_for_ready=True)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, reply

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.proc.terminate()
        code = cls.server.proc.wait(timeout=30)
        output = cls.server.output()
        cls.logdir.cleanup()
        assert code == 0, f"handoffd exited {code}: {output[-2000:]}"


class HandoffdInterop(HandoffdCase):
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


def readme_snippet(name, language):
    """The block of README marked `<!-- snippet: NAME -->`, as README shows it."""
    with open(ARGS.readme, encoding="utf-8") as f:
        text = f.read()
    marker = f"<!-- snippet: {name} -->\n```{language}\n"
    start = text.find(marker)
    assert start != -1, f"README has no {marker.strip()}"
    body = start + len(marker)
    return text[body:text.index("\n```", body) + 1]


class ReadmePythonExample(HandoffdCase):
    def test_readme_example_prints_the_echo_and_the_deadline_code(self):
        code = readme_snippet("python_client", "python")
        # The one change: the server README's example calls is this test's.
        readme_target = '"localhost:50051"'
        self.assertEqual(code.count(readme_target), 1,
                         f"README's Python example should name {readme_target} once")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code.replace(readme_target, f'"{self.target}"'), {})
        self.assertEqual(out.getvalue(), "b'hi'\nStatusCode.DEADLINE_EXCEEDED\n")


class HandoffdMutualTlsInterop(HandoffdCase):
    """handoffd with --tls_client_ca_file: Python's client certificate is
    required, and its own CA must vouch for the server."""

    @classmethod
    def pem(cls, name):
        with open(f"{ARGS.tls_testdata}/{name}", "rb") as f:
            return f.read()

    @classmethod
    def extra_flags(cls):
        return [f"--tls_cert_file={ARGS.tls_testdata}/server.pem",
                f"--tls_key_file={ARGS.tls_testdata}/server.key",
                f"--tls_client_ca_file={ARGS.tls_testdata}/ca.pem"]

    @classmethod
    def open_channel(cls, target):
        return cls.grpc.secure_channel(target, cls.grpc.ssl_channel_credentials(
            root_certificates=cls.pem("ca.pem"), private_key=cls.pem("client.key"),
            certificate_chain=cls.pem("client.pem")))

    def echo_over(self, channel):
        import gateway_pb2
        import gateway_pb2_grpc
        with channel:
            return gateway_pb2_grpc.GatewayStub(channel).Echo(
                gateway_pb2.EchoRequest(payload=b"tls"), timeout=10)

    def test_echo_with_client_certificate(self):
        import gateway_pb2
        reply = self.gateway.Echo(gateway_pb2.EchoRequest(payload=b"tls"), timeout=5)
        self.assertEqual(reply.payload, b"tls")

    def test_without_client_certificate_is_unavailable(self):
        channel = self.grpc.secure_channel(self.target, self.grpc.ssl_channel_credentials(
            root_certificates=self.pem("ca.pem")))
        with self.assertRaises(self.grpc.RpcError) as caught:
            self.echo_over(channel)
        self.assertEqual(caught.exception.code(), self.grpc.StatusCode.UNAVAILABLE)

    def test_plaintext_is_unavailable(self):
        with self.assertRaises(self.grpc.RpcError) as caught:
            self.echo_over(self.grpc.insecure_channel(self.target))
        self.assertEqual(caught.exception.code(), self.grpc.StatusCode.UNAVAILABLE)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--handoffd", required=True)
    parser.add_argument("--stubs", required=True)
    parser.add_argument("--tls_testdata", required=True)
    parser.add_argument("--readme", required=True)
    ARGS, rest = parser.parse_known_args()
    sys.path.insert(0, ARGS.stubs)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
