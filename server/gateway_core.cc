// Copyright 2026 The handoff Authors.

#include "server/gateway_core.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "dispatch/clock.h"
#include "grpc/support/time.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "server/access_log.h"
#include "server/process_metrics.h"
#include "server/trailer_message.h"

namespace handoff {

GatewayCore::GatewayCore(const ServerConfig& config, Dispatcher& dispatcher,
                         HandlerRegistry& registry, AccessLog* access_log)
    : config_(config),
      dispatcher_(dispatcher),
      registry_(registry),
      access_log_(access_log) {
  std::tie(root_, cancel_root_) = WithCancel(Context::Background());
  std::tie(drain_signal_, begin_drain_) = WithCancel(Context::Background());
}

absl::Time GatewayCore::ClientDeadline(
    const grpc::CallbackServerContext& call) {
  // What is left of it, on gRPC's own clock (monotonic for a server call),
  // moved onto MonotonicNow()'s. Not deadline(), a point gRPC converts to the
  // wall clock: that would bring in whatever the wall clock did.
  const gpr_timespec raw = call.raw_deadline();
  if (gpr_time_cmp(raw, gpr_inf_future(raw.clock_type)) == 0) {
    return absl::InfiniteFuture();
  }
  const gpr_timespec left = gpr_time_sub(raw, gpr_now(raw.clock_type));
  return MonotonicNow() + absl::Seconds(left.tv_sec) +
         absl::Nanoseconds(left.tv_nsec);
}

std::pair<Context, CancelFunc> GatewayCore::CallContext(
    absl::Time client_deadline) const {
  const absl::Time now = MonotonicNow();
  absl::Time deadline = client_deadline;
  if (deadline == absl::InfiniteFuture()) {
    deadline = now + config_.default_deadline;
  }
  deadline = std::min(deadline, now + config_.max_deadline);
  return WithDeadline(root_, deadline);
}

std::pair<Context, CancelFunc> GatewayCore::StreamContext(
    absl::Time client_deadline) const {
  if (client_deadline == absl::InfiniteFuture()) return WithCancel(root_);
  return WithDeadline(root_,
                      std::min(client_deadline, MonotonicNow() + config_.max_deadline));
}

std::pair<Context, CancelFunc> GatewayCore::JobContext(
    const Context& stream) const {
  // The earlier of the stream's own deadline and --default_deadline.
  return WithTimeout(stream, config_.default_deadline);
}

void GatewayCore::Submit(Job job,
                         absl::AnyInvocable<void(absl::Status)> refused) {
  if (config_.queue_policy == QueuePolicy::kReject) {
    absl::Status s = dispatcher_.TrySubmit(std::move(job));
    if (!s.ok()) refused(std::move(s));
    return;
  }
  // No wait for room could help a job whose run alone outlasts its
  // deadline (its worker would skip it): refused at once, as under reject,
  // instead of holding a place in the queue until its deadline.
  if (absl::Status s = CheckExpectedRunFits(job); !s.ok()) {
    refused(std::move(s));
    return;
  }
  dispatcher_.AsyncSubmit(
      std::move(job), [refused = std::move(refused)](absl::Status s) mutable {
        if (!s.ok()) refused(std::move(s));
      });
}

bool GatewayCore::StartedLate(const RunInfo& info) {
  if (MonotonicNow() < info.ctx.Deadline()) return false;
  metrics_.started_after_deadline.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void GatewayCore::CancelAll() {
  cancelled_all_.store(true);
  cancel_root_();
}

absl::Status GatewayCore::ContextError(const Context& ctx) const {
  absl::Status err = ctx.Err();
  if (absl::IsCancelled(err) && cancelled_all_.load()) {
    return absl::UnavailableError(
        "server shutting down: the call outlasted --drain_timeout");
  }
  return err;
}

absl::Status GatewayCore::Answer(absl::Status s, const Context& ctx,
                                 absl::Time now) const {
  if (now >= ctx.Deadline()) {
    // Late is late, whatever the outcome: a failure as much as an OK.
    if (absl::IsDeadlineExceeded(s)) return s;
    return absl::DeadlineExceededError("context deadline exceeded");
  }
  if (absl::IsCancelled(s) && ctx.IsDone()) return ContextError(ctx);
  return s;
}

bool GatewayCore::CancelIsDeadline(absl::Time start, absl::Time deadline,
                                   absl::Time now) {
  if (deadline == absl::InfiniteFuture()) return false;
  const absl::Duration skew = std::clamp((deadline - start) / 10,
                                         absl::Milliseconds(1),
                                         absl::Milliseconds(100));
  return now >= deadline - skew;
}

bool GatewayCore::DeadlineIsWhy(const absl::Status& s, absl::Time deadline) {
  if (JudgedByTheDeadline(s)) return true;
  return absl::IsDeadlineExceeded(s) && MonotonicNow() >= deadline;
}

void GatewayCore::BeginDrain() {
  draining_.store(true, std::memory_order_seq_cst);
  begin_drain_();
}

void GatewayCore::CallDone() {
  // Once the drain has begun, AwaitIdle's return may free this core at once
  // (HandoffServer::Shutdown), and a call's last CallDone may run on a
  // thread the shutdown does not join (the deadline timer's, for a Stream's
  // watch: StreamCall::DeleteSelf). So the count is taken down under
  // idle_mu_, which AwaitIdle holds when it reads it: nothing of this core
  // is touched after the unlock.
  if (draining_.load(std::memory_order_seq_cst)) {
    std::lock_guard<std::mutex> l(idle_mu_);
    if (metrics_.in_flight.fetch_sub(1, std::memory_order_seq_cst) == 1) {
      idle_.notify_all();
    }
    return;
  }
  // seq_cst on both sides: either this decrement sees draining_ (and wakes
  // AwaitIdle), or AwaitIdle's first look at in_flight sees the decrement.
  // (A CallDone that straddles BeginDrain touches the core for a few
  // instructions after its decrement, as every CallDone did before the lock
  // above; the rest of the shutdown comes between AwaitIdle and the free.)
  if (metrics_.in_flight.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
      draining_.load(std::memory_order_seq_cst)) {
    // Under the lock, so that the wake cannot fall between AwaitIdle's look
    // at in_flight and its wait.
    std::lock_guard<std::mutex> l(idle_mu_);
    idle_.notify_all();
  }
}

bool GatewayCore::AwaitIdle(absl::Duration timeout) {
  std::unique_lock<std::mutex> l(idle_mu_);
  return idle_.wait_until(l, SteadyAfter(timeout), [this] {
    return metrics_.in_flight.load(std::memory_order_seq_cst) <= 0;
  });
}

std::string GatewayCore::RenderMetrics() {
  DispatcherStats d = dispatcher_.Stats();
  GaugeSnapshot g;
  // DispatcherStats counts the submissions waiting for room as queued (what
  // admission counts ahead); the gauges tell them apart.
  g.queued = d.queued - d.waiting;
  g.waiting = d.waiting;
  g.idle = d.idle;
  g.busy = d.busy;
  g.expired = d.expired;
  g.rejected_full = d.rejected_full;
  g.rejected_late = d.rejected_late;
  g.completed = d.completed;
  g.failed = d.failed;
  g.undeclared_job_cost = d.undeclared_job_cost;
  g.declared_job_overhead = d.declared_job_overhead;
  for (const auto& [name, handler] : registry_.Handlers()) {
    g.handler_job_cost.emplace_back(name, handler->kind->cost());
    g.handler_declared_overhead.emplace_back(
        name, handler->kind->overhead().value_or(absl::ZeroDuration()));
  }
  if (access_log_ != nullptr) g.access_log_dropped = access_log_->dropped();
  std::string text = metrics_.Render(g, RenderWorkCounters(work_));
  // A constant 1 whose label names the build: what a fleet's dashboards
  // join on to tell the versions apart during a rollout.
  text +=
      "# HELP handoff_build_info The handoffd build serving, in its labels.\n"
      "# TYPE handoff_build_info gauge\n"
      "handoff_build_info{version=\"" HANDOFF_VERSION "\"} 1\n";
  if (absl::StatusOr<ProcessStats> process = ReadProcessStats(); process.ok()) {
    text += RenderProcessMetrics(*process);
  }
  return text;
}

std::string GatewayCore::PeerForLog(const grpc::ServerContextBase& call) const {
  if (access_log_ == nullptr) return std::string();
  return call.peer();
}

void GatewayCore::RecordCall(Method method, const absl::Status& status,
                             absl::Duration latency, std::string peer,
                             bool cancelled_by_client) {
  metrics_.RecordCall(method, status.code(), latency, cancelled_by_client);
  if (access_log_ == nullptr) return;
  access_log_->Record({.time = absl::Now(),
                       .peer = std::move(peer),
                       .method = MethodName(method),
                       .code = status.code(),
                       .duration = latency,
                       .message = std::string(status.message()),
                       .cancelled_by_client = cancelled_by_client});
}

grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      TrailerMessage(s.message()));
}

}  // namespace handoff
