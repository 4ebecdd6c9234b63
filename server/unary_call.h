// Copyright 2026 The handoff Authors.
//
// UnaryCall<Reply>: the reactor of one unary call — the request/response
// pattern of seeds/002 on the gRPC callback API, without a waiting thread.
//
//   reply := Chan<Outcome>(1)                  the call's own reply channel
//   SubmitReplyJob(ctx, handler, deliver: reply <- outcome)   reply_job.h
//   AsyncSelect { o := <-reply     → Finish(o)
//                 <-ctx.Done()     → Finish(DEADLINE_EXCEEDED or CANCELLED) }
//
// The request was parsed by the method (proto_codec.h); the reply is
// serialised here, on the thread that finishes the call.
//
// Exactly one Finish per call: either an early answer (Reject), or whichever
// select case wins. The reply channel has room for one value, so a worker
// never blocks on a caller that already left; the job owns copies of what it
// reads, since the request message dies with the call.
//
// The reactor deletes itself in OnDone, after gRPC is done with it; OnDone
// also cancels the Context, which stops a job still running for a call that
// already finished and frees the deadline's timer.

#ifndef HANDOFF_SERVER_UNARY_CALL_H_
#define HANDOFF_SERVER_UNARY_CALL_H_

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "dispatch/chan.h"
#include "dispatch/context.h"
#include "dispatch/dispatcher.h"
#include "dispatch/select.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "server/gateway_core.h"
#include "server/metrics.h"
#include "server/proto_codec.h"
#include "server/reply_job.h"

namespace handoff {

template <typename Reply>
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  UnaryCall(GatewayCore& core, Method method,
            grpc::CallbackServerContext* call, grpc::ByteBuffer* response)
      : core_(core), method_(method), response_(response),
        start_(absl::Now()) {
    core_.CallStarted();
    std::tie(ctx_, cancel_) = core_.CallContext(*call);
  }

  const Context& ctx() const { return ctx_; }

  // Answers at once, without a job (validation errors, draining).
  void Reject(absl::Status s) { Complete(std::move(s)); }

  // Runs `body` as a job: body(const RunInfo&) -> absl::StatusOr<Reply>, on a
  // worker thread, with this call's Context. `expected_run` lets the
  // dispatcher skip a job that could not finish before its deadline.
  template <typename Body>
  void Dispatch(Body body,
                absl::Duration expected_run = absl::ZeroDuration()) {
    Chan<Outcome<Reply>> reply(1);
    SubmitReplyJob<Reply>(core_, ctx_, expected_run, std::move(body),
                          [reply](Outcome<Reply> out) {
                            reply.TrySend(std::move(out)).IgnoreError();
                          });
    AsyncSelect(OnRecv(reply,
                       [this](std::optional<Outcome<Reply>> out) {
                         if (!out.has_value()) {  // never closed; be safe
                           Complete(absl::InternalError("reply channel closed"));
                           return;
                         }
                         if (out->status.ok()) {
                           out->status = SerializeMessage(out->reply, response_);
                         }
                         Complete(std::move(out->status));
                       }),
                handoff::OnDone(ctx_, [this] { Complete(core_.ContextError(ctx_)); }));
  }

  void OnCancel() override {
    // gRPC also cancels a call at its deadline; let the deadline timer (due
    // now) report DEADLINE_EXCEEDED rather than CANCELLED.
    if (absl::Now() < ctx_.Deadline()) cancel_();
  }

  void OnDone() override {
    cancel_();
    core_.CallDone();
    delete this;
  }

  // OnDone and OnCancel only cancel a Context, count and free: they never
  // block, so gRPC may run them on whichever thread completes the call. If
  // not, it hands each OnDone to its executor thread: a wakeup and a context
  // switch per call, about 6 us of handoffd's CPU per Echo (perf, -c 50 -m 1).
  // gRPC 1.51 marks this hook "not API"; `override` makes its removal a
  // compile error, not a silent slowdown.
  bool InternalInlineable() override { return true; }

 private:
  void Complete(absl::Status s) {
    core_.metrics().RecordCall(method_, s.code(), absl::Now() - start_);
    Finish(ToGrpcStatus(s));
  }

  GatewayCore& core_;
  const Method method_;
  grpc::ByteBuffer* const response_;
  const absl::Time start_;
  Context ctx_;
  CancelFunc cancel_;
};

}  // namespace handoff

#endif  // HANDOFF_SERVER_UNARY_CALL_H_
