// Copyright 2026 The handoff Authors.
//
// Metrics: the server's counters, and their Prometheus text exposition.
//
// Recording is lock-free (relaxed atomics on fixed arrays indexed by method
// and status code), because it happens on every call; rendering walks the
// arrays and is only as consistent as a scrape needs to be.
//
// Exposed (all prefixed handoff_):
//   calls_total{method,code}                  counter, every code of every
//                                             method from the start (at 0)
//   calls_cancelled_by_client_total{method}   counter: of calls_total's
//                                             CANCELLED, those the client
//                                             cancelled (not a handler's own)
//   call_duration_seconds{method} histogram   buckets 100us .. 10s
//   calls_in_flight                           gauge: accepted, not yet done
//   queue_depth, workers_idle, workers_busy   gauges, from the dispatcher
//   queue_waiters                             gauge, from the dispatcher:
//                                             calls waiting for room in the
//                                             queue (--queue_policy=wait),
//                                             not in queue_depth
//   jobs_expired_in_queue_total               counter, from the dispatcher
//   jobs_rejected_total{reason}               counter, from the dispatcher:
//                                             queue_full or deadline (the
//                                             RESOURCE_EXHAUSTED refusals;
//                                             a deadline shorter than the
//                                             expected run alone is not one)
//   jobs_completed_total                      counter, from the dispatcher
//   jobs_failed_total                         counter, from the dispatcher:
//                                             runs that threw
//   work_jobs_{started,completed,stopped_early,skipped}_total   (see work.h)
//   jobs_started_after_deadline_total         late starts caught before the handler
// GatewayCore::RenderMetrics adds the process_* series (process_metrics.h).

#ifndef HANDOFF_SERVER_METRICS_H_
#define HANDOFF_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace handoff {

// The gRPC methods handoffd counts, in the order of gateway.proto.
// kUnknown: a method the server does not serve (unknown_method.h).
enum class Method : int {
  kEcho,
  kWork,
  kBatch,
  kStream,
  kCall,
  kUnknown,
  kCount
};
const char* MethodName(Method m);

// What the dispatcher and the Work handler report at scrape time.
struct GaugeSnapshot {
  int64_t queued = 0;   // jobs in the queue (or held by the dispatcher)
  int64_t waiting = 0;  // submissions waiting for room, not in the queue yet
  int64_t idle = 0;
  int64_t busy = 0;
  int64_t expired = 0;
  int64_t rejected_full = 0;  // refused: the queue was full
  int64_t rejected_late = 0;  // refused: the queue wait would make it late
  int64_t completed = 0;
  int64_t failed = 0;  // runs that threw (DispatcherStats::failed)
  // What admission counts a job at (DispatcherStats says more).
  absl::Duration undeclared_job_cost = absl::ZeroDuration();
  absl::Duration declared_job_overhead = absl::ZeroDuration();
  // Each registered handler, and what admission counts a call of it at that
  // declares no cost: its kind's learned cost (handler_registry.h).
  std::vector<std::pair<std::string, absl::Duration>> handler_job_cost;
  // And what it adds to a call of it that declares its cost: its kind's
  // learned overhead (JobKind::overhead()), 0 until one has run.
  std::vector<std::pair<std::string, absl::Duration>> handler_declared_overhead;
  // Access log lines dropped (AccessLog::dropped); 0 without --access_log.
  int64_t access_log_dropped = 0;
};

class Metrics {
 public:
  static constexpr int kCodes = 17;  // google.rpc.Code 0..16
  static constexpr std::array<double, 14> kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   10.0};

  // A call finished with `code` after `latency`; `cancelled_by_client` if
  // the client cancelled it (or went away) before its answer reached it,
  // as opposed to a handler that answered CANCELLED of its own.
  void RecordCall(Method m, absl::StatusCode code, absl::Duration latency,
                  bool cancelled_by_client = false);

  std::atomic<int64_t> in_flight{0};
  // Counted by the job wrapper (GatewayCore::StartedLate): a job that reached
  // its handler past its deadline, which the worker's own check let by just
  // before, and which is not run. 0 in practice; the counter shows it is.
  std::atomic<int64_t> started_after_deadline{0};
  // Each submission of a Batch item to the dispatcher, admitted or refused,
  // a put-back item's each time (batch_call.cc). Not exported: a refusal
  // for a Context already done is counted nowhere else, and a test shows by
  // this that a batch whose Context is done submits no more of its items.
  std::atomic<int64_t> batch_items_submitted{0};

  int64_t calls(Method m, absl::StatusCode code) const;
  int64_t cancelled_by_client(Method m) const;

  // Prometheus text format 0.0.4.
  std::string Render(const GaugeSnapshot& gauges,
                     const std::string& extra) const;

 private:
  struct PerMethod {
    std::array<std::atomic<int64_t>, kCodes> calls{};
    std::array<std::atomic<int64_t>, kBuckets.size() + 1> buckets{};  // +Inf
    // In microseconds, not nanoseconds: a stream's latency is its whole life,
    // and 10,000 streams open for a day each wrapped a nanosecond sum
    // (292 years) in ten days; a microsecond one lasts 292,000 years.
    std::atomic<int64_t> sum_us{0};
    std::atomic<int64_t> cancelled_by_client{0};
  };
  std::array<PerMethod, static_cast<int>(Method::kCount)> methods_;
};

}  // namespace handoff

#endif  // HANDOFF_SERVER_METRICS_H_
