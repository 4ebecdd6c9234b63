// Copyright 2026 The handoff Authors.

#include "server/stream_call.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dispatch/chan.h"
#include "dispatch/clock.h"
#include "dispatch/select.h"
#include "grpc/grpc.h"
#include "server/gateway_service.h"
#include "server/proto_codec.h"
#include "server/reply_job.h"
#include "server/retry_pushback.h"
#include "server/work.h"

namespace handoff {

StreamCall::StreamCall(GatewayCore& core, grpc::CallbackServerContext* call)
    : core_(core),
      call_(call),
      peer_(core.PeerForLog(*call)),
      start_(MonotonicNow()),
      client_deadline_(GatewayCore::ClientDeadline(*call)),
      // More than the queue holds, and a stream on an idle server would
      // fill it with its own jobs and end RESOURCE_EXHAUSTED by itself.
      window_(std::min(core.config().stream_window, core.config().queue_depth)),
      gate_(std::make_shared<StartGate>()) {
  {
    absl::MutexLock g(&gate_->mu);
    gate_->call = this;
  }
  core_.CallStarted();
  std::tie(ctx_, cancel_) = core_.StreamContext(client_deadline_);
  Actions a;
  {
    absl::MutexLock l(&mu_);
    if (core_.draining()) {
      EndLocked(DrainingError());
    } else {
      reading_ = true;
      a.read = true;
    }
    ++selects_armed_;  // the watch, armed below
    ++calling_;
  }
  WatchContext(/*drain_too=*/true);
  Act(a);
}

void StreamCall::WatchContext(bool drain_too) {
  // `this` stays alive until the watch has answered (selects_armed_); it does
  // at the latest when OnDone cancels ctx_.
  if (drain_too) {
    AsyncSelect(
        handoff::OnDone(ctx_,
                        [this] { OnWatchDone(StreamError(), false); }),
        handoff::OnDone(core_.drain_signal(),
                        [this] { OnWatchDone(DrainingError(), true); }));
  } else {
    AsyncSelect(handoff::OnDone(
        ctx_, [this] { OnWatchDone(StreamError(), false); }));
  }
}

void StreamCall::OnWatchDone(absl::Status why, bool draining) {
  if (!draining) {
    if (auto* hook = hooks_for_test.context_done.load(std::memory_order_relaxed)) hook();
  }
  Actions a;
  {
    absl::MutexLock l(&mu_);
    if (draining) {
      // No message is run from now on; the pump ends the stream once the
      // replies owed are written. The stream goes on reading all the same,
      // past its window: a client whose half-close sits unread behind a full
      // window has had every reply it asked for, and must end OK, not
      // UNAVAILABLE, which tells it to go elsewhere. A message read
      // instead ends the stream UNAVAILABLE in its place (OnReadDone); it
      // never becomes a job. The Context stays watched (the watch is
      // re-armed below).
      draining_ = true;
    } else {
      --selects_armed_;
      EndLocked(std::move(why));
    }
    a = PumpLocked();
    ++calling_;
  }
  if (draining) WatchContext(/*drain_too=*/false);
  Act(a);
}

void StreamCall::OnReadDone(bool ok) {
  std::optional<v1::WorkRequest> request;
  std::shared_ptr<Slot> slot;
  Context job_ctx;
  CancelFunc job_cancel;
  Actions a;
  {
    absl::MutexLock l(&mu_);
    reading_ = false;
    if (!ok) {
      reads_done_ = true;  // half-close (or the call is over)
      half_closed_ = true;
    } else if (!end_.has_value() && !failed_) {
      // A message that was on its way as the drain began is not run, but it
      // is answered: the stream ends UNAVAILABLE in its place. One that was
      // on its way as a slot failed is not run either: the stream ends at
      // that slot, which answers for it.
      ++messages_read_;
      v1::WorkRequest parsed;
      absl::Status s = ParseMessage(in_, &parsed);
      if (s.ok()) s = ValidateWork(parsed);
      // Which of the stream's messages it was: the stream's status is all
      // its client hears of it.
      if (!s.ok()) {
        s = absl::Status(s.code(), absl::StrCat("message ", messages_read_, ": ", s.message()));
      }
      if (s.ok() && (draining_ || core_.draining())) s = DrainingError();
      if (!s.ok()) {
        EndAfterPendingLocked(std::move(s));
      } else {
        request.emplace(std::move(parsed));
        slot = std::make_shared<Slot>();
        // Made here, not in StartJob: a slot ahead that fails before
        // StartJob has run must find the job's cancel in its slot. (Safe
        // under mu_: a new Context has nothing waiting on it to call.)
        std::tie(job_ctx, job_cancel) = core_.JobContext(ctx_);
        slot->cancel = job_cancel;
        slot->deadline = job_ctx.Deadline();
        slots_.push_back(slot);
        ++selects_armed_;
      }
    }
    in_.Clear();
    a = PumpLocked();
    ++calling_;
  }
  if (request.has_value()) {
    StartJob(std::move(*request), std::move(slot), std::move(job_ctx),
             std::move(job_cancel));
  }
  Act(a);
}

void StreamCall::EndAfterPendingLocked(absl::Status status) {
  auto failed = std::make_shared<Slot>();
  failed->ready = true;
  failed->status = std::move(status);
  slots_.push_back(std::move(failed));
  reads_done_ = true;
  failed_ = true;
}

void StreamCall::StartJob(v1::WorkRequest request, std::shared_ptr<Slot> slot,
                          Context job_ctx, CancelFunc job_cancel) {
  // A job cancelled already (a slot ahead failed) is submitted all the
  // same: the dispatcher refuses it CANCELLED at once, unrun, and the
  // select below answers for its slot as for any other.
  Chan<JobAnswer> reply(1);
  // Read before the call: its arguments are evaluated in no set order (g++
  // takes them from the right), and the body's capture moves the request.
  JobCost cost = WorkCost(request, core_.work_counters());
  SubmitReplyJob<v1::WorkReply>(
      core_, job_ctx, std::move(cost),
      [req = std::move(request), counters = &core_.work_counters(), gate = gate_,
       slot](const RunInfo& info) {
        return RunWork(req, info.ctx, info.worker, info.queued, *counters,
                       [&gate, &slot] { return JobStarting(*gate, *slot); });
      },
      [reply, slot, limit = core_.config().max_message_bytes](Outcome<v1::WorkReply> out) {
        // The reply is serialised here, once, as the worker hands it on
        // (only a job's run gives an OK outcome, and it runs on a worker).
        JobAnswer answer(std::move(out.status));
        if (answer.status.ok()) {
          // A reply over --max_message_bytes fails its slot, as a failed job
          // does. Another attempt at the stream would run its jobs again
          // for the same refusal, as a unary call's would.
          answer.status = SerializeReply(out.reply, limit, &answer.reply);
          answer.refuse_retry = !answer.status.ok();
        }
        // No outcome that fails here becomes OK on its way (GatewayCore::
        // Answer).
        if (!answer.status.ok()) {
          slot->answered_failing.store(true, std::memory_order_release);
        }
        if (auto* hook = hooks_for_test.job_outcome.load(std::memory_order_relaxed)) hook();
        reply.TrySend(std::move(answer)).IgnoreError();
      });
  // `this` stays alive until every armed select has answered (selects_armed_).
  AsyncSelect(
      OnRecv(reply,
             [this, slot, job_ctx, job_cancel](std::optional<JobAnswer> o) {
               if (!o.has_value()) {
                 OnJobDone(slot, JobAnswer(absl::InternalError("reply channel closed")),
                           job_cancel);
                 return;
               }
               // As a unary call's reply: one that came at or past the job's
               // deadline is DEADLINE_EXCEEDED, and a job that returned the
               // drain's cancel before its Context's Done() closed is
               // UNAVAILABLE, not CANCELLED.
               o->status = NamingTheJobsDeadline(
                   core_.Answer(std::move(o->status), job_ctx, MonotonicNow()), job_ctx);
               // A reply over the limit that came late is DEADLINE_EXCEEDED
               // (Answer), which another attempt, given more time, may not
               // repeat: only the refusal itself refuses retry.
               if (absl::IsDeadlineExceeded(o->status)) o->refuse_retry = false;
               OnJobDone(slot, std::move(*o), job_cancel);
             }),
      handoff::OnDone(job_ctx, [this, slot, job_ctx, job_cancel] {
        OnJobDone(slot,
                  JobAnswer(NamingTheJobsDeadline(core_.ContextError(job_ctx), job_ctx)),
                  job_cancel);
      }));
}

bool StreamCall::JobStarting(StartGate& gate, const Slot& slot) {
  if (auto* hook = hooks_for_test.job_starting.load(std::memory_order_relaxed)) hook();
  StreamCall* self;
  {
    // Held while the stream is looked at: DeleteSelf takes it before the
    // delete. Once calling_ counts this thread, the stream outlives it.
    absl::MutexLock g(&gate.mu);
    self = gate.call;
    if (self == nullptr) return false;
    absl::MutexLock l(&self->mu_);
    // A job behind a failed slot is not run, though its cancel has not
    // reached it yet: its reply would never be written. Nor is one behind a
    // slot past its job's deadline, or whose job's outcome fails it, though
    // that has not reached the stream yet (its answer's callback has yet to
    // run): the slot can only fail, and its cancel of this job would come
    // after the start. Nor is one whose stream's Context is done (the client
    // cancelled, the deadline, the drain timeout's CancelAll) though the
    // watch has yet to tell the stream: the worker checked the job's Context
    // before that, and nobody will read the reply.
    if (self->end_.has_value() || self->ctx_.IsDone() || slot.behind_failure ||
        self->ASlotAheadMustFailLocked(slot)) {
      return false;
    }
    if (self->headers_decided_) return true;
    self->headers_decided_ = true;
    self->sending_headers_ = true;
    self->finish_gate_.HeadersSending();
    ++self->calling_;
  }
  // Outside the locks, as every gRPC call here: gRPC hands the reaction
  // (OnSendInitialMetadataDone) to its executor, and Finish waits for this
  // thread (calling_).
  if (auto* hook = hooks_for_test.headers_decided.load(std::memory_order_relaxed)) {
    hook(self->ctx_);
  }
  self->StartSendInitialMetadata();
  Actions a;
  {
    absl::MutexLock l(&self->mu_);
    self->sending_headers_ = false;
    a = self->PumpLocked();  // a reply may have waited for the headers
  }
  self->Act(a);
  return true;
}

bool StreamCall::ASlotAheadMustFailLocked(const Slot& slot) const {
  // At most the window's slots, under the lock JobStarting holds already;
  // the clock is read only if a job ahead is still unanswered.
  std::optional<absl::Time> now;
  for (const auto& s : slots_) {
    if (s.get() == &slot) return false;
    if (s->ready) continue;
    if (s->answered_failing.load(std::memory_order_acquire)) return true;
    if (!now.has_value()) now = MonotonicNow();
    if (*now >= s->deadline) return true;
  }
  return false;
}

absl::Status StreamCall::NamingTheJobsDeadline(absl::Status s,
                                               const Context& job_ctx) const {
  // The job's Context is the stream's with --default_deadline from the read:
  // a deadline earlier than the stream's is the job's own.
  if (!GatewayCore::DeadlineIsWhy(s, job_ctx.Deadline())) return s;
  if (job_ctx.Deadline() >= ctx_.Deadline()) return NamingTheStreamsDeadline(std::move(s));
  return absl::Status(
      s.code(), absl::StrCat(s.message(), "; each Stream job has --default_deadline, ",
                             absl::FormatDuration(core_.config().default_deadline),
                             ", of its own"));
}

absl::Status StreamCall::NamingTheStreamsDeadline(absl::Status s) const {
  // StreamContext: the client's deadline, never past --max_deadline.
  if (client_deadline_ <= ctx_.Deadline() || !GatewayCore::DeadlineIsWhy(s, ctx_.Deadline())) {
    return s;
  }
  return absl::Status(
      s.code(), absl::StrCat(s.message(), "; the client's deadline was cut to --max_deadline, ",
                             absl::FormatDuration(core_.config().max_deadline)));
}

absl::Status StreamCall::StreamError() const {
  return NamingTheStreamsDeadline(core_.ContextError(ctx_));
}

void StreamCall::OnJobDone(const std::shared_ptr<Slot>& slot, JobAnswer answer,
                           const CancelFunc& job_cancel) {
  if (auto* hook = hooks_for_test.job_answered.load(std::memory_order_relaxed)) hook();
  job_cancel();  // frees the job's deadline timer
  Actions a;
  std::vector<CancelFunc> after;
  const bool failed = !answer.status.ok();
  {
    absl::MutexLock l(&mu_);
    slot->ready = true;
    slot->status = std::move(answer.status);
    slot->reply.Swap(&answer.reply);
    slot->refuse_retry = answer.refuse_retry;
    slot->cancel = CancelFunc();  // its job is over
    if (!slot->status.ok()) {
      // The stream will end at this slot, however long the jobs ahead of it
      // still run: a message read from now on would run a job whose reply
      // is never written, and so would the jobs after it, queued or running.
      failed_ = true;
      reads_done_ = true;
      after = JobsAfterLocked(slot.get());
    }
    --selects_armed_;
    a = PumpLocked();
    ++calling_;
  }
  if (failed) {
    if (auto* hook = hooks_for_test.slot_failed.load(std::memory_order_relaxed)) hook();
  }
  // Each answers its slot (CANCELLED, behind this one: never written).
  for (const CancelFunc& cancel : after) cancel();
  Act(a);
}

std::vector<CancelFunc> StreamCall::JobsAfterLocked(const Slot* slot) {
  std::vector<CancelFunc> out;
  auto at = std::find_if(slots_.begin(), slots_.end(),
                         [slot](const auto& s) { return s.get() == slot; });
  if (at == slots_.end()) return out;  // cannot be: it is not written yet
  // Last first: a cancelled running job frees its worker, which would take
  // the next queued job; the jobs queued behind it are later ones, cancelled
  // by then, so none of them starts. Nor, as a rule, does the failed job's
  // own worker take one first: the thread that failed it (the worker with
  // its reply, the dispatcher dropping it, the Context's canceller waking
  // its Work's wait) runs this select's callback, and so these cancels,
  // before it goes on. A worker that takes one of them between this and
  // its cancel (another worker, or the failed job's own if it polls its
  // Context, as Work's CPU loop does, and returns before the callback has
  // run) finds its slot behind_failure as the job starts, and drops it
  // unrun (JobStarting). So does one a worker takes before the failure is
  // decided here, if this slot's job had passed its deadline or its outcome
  // was on its way (JobStarting sees that for itself); one that starts
  // earlier than that runs, and its cancel stops it.
  for (auto it = slots_.end(); --it != at;) {
    Slot& s = **it;
    if (s.ready) continue;
    s.behind_failure = true;
    out.push_back(std::move(s.cancel));
    s.cancel = CancelFunc();
  }
  return out;
}

void StreamCall::OnWriteDone(bool ok) {
  Actions a;
  {
    absl::MutexLock l(&mu_);
    writing_ = false;
    if (!ok) {
      // gRPC ended the call, and this may be the first the stream hears of
      // it: OnCancel, which comes too, may come after. So the reason is
      // decided here by OnCancel's rules (a deadline that has passed, or
      // nearly, is the reason), or the stream's Context's, if it is done.
      NoteCancelIfDeadline();
      NoteClientCancelLocked();
      EndLocked(ctx_.IsDone() ? StreamError()
                              : absl::CancelledError("context canceled"));
    }
    a = PumpLocked();
    ++calling_;
  }
  Act(a);
}

void StreamCall::OnCancel() {
  // Every pending job's select answers CANCELLED. Past the stream's deadline
  // gRPC's cancel is that deadline, whether or not the timer (which may lag)
  // has marked it yet. Before cancel_(): the watch it fires ends the stream
  // through EndLocked, which reads this.
  NoteCancelIfDeadline();
  {
    absl::MutexLock l(&mu_);
    NoteClientCancelLocked();
  }
  cancel_();
  Actions a;
  {
    absl::MutexLock l(&mu_);
    // ContextError, not Err: a stream the drain timeout cut off is
    // UNAVAILABLE, whichever of gRPC and the Context watch reports first.
    EndLocked(StreamError());
    ++calling_;
  }
  Act(a);
}

void StreamCall::OnSendInitialMetadataDone(bool /*ok*/) {
  // Out, or not (the call ended first): a Finish held for them is due now.
  // gRPC calls OnDone only after this, so the reactor is alive.
  {
    absl::MutexLock l(&mu_);
    finish_gate_.HeadersDone();
    ++calling_;
  }
  Act(Actions());
}

void StreamCall::OnDone() {
  // Counted before done_ is set: from then on, another thread may delete
  // this. A stream we finished OK but gRPC had already ended (the client went
  // away, or a message broke a gRPC limit) never told the client OK.
  absl::StatusCode code;
  absl::Status status;  // the status decided, for the access log's message
  bool aborted;
  bool cancelled_by_client;
  {
    absl::MutexLock l(&mu_);
    code = finished_code_;
    if (end_.has_value()) status = *end_;
    aborted = aborted_;
    cancelled_by_client = cancelled_by_client_;
  }
  if (code == absl::StatusCode::kOk && call_->IsCancelled()) {
    code = cancel_was_deadline_.load(std::memory_order_relaxed)
               ? absl::StatusCode::kDeadlineExceeded
               : absl::StatusCode::kCancelled;
  }
  if (status.code() != code) {
    // gRPC ended the call (the client cancelled, or its deadline passed),
    // in the words a Context would use.
    status = absl::Status(code, code == absl::StatusCode::kDeadlineExceeded
                                    ? "context deadline exceeded"
                                    : code == absl::StatusCode::kCancelled
                                          ? "context canceled"
                                          : "");
  }
  // The client's cancel: gRPC ended the stream, not at its deadline and not
  // at our own abort (Act), and it ended CANCELLED. A cancel that came first
  // counts though we aborted after it, to end a write it held.
  const bool by_client =
      code == absl::StatusCode::kCancelled &&
      (cancelled_by_client || (call_->IsCancelled() && !aborted));
  core_.RecordCall(Method::kStream, status, MonotonicNow() - start_, std::move(peer_),
                   by_client);
  cancel_();  // answers the watch, if it has not answered yet
  bool last;
  {
    absl::MutexLock l(&mu_);
    done_ = true;
    last = selects_armed_ == 0 && calling_ == 0;
  }
  if (last) DeleteSelf();
}

void StreamCall::DeleteSelf() {
  // The call stops counting as in flight only now, not at OnDone: a select
  // that was claimed before OnDone may still be about to run its callback,
  // which reads core_, and a drain that saw no call in flight may go on to
  // free core_.
  GatewayCore& core = core_;
  {
    // A job that starts from now on finds no stream (JobStarting).
    absl::MutexLock g(&gate_->mu);
    gate_->call = nullptr;
  }
  delete this;
  core.CallDone();
}

void StreamCall::NoteCancelIfDeadline() {
  const absl::Time now = MonotonicNow();
  // Only ever set: OnCancel and a failed write may both judge, on two
  // threads, and a later judgement must not undo an earlier one.
  if (now >= ctx_.Deadline() ||
      GatewayCore::CancelIsDeadline(start_, GatewayCore::ClientDeadline(*call_), now)) {
    cancel_was_deadline_.store(true, std::memory_order_relaxed);
  }
}

void StreamCall::NoteClientCancelLocked() {
  // After an abort of ours, gRPC's cancel is that abort's.
  if (!aborted_ && !cancel_was_deadline_.load(std::memory_order_relaxed)) {
    cancelled_by_client_ = true;
  }
}

void StreamCall::EndLocked(absl::Status status) {
  if (end_.has_value()) return;
  if (absl::IsCancelled(status) &&
      cancel_was_deadline_.load(std::memory_order_relaxed)) {
    status = absl::DeadlineExceededError("context deadline exceeded");
  }
  end_ = std::move(status);
}

StreamCall::Actions StreamCall::PumpLocked() {
  Actions a;
  if (end_.has_value()) return a;
  // Writer: the head slot, once filled, in request order.
  if (!writing_ && !sending_headers_ && !slots_.empty() && slots_.front()->ready) {
    std::shared_ptr<Slot> head = std::move(slots_.front());
    slots_.pop_front();
    if (!head->status.ok()) {
      refuse_retry_ = head->refuse_retry;
      EndLocked(std::move(head->status));
      return a;
    }
    // A swap, not a move: gRPC 1.51's ByteBuffer has no move, and its copy
    // allocates.
    out_.Swap(&head->reply);
    writing_ = true;
    headers_decided_ = true;  // they go with the write
    a.write = true;
  }
  if ((reads_done_ || draining_) && slots_.empty() && !writing_ && !a.write) {
    // A client that closed its side has every reply it asked for, even if
    // the drain began meanwhile.
    if (ctx_.IsDone()) {
      EndLocked(StreamError());
    } else if (MonotonicNow() >= ctx_.Deadline()) {
      // Past the deadline, though the timer thread has not yet marked the
      // Context: the client is answered what a unary call's late reply is.
      EndLocked(NamingTheStreamsDeadline(
          absl::DeadlineExceededError("context deadline exceeded")));
    } else if (draining_ && !half_closed_) {
      EndLocked(DrainingError());
    } else {
      EndLocked(absl::OkStatus());
    }
    return a;
  }
  // Reader: keep one read in flight while the window has room; while
  // draining, whatever the window, to hear a half-close (OnWatchDone).
  if (!reading_ && !reads_done_ &&
      (static_cast<int>(slots_.size()) < window_ || draining_)) {
    reading_ = true;
    a.read = true;
  }
  return a;
}

void StreamCall::Act(Actions a) {
  if (a.write) StartWrite(&out_);
  if (a.read) StartRead(&in_);
  std::optional<absl::Status> abort;
  std::optional<absl::Status> finish;
  bool refuse_retry = false;
  bool last = false;
  {
    absl::MutexLock l(&mu_);
    if (end_.has_value() && !end_->ok() && writing_ && !aborted_) {
      // The stream must end, but Finish waits for the write in flight, and
      // HTTP/2 flow control holds that write for as long as the client does
      // not read: the deadline or the drain timeout would not end the call.
      // So gRPC ends it now, with the stream's status; the write fails and
      // Finish follows. This thread stays counted in calling_ meanwhile, so
      // the reactor outlives the call.
      aborted_ = true;
      abort = *end_;
    } else {
      --calling_;
      if (end_.has_value() && !writing_ && calling_ == 0 && finish_gate_.TakeFinish()) {
        finished_code_ = end_->code();
        finish = *end_;
        refuse_retry = refuse_retry_;
      }
      last = done_ && selects_armed_ == 0 && calling_ == 0;
    }
  }
  if (abort.has_value()) {
    cancel_();  // stops the jobs still pending
    grpc_call_cancel_with_status(
        call_->c_call(), static_cast<grpc_status_code>(abort->code()),
        std::string(abort->message()).c_str(), nullptr);
    Act(Actions());
    return;
  }
  if (finish.has_value()) {
    cancel_();  // stops the jobs still pending: nobody will read them
    if (refuse_retry) RefuseRetry(*call_);
    Finish(ToGrpcStatus(*finish));
  }
  if (last) DeleteSelf();
}

}  // namespace handoff
