// Copyright 2026 The handoff Authors.
//
// What the channel runtime adds to one gateway call, on one thread and
// without gRPC: the call's Context (a deadline under the server's root, as
// GatewayCore::CallContext makes it), its reply channel, the handler's async
// select on {reply, ctx.Done()}, the reply, and the cancel in OnDone. The
// handoff to a worker is left out: bench_dispatch measures that.
//
// This is the part of handoffd's CPU per call that is ours to cut without
// changing the design; docs/PERF.md compares builds with it.

#include <optional>
#include <string>
#include <utility>

#include "dispatch/clock.h"
#include "benchmark/benchmark.h"
#include "dispatch/chan.h"
#include "dispatch/context.h"
#include "dispatch/select.h"

namespace handoff {
namespace {

// Shaped like server/unary_call.h's Outcome<EchoReply>.
struct Outcome {
  absl::Status status;
  std::string reply;
};

void BM_CallBookkeeping(benchmark::State& state) {
  auto [root, cancel_root] = WithCancel(Context::Background());
  // A call in flight with an earlier deadline, as under load: a new deadline
  // is then not the earliest, and the timer thread is left alone.
  auto [earlier, cancel_earlier] =
      WithDeadline(root, MonotonicNow() + absl::Seconds(20));
  int64_t answered = 0;
  for (auto _ : state) {
    auto [ctx, cancel] = WithDeadline(root, MonotonicNow() + absl::Seconds(30));
    Chan<Outcome> reply(1);
    AsyncSelect(OnRecv(reply,
                       [&](std::optional<Outcome> out) {
                         answered += out.has_value() ? 1 : 0;
                       }),
                OnDone(ctx, [] {}));
    reply.TrySend(Outcome{absl::OkStatus(), "hello handoff"}).IgnoreError();
    cancel();
  }
  cancel_earlier();
  cancel_root();
  if (answered != state.iterations()) state.SkipWithError("a reply was lost");
}
BENCHMARK(BM_CallBookkeeping);

}  // namespace
}  // namespace handoff

BENCHMARK_MAIN();
