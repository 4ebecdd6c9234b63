// Copyright 2026 The handoff Authors.
//
// GatewayCore: what every call of the Gateway service shares — the config,
// the dispatcher, the counters, the handler registry and the drain state —
// and the steps every call takes the same way: turning the gRPC deadline into
// a Context, admitting a job under --queue_policy, and counting calls in
// flight so that a drain knows when it is done.

#ifndef HANDOFF_SERVER_GATEWAY_CORE_H_
#define HANDOFF_SERVER_GATEWAY_CORE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dispatch/context.h"
#include "dispatch/dispatcher.h"
#include "grpcpp/support/status.h"
#include "server/config.h"
#include "server/handler_registry.h"
#include "server/metrics.h"
#include "server/work.h"

namespace grpc {
class CallbackServerContext;
class ServerContextBase;
}  // namespace grpc

namespace handoff {

class AccessLog;

class GatewayCore {
 public:
  // `access_log` may be null (--access_log off); it must outlive the core.
  GatewayCore(const ServerConfig& config, Dispatcher& dispatcher,
              HandlerRegistry& registry, AccessLog* access_log = nullptr);

  const ServerConfig& config() const { return config_; }
  Dispatcher& dispatcher() { return dispatcher_; }
  HandlerRegistry& registry() { return registry_; }
  Metrics& metrics() { return metrics_; }
  WorkCounters& work_counters() { return work_; }

  // The call's Context: a child of the server's root context whose deadline
  // is the client's (`client_deadline`, ClientDeadline), capped by
  // --max_deadline, or --default_deadline if the client set none. Cancel it
  // when the call is done (it frees the timer).
  std::pair<Context, CancelFunc> CallContext(absl::Time client_deadline) const;
  // For streams: the client's deadline (`client_deadline`, ClientDeadline;
  // capped) if it set one, else none; each job then gets --default_deadline
  // of its own (JobContext).
  std::pair<Context, CancelFunc> StreamContext(absl::Time client_deadline) const;
  std::pair<Context, CancelFunc> JobContext(const Context& stream) const;

  // Admits `job` under --queue_policy. If it is refused (queue full, too late,
  // server stopping, or — with policy wait — the call ended while waiting, or
  // its expected run alone is longer than its deadline allows),
  // `refused` runs once with the reason, inline or on the thread that decided.
  // Once admitted, the job's own run/on_error report the outcome.
  void Submit(Job job, absl::AnyInvocable<void(absl::Status)> refused);

  // True, and counted, if a job reached its worker after its deadline (it
  // passed just after the dispatcher's own check): such a job is not run
  // (SubmitReplyJob's throws JobNotRun, and answers it DEADLINE_EXCEEDED).
  bool StartedLate(const RunInfo& info);

  // Drain state. While draining, new calls are answered UNAVAILABLE.
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  // Done once the drain has begun: what a long-lived call (a stream) selects
  // on to wind down without waiting for the drain timeout.
  const Context& drain_signal() const { return drain_signal_; }
  void BeginDrain();
  // Blocks until no call is in flight, or until `timeout`; true if drained.
  bool AwaitIdle(absl::Duration timeout);

  // A call ended with `status` after `latency`: counted by method and code,
  // and, with --access_log, logged with `peer` (PeerForLog).
  // `cancelled_by_client`: the client cancelled the call (or went away)
  // before its answer reached it; counted and logged as the client's, apart
  // from a CANCELLED a handler answered of its own.
  void RecordCall(Method method, const absl::Status& status,
                  absl::Duration latency, std::string peer,
                  bool cancelled_by_client = false);

  // The client's address as the access log names it ("ipv4:1.2.3.4:5"),
  // empty without --access_log. Read as the call arrives: once gRPC has
  // ended a call (the client cancelled, or gRPC's deadline timer fired), it
  // names the peer "unknown", and such calls were logged without it.
  std::string PeerForLog(const grpc::ServerContextBase& call) const;

