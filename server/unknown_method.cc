// Copyright 2026 The handoff Authors.

#include "server/unknown_method.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "dispatch/clock.h"
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

// Finishes at once, without reading: the request does not matter. Counted
// as every call is: in flight from its arrival (`start`, when gRPC asks for
// a reactor) until gRPC is done with it, and recorded then with its time
// from arrival to that end, as a Stream is (StreamCall::OnDone): Finish here
// only queues the status until CreateReactor has returned, and it goes out
// after. Brief as it is, it is a call accepted and not yet done: a drain
// waits for it, and handoff_calls_in_flight stays the calls begun less those
// counted.
class Refusal final : public grpc::ServerGenericBidiReactor {
 public:
  Refusal(GatewayCore& core, absl::Time start, absl::Status status, std::string peer)
      : core_(core), start_(start), status_(std::move(status)), peer_(std::move(peer)) {
    core_.CallStarted();
    Finish(ToGrpcStatus(status_));
  }

  void OnDone() override {
    core_.RecordCall(Method::kUnknown, status_, MonotonicNow() - start_, std::move(peer_));
    // The last touch of core_: once a drain has begun, AwaitIdle may free it.
    GatewayCore& core = core_;
    delete this;
    core.CallDone();
  }

 private:
  GatewayCore& core_;
  const absl::Time start_;
  const absl::Status status_;
  std::string peer_;
};

}  // namespace

grpc::ServerGenericBidiReactor* UnknownMethodService::CreateReactor(
    grpc::GenericCallbackServerContext* call) {
  const absl::Time start = MonotonicNow();
  absl::Status refused = absl::UnimplementedError(absl::StrCat(
      "unknown method ", MethodNamed(call->method()),
      ": this server serves handoff.v1.Gateway (Echo, Work, Batch, Stream, "
      "Call), grpc.health.v1.Health and server reflection"));
  return new Refusal(core_, start, std::move(refused), core_.PeerForLog(*call));
}

}  // namespace handoff
