// Copyright 2026 The handoff Authors.

#include "server/unknown_method.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace handoff {
namespace {

// Finishes at once, without reading: the request does not matter.
class Refusal final : public grpc::ServerGenericBidiReactor {
 public:
  explicit Refusal(const std::string& method) {
    Finish(grpc::Status(
        grpc::StatusCode::UNIMPLEMENTED,
        absl::StrCat("unknown method ", method,
                     ": this server serves handoff.v1.Gateway (Echo, Work, "
                     "Batch, Stream, Call), grpc.health.v1.Health and server "
                     "reflection")));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerGenericBidiReactor* UnknownMethodService::CreateReactor(
    grpc::GenericCallbackServerContext* call) {
  metrics_.RecordCall(Method::kUnknown, absl::StatusCode::kUnimplemented,
                      absl::ZeroDuration());
  return new Refusal(call->method());
}

}  // namespace handoff
