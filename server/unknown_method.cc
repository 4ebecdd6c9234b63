// Copyright 2026 The handoff Authors.

#include "server/unknown_method.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/quoted_text.h"

namespace handoff {
namespace {

// The method, as the refusal names it (quoted_text.h), saying how long it
// was if cut: a path of 3,000 '%' (or bytes over 0x7E), which gRPC accepts
// under its 8 KiB on request headers, is 9,000 bytes percent-encoded in the
// trailer, over the client's 8 KiB on response headers, and the client got
// RESOURCE_EXHAUSTED in place of the UNIMPLEMENTED counted.
std::string MethodNamed(absl::string_view method) {
  const absl::string_view shown = QuotedPart(method);
  if (shown.size() == method.size()) return std::string(method);
  return absl::StrCat(shown, "... (", method.size(), " bytes)");
}

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
      "unknown method ", MethodNamed(call->method()),
      ": this server serves handoff.v1.Gateway (Echo, Work, Batch, Stream, "
      "Call), grpc.health.v1.Health and server reflection"));
  core_.RecordCall(Method::kUnknown, refused, absl::ZeroDuration(),
                   core_.PeerForLog(*call));
  return new Refusal(refused);
}

}  // namespace handoff
