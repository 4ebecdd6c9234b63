// Copyright 2026 The handoff Authors.
//
// ListenTcp: an acceptor listening on one of handoffd's "host:port"
// addresses, or the reason it cannot, in the words of the system: "cannot
// resolve 'db:9090': Host not found", "cannot listen on '10.0.0.9:9090':
// Cannot assign requested address", "... Address already in use".
//
// The admin HTTP server listens with it. gRPC's own listener says only that
// it failed, so when it does, handoffd asks ListenTcp why (a probe, closed
// at once) and reports that instead of a list of guesses.

#ifndef HANDOFF_SERVER_TCP_LISTEN_H_
#define HANDOFF_SERVER_TCP_LISTEN_H_

#include <asio/ip/tcp.hpp>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace handoff {

// Opens `acceptor` (which must be closed), binds it to the first address
// `address`'s host resolves to, with SO_REUSEADDR (a port left in TIME_WAIT
// by the last run may be had again; one that a process listens on may not,
// as SO_REUSEPORT is off), and listens. Unavailable, naming `address` and
// the reason, on a name that does not resolve or a bind or listen that
// fails; InvalidArgument on an address SplitHostPort refuses.
absl::Status ListenTcp(asio::ip::tcp::acceptor& acceptor, absl::string_view address);

}  // namespace handoff

#endif  // HANDOFF_SERVER_TCP_LISTEN_H_
