// Copyright 2026 The handoff Authors.
//
// CallError: a failed call's status as the caller gets it, from gRPC's
// status, saying when a missed deadline was most likely a server that
// could not be reached.
//
// gRPC's message for a missed deadline is "Deadline Exceeded", whether the
// server was slow or was never reached: with a retry policy backing off
// between attempts, or wait_for_ready, a call to a server that is down
// ends DEADLINE_EXCEEDED rather than UNAVAILABLE. A call that never went
// on a connection gets "; the channel had no connection at the deadline
// (STATE)" after it. A call that did never says so, whatever the channel's
// state at the end: the server may have answered DEADLINE_EXCEEDED itself
// on a connection it had already sent GOAWAY on. The code stays gRPC's.
#ifndef HANDOFF_CLIENT_CALL_ERROR_H_
#define HANDOFF_CLIENT_CALL_ERROR_H_

#include <optional>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace handoff {

// `context` is the finished call's, made on `channel`, whose target is
// `target` (gRPC gives it as the peer of a call that never had a
// connection). An empty `target` is one the caller does not know: a call
// whose peer reads as an address ("ipv4:", "unix:"...) is then taken to
// have had a connection, so that a target that is itself such an address
// gets no hint rather than a wrong one.
absl::Status CallError(const grpc::Status& status, const grpc::ClientContext& context,
                       grpc::Channel& channel, const std::string& target);

// What CallError judges by, for a caller that words its own message (a
// reflection session's): the channel's state ("CONNECTING",
// "TRANSIENT_FAILURE"...) if the finished call `context` never went on a
// connection, nullopt if it did. `target` as for CallError.
std::optional<std::string> StateWithoutConnection(const grpc::ClientContext& context,
                                                  grpc::Channel& channel,
                                                  const std::string& target);

}  // namespace handoff

#endif  // HANDOFF_CLIENT_CALL_ERROR_H_
