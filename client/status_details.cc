#include "client/status_details.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/unknown_field_set.h>

#include "absl/strings/str_cat.h"
#include "client/status.h"

namespace handoff {
namespace {

// google.rpc.Status's fields (google/rpc/status.proto): int32 code = 1,
// string message = 2, repeated google.protobuf.Any details = 3. Only
// `details` is kept; the other two are checked for their wire type, so that
// bytes of some other message are not taken for a status without details.
constexpr int kCodeField = 1;
constexpr int kMessageField = 2;
constexpr int kDetailsField = 3;

bool HasWireType(const google::protobuf::UnknownField& field) {
  switch (field.number()) {
    case kCodeField:
      return field.type() == google::protobuf::UnknownField::TYPE_VARINT;
    case kMessageField:
    case kDetailsField:
      return field.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED;
    default:
      return true;  // a later field of a newer google.rpc.Status
  }
}

}  // namespace

std::string StatusDetail::TypeName() const {
  const size_t slash = type_url.rfind('/');
  return slash == std::string::npos ? type_url : type_url.substr(slash + 1);
}

absl::StatusOr<std::vector<StatusDetail>> StatusDetails(const absl::Status& status) {
  std::vector<StatusDetail> details;
  const auto payload = status.GetPayload(kRpcStatusPayloadUrl);
  if (!payload.has_value()) return details;
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromString(std::string(*payload))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the status details (", payload->size(), " bytes) are not a google.rpc.Status"));
  }
  for (int i = 0; i < fields.field_count(); ++i) {
    if (!HasWireType(fields.field(i))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the status details are not a google.rpc.Status: field ", fields.field(i).number(),
          " has the wrong wire type"));
    }
  }
  for (int i = 0; i < fields.field_count(); ++i) {
    const auto& field = fields.field(i);
    if (field.number() != kDetailsField) continue;
    google::protobuf::Any any;
    if (!any.ParseFromString(field.length_delimited())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "detail ", details.size() + 1, " of the status is not a google.protobuf.Any"));
    }
    details.push_back({any.type_url(), any.value()});
  }
  return details;
}

}  // namespace handoff
