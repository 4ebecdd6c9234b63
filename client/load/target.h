// Copyright 2026 The handoff Authors.
//
// What `handoff load` needs to know about its HOST:PORT target before it
// connects: the host and port apart (the h2 engine resolves them itself), and
// whether the server is on this machine.

#ifndef HANDOFF_CLIENT_LOAD_TARGET_H_
#define HANDOFF_CLIENT_LOAD_TARGET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace handoff::load {

struct HostPort {
  std::string host;  // without the brackets of "[v6]"
  std::string port;
};

// "host:port", "[v6]:port", or either behind "dns:///". Anything else gRPC
// accepts as a target (unix:, unix-abstract:, ipv4:, ipv6: lists, URIs) is
// INVALID_ARGUMENT.
absl::StatusOr<HostPort> SplitTarget(absl::string_view target);

// For a HOST:PORT target (or dns:///HOST:PORT), InvalidArgument unless PORT
// is a number from 1 to 65535: gRPC and getaddrinfo take a bigger number
// modulo 65536 and a name as port 0, so a typo would reach, or report
// refused, a port nobody named. So is a target whose port is empty
// ("host:") or missing after a bracketed address ("[::1]"). Other forms
// (unix:, unix-abstract:, ipv4:, a host name without a port) are gRPC's to
// judge: OK.
absl::Status CheckTargetPort(absl::string_view target);

// True if `target` names this machine: a loopback address (127.0.0.0/8,
// ::1), the unspecified address (0.0.0.0, ::), "localhost", or a unix: or
// unix-abstract: socket. Resolves nothing: a host name other than "localhost" counts as
// remote.
bool IsLoopbackTarget(absl::string_view target);

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_TARGET_H_
