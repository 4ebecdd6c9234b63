// Copyright 2026 The handoff Authors.

#include "server/unknown_method.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace handoff {
namespace {

// Finishes at once, without reading: the request does not matter.
class Refusal final : public grpc::ServerGenericBidiReactor {
 public:
  explicit Refusal(const absl::Status& status) { Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerGenericBidiReactor* UnknownMethodService::CreateReactor(
    grpc::GenericCallbackServerContext* call) {
  const absl::Status refused = absl::UnimplementedError(absl::StrCat(
      "unknown method ", call->method(),
      ": this server serves handoff.v1.Gateway (Echo, Work, Batch, Stream, "
      "Call), grpc.health.v1.Health and server reflection"));
  core_.RecordCall(Method::kUnknown, refused, absl::ZeroDuration(), *call);
  return new Refusal(refused);
}

}  // namespace handoff
