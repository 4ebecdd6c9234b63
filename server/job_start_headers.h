// Copyright 2026 The handoff Authors.
//
// JobStartHeaders: sends a unary call's initial metadata (its response
// headers) the moment the call's job starts on a worker, and so commits the
// call: gRPC's retry (gRFC A6) never makes a call again once the client has
// the server's headers. Until then a call whose handoffd went away under it
// (killed, its connection lost) or that ended in a code the client's policy
// retries was made again, and a job that had run ran a second time. A job
// refused or dropped before it starts sends none: it never ran, and the
// call may be made again elsewhere.
//
// One per call whose job has effects that a second run would repeat (Work,
// Batch, Call; not Echo, whose path gains nothing of this), shared by the
// call's reactor and its jobs: a job may reach a worker after its call has
// been answered and freed.
//
// gRPC's reactor is not safe for StartSendInitialMetadata and Finish on two
// threads at once, and a job starts on a worker while the call may be
// finished on a timer's, gRPC's or another worker's thread. Nor may either be
// called under a lock the other takes: gRPC may run a reaction (OnCancel,
// which answers the call) inline, on the thread that sends the headers. So
// the call's answer goes through Finish here: at once, unless a job's start
// has sent the headers and gRPC has not yet said they are out (HeadersSent),
// in which case HeadersSent calls Finish. A job that starts once the call has been
// answered sends nothing and is not run (its answer would reach nobody, and
// the client, told something else, may make the call again).
//
// The two gRPC calls go through SendHeaders and FinishCall, virtual so that
// a test can see when each is made (the reactor's are not virtual, and an
// unbound reactor keeps what it is given): the hold cannot be timed from
// outside (job_start_headers_test.cc drives it event by event). That costs
// an indirect call in place of each direct one, on the calls that have a
// JobStartHeaders (not Echo), and no allocation.

#ifndef HANDOFF_SERVER_JOB_START_HEADERS_H_
#define HANDOFF_SERVER_JOB_START_HEADERS_H_

#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"

namespace handoff {

class JobStartHeaders {
 public:
  explicit JobStartHeaders(grpc::ServerUnaryReactor* call) : call_(call) {}
  virtual ~JobStartHeaders() = default;

  // On the worker, as one of the call's jobs starts (after every check that
  // keeps a job unrun): sends the headers, if no job of the call has yet.
  // False if the call has been answered: the job must not run.
  bool JobStarting();

  // From the reactor's OnSendInitialMetadataDone: gRPC has taken the
  // headers. An answer given before this is held until now: finished at
  // once, a fast job's answer could leave with the headers in one
  // trailers-only response, which gRPC's retry treats as no headers at all,
  // and the call was made again (a handler that answered RESOURCE_EXHAUSTED
  // at once ran twice for one call, 1 run in 15 with both cores busy; none
  // in 40 since). That the headers are framed on their own by then rests on
  // chttp2's writer (gRPC's source, not its documentation; read in the
  // installed 1.51.1 callback headers and in chttp2 sources of that era,
  // not in the 1.51.1 tag itself): the reaction runs on the batch's
  // on_complete (server_callback_handlers.h, SendInitialMetadata's
  // meta_tag_), which the transport completes only where its writer takes
  // the headers (writing.cc, StreamWriteContext::FlushInitialMetadata;
  // marked to run once that write has been handed to the socket:
  // chttp2_transport.cc, CLOSURE_BARRIER_MAY_COVER_WRITE), or with an
  // error if the stream closed first. The writer folds the headers into a
  // trailers-only response only if the status is already queued beside
  // them then, which this wait rules out. gRPC's filters between the call
  // and the transport were not read for this.
  void HeadersSent();

  // In place of the reactor's Finish, on the thread that answers the call:
  // no job starts from now on, and the call is finished with `status`, now
  // or, if headers are on their way, at HeadersSent. `if_started` runs first
  // if one of the call's jobs has started, at the moment that becomes final:
  // for what only a started call's answer carries (a trailer: it must not
  // call into the reactor), decided with no job able to start between the
  // decision and the answer.
  void Finish(grpc::Status status, absl::FunctionRef<void()> if_started = [] {});

  // Whether one of the call's jobs has started.
  bool started() const;

 private:
  // The reactor's StartSendInitialMetadata and Finish; each called with no
  // lock held.
  virtual void SendHeaders();
  virtual void FinishCall(grpc::Status status);

  grpc::ServerUnaryReactor* const call_;
  mutable absl::Mutex mu_;
  bool answered_ ABSL_GUARDED_BY(mu_) = false;  // Finish was called here
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool sending_ ABSL_GUARDED_BY(mu_) = false;  // started, not yet HeadersSent
  // The answer that waits for the headers to be sent.
  std::optional<grpc::Status> finish_ ABSL_GUARDED_BY(mu_);
};

}  // namespace handoff

#endif  // HANDOFF_SERVER_JOB_START_HEADERS_H_
