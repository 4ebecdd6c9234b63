// Copyright 2026 The handoff Authors.
//
// RunEndedAtOnce: a load run whose end comes on its engine's first turn.
// The engine of `kind` is connected, cancelled (its contract allows a
// Cancel before Run), then run: the end lands after the slots' first calls
// were issued and before anything that follows them, every time. Tests
// reach a run's end-of-run windows this way, without a clock.
#ifndef HANDOFF_TESTS_UNIT_CLIENT_RUN_ENDED_AT_ONCE_H_
#define HANDOFF_TESTS_UNIT_CLIENT_RUN_ENDED_AT_ONCE_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include <gtest/gtest.h>

#include "client/load/grpc_engine.h"
#include "client/load/h2_engine.h"
#include "client/load/recorder.h"
#include "client/load/schedule.h"

namespace handoff::load {

inline RunResults RunEndedAtOnce(const LoadPlan& plan, EngineKind kind) {
  std::atomic<int64_t> completed{0};
  std::unique_ptr<LoadEngine> engine;
  if (kind == EngineKind::kGrpc) {
    engine = std::make_unique<GrpcEngine>(plan, &completed);
  } else {
    engine = std::make_unique<H2Engine>(plan, &completed);
  }
  RunResults r;
  const absl::Status connected = engine->Connect();
  EXPECT_TRUE(connected.ok()) << connected;
  if (!connected.ok()) return r;
  engine->Cancel();
  CallSchedule schedule(plan.options, MonotonicNowNs());
  for (Recorder& recorder : engine->Run(schedule)) recorder.MoveInto(r);
  return r;
}

}  // namespace handoff::load

#endif  // HANDOFF_TESTS_UNIT_CLIENT_RUN_ENDED_AT_ONCE_H_
