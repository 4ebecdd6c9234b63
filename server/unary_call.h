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
// serialised here, on the thread that finishes the call, and one over
// --max_message_bytes is answered RESOURCE_EXHAUSTED in its place
// (SerializeReply), with the pushback that stops gRPC's retry.
//
// Exactly one Finish per call: either an early answer (Reject), or whichever
// select case wins. The reply channel has room for one value, so a worker
// never blocks on a caller that already left; the job owns copies of what it
// reads, since the request message dies with the call. The rest of the
// call's life (counting, OnCancel, OnDone) is CallReactor's.

#ifndef HANDOFF_SERVER_UNARY_CALL_H_
#define HANDOFF_SERVER_UNARY_CALL_H_

#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dispatch/chan.h"
#include "dispatch/select.h"
#include "grpcpp/support/byte_buffer.h"
#include "server/call_reactor.h"
#include "server/proto_codec.h"
#include "server/reply_job.h"

namespace handoff {

template <typename Reply>
class UnaryCall final : public CallReactor {
 public:
  UnaryCall(GatewayCore& core, Method method,
            grpc::CallbackServerContext* call, grpc::ByteBuffer* response)
      : CallReactor(core, method, *call), response_(response) {}

  // Answers at once, without a job (validation errors, draining).
  void Reject(absl::Status s) { Complete(std::move(s)); }

  // Runs `body` as a job: body(const RunInfo&) -> absl::StatusOr<Reply>, on a
  // worker thread, with this call's Context. `cost` is SubmitReplyJob's.
  template <typename Body>
  void Dispatch(Body body, JobCost cost = {}) {
    Chan<Outcome<Reply>> reply(1);
    SubmitReplyJob<Reply>(core_, ctx(), std::move(cost), std::move(body),
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
                           out->status = SerializeReply(
                               out->reply, core_.config().max_message_bytes, response_);
                           if (!out->status.ok()) {
                             // Another attempt would get the same refusal,
                             // and a handler's would do what it does again.
                             RefuseRetry();
                             Complete(std::move(out->status));
                             return;
                           }
                         }
                         Complete(std::move(out->status),
                                  /*refuse_retry_if_ran_late=*/true);
                       }),
                handoff::OnDone(ctx(), [this] {
                  Complete(core_.ContextError(ctx()), /*refuse_retry_if_ran_late=*/true);
                }));
  }

 private:
  grpc::ByteBuffer* const response_;
};

}  // namespace handoff

#endif  // HANDOFF_SERVER_UNARY_CALL_H_
