// The rich error details a server may send beside a status (gRPC's
// grpc-status-details-bin trailer), read without google.rpc's .proto files,
// which Debian does not ship.
#ifndef HANDOFF_CLIENT_STATUS_DETAILS_H_
#define HANDOFF_CLIENT_STATUS_DETAILS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace handoff {

// One detail: a google.protobuf.Any, as google.rpc.Status carries them.
struct StatusDetail {
  std::string type_url;  // "type.googleapis.com/google.rpc.BadRequest"
  std::string value;     // that message, serialized

  // The message type's full name: the type URL after its last '/'.
  std::string TypeName() const;
};

// The details of the google.rpc.Status that FromGrpcStatus kept in `status`
// (at kRpcStatusPayloadUrl), in the order the server listed them: none when
// it kept none. A payload that is not a google.rpc.Status is
// INVALID_ARGUMENT; the status's own code and message are not checked
// against the payload's, since the trailer's are the ones gRPC reports.
absl::StatusOr<std::vector<StatusDetail>> StatusDetails(const absl::Status& status);

}  // namespace handoff

#endif  // HANDOFF_CLIENT_STATUS_DETAILS_H_
