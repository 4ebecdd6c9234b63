// Copyright 2026 The handoff Authors.

#include "server/metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace handoff {

const char* MethodName(Method m) {
  switch (m) {
    case Method::kEcho: return "Echo";
    case Method::kWork: return "Work";
    case Method::kBatch: return "Batch";
    case Method::kStream: return "Stream";
    case Method::kCall: return "Call";
    case Method::kUnknown: return "unknown";
    case Method::kCount: break;
  }
  return "unknown";
}

namespace {

// gRPC's canonical names, as grpc-go and Envoy label them.
const char* CodeName(int code) {
  static const char* const kNames[Metrics::kCodes] = {
      "OK",                "CANCELLED",          "UNKNOWN",
      "INVALID_ARGUMENT",  "DEADLINE_EXCEEDED",  "NOT_FOUND",
      "ALREADY_EXISTS",    "PERMISSION_DENIED",  "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED",          "OUT_OF_RANGE",
      "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS",         "UNAUTHENTICATED"};
  return kNames[code];
}

// A label value as the text format writes it: a handler may be named
// anything, and a quote or a newline in it would end the sample's line.
std::string EscapeLabelValue(const std::string& value) {
  return absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

// A duration as a sample's value: seconds, to the microsecond.
std::string SecondsValue(absl::Duration d) {
  return absl::StrFormat("%.6f", absl::ToDoubleSeconds(d));
}

}  // namespace

void Metrics::RecordCall(Method m, absl::StatusCode code,
                         absl::Duration latency, bool cancelled_by_client) {
  PerMethod& pm = methods_[static_cast<int>(m)];
  int c = static_cast<int>(code);
  if (c < 0 || c >= kCodes) c = static_cast<int>(absl::StatusCode::kUnknown);
  pm.calls[c].fetch_add(1, std::memory_order_relaxed);
  if (cancelled_by_client) {
    pm.cancelled_by_client.fetch_add(1, std::memory_order_relaxed);
  }
  double s = absl::ToDoubleSeconds(latency);
  size_t b = 0;
  while (b < kBuckets.size() && s > kBuckets[b]) ++b;
  pm.buckets[b].fetch_add(1, std::memory_order_relaxed);
  // Rounded to the nearest microsecond: the sum of them all must not wrap.
  pm.sum_us.fetch_add((absl::ToInt64Nanoseconds(latency) + 500) / 1000,
                      std::memory_order_relaxed);
}

int64_t Metrics::calls(Method m, absl::StatusCode code) const {
  return methods_[static_cast<int>(m)]
      .calls[static_cast<int>(code)]
      .load(std::memory_order_relaxed);
}

int64_t Metrics::cancelled_by_client(Method m) const {
  return methods_[static_cast<int>(m)].cancelled_by_client.load(std::memory_order_relaxed);
}

std::string Metrics::Render(const GaugeSnapshot& g,
                            const std::string& extra) const {
  std::string out;
  absl::StrAppend(&out,
                  "# HELP handoff_calls_total gRPC calls finished, by method "
                  "and status code.\n# TYPE handoff_calls_total counter\n");
  // Every code, 0 until counted: a series that first appears at 1 has no
  // earlier sample for rate() and increase() to count from, and the first
  // INTERNAL after a restart was seen by no alert on them.
  for (int m = 0; m < static_cast<int>(Method::kCount); ++m) {
    for (int c = 0; c < kCodes; ++c) {
      int64_t n = methods_[m].calls[c].load(std::memory_order_relaxed);
      absl::StrAppend(&out, "handoff_calls_total{method=\"",
                      MethodName(static_cast<Method>(m)), "\",code=\"",
                      CodeName(c), "\"} ", n, "\n");
    }
  }
  // A client's cancel and a handler's own CANCELLED share calls_total's
  // code, as gRPC has one code for both; an operator tells "clients gave
  // up" (their business) from "handlers answered CANCELLED" (ours) here.
  absl::StrAppend(&out,
                  "# HELP handoff_calls_cancelled_by_client_total Calls the "
                  "client cancelled (or left) before their answer reached it, "
                  "by method; in handoff_calls_total{code=\"CANCELLED\"} "
                  "too, with the CANCELLED handlers answered of their own.\n"
                  "# TYPE handoff_calls_cancelled_by_client_total counter\n");
  for (int m = 0; m < static_cast<int>(Method::kCount); ++m) {
    absl::StrAppend(&out, "handoff_calls_cancelled_by_client_total{method=\"",
                    MethodName(static_cast<Method>(m)), "\"} ",
                    methods_[m].cancelled_by_client.load(std::memory_order_relaxed),
                    "\n");
  }
  absl::StrAppend(&out,
                  "# HELP handoff_call_duration_seconds Time from a call's "
                  "arrival to its status.\n"
                  "# TYPE handoff_call_duration_seconds histogram\n");
  for (int m = 0; m < static_cast<int>(Method::kCount); ++m) {
    const PerMethod& pm = methods_[m];
    const char* name = MethodName(static_cast<Method>(m));
    int64_t cum = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cum += pm.buckets[b].load(std::memory_order_relaxed);
      std::string le = b < kBuckets.size() ? absl::StrFormat("%g", kBuckets[b])
                                           : std::string("+Inf");
      absl::StrAppend(&out, "handoff_call_duration_seconds_bucket{method=\"",
                      name, "\",le=\"", le, "\"} ", cum, "\n");
    }
    absl::StrAppend(
        &out, "handoff_call_duration_seconds_sum{method=\"", name, "\"} ",
        SecondsValue(absl::Microseconds(pm.sum_us.load(std::memory_order_relaxed))),
        "\n", "handoff_call_duration_seconds_count{method=\"", name, "\"} ",
        cum, "\n");
  }
  auto gauge = [&out](const char* name, const char* type, const char* help,
                      int64_t v) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                    type, "\n", name, " ", v, "\n");
  };
  gauge("handoff_calls_in_flight", "gauge",
        "Calls accepted and not yet finished.",
        in_flight.load(std::memory_order_relaxed));
  gauge("handoff_queue_depth", "gauge",
        "Jobs in the queue waiting for a worker (not the calls waiting for "
        "room in it: handoff_queue_waiters).",
        g.queued);
  // Apart from the queue's depth, which never exceeds --queue_depth + 1: a
  // queue that is full with callers waiting behind it says more than a depth
  // past the queue's size.
  gauge("handoff_queue_waiters", "gauge",
        "Calls waiting for room in the queue (--queue_policy=wait); 0 under "
        "reject.",
        g.waiting);
  gauge("handoff_workers_idle", "gauge", "Workers waiting for a job.", g.idle);
  gauge("handoff_workers_busy", "gauge", "Workers running a job.", g.busy);
  gauge("handoff_access_log_dropped_total", "counter",
        "Access log lines dropped because the writer was behind (or a write "
        "failed); 0 without --access_log.",
        g.access_log_dropped);
  gauge("handoff_jobs_expired_in_queue_total", "counter",
        "Jobs dropped before they ran: their deadline passed, or their caller "
        "left or will not read their result, before a worker took them, or "
        "the worker found less of the deadline left than the job needs, or "
        "the job found as it began that its call had been answered.",
        g.expired);
  // By reason, since the two call for different remedies: a full queue for
  // more replicas or a deeper queue, refusals by deadline for more workers
  // or longer deadlines.
  absl::StrAppend(
      &out,
      "# HELP handoff_jobs_rejected_total Jobs refused at admission, by "
      "reason: queue_full (no room), deadline (the estimated queue wait plus "
      "run would outlast the call's deadline). A deadline shorter than the "
      "expected run alone is refused DEADLINE_EXCEEDED and not counted here.\n"
      "# TYPE handoff_jobs_rejected_total counter\n"
      "handoff_jobs_rejected_total{reason=\"queue_full\"} ",
      g.rejected_full,
      "\nhandoff_jobs_rejected_total{reason=\"deadline\"} ", g.rejected_late,
      "\n");
  gauge("handoff_jobs_completed_total", "counter",
        "Jobs run that returned (whatever their status).", g.completed);
  // Run, but not completed: else a handler's throws were in no job count.
  gauge("handoff_jobs_failed_total", "counter",
        "Jobs run whose handler threw (their call is INTERNAL).", g.failed);
  gauge("handoff_jobs_started_after_deadline_total", "counter",
        "Jobs a worker began after their deadline; their handler was not "
        "run.",
        started_after_deadline.load(std::memory_order_relaxed));
  // What admission estimates queue waits from: when calls are refused as
  // "overloaded" and the load does not look it, these say why.
  auto seconds = [&out](const char* name, const char* help, absl::Duration d) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name,
                    " gauge\n", name, " ", SecondsValue(d), "\n");
  };
  seconds("handoff_admission_undeclared_job_cost_seconds",
          "What admission counts a queued or running job that declares no "
          "cost and has no kind with a cost of its own (Echo; a Call whose "
          "handler has not run yet) at: the recent "
          "mean of such jobs' runs, back to back.",
          g.undeclared_job_cost);
  seconds("handoff_admission_declared_job_overhead_seconds",
          "What admission adds to a job's declared cost (Work, Batch items, "
          "Stream messages: cpu_us + sleep_us; a handler's HandlerCost before "
          "that handler's first declared call has run): the recent mean of "
          "what such jobs cost past it, at most the job's own declaration "
          "again, fixed when it is submitted.",
          g.declared_job_overhead);
  // One series per registered handler; none without handlers.
  auto per_handler = [&out](const char* name, const char* help,
                            const std::vector<std::pair<std::string, absl::Duration>>& by) {
    if (by.empty()) return;
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " gauge\n");
    for (const auto& [handler, d] : by) {
      absl::StrAppend(&out, name, "{handler=\"", EscapeLabelValue(handler), "\"} ",
                      SecondsValue(d), "\n");
    }
  };
  per_handler("handoff_admission_handler_job_cost_seconds",
              "What admission counts a queued or running Call of this handler at, "
              "if the call declares no cost: the recent mean of its calls' runs, "
              "back to back (0 until one has run; until then, at "
              "handoff_admission_undeclared_job_cost_seconds).",
              g.handler_job_cost);
  per_handler("handoff_admission_handler_declared_overhead_seconds",
              "What admission adds to the declared cost (HandlerCost) of a Call of "
              "this handler: the recent mean of what its declared calls cost past "
              "their declaration, at most the call's own declaration again (0 until "
              "one has run; until then, "
              "handoff_admission_declared_job_overhead_seconds).",
              g.handler_declared_overhead);
  out += extra;
  return out;
}

}  // namespace handoff
