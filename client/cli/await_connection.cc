// AwaitConnection (commands.h): --connect_timeout, grpcurl's
// -connect-timeout, as a bound on the first connection attempt alone.
#include <algorithm>
#include <chrono>

#include <grpc/grpc.h>
#include <grpcpp/channel.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/commands.h"
#include "client/deadline.h"

namespace handoff::cli {
namespace {

const char* StateName(grpc_connectivity_state state) {
  switch (state) {
    case GRPC_CHANNEL_IDLE:
      return "IDLE";
    case GRPC_CHANNEL_CONNECTING:
      return "CONNECTING";
    case GRPC_CHANNEL_READY:
      return "READY";
    case GRPC_CHANNEL_TRANSIENT_FAILURE:
      return "TRANSIENT_FAILURE";
    case GRPC_CHANNEL_SHUTDOWN:
      return "SHUTDOWN";
  }
  return "UNKNOWN";
}

// The command's own deadline comes first when --connect_timeout is no
// shorter: the RPC it makes then says in its words what waited ("the
// server could not be reached ... no answer within 300ms"), and a wait here
// would only take its time.
bool Waits(const Connection& connection) {
  return connection.connect_timeout < connection.timeout;
}

}  // namespace

absl::Status AwaitConnection(grpc::Channel& channel, const Connection& connection) {
  if (!Waits(connection)) return absl::OkStatus();
  const gpr_timespec deadline = DeadlineIn(connection.connect_timeout);
  grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
  // Only a connection still being made is waited for. One that failed
  // (TRANSIENT_FAILURE: refused, a failed TLS handshake) is left to the
  // RPC, which fails at once with gRPC's reason, or, with --wait_for_ready,
  // waits for the server up to --timeout as it did.
  while (state == GRPC_CHANNEL_IDLE || state == GRPC_CHANNEL_CONNECTING) {
    if (!channel.WaitForStateChange(state, deadline)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no connection within ", absl::FormatDuration(connection.connect_timeout),
          " (--connect_timeout): the server did not answer it (the channel was still ",
          StateName(channel.GetState(false)), ")"));
    }
    state = channel.GetState(/*try_to_connect=*/true);
  }
  return absl::OkStatus();
}

absl::Duration TimeAfterDial(const Connection& connection,
                             std::chrono::steady_clock::time_point start) {
  if (!Waits(connection)) return connection.timeout;
  const absl::Duration left =
      connection.timeout - absl::FromChrono(std::chrono::steady_clock::now() - start);
  return std::max(absl::Floor(left, absl::Milliseconds(1)), absl::ZeroDuration());
}

}  // namespace handoff::cli
