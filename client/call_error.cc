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

absl::Status CallError(const grpc::Status& status, const grpc::ClientContext& context,
                       grpc::Channel& channel, const std::string& target) {
  absl::Status s = FromGrpcStatus(status);
  if (s.code() != absl::StatusCode::kDeadlineExceeded) return s;
  if (WentOnAConnection(context, target)) return s;
  const char* state = nullptr;
  switch (channel.GetState(/*try_to_connect=*/false)) {
    case GRPC_CHANNEL_READY: return s;
    case GRPC_CHANNEL_IDLE: state = "IDLE"; break;
    case GRPC_CHANNEL_CONNECTING: state = "CONNECTING"; break;
    case GRPC_CHANNEL_TRANSIENT_FAILURE: state = "TRANSIENT_FAILURE"; break;
    case GRPC_CHANNEL_SHUTDOWN: state = "SHUTDOWN"; break;
  }
  absl::Status annotated(
      s.code(), absl::StrCat(s.message(), "; the channel had no connection at "
                             "the deadline (", state, ")"));
  s.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    annotated.SetPayload(url, payload);
  });
  return annotated;
}

}  // namespace handoff
