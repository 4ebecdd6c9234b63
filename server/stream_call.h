// Copyright 2026 The handoff Authors.
//
// StreamCall: the reactor of one Stream call (bidirectional).
//
// Each inbound WorkRequest becomes a Work job; the replies go back in request
// order, through a queue of slots: a job's reply fills its slot, and the
// writer sends the head slot as soon as it is filled (one write in flight at
// a time, as gRPC requires). At most --stream_window jobs (and never more
// than --queue_depth) are pending per stream: with that many, the reactor
// stops reading, so HTTP/2 flow control pushes back on the client
// (backpressure) instead of the queue growing.
//
// The stream ends, in request order, at the first slot that failed: a job's
// error, or a message that could not become a job (bytes that do not parse:
// INTERNAL; a field out of range: INVALID_ARGUMENT; the server draining:
// UNAVAILABLE). Replies before it are written first, and the jobs ahead of
// it run on (or their replies wait for the client to read) as long as they
// must. Nothing after it is read from the moment it fails, and the jobs
// after it are cancelled then, queued or running, since their replies will
// never be written: a queued one is dropped unrun (as is one a worker takes
// in the moment before its cancel reaches it, or once the deadline of a
// job ahead has passed, before the stream has heard of that job's end),
// a running one is told to
// stop through its Context. Their cancel is not the stream's status, which
// stays the failed slot's. Messages are parsed here, not by gRPC, for the
// reason proto_codec.h gives (and because gRPC's failed parse looks like the
// client closing).
//
// The stream's Context has the client's deadline, capped by --max_deadline
// (none if the client set none); each job also gets --default_deadline of
// its own. The stream watches its Context: when it is done (deadline, the
// client cancelling, or the drain timeout's CancelAll) the stream ends at
// once with that status, and its pending jobs are stopped. When the server
// begins to drain, the stream runs no message more and ends UNAVAILABLE as
// soon as the replies it owes are written, so an idle stream does not hold
// the drain until its timeout; OK if by then it has read the client's
// half-close. To hear that, it reads on, past its window if need be: a
// message read instead is not run, and the stream ends UNAVAILABLE in its
// place.
//
// Threads: gRPC reactions (OnReadDone, OnWriteDone, OnCancel), job replies
// and the Context watch (AsyncSelect callbacks, on worker or timer threads)
// all change the state under one mutex, decide what to do, and then call
// gRPC with the mutex released — a gRPC operation may run its reaction
// inline, which must not find the mutex held. Finish is called only when no
// write is in flight and no other thread is between a decision and its gRPC
// call, so nothing is started after it. A stream that must end while a write
// is in flight (its Context is done) does not wait for the client to read:
// the call is cancelled in gRPC with the stream's status, which fails the
// write. The reactor deletes itself once gRPC has called OnDone and every
// select it armed has answered; only then does the call stop counting as in
// flight (a drain waits for it).
//
// The stream's headers go out with its first reply, or, if a job starts
// before then, at that job's start (a job that starts once the stream has
// decided its end, or once its Context is done, sends none, and is not run): gRPC's retry (gRFC A6) makes
// no call again once the client has the headers, so a stream whose jobs have
// begun to run is not made again, with them, elsewhere. They are sent as a
// write is, decided under the mutex (no write starts while they are being
// sent) by a thread counted in calling_. A write may follow as soon as they
// are handed to gRPC, which keeps the order; Finish waits longer, until gRPC
// says they are out (OnSendInitialMetadataDone; finish_after_headers.h):
// finished beside them, a stream whose first job failed at once could leave
// as one trailers-only response, which gRPC's retry takes for no headers,
// and the stream, its job run, was made again (job_start_headers.h says why
// the wait suffices).
//
// The call is counted in handoff_calls_total at OnDone, with the status it
// was finished with; one finished OK that gRPC had already ended (the client
// went away, or a message broke a gRPC limit) is counted CANCELLED, since
// the client never saw the OK.

#ifndef HANDOFF_SERVER_STREAM_CALL_H_
#define HANDOFF_SERVER_STREAM_CALL_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "dispatch/context.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "handoff/v1/gateway.pb.h"
#include "server/gateway_core.h"
#include "server/finish_after_headers.h"

namespace handoff {

class StreamCall final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamCall(GatewayCore& core, grpc::CallbackServerContext* call);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;
  void OnSendInitialMetadataDone(bool ok) override;

