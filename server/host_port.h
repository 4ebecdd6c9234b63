// Copyright 2026 The handoff Authors.
//
// SplitHostPort: the one parser of the "host:port" addresses handoffd's
// --listen and --admin_listen take, so that Validate (server/config.h) rejects
// before anything listens what a listener would otherwise misread. gRPC, given
// a port past 65535, takes it modulo 65536, and given none, listens on 443.

#ifndef HANDOFF_SERVER_HOST_PORT_H_
#define HANDOFF_SERVER_HOST_PORT_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace handoff {

// Splits "host:port" or "[v6]:port" into the host (brackets removed; an empty
// host is "0.0.0.0") and the port, decimal digits only, 0..65535 (0: the
// system picks one). InvalidArgument, saying what is wrong, on anything else:
// no port, a port that is not a number or out of range, an IPv6 address
// without brackets.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    absl::string_view address);

// Whether `address` names a Unix domain socket for gRPC ("unix:PATH" or
// "unix-abstract:NAME"), which has a path instead of a host and port.
bool IsUnixSocket(absl::string_view address);

}  // namespace handoff

#endif  // HANDOFF_SERVER_HOST_PORT_H_
