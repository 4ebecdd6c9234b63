"""What the Python test scripts under tests/deploy share.

A check that logs as it passes and raises Failure when it does not (each
script reports a Failure and exits 1), and protobuf's varint, for the
messages the scripts encode by hand rather than generate stubs for.
"""


class Failure(Exception):
    """A check that did not hold."""


class Log:
    """Prints each line as "[name] ...", at once (ctest shows it as it runs)."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *args):
        print(f"[{self.name}]", *args, flush=True)

    def expect(self, cond, what):
        """Logs `what` as checked, or raises Failure(what)."""
        if not cond:
            raise Failure(what)
        self("ok:", what)


def varint(n):
    """`n` (>= 0) as a protobuf base-128 varint."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
