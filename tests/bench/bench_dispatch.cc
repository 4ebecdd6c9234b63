// Copyright 2026 The handoff Authors.
//
// The six channel shapes of ../shared/bench/go/chan_test.go, in C++, so the
// two can be run side by side and compared as ratios (docs/PERF.md), and the
// floor under the ones that cross threads.

#include <sched.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "benchmark/benchmark.h"
#include "dispatch/chan.h"
#include "dispatch/dispatcher.h"
#include "dispatch/internal/parker.h"
#include "dispatch/select.h"

namespace handoff {
namespace {

// Round trip: send on one unbuffered channel, an echo thread answers on
// another.
void BM_UnbufferedPingPong(benchmark::State& state) {
  Chan<int> ping(0), pong(0);
  std::thread echo([&] {
    for (int v : ping) pong.Send(int(v)).IgnoreError();
  });
  int i = 0;
  for (auto _ : state) {
    ping.Send(int(i++)).IgnoreError();
    benchmark::DoNotOptimize(pong.Recv());
  }
  ping.Close().IgnoreError();
  echo.join();
}
BENCHMARK(BM_UnbufferedPingPong)->UseRealTime();

// Not a channel: two threads bouncing one atomic counter, each spinning
// until it is its turn. It is the least any round trip between two threads
// costs on this host (one cache line there and back), whatever the channel
// or the spin, so it bounds the ping-pong and the dispatch round trip from
// below. Go's goroutines can share one P and never pay it. compare_go.sh
// reports the channel shapes against it as well as against Go.
void BM_CrossThreadFloor(benchmark::State& state) {
  constexpr int64_t kStop = -1;
  alignas(64) std::atomic<int64_t> turn{0};
  // Waits for `mine`; false once told to stop.
  auto await = [&](int64_t mine) {
    for (int spins = 1;; ++spins) {
      const int64_t now = turn.load(std::memory_order_acquire);
      if (now == mine) return true;
      if (now == kStop) return false;
      internal::CpuRelax();
      // Should the two threads share a core, a spin would otherwise last a
      // whole time slice.
      if (spins % 4096 == 0) sched_yield();
    }
  };
  std::thread echo([&] {
    for (int64_t t = 1; await(t); t += 2) turn.store(t + 1, std::memory_order_release);
  });
  int64_t t = 0;
  for (auto _ : state) {
    turn.store(t + 1, std::memory_order_release);
    t += 2;
    await(t);
  }
  turn.store(kStop, std::memory_order_release);
  echo.join();
}
BENCHMARK(BM_CrossThreadFloor)->UseRealTime();

// One-way stream into a thread that drains the channel.
void StreamTo(benchmark::State& state, size_t capacity) {
  Chan<int> ch(capacity);
  std::thread sink([&] {
    for (int v : ch) benchmark::DoNotOptimize(v);
  });
  int i = 0;
  for (auto _ : state) ch.Send(int(i++)).IgnoreError();
  ch.Close().IgnoreError();
  sink.join();  // the last values are received inside the measurement
}
void BM_UnbufferedStream(benchmark::State& state) { StreamTo(state, 0); }
void BM_Buffered1024Stream(benchmark::State& state) { StreamTo(state, 1024); }
BENCHMARK(BM_UnbufferedStream)->UseRealTime();
BENCHMARK(BM_Buffered1024Stream)->UseRealTime();

void BM_BufferedSameThread(benchmark::State& state) {
  Chan<int> ch(1);
  int i = 0;
  for (auto _ : state) {
    ch.Send(int(i++)).IgnoreError();
    benchmark::DoNotOptimize(ch.Recv());
  }
}
BENCHMARK(BM_BufferedSameThread);

// A two-case select with one case ready.
void BM_Select2(benchmark::State& state) {
  Chan<int> a(1), d(0);
  int i = 0;
  for (auto _ : state) {
    a.Send(int(i++)).IgnoreError();
    Select(OnRecv(a, [](std::optional<int> v) { benchmark::DoNotOptimize(v); }),
           OnRecv(d, [] {}));
  }
}
BENCHMARK(BM_Select2);

// request -> dispatcher -> idle worker -> reply, 2 workers, 2 callers (as
// Go's RunParallel with GOMAXPROCS=2). Compare 1e9 / items_per_second with
// Go's ns/op, which is also wall time over all callers' operations. Each
// job of `kind`, if given, as a registered handler's calls are.
void DispatchTo(benchmark::State& state, Dispatcher& dispatcher,
                const std::shared_ptr<JobKind>& kind) {
  Chan<int> reply(1);
  for (auto _ : state) {
    Job job;
    job.kind = kind;
    job.run = [reply](const RunInfo&) { reply.Send(1).IgnoreError(); };
    dispatcher.Submit(std::move(job)).IgnoreError();
    benchmark::DoNotOptimize(reply.Recv());
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_ChanChanDispatch(benchmark::State& state) {
  static Dispatcher* const dispatcher =
      new Dispatcher({.workers = 2, .queue_depth = 4, .shed_late_jobs = false});
  DispatchTo(state, *dispatcher, nullptr);
}
// What counting each job at its kind's learned cost adds (the kind's
// handle, its running count, the learning after each run).
void BM_ChanChanDispatchOfAKind(benchmark::State& state) {
  static Dispatcher* const dispatcher =
      new Dispatcher({.workers = 2, .queue_depth = 4, .shed_late_jobs = false});
  static const auto* const kind = new std::shared_ptr<JobKind>(std::make_shared<JobKind>());
  DispatchTo(state, *dispatcher, *kind);
}
BENCHMARK(BM_ChanChanDispatch)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_ChanChanDispatchOfAKind)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace handoff

BENCHMARK_MAIN();
