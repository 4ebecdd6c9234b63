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


class StatusTableFromPython(HandoffdCase):
    """README's status table, as Python's client sees it: each code, the
    server's own message, and no rich error details (handoffd sends none,
    so a grpc-status-details-bin trailer would be a change to document)."""

    def assert_refused(self, call, code, message_start):
        with self.assertRaises(self.grpc.RpcError) as caught:
            call()
        e = caught.exception
        self.assertEqual(e.code(), code, e.details())
        self.assertTrue(e.details().startswith(message_start), e.details())
        self.assertNotIn("grpc-status-details-bin",
                         [key for key, _ in e.trailing_metadata() or ()])

    def raw(self, method):
        # No serializer: the request is sent as the bytes given.
        return self.channel.unary_unary(method, request_serializer=None,
                                        response_deserializer=None)

    def test_unknown_method_is_unimplemented_naming_it(self):
        self.assert_refused(lambda: self.raw("/handoff.v1.Gateway/Nope")(b"", timeout=5),
                            self.grpc.StatusCode.UNIMPLEMENTED,
                            "unknown method /handoff.v1.Gateway/Nope: ")

    def test_unknown_handler_is_unimplemented_and_an_empty_one_invalid(self):
        import gateway_pb2
        self.assert_refused(
            lambda: self.gateway.Call(gateway_pb2.CallRequest(handler="nope"), timeout=5),
            self.grpc.StatusCode.UNIMPLEMENTED, "no handler named 'nope'")
        self.assert_refused(
            lambda: self.gateway.Call(gateway_pb2.CallRequest(handler=""), timeout=5),
            self.grpc.StatusCode.INVALID_ARGUMENT, "handler: empty")

    def test_bytes_that_do_not_parse_are_internal(self):
        # Field 3 (payload), length-delimited, claiming 5 bytes and having 2.
        self.assert_refused(lambda: self.raw("/handoff.v1.Gateway/Work")(b"\x1a\x05ab", timeout=5),
                            self.grpc.StatusCode.INTERNAL, "request does not parse")

    def test_a_field_out_of_range_is_invalid_argument_naming_it(self):
        import gateway_pb2
        self.assert_refused(
            lambda: self.gateway.Work(gateway_pb2.WorkRequest(cpu_us=10_000_001), timeout=5),
            self.grpc.StatusCode.INVALID_ARGUMENT, "cpu_us: ")
        items = [gateway_pb2.WorkRequest()] * 3 + [gateway_pb2.WorkRequest(sleep_us=60_000_001)]
        self.assert_refused(
            lambda: self.gateway.Batch(gateway_pb2.BatchRequest(items=items), timeout=5),
            self.grpc.StatusCode.INVALID_ARGUMENT, "items[3].sleep_us: ")

    def test_a_message_over_the_limit_is_resource_exhausted(self):
        import gateway_pb2
        self.assert_refused(
            lambda: self.gateway.Echo(gateway_pb2.EchoRequest(payload=bytes(5 << 20)), timeout=10),
            self.grpc.StatusCode.RESOURCE_EXHAUSTED, "Received message larger than max")

    def test_a_deadline_shorter_than_the_work_is_refused_by_the_server_at_once(self):
        import gateway_pb2
        # The server's own message: Python's timeout= reached handoffd.
        self.assert_refused(
            lambda: self.gateway.Work(gateway_pb2.WorkRequest(cpu_us=5_000_000), timeout=1),
            self.grpc.StatusCode.DEADLINE_EXCEEDED, "deadline too short: ")

    def test_a_reply_spent_at_least_the_cpu_asked_for(self):
        import gateway_pb2
        reply = self.gateway.Work(gateway_pb2.WorkRequest(cpu_us=3000), timeout=5)
        self.assertGreaterEqual(reply.cpu_us_done, 3000)
        self.assertGreaterEqual(reply.ran_us, 3000)
        self.assertIn(reply.worker, (0, 1))  # --workers=2, 0-based


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
