// LoadRunner: runs a LoadPlan to completion and returns every call's result.
//
// The run follows ghz's model (see schedule.h): `concurrency` call slots
// share `connections` HTTP/2 connections round-robin, each slot making one
// call at a time until the schedule has no more. The calls are made by one
// of two engines (engine.h), chosen by --engine: `auto` takes the nghttp2
// engine whenever it can make the run's calls (unary, plaintext, HOST:PORT)
// and gRPC's own client otherwise.
#ifndef HANDOFF_CLIENT_LOAD_RUNNER_H_
#define HANDOFF_CLIENT_LOAD_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "client/load/engine.h"
#include "client/load/plan.h"
#include "client/load/report.h"
#include "client/load/schedule.h"

namespace handoff::load {

class LoadRunner {
 public:
  explicit LoadRunner(LoadPlan plan);
  ~LoadRunner();

  // Picks the engine and opens the connections, waiting until each is
  // ready, up to --connect-timeout. A failure names the target; a forced
  // --engine that cannot make the run's calls says why. A Cancel before
  // every connection is open ends the wait at once: CANCELLED.
  absl::Status Connect();

  // Runs the load to completion. Call once, after Connect succeeded or was
  // cancelled; after a cancelled Connect, it makes no call and returns an
  // empty run ended by "cancel", as ghz reports an interrupt that came
  // while it was connecting.
  RunResults Run();

  // Ends the run early, as ghz does on Ctrl-C: no new calls, the calls in
  // flight ended as --duration-stop says, and Run returns what was made,
  // with end_reason "cancel" and a total that runs until the cancel (or the
  // last call's end, if later), as ghz's runs until its Stop. From any
  // thread, at any time, Connect's included; before Run, Run makes no call.
  void Cancel();

  // The engine Connect picked: kGrpc or kH2.
  EngineKind engine() const { return engine_kind_; }

  // Calls finished so far; safe from any thread (the progress bar).
  int64_t completed() const { return completed_.load(std::memory_order_relaxed); }
  // The number of calls the run will make, or -1 when bounded by time.
  int64_t expected() const;

 private:
  LoadPlan plan_;
  EngineKind engine_kind_ = EngineKind::kAuto;
  absl::Mutex mu_;
  // Made by Connect, under mu_ for Cancel, which may come meanwhile.
  std::unique_ptr<LoadEngine> engine_ ABSL_GUARDED_BY(mu_);
  bool connected_ = false;  // Connect succeeded; Connect's and Run's thread only
  std::atomic<int64_t> completed_{0};
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // When Cancel came, on MonotonicNowNs()'s clock: an interrupted run lasts
  // until then at least.
  int64_t cancelled_ns_ ABSL_GUARDED_BY(mu_) = 0;
  // The run's schedule, while Run runs.
  CallSchedule* schedule_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_RUNNER_H_
