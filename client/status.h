// Conversions between gRPC's status and Abseil's, and the names tools print.
#ifndef HANDOFF_CLIENT_STATUS_H_
#define HANDOFF_CLIENT_STATUS_H_

#include <string>
#include "absl/strings/string_view.h"

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace handoff {

// The type URL under which FromGrpcStatus keeps a status's rich error
// details: the grpc-status-details-bin trailer, a serialized google.rpc.Status
// (the name Google's own libraries give that payload). StatusDetails()
// reads it.
inline constexpr absl::string_view kRpcStatusPayloadUrl =
    "type.googleapis.com/google.rpc.Status";

// The same code and message as an absl::Status. gRPC and Abseil number their
// codes identically (both follow google.rpc.Code), so the cast is exact.
// The status's details, when the server sent any, ride along as the payload
// at kRpcStatusPayloadUrl, unchanged.
absl::Status FromGrpcStatus(const grpc::Status& status);

// `status` with `more` after its message: the same code and payloads (a
// server's details among them), for a client that adds what it knows.
absl::Status WithMessageContinued(const absl::Status& status, absl::string_view more);

// The name grpc-go (and therefore ghz) gives a code: "OK", "Canceled",
// "DeadlineExceeded", ... Reports use these so they read like ghz's.
absl::string_view GoCodeName(grpc::StatusCode code);

// The canonical upper-case name: "OK", "CANCELLED", "DEADLINE_EXCEEDED", ...
absl::string_view CanonicalCodeName(grpc::StatusCode code);

// grpc-go's error text, which ghz uses as the error-distribution key:
// "rpc error: code = DeadlineExceeded desc = Deadline Exceeded".
std::string GoErrorString(grpc::StatusCode code, absl::string_view message);

// grpc-go's message for a call that its own (the client's) deadline ended,
// where gRPC C++ says "Deadline Exceeded": ghz's error distribution has it.
inline constexpr absl::string_view kGoClientDeadlineMessage = "context deadline exceeded";

// grpc-go's message, with CANCELLED, for the calls still in flight when
// their client closes its connection: ghz's at the end of a -z run.
inline constexpr absl::string_view kGoClientConnClosingMessage =
    "grpc: the client connection is closing";

}  // namespace handoff

#endif  // HANDOFF_CLIENT_STATUS_H_