  // Every call is counted from its reactor's construction to its OnDone.
  void CallStarted() { metrics_.in_flight.fetch_add(1); }
  void CallDone();

  // Cancels the root context: every call's Context is done at once. Used when
  // the drain timeout has passed.
  void CancelAll();
  // The status for a call whose Context is done: ctx.Err(), except that a call
  // cut off by CancelAll() is UNAVAILABLE (retry elsewhere), not CANCELLED.
  absl::Status ContextError(const Context& ctx) const;

  // What a call whose outcome is `s` is answered with at `now`, given its
  // Context: the outcome, except that
  //  - an outcome at or past ctx's deadline, OK or a failure, is
  //    DEADLINE_EXCEEDED (a DEADLINE_EXCEEDED of its own keeps its words):
  //    the timer that marks the Context done may lag, and a reply that won
  //    the call's select late is one the client has stopped waiting for (its
  //    own deadline is no later: it has DEADLINE_EXCEEDED from its own
  //    timer, which is what is counted and logged), or one --max_deadline
  //    cut off;
  //  - a CANCELLED outcome of a call whose Context is done is what
  //    ContextError says: a job that saw the drain's CancelAll() and
  //    returned its Context's error, and won the select before the Context's
  //    Done() closed, is UNAVAILABLE all the same.
  absl::Status Answer(absl::Status s, const Context& ctx, absl::Time now) const;

  // The deadline the client set (gRPC's copy, which started when the headers
  // arrived), on MonotonicNow()'s clock, or InfiniteFuture if it set none.
  static absl::Time ClientDeadline(const grpc::CallbackServerContext& call);

  // Whether the client's cancel of a call that began at `start`, arriving at
  // `now`, is its deadline (`deadline`, ClientDeadline) passing. A client whose deadline passes cancels
  // the call (RST_STREAM) a little before the server's copy of that deadline
  // expires: gRPC started the server's copy when the headers arrived, after
  // the client started its own. So a cancel within a tenth of the call's time
  // of its deadline (at least 1 ms, at most 100 ms) is reported as what the
  // client saw, DEADLINE_EXCEEDED, not CANCELLED. False with no deadline:
  // --default_deadline and --max_deadline are the server's, and a client
  // cannot cancel because of them.
  static bool CancelIsDeadline(absl::Time start, absl::Time deadline,
                               absl::Time now);

  // Whether a deadline that falls at `deadline` (a Context's, on
  // MonotonicNow's clock) is why a call or job ended with `s`: a dispatcher
  // refusal judged by it (JudgedByTheDeadline), or a DEADLINE_EXCEEDED at
  // or past it. A handler's own DEADLINE_EXCEEDED, with time left, is not.
  static bool DeadlineIsWhy(const absl::Status& s, absl::Time deadline);

  // The calls', the dispatcher's, Work's and the process's figures
  // (process_metrics.h), in Prometheus text.
  std::string RenderMetrics();

 private:
  const ServerConfig config_;
  Dispatcher& dispatcher_;
  HandlerRegistry& registry_;
  Metrics metrics_;
  AccessLog* const access_log_;
  WorkCounters work_;
  Context root_;
  CancelFunc cancel_root_;
  std::atomic<bool> draining_{false};
  Context drain_signal_;
  CancelFunc begin_drain_;
  std::atomic<bool> cancelled_all_{false};
  // AwaitIdle waits on idle_; CallDone pokes it. A std::condition_variable,
  // whose timed wait runs on the steady clock: absl::Mutex's runs on the
  // wall clock, which a step would make hold or cut short the drain.
  std::mutex idle_mu_;
  std::condition_variable idle_;
};

// absl::Status and grpc::Status share their code numbers. The message is
// cut to fit a trailer (TrailerMessage); the metrics and the access log
// keep it whole.
grpc::Status ToGrpcStatus(const absl::Status& s);

}  // namespace handoff

#endif  // HANDOFF_SERVER_GATEWAY_CORE_H_
