// Copyright 2026 The handoff Authors.

#include "server/call_reactor.h"

#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dispatch/clock.h"
#include "server/retry_pushback.h"

namespace handoff {
namespace {

absl::Status NoRequestError() {
  return absl::InternalError(
      "no request message: the client ended its side of the call without one");
}

}  // namespace

CallReactor::CallReactor(GatewayCore& core, Method method,
                         grpc::CallbackServerContext& call)
    : core_(core),
      method_(method),
      call_(call),
      peer_(core.PeerForLog(call)),
      start_(MonotonicNow()),
      client_deadline_(GatewayCore::ClientDeadline(call)) {
  core_.CallStarted();
  std::tie(ctx_, cancel_) = core_.CallContext(client_deadline_);
}

void CallReactor::OnCancel() {
  // gRPC also cancels a call at its deadline. Past the Context's deadline
  // that is the deadline, whether or not the timer (which may lag) has
  // marked it yet; the cancel stops the job now all the same. Before
  // cancel_(): the Complete it may cause reads this.
  const absl::Time now = MonotonicNow();
  // gRPC runs the method of a call whose message never came only when the
  // call ends: its start says nothing of the time the client gave it, so
  // the widest margin CancelIsDeadline allows applies.
  const absl::Time start =
      record_at_done_.load(std::memory_order_relaxed) ? absl::InfinitePast() : start_;
  cancel_was_deadline_.store(
      now >= ctx_.Deadline() || GatewayCore::CancelIsDeadline(start, client_deadline_, now),
      std::memory_order_relaxed);
  cancel_();
}

bool CallReactor::RejectedForWantOfRequest(const grpc::ByteBuffer& raw) {
  if (raw.Valid()) return false;
  record_at_done_.store(true, std::memory_order_relaxed);
  Finish(ToGrpcStatus(NoRequestError()));
  return true;
}

void CallReactor::OnDone() {
  if (record_at_done_.load(std::memory_order_relaxed)) {
    // gRPC runs OnCancel, which cancels ctx_, before OnDone.
    absl::Status s = NoRequestError();
    if (call_.IsCancelled()) {
      s = core_.ContextError(ctx_);
      if (absl::IsCancelled(s) && cancel_was_deadline_.load(std::memory_order_relaxed)) {
        s = absl::DeadlineExceededError("context deadline exceeded");
      }
    }
    const bool by_client = call_.IsCancelled() && absl::IsCancelled(s);
    core_.RecordCall(method_, s, MonotonicNow() - start_, std::move(peer_), by_client);
  } else {
    absl::Status s = std::move(answered_);
    // Whether the client cancelled: gRPC ended the call, not at its
    // deadline. A CANCELLED that reached the client is a handler's own
    // (gRPC's IsCancelled is false for any status the server sent).
    bool by_client = false;
    if (call_.IsCancelled()) {
      // gRPC ended the call before our answer went out: its deadline timer
      // fired first (gRPC's timer and ours each judge the deadline on their
      // own clock), or the client cancelled while the answer was on its way.
      // The client got that, not our answer, OK or a failure alike (gRPC
      // does not count a failure we sent as cancelled); counted as a
      // Stream's OK is (StreamCall::OnDone). A status of the same code keeps
      // its words.
      if (cancel_was_deadline_.load(std::memory_order_relaxed) ||
          MonotonicNow() >= ctx_.Deadline()) {
        if (!absl::IsDeadlineExceeded(s)) {
          s = absl::DeadlineExceededError("context deadline exceeded");
        }
      } else {
        by_client = true;
        if (!absl::IsCancelled(s)) s = absl::CancelledError("context canceled");
      }
    }
    core_.RecordCall(method_, s, answered_after_, std::move(peer_), by_client);
  }
  cancel_();
  core_.CallDone();
  delete this;
}

absl::Status CallReactor::NamingTheServersDeadline(absl::Status s) const {
  // CallContext: the client's deadline, else --default_deadline, and never
  // past --max_deadline. A deadline later than the Context's was cut.
  if (!GatewayCore::DeadlineIsWhy(s, ctx_.Deadline())) return s;
  if (client_deadline_ == absl::InfiniteFuture()) {
    return absl::Status(s.code(),
                        absl::StrCat(s.message(), "; the client set no deadline, and ",
                                     "--default_deadline is ",
                                     absl::FormatDuration(core_.config().default_deadline)));
  }
  if (client_deadline_ > ctx_.Deadline()) {
    return absl::Status(
        s.code(), absl::StrCat(s.message(), "; the client's deadline was cut to --max_deadline, ",
                               absl::FormatDuration(core_.config().max_deadline)));
  }
  return s;
}

void CallReactor::RefuseRetry() { handoff::RefuseRetry(call_); }

void CallReactor::OnSendInitialMetadataDone(bool /*ok*/) {
  // Sent or not (the call ended first), the answer held for it goes now.
  // Held here: OnDone may free this reactor, and its hold, within Finish.
  const std::shared_ptr<JobStartHeaders> headers = start_headers_;
  if (headers != nullptr) headers->HeadersSent();
}

const std::shared_ptr<JobStartHeaders>& CallReactor::HeadersAtJobStart() {
  if (start_headers_ == nullptr) start_headers_ = std::make_shared<JobStartHeaders>(this);
  return start_headers_;
}

void CallReactor::Complete(absl::Status s, bool refuse_retry_if_ran_late) {
  const absl::Time now = MonotonicNow();
  s = core_.Answer(std::move(s), ctx_, now);
  if (absl::IsCancelled(s) &&
      cancel_was_deadline_.load(std::memory_order_relaxed)) {
    s = absl::DeadlineExceededError("context deadline exceeded");
  }
  if (!s.ok()) s = NamingTheServersDeadline(std::move(s));
  // Kept for OnDone, which may run (on another thread) as soon as Finish is
  // called: nothing of this reactor is touched after it.
  answered_ = std::move(s);
  answered_after_ = now - start_;
  if (start_headers_ != nullptr) {
    // Not beside a job's start sending the headers (job_start_headers.h).
    // Held here: OnDone may free this reactor, and its hold, within Finish.
    const std::shared_ptr<JobStartHeaders> headers = start_headers_;
    headers->Finish(ToGrpcStatus(answered_), [&] {
      if (refuse_retry_if_ran_late && ctx_.IsDone()) RefuseRetry();
    });
  } else {
    Finish(ToGrpcStatus(answered_));
  }
}

}  // namespace handoff
