// Copyright 2026 The handoff Authors.

#include "client/call_error.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/status.h"

namespace handoff {
namespace {

// Whether gRPC put the call on a connection. Once it has, the call's peer
// is that connection's address, which gRPC writes with a scheme ("ipv4:",
// "ipv6:", "unix:", "unix-abstract:", "vsock:"); until then, gRPC gives the
// channel's target, `target`, in its place. A target that is itself such
// an address ("unix:/run/x.sock", "ipv4:10.0.0.1:50051") reads as no
// connection either way, and such a call is judged by the channel's state
// alone, as before peers were looked at.
bool WentOnAConnection(const grpc::ClientContext& context, const std::string& target) {
  const std::string peer = context.peer();
  if (peer == target) return false;
  for (absl::string_view scheme : {"ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:"}) {
    if (absl::StartsWith(peer, scheme)) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> StateWithoutConnection(const grpc::ClientContext& context,
                                                  grpc::Channel& channel,
                                                  const std::string& target) {
  if (WentOnAConnection(context, target)) return std::nullopt;
  switch (channel.GetState(/*try_to_connect=*/false)) {
    case GRPC_CHANNEL_READY: return std::nullopt;
    case GRPC_CHANNEL_IDLE: return "IDLE";
    case GRPC_CHANNEL_CONNECTING: return "CONNECTING";
    case GRPC_CHANNEL_TRANSIENT_FAILURE: return "TRANSIENT_FAILURE";
    case GRPC_CHANNEL_SHUTDOWN: return "SHUTDOWN";
  }
  return std::nullopt;
}

absl::Status CallError(const grpc::Status& status, const grpc::ClientContext& context,
                       grpc::Channel& channel, const std::string& target) {
  absl::Status s = FromGrpcStatus(status);
  if (s.code() != absl::StatusCode::kDeadlineExceeded) return s;
  const std::optional<std::string> state = StateWithoutConnection(context, channel, target);
  if (!state.has_value()) return s;
  return WithMessageContinued(
      s, absl::StrCat("; the channel had no connection at the deadline (", *state, ")"));
}

}  // namespace handoff
