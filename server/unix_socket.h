// Copyright 2026 The handoff Authors.
//
// CheckUnixSocketUnserved: whether --listen's "unix:PATH" may be listened on
// without taking it from a server that answers there.
//
// gRPC (1.51) unlinks whatever is at PATH before it binds, and again when it
// shuts down. A second handoffd started on the path of one that serves
// would therefore come up beside it, take every new connection, and leave
// the first serving nobody while its probes still said ready; and when the
// first stopped, it would remove the second's socket file, leaving that one
// unreachable. A port is never shared (GRPC_ARG_ALLOW_REUSEPORT off); this
// keeps a socket path from being shared either. It is a check, then gRPC's
// bind: two servers started on one path at the same instant can both pass
// it, and the later bind wins as before. It guards against the server
// already running, the usual case (a second copy started by mistake, a
// restart that did not wait for the old process), not against that race.

#ifndef HANDOFF_SERVER_UNIX_SOCKET_H_
#define HANDOFF_SERVER_UNIX_SOCKET_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace handoff {

// OK unless `address` is "unix:PATH" (or "unix:///PATH") and a server
// accepts connections on PATH now; then Unavailable, naming the address. A
// socket file nobody listens on (left by a process that died) is OK: gRPC
// replaces it. Any other address, "unix-abstract:" included (its bind fails
// by itself when the name is taken), is OK here.
absl::Status CheckUnixSocketUnserved(absl::string_view address);

}  // namespace handoff

#endif  // HANDOFF_SERVER_UNIX_SOCKET_H_