  // For tests only: moments a test may need to hold, each hook null
  // otherwise, and called with no lock held.
  struct TestHooks {
    // By the thread that failed a slot, once the failure is decided and
    // before the jobs after it are cancelled — the moment a worker may take
    // one of them. A test may make a worker free then, and wait for what it
    // does.
    std::atomic<void (*)()> slot_failed{nullptr};
    // As a job's slot is answered (OnJobDone), before the stream looks at
    // the answer: a test may hold the moment between a job's end (its
    // deadline passed) and the stream's deciding of it, and have a worker
    // take a job then.
    std::atomic<void (*)()> job_answered{nullptr};
    // As a job's outcome is handed on to the stream (after noting whether
    // it fails the slot, before the send): by its worker, or, for a job the
    // dispatcher refuses at once (a full queue), on the thread that read
    // its message, before that thread arms the job's select.
    std::atomic<void (*)()> job_outcome{nullptr};
    // By a job's worker once it has decided to send the stream's headers,
    // and before it hands them to gRPC, with the stream's Context: a test
    // may end the call in gRPC then, so that the headers never go out.
    std::atomic<void (*)(const Context&)> headers_decided{nullptr};
    // By a job's worker as the job is about to start (JobStarting), past the
    // worker's check of the job's Context and before the stream looks at
    // it: a test may end the stream's Context then.
    std::atomic<void (*)()> job_starting{nullptr};
    // By the thread that cancelled the stream's Context (its watch's
    // callback, OnWatchDone) once the Context is done and before the stream
    // hears of it: a test may hold that moment while a worker starts a job.
    std::atomic<void (*)()> context_done{nullptr};
  };
  static TestHooks hooks_for_test;  // defined below the class

 private:
  // A job's outcome as its worker hands it on to the stream: the reply
  // already serialised there, once (SerializeReply sizes it and refuses one
  // over --max_message_bytes), so the thread that answers the slot only
  // takes it. Moved by swapping the buffer: grpc::ByteBuffer has no move,
  // and its copy allocates.
  struct JobAnswer {
    absl::Status status;
    grpc::ByteBuffer reply;  // set only if `status` is OK
    // `status` is SerializeReply's refusal, which another attempt would
    // only repeat (Slot::refuse_retry).
    bool refuse_retry = false;

    JobAnswer() = default;
    explicit JobAnswer(absl::Status s) : status(std::move(s)) {}
    JobAnswer(JobAnswer&& o) noexcept
        : status(std::move(o.status)), refuse_retry(o.refuse_retry) {
      reply.Swap(&o.reply);
    }
    JobAnswer& operator=(JobAnswer&& o) noexcept {
      status = std::move(o.status);
      reply.Swap(&o.reply);
      refuse_retry = o.refuse_retry;
      return *this;
    }
  };

  struct Slot {
    bool ready = false;
    absl::Status status;
    grpc::ByteBuffer reply;  // serialised by the job's worker (JobAnswer)
    // Its status is a refusal another attempt would only repeat (a reply
    // over the limit): should the stream end with it, it ends with the
    // retry pushback.
    bool refuse_retry = false;
    // Cancels the slot's job (none for a slot a message failed): made with
    // the slot, under mu_, so that a slot ahead that fails finds it.
    CancelFunc cancel;
    // A slot ahead failed (JobsAfterLocked), so this one's reply will never
    // be written: its job, if it has not started, must not (JobStarting).
    // Its cancel, called a moment later, is no help to a job a worker took
    // in that moment, past the worker's check of its Context.
    bool behind_failure = false;
    // Its job's deadline (its Context's): once it has passed, the slot can
    // only fail (GatewayCore::Answer makes any answer past it
    // DEADLINE_EXCEEDED), though the stream may not have heard yet, so no
    // job behind it must start (JobStarting).
    absl::Time deadline = absl::InfiniteFuture();
    // Its job's outcome, on its way to the stream, is one that fails the
    // slot (an error, or a reply over --max_message_bytes): set by the job's
    // worker, without mu_, before the outcome is handed on, so that no job
    // behind it starts (JobStarting) in the moment before the stream hears.
    std::atomic<bool> answered_failing{false};
  };
  // What a state change decided to do with gRPC, done after unlocking.
  struct Actions {
    bool read = false;
    bool write = false;
  };

  // What a job holds of its stream, to send the headers as it starts: the
  // stream, until it is deleted (a job may start after that).
  struct StartGate {
    absl::Mutex mu;
    StreamCall* call ABSL_GUARDED_BY(mu) = nullptr;
  };
  // On the worker, as `slot`'s job starts: sends the headers if none have
  // gone out. False if the stream is gone or has decided its end, or its
  // Context is done (the stream may not have heard yet), or a slot
  // ahead of `slot` failed or can only fail (its job's deadline has passed,
  // or its job's outcome fails it, though that has not reached the stream
  // yet): the job must not run.
  static bool JobStarting(StartGate& gate, const Slot& slot);
  // Under mu_: a slot ahead of `slot`, its job not answered, is past its
  // job's deadline or its job's outcome fails it, so the stream will end
  // there.
  bool ASlotAheadMustFailLocked(const Slot& slot) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void StartJob(v1::WorkRequest request, std::shared_ptr<Slot> slot,
                Context job_ctx, CancelFunc job_cancel);
  // A job's DEADLINE_EXCEEDED, saying so if the deadline was the job's own
  // (--default_deadline from its read), not the stream's: a client whose
  // stream had a longer deadline was told only that "the deadline" passed.
  absl::Status NamingTheJobsDeadline(absl::Status s, const Context& job_ctx) const;
  // A DEADLINE_EXCEEDED of the stream's own deadline, saying so if that was
  // the client's cut to --max_deadline.
  absl::Status NamingTheStreamsDeadline(absl::Status s) const;
  // The stream's status once its Context is done: ContextError, named so.
  absl::Status StreamError() const;
  // Answers `slot` with `answer` (its status as the stream names it).
  void OnJobDone(const std::shared_ptr<Slot>& slot, JobAnswer answer,
                 const CancelFunc& job_cancel);
  // Arms the watch on the stream's Context (and, until it fires, on the
  // server's drain signal).
  void WatchContext(bool drain_too);
  void OnWatchDone(absl::Status why, bool draining);

