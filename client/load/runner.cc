#include "client/load/runner.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/load/grpc_engine.h"
#include "client/load/h2_engine.h"
#include "client/load/recorder.h"
#include "client/load/schedule.h"

namespace handoff::load {

LoadRunner::LoadRunner(LoadPlan plan) : plan_(std::move(plan)) {}
LoadRunner::~LoadRunner() = default;

int64_t LoadRunner::expected() const {
  return plan_.options.duration > absl::ZeroDuration() ? -1 : plan_.options.total;
}

absl::Status LoadRunner::Connect() {
  engine_kind_ = plan_.options.engine;
  if (engine_kind_ == EngineKind::kAuto) {
    engine_kind_ = H2Engine::Supports(plan_).ok() ? EngineKind::kH2 : EngineKind::kGrpc;
  }
  LoadEngine* engine;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return absl::CancelledError("interrupted before connecting");
    if (engine_kind_ == EngineKind::kH2) {
      engine_ = std::make_unique<H2Engine>(plan_, &completed_);
    } else {
      engine_ = std::make_unique<GrpcEngine>(plan_, &completed_);
    }
    engine = engine_.get();
  }
  absl::Status connected = engine->Connect();
  {
    // A failure to connect that an interrupt cut short is the interrupt's.
    absl::MutexLock lock(&mu_);
    if (!connected.ok() && cancelled_) {
      connected = absl::CancelledError("interrupted while connecting");
    }
  }
  connected_ = connected.ok();
  return connected;
}

void LoadRunner::Cancel() {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return;
  cancelled_ = true;
  cancelled_ns_ = MonotonicNowNs();
  if (schedule_ != nullptr) schedule_->Cancel();
  if (engine_ != nullptr) engine_->Cancel();
}

RunResults LoadRunner::Run() {
  RunResults out;
  out.start = absl::Now();
  if (!connected_) {
    // Cancelled while connecting: ghz's run starts its clock once connected,
    // and reports no calls in no time.
    out.start_ns = MonotonicNowNs();
    out.total = absl::ZeroDuration();
    out.end_reason = "cancel";
    return out;
  }
  LoadEngine* engine;
  {
    absl::MutexLock lock(&mu_);
    engine = engine_.get();
  }
  CallSchedule schedule(plan_.options, MonotonicNowNs());
  out.start_ns = schedule.start_ns();
  {
    absl::MutexLock lock(&mu_);
    schedule_ = &schedule;
    if (cancelled_) schedule.Cancel();
  }
  std::vector<Recorder> recorders = engine->Run(schedule);
  {
    absl::MutexLock lock(&mu_);
    schedule_ = nullptr;
  }

  int64_t last_end = schedule.start_ns();
  for (Recorder& recorder : recorders) {
    last_end = std::max(last_end, recorder.last_end_ns());
    recorder.MoveInto(out);
  }
  // Each recorder's calls are in the order they ended on its thread; -O csv
  // lists the run's in the order they ended, not thread by thread.
  std::stable_sort(out.calls.begin(), out.calls.end(),
                   [](const CallResult& a, const CallResult& b) { return a.end_ns < b.end_ns; });
  // A -x run ran out if it made fewer than -n calls, or if calls were still
  // out at its end (cancelled then, or waited for).
  const bool ran_out =
      schedule.end_ns() != CallSchedule::kNoEnd &&
      (!schedule.count_bounded() || completed() < plan_.options.total ||
       last_end >= schedule.end_ns());
  if (schedule.cancelled()) {
    out.end_reason = "cancel";  // ghz's name for an interrupted run
    // The run went on until the interrupt, if its last call ended before:
    // slots waiting for their next call's time (--rps) were part of it.
    // ghz's total runs until its Stop has ended the workers; counted to
    // the last call's end, a paced run cut between calls overstated its
    // rate.
    absl::MutexLock lock(&mu_);
    last_end = std::max(last_end, cancelled_ns_);
  } else if (ran_out) {
    out.end_reason = "timeout";  // ghz's name for a run whose time ran out
    // A run that ran out covers all of its time. With --rps its slots
    // retire once no call is due before the end, so the last call may come
    // back well before it (at --rps 1 -z 10s, after 9 s): that rate is
    // still calls over -z.
    last_end = std::max(last_end, schedule.end_ns());
  }
  out.total = absl::Nanoseconds(last_end - schedule.start_ns());
  return out;
}

}  // namespace handoff::load
