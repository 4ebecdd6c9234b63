// Copyright 2026 The handoff Authors.
//
// StreamCall: the reactor of one Stream call (bidirectional).
//
// Each inbound WorkRequest becomes a Work job; the replies go back in request
// order, through a queue of slots: a job's reply fills its slot, and the
// writer sends the head slot as soon as it is filled (one write in flight at
// a time, as gRPC requires). At most --stream_window jobs are pending per
// stream: with that many, the reactor stops reading, so HTTP/2 flow control
// pushes back on the client (backpressure) instead of the queue growing.
//
// The first job that fails ends the stream with its status (earlier replies
// have been written). The stream's Context has the client's deadline, capped
// by --max_deadline (none if the client set none); each job also gets
// --default_deadline of its own. OnCancel cancels the stream's Context, which
// stops every pending job.
//
// Threads: gRPC reactions (OnReadDone, OnWriteDone, OnCancel) and job
// replies (AsyncSelect callbacks, on worker or timer threads) all change the
// state under one mutex, decide what to do, and then call gRPC with the
// mutex released — a gRPC operation may run its reaction inline, which must
// not find the mutex held. Finish is called only when no write is in flight
// and no other thread is between a decision and its gRPC call, so nothing is
// started after it. The reactor deletes itself once gRPC has called OnDone and
// every job it armed a select for has answered.

#ifndef HANDOFF_SERVER_STREAM_CALL_H_
#define HANDOFF_SERVER_STREAM_CALL_H_

#include <deque>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "dispatch/context.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "handoff/v1/gateway.pb.h"
#include "server/gateway_core.h"

namespace handoff {

class StreamCall final
    : public grpc::ServerBidiReactor<v1::WorkRequest, v1::WorkReply> {
 public:
  StreamCall(GatewayCore& core, grpc::CallbackServerContext* call);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  struct Slot {
    bool ready = false;
    absl::Status status;
    v1::WorkReply reply;
  };
  // What a state change decided to do with gRPC, done after unlocking.
  struct Actions {
    bool read = false;
    bool write = false;
  };

  void StartJob(v1::WorkRequest request, std::shared_ptr<Slot> slot);
  void OnJobDone(const std::shared_ptr<Slot>& slot, absl::Status status,
                 v1::WorkReply reply, const CancelFunc& job_cancel);

  // Under mu_: advance the writer and the reader; returns what to start.
  Actions PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndLocked(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // With mu_ released (and calling_ counted): performs `a`, then finishes or
  // deletes the reactor if that is now due.
  void Act(Actions a);

  GatewayCore& core_;
  const absl::Time start_;
  Context ctx_;
  CancelFunc cancel_;
  v1::WorkRequest in_;   // owned by the one read in flight
  v1::WorkReply out_;    // owned by the one write in flight

  absl::Mutex mu_;
  std::deque<std::shared_ptr<Slot>> slots_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = false;     // a read in flight
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;  // client half-closed
  bool writing_ ABSL_GUARDED_BY(mu_) = false;     // a write in flight
  std::optional<absl::Status> end_ ABSL_GUARDED_BY(mu_);  // decided status
  bool finished_ ABSL_GUARDED_BY(mu_) = false;    // Finish called
  bool done_ ABSL_GUARDED_BY(mu_) = false;        // OnDone called
  int calling_ ABSL_GUARDED_BY(mu_) = 0;  // threads between decision and call
  int jobs_armed_ ABSL_GUARDED_BY(mu_) = 0;  // selects not yet answered
};

}  // namespace handoff

#endif  // HANDOFF_SERVER_STREAM_CALL_H_