  // Under mu_: a message that will not become a job ends the stream, after
  // the replies ahead of it; nothing more is read.
  void EndAfterPendingLocked(absl::Status status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Under mu_: `slot` failed, so the stream ends there and no job after it
  // will have its reply written. Returns the cancels of those jobs, last
  // first, to be called with mu_ released (a cancel runs the job's select
  // callback inline, which takes mu_).
  std::vector<CancelFunc> JobsAfterLocked(const Slot* slot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Under mu_: advance the writer and the reader; returns what to start.
  Actions PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndLocked(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // gRPC ended the call (OnCancel, or a write that failed): sets
  // cancel_was_deadline_ if that was a deadline passing.
  void NoteCancelIfDeadline();
  // Then, after NoteCancelIfDeadline: sets cancelled_by_client_ if the cancel
  // was the client's.
  void NoteClientCancelLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ released (and calling_ counted): performs `a`, then finishes or
  // deletes the reactor if that is now due.
  void Act(Actions a);
  // Deletes the reactor, and only then counts the call done.
  void DeleteSelf();

  GatewayCore& core_;
  grpc::CallbackServerContext* const call_;
  std::string peer_;  // GatewayCore::PeerForLog, as the call arrived
  const absl::Time start_;
  const absl::Time client_deadline_;  // GatewayCore::ClientDeadline
  // Jobs pending at most: --stream_window, and never more than --queue_depth.
  const int window_;
  Context ctx_;
  CancelFunc cancel_;
  // gRPC's cancel was a deadline passing (the client's, GatewayCore::
  // CancelIsDeadline, or ctx_'s before its timer marked it): EndLocked and
  // OnDone report CANCELLED as DEADLINE_EXCEEDED.
  std::atomic<bool> cancel_was_deadline_{false};
  const std::shared_ptr<StartGate> gate_;
  grpc::ByteBuffer in_;   // owned by the one read in flight
  grpc::ByteBuffer out_;  // owned by the one write in flight

  absl::Mutex mu_;
  std::deque<std::shared_ptr<Slot>> slots_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = false;     // a read in flight
  // Messages read so far: a message that will not become a job is named
  // by its number in the stream's status.
  int64_t messages_read_ ABSL_GUARDED_BY(mu_) = 0;
  // Nothing more is read: the client half-closed, or a slot failed (a
  // message read during the drain is one).
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool half_closed_ ABSL_GUARDED_BY(mu_) = false;  // the client's doing
  // A slot failed, a job or a message: the stream ends there, so nothing
  // more is read, and a message already on its way is not run.
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;     // the drain signal fired
  bool writing_ ABSL_GUARDED_BY(mu_) = false;     // a write in flight
  // The headers are decided: with the first write, or at a job's start.
  bool headers_decided_ ABSL_GUARDED_BY(mu_) = false;
  // A job's start is sending them: no write starts until it has.
  bool sending_headers_ ABSL_GUARDED_BY(mu_) = false;
  // Holds Finish while the headers a job's start sent are in flight (until
  // OnSendInitialMetadataDone), and lets it through once.
  FinishAfterHeaders finish_gate_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> end_ ABSL_GUARDED_BY(mu_);  // decided status
  // end_ came from a slot that refuses retry: Finish carries the pushback.
  bool refuse_retry_ ABSL_GUARDED_BY(mu_) = false;
  // The call was ended in gRPC while a write was in flight (Act).
  bool aborted_ ABSL_GUARDED_BY(mu_) = false;
  // gRPC ended the call before any abort of ours, and not at its deadline:
  // the client cancelled (OnCancel, or a write gRPC failed first). What
  // OnDone counts it by, where an abort of ours that followed the cancel
  // (a write held by flow control) would hide it.
  bool cancelled_by_client_ ABSL_GUARDED_BY(mu_) = false;
  absl::StatusCode finished_code_ ABSL_GUARDED_BY(mu_) =
      absl::StatusCode::kUnknown;
  bool done_ ABSL_GUARDED_BY(mu_) = false;        // OnDone called
  int calling_ ABSL_GUARDED_BY(mu_) = 0;  // threads between decision and call
  int selects_armed_ ABSL_GUARDED_BY(mu_) = 0;  // not yet answered
};

// Out of the class: the hooks' initialisers are not usable before its end.
inline StreamCall::TestHooks StreamCall::hooks_for_test;

}  // namespace handoff

#endif  // HANDOFF_SERVER_STREAM_CALL_H_
