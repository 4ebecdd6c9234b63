#include "client/status.h"

#include <array>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace handoff {
namespace {

struct CodeNames {
  absl::string_view go;
  absl::string_view canonical;
};

// Indexed by the numeric code, 0..16.
constexpr std::array<CodeNames, 17> kNames = {{
    {"OK", "OK"},
    {"Canceled", "CANCELLED"},
    {"Unknown", "UNKNOWN"},
    {"InvalidArgument", "INVALID_ARGUMENT"},
    {"DeadlineExceeded", "DEADLINE_EXCEEDED"},
    {"NotFound", "NOT_FOUND"},
    {"AlreadyExists", "ALREADY_EXISTS"},
    {"PermissionDenied", "PERMISSION_DENIED"},
    {"ResourceExhausted", "RESOURCE_EXHAUSTED"},
    {"FailedPrecondition", "FAILED_PRECONDITION"},
    {"Aborted", "ABORTED"},
    {"OutOfRange", "OUT_OF_RANGE"},
    {"Unimplemented", "UNIMPLEMENTED"},
    {"Internal", "INTERNAL"},
    {"Unavailable", "UNAVAILABLE"},
    {"DataLoss", "DATA_LOSS"},
    {"Unauthenticated", "UNAUTHENTICATED"},
}};

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status converted(static_cast<absl::StatusCode>(status.error_code()),
                         status.error_message());
  if (!status.error_details().empty()) {
    converted.SetPayload(kRpcStatusPayloadUrl, absl::Cord(status.error_details()));
  }
  return converted;
}

absl::Status WithMessageContinued(const absl::Status& status, absl::string_view more) {
  absl::Status continued(status.code(), absl::StrCat(status.message(), more));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    continued.SetPayload(url, payload);
  });
  return continued;
}

absl::string_view GoCodeName(grpc::StatusCode code) {
  const auto i = static_cast<size_t>(code);
  return i < kNames.size() ? kNames[i].go : "Unknown";
}

absl::string_view CanonicalCodeName(grpc::StatusCode code) {
  const auto i = static_cast<size_t>(code);
  return i < kNames.size() ? kNames[i].canonical : "UNKNOWN";
}

std::string GoErrorString(grpc::StatusCode code, absl::string_view message) {
  return absl::StrCat("rpc error: code = ", GoCodeName(code),
                      " desc = ", message);
}

}  // namespace handoff
