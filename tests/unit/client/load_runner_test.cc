// LoadRunner against an in-process FakeGateway, with each engine: counts,
// rate, -z stops, deadlines and statuses are the same whichever makes the
// calls.
#include "client/load/runner.h"
#include "client/load/schedule.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/notification.h"
#include "absl/strings/str_cat.h"
#include "client/load/grpc_engine.h"
#include "client/load/h2_engine.h"
#include "client/load/recorder.h"
#include "client/load/report.h"
#include "client/load/templated_requests.h"

#include "fake_gateway.h"
#include "run_ended_at_once.h"
#include "tests/util/wait_until.h"

namespace handoff::load {
namespace {

using testing::FakeServer;

grpc::ByteBuffer Serialized(const google::protobuf::Message& m) {
  grpc::Slice slice(m.SerializeAsString());
  return grpc::ByteBuffer(&slice, 1);
}

class LoadRunnerTest : public ::testing::TestWithParam<EngineKind> {
 protected:
  void SetUp() override { server_ = FakeServer::Start(); }
  void TearDown() override { server_.server->Shutdown(); }

  LoadPlan EchoPlan(const std::string& payload = "x") {
    LoadPlan plan;
    plan.options.host = server_.address;
    plan.options.insecure = true;
    plan.options.cpus = 2;
    plan.options.engine = GetParam();
    plan.method = "/handoff.v1.Gateway/Echo";
    v1::EchoRequest req;
    req.set_payload(payload);
    plan.messages.push_back(Serialized(req));
    return plan;
  }

  // Work calls that sleep a second, paced at 5 a second (call 0 at once,
  // call 1 at 200 ms, ...): each is surely in flight when the end comes.
  LoadPlan PacedSecondLongWorkPlan() {
    LoadPlan plan = EchoPlan();
    plan.method = "/handoff.v1.Gateway/Work";
    v1::WorkRequest work;
    work.set_sleep_us(1'000'000);
    plan.messages = {Serialized(work)};
    plan.options.rps = 5;
    return plan;
  }

  RunResults RunPlan(LoadPlan plan) {
    LoadRunner runner(std::move(plan));
    EXPECT_TRUE(runner.Connect().ok());
    EXPECT_EQ(runner.engine(), GetParam());
    return runner.Run();
  }

  // Runs `plan` (-z `duration`) ended at once (RunEndedAtOnce, the end's
  // timer first) under each --duration-stop, where both of its two calls are
  // to be made and in flight at the end: dropped under ignore, closed
  // (CANCELLED) under close, waited for (OK, both at the server) under wait.
  void ExpectTwoCallsInFlightAtTheEnd(LoadPlan plan, const char* why,
                                      absl::Duration duration = absl::Seconds(20)) {
    // wait first: it counts the calls at the server, where a call the run
    // before closed may still arrive late (3 counted where 2 were made).
    for (DurationStop stop : {DurationStop::kWait, DurationStop::kClose, DurationStop::kIgnore}) {
      SCOPED_TRACE(static_cast<int>(stop));
      plan.options.duration = duration;
      plan.options.cpus = 1;
      plan.options.duration_stop = stop;
      const size_t worked = server_.service->work_calls().size();
      RunResults r = RunEndedAtOnce(plan, GetParam());
      if (stop == DurationStop::kIgnore) {
        EXPECT_TRUE(r.calls.empty()) << "both were in flight at the end";
        continue;
      }
      ASSERT_EQ(r.calls.size(), 2u) << why;
      const grpc::StatusCode code =
          stop == DurationStop::kWait ? grpc::StatusCode::OK : grpc::StatusCode::CANCELLED;
      for (const CallResult& c : r.calls) EXPECT_EQ(c.code, code);
      if (stop == DurationStop::kWait) {
        EXPECT_EQ(server_.service->work_calls().size() - worked, 2u) << "both reached the server";
      }
    }
  }

  FakeServer server_;
};

TEST_P(LoadRunnerTest, MakesExactlyNCalls) {
  LoadPlan plan = EchoPlan();
  plan.options.total = 1000;
  plan.options.concurrency = 16;
  plan.options.connections = 4;
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 1000u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  EXPECT_EQ(server_.service->echo_calls(), 1000);
  EXPECT_EQ(r.end_reason, "normal");
  // In the order they ended, as -O csv lists them: each client thread's
  // calls were listed whole, one thread's after the other's.
  EXPECT_TRUE(std::is_sorted(r.calls.begin(), r.calls.end(),
                             [](const CallResult& a, const CallResult& b) {
                               return a.end_ns < b.end_ns;
                             }));
}

TEST_P(LoadRunnerTest, FewerCallsThanSlotsMakesExactlyNCalls) {
  // As in ghz, the slots share the -n calls: those left without one retire,
  // and the run ends once its three calls have.
  LoadPlan plan = EchoPlan();
  plan.options.total = 3;
  plan.options.concurrency = 10;
  plan.options.connections = 4;
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 3u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  EXPECT_EQ(server_.service->echo_calls(), 3);
  EXPECT_EQ(r.end_reason, "normal");
}

TEST_P(LoadRunnerTest, RpsPacesTheCalls) {
  LoadPlan plan = EchoPlan();
  plan.options.total = 50;
  plan.options.concurrency = 5;
  plan.options.rps = 100;  // 50 calls over ~490 ms
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 50u);
  // The last ticket is scheduled at 49/100 s; finishing much earlier would
  // mean the schedule was ignored.
  EXPECT_GE(r.total, absl::Milliseconds(490));
  EXPECT_LT(r.total, absl::Seconds(5));
}

TEST_P(LoadRunnerTest, APacedDurationRunLastsItsDuration) {
  // -z 250ms at 10 calls/s: calls are due at 0, 100 and 200 ms, the next
  // one at 300 ms is past the end. The run covers 250 ms, so 3 calls make
  // 12 calls/s, not 3 over the ~200 ms until the last call came back.
  LoadPlan plan = EchoPlan();
  plan.options.concurrency = 2;
  plan.options.rps = 10;
  plan.options.duration = absl::Milliseconds(250);
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.end_reason, "timeout");
  EXPECT_GE(r.total, absl::Milliseconds(250));
  EXPECT_LT(r.total, absl::Seconds(5));
  // The report is dated at the run's end, as ghz's is, not at its start.
  EXPECT_EQ(BuildReport(r).date - r.start, r.total);
}

TEST_P(LoadRunnerTest, AStepScheduleRampsTheRate) {
  // 20 calls/s for 100 ms (2 calls), 40 for the next 100 ms (4), then 60:
  // the 12th call is due at 200 ms + 5/60 s. Unpaced, 12 calls take a few
  // milliseconds.
  LoadPlan plan = EchoPlan();
  plan.options.total = 12;
  plan.options.concurrency = 4;
  plan.options.load_schedule = LoadSchedule::kStep;
  plan.options.load_start = 20;
  plan.options.load_step = 20;
  plan.options.load_step_duration = absl::Milliseconds(100);
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 12u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  EXPECT_GE(r.total, absl::Milliseconds(283));
  EXPECT_LT(r.total, absl::Seconds(5));
}

TEST_P(LoadRunnerTest, ServerStatusCodeAndMessageReachTheReport) {
  // '%' and non-ASCII travel percent-encoded in grpc-message.
  LoadPlan plan = EchoPlan("status:9:100% not ready \xc3\xbc");
  plan.options.total = 4;
  plan.options.concurrency = 2;
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 4u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0],
            "rpc error: code = FailedPrecondition desc = 100% not ready \xc3\xbc");
}

TEST_P(LoadRunnerTest, SkipFirstLeavesTheFirstCallsToFinishOutOfTheResults) {
  // Round-robin over 20 failing requests, then 20 that succeed; one call at
  // a time, so the 20 that fail are the first 20 to finish.
  LoadPlan plan = EchoPlan();
  v1::EchoRequest failing;
  failing.set_payload("status:9:warming up");
  v1::EchoRequest ok;
  ok.set_payload("x");
  plan.messages.clear();
  for (int i = 0; i < 20; ++i) plan.messages.push_back(Serialized(failing));
  for (int i = 0; i < 20; ++i) plan.messages.push_back(Serialized(ok));
  plan.options.total = 40;
  plan.options.concurrency = 1;
  plan.options.skip_first = 20;
  LoadRunner runner(std::move(plan));
  ASSERT_TRUE(runner.Connect().ok());
  RunResults r = runner.Run();
  EXPECT_EQ(runner.completed(), 40);  // the progress counts every call made
  ASSERT_EQ(r.calls.size(), 20u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(server_.service->echo_calls(), 40);
}

TEST_P(LoadRunnerTest, AuthorityNamesEveryCallsAuthority) {
  LoadPlan plan = EchoPlan();
  plan.options.total = 4;
  plan.options.concurrency = 2;
  plan.options.authority = "gateway.example:443";
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 4u);
  EXPECT_EQ(server_.service->last_authority(), "gateway.example:443");
}

TEST_P(LoadRunnerTest, UnknownMethodIsUnimplemented) {
  LoadPlan plan = EchoPlan();
  plan.method = "/handoff.v1.Gateway/NoSuchMethod";
  plan.options.total = 3;
  plan.options.concurrency = 1;
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 3u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::UNIMPLEMENTED);
}

LoadPlan SlowWorkPlan(LoadPlan plan, DurationStop stop) {
  plan.method = "/handoff.v1.Gateway/Work";
  v1::WorkRequest req;
  req.set_sleep_us(60'000'000);  // outlives the run: in flight at -z's end
  plan.messages = {Serialized(req)};
  plan.options.concurrency = 3;
  plan.options.duration = absl::Milliseconds(200);
  plan.options.duration_stop = stop;
  return plan;
}

TEST_P(LoadRunnerTest, DurationStopCloseCountsInFlightCallsAsErrors) {
  RunResults r = RunPlan(SlowWorkPlan(EchoPlan(), DurationStop::kClose));
  ASSERT_EQ(r.calls.size(), 3u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::CANCELLED);
  // One error text whichever engine made the calls: ghz's, whose close of
  // its connections at -z's end fails the calls in flight with grpc-go's
  // words for it.
  EXPECT_EQ(r.errors, std::vector<std::string>{
                          "rpc error: code = Canceled desc = grpc: the client connection is closing"});
  EXPECT_EQ(r.end_reason, "timeout");
  EXPECT_GE(r.total, absl::Milliseconds(200));
}

TEST_P(LoadRunnerTest, DurationStopIgnoreDropsInFlightCalls) {
  RunResults r = RunPlan(SlowWorkPlan(EchoPlan(), DurationStop::kIgnore));
  // The three calls were made, and were in flight at -z's end: dropped from
  // the results, not missing from the run.
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.end_reason, "timeout");
  EXPECT_GE(r.total, absl::Milliseconds(200));
  EXPECT_TRUE(testing::WaitUntil([&] { return server_.service->work_calls().size() == 3u; }))
      << server_.service->work_calls().size() << " Work calls reached the server";
}

TEST_P(LoadRunnerTest, MaxDurationCutsARunWhoseCallsAreNotDone) {
  // -n 6 -x 200ms, three 60 s calls at a time: at 200 ms the three in flight
  // are cancelled (--duration-stop=close) and the other three never start.
  LoadPlan plan = SlowWorkPlan(EchoPlan(), DurationStop::kClose);
  plan.options.duration = absl::ZeroDuration();
  plan.options.total = 6;
  plan.options.max_duration = absl::Milliseconds(200);
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 3u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::CANCELLED);
  EXPECT_EQ(r.end_reason, "timeout");
  EXPECT_GE(r.total, absl::Milliseconds(200));
  EXPECT_LT(r.total, absl::Seconds(5));
}

TEST_P(LoadRunnerTest, MaxDurationPastTheRunsEndChangesNothing) {
  LoadPlan plan = EchoPlan();
  plan.options.total = 100;
  plan.options.concurrency = 4;
  plan.options.max_duration = absl::Seconds(60);
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 100u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  EXPECT_EQ(r.end_reason, "normal");
  EXPECT_LT(r.total, absl::Seconds(5)) << "the run waited for -x";
}

TEST_P(LoadRunnerTest, APacedRunCutByMaxDurationCoversItsWholeTime) {
  // -n 10 --rps 10 -x 250ms: calls are due at 0, 100 and 200 ms; the rest
  // never start, and none is in flight at the end.
  LoadPlan plan = EchoPlan();
  plan.options.total = 10;
  plan.options.concurrency = 2;
  plan.options.rps = 10;
  plan.options.max_duration = absl::Milliseconds(250);
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.end_reason, "timeout");
  EXPECT_GE(r.total, absl::Milliseconds(250));
  EXPECT_LT(r.total, absl::Seconds(5));
}

TEST_P(LoadRunnerTest, TimeoutIsPerCall) {
  LoadPlan plan = SlowWorkPlan(EchoPlan(), DurationStop::kWait);
  plan.options.duration = absl::ZeroDuration();
  plan.options.total = 3;
  plan.options.timeout = absl::Milliseconds(50);
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 3u);
  // The client's own deadline reads as grpc-go's; the fake server's, which
  // may come first (below), as gRPC C++ words it.
  for (const std::string& error : r.errors) {
    EXPECT_TRUE(error == "rpc error: code = DeadlineExceeded desc = context deadline exceeded" ||
                error == "rpc error: code = DeadlineExceeded desc = Deadline Exceeded")
        << error;
  }
  for (const CallResult& c : r.calls) {
    EXPECT_EQ(c.code, grpc::StatusCode::DEADLINE_EXCEEDED);
    // Whichever side's deadline fires first ends the call. The server's
    // (the fake is gRPC's) starts from gRPC's cached clock, which can lag
    // the moment the request arrived: under ASan its DEADLINE_EXCEEDED came
    // 2.8 ms before the client's 50 ms (47.2 ms, three calls alike), and
    // 14.5 ms before it with the suite at -j12 on two cores. A floor of
    // half still catches a timeout sent short (in the wrong unit, say).
    EXPECT_GE(c.latency_ns, 25'000'000);
    EXPECT_LT(c.latency_ns, 5'000'000'000) << "the 60 s work was not cut off";
  }
}

TEST_P(LoadRunnerTest, AServerThatRecyclesItsConnectionsCostsNoCall) {
  // A server with a maximum connection age (handoffd's --max_connection_age)
  // sends GOAWAY every 50 ms; the paced run lasts at least 295 ms, so it
  // spans several. A GOAWAY is no failure: a gRPC client takes a new
  // connection for the next calls while the old one finishes its own.
  FakeServer recycling = FakeServer::Start(false, 0, absl::Milliseconds(50));
  LoadPlan plan = EchoPlan();
  plan.options.host = recycling.address;
  plan.options.total = 60;
  plan.options.concurrency = 2;
  plan.options.rps = 200;
  RunResults r = RunPlan(std::move(plan));
  recycling.server->Shutdown();
  ASSERT_EQ(r.calls.size(), 60u);
  EXPECT_TRUE(r.errors.empty()) << r.errors[0];
  EXPECT_EQ(recycling.service->echo_calls(), 60);
  // The calls came on more than one connection: the server did recycle.
  EXPECT_GE(recycling.service->echo_connections(), 2u);
}

TEST_P(LoadRunnerTest, UnreachableHostFailsToConnect) {
  LoadPlan plan;
  plan.options.host = "127.0.0.1:1";
  plan.options.insecure = true;
  plan.options.engine = GetParam();
  plan.options.connect_timeout = absl::Milliseconds(200);
  plan.messages.emplace_back();
  LoadRunner runner(std::move(plan));
  absl::Status s = runner.Connect();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("127.0.0.1:1"), absl::string_view::npos) << s;
  // And says why, as the kernel told the engine.
  EXPECT_NE(absl::AsciiStrToLower(s.message()).find("refused"), absl::string_view::npos) << s;
}

// Work calls whose cpu_us is `cpu_us_json` and whose "x-tag" metadata is
// `tag`, both call templates.
LoadPlan TemplatedWorkPlan(LoadPlan plan, const std::string& cpu_us_json,
                           const std::string& tag) {
  plan.method = "/handoff.v1.Gateway/Work";
  plan.messages.clear();
  plan.options.metadata = {{"x-tag", tag}, {"x-fixed", "same"}};
  MethodNames names;
  names.fully_qualified_name = "handoff.v1.Gateway.Work";
  names.method_name = "Work";
  auto templates = TemplatedRequests::Make(
      absl::StrCat(R"({"cpu_us":)", cpu_us_json, "}"), v1::WorkRequest::descriptor(),
      plan.options.metadata, names, /*functions=*/true);
  EXPECT_TRUE(templates.ok()) << templates.status();
  plan.templates = *std::move(templates);
  v1::WorkRequest first;
  plan.messages.push_back(Serialized(first));
  return plan;
}

TEST_P(LoadRunnerTest, EachCallSendsItsOwnRenderingOfTheTemplates) {
  LoadPlan plan = TemplatedWorkPlan(EchoPlan(), "{{.RequestNumber}}",
                                    "{{.WorkerID}} {{.MethodName}}");
  plan.options.total = 20;
  plan.options.concurrency = 4;
  plan.options.connections = 2;
  plan.options.name = "run";
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 20u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  std::set<uint32_t> numbers;
  std::set<std::string> tags;
  for (const auto& call : server_.service->work_calls()) {
    numbers.insert(call.cpu_us);
    tags.insert(call.tag);
  }
  std::set<uint32_t> zero_to_nineteen;
  for (uint32_t i = 0; i < 20; ++i) zero_to_nineteen.insert(i);
  EXPECT_EQ(numbers, zero_to_nineteen) << "each request number once";
  // Slot i is on connection i % 2, as ghz numbers its workers.
  const std::set<std::string> workers = {"run:g0c0 Work", "run:g1c1 Work", "run:g2c0 Work",
                                         "run:g3c1 Work"};
  for (const std::string& tag : tags) EXPECT_TRUE(workers.count(tag)) << tag;
}

// ghz numbers a run's calls from 0 (its pacer hands out counter.Inc() - 1),
// and picks a -d array's element RequestNumber % size: the first call is
// {{.RequestNumber}} 0 and sends the array's first element.
TEST_P(LoadRunnerTest, RequestNumbersCountFromZeroAsGhzsDo) {
  LoadPlan plan = TemplatedWorkPlan(EchoPlan(), "{{.RequestNumber}}", "t");
  plan.options.total = 5;
  plan.options.concurrency = 1;
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 5u);
  std::set<uint32_t> numbers;
  for (const auto& call : server_.service->work_calls()) numbers.insert(call.cpu_us);
  EXPECT_EQ(numbers, (std::set<uint32_t>{0, 1, 2, 3, 4}));
}

TEST_P(LoadRunnerTest, ACallWhoseTemplateRendersBadJsonFailsUnsentAndTheRunGoesOn) {
  // Requests 0 to 2 fit cpu_us's uint32 (4000000000 to 4200000000); from 3
  // on, 4300000000 does not.
  LoadPlan plan = TemplatedWorkPlan(EchoPlan(), "4{{.RequestNumber}}00000000", "t");
  plan.options.total = 8;
  plan.options.concurrency = 2;
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 8u);
  int failed = 0;
  for (const CallResult& c : r.calls) {
    if (c.code == grpc::StatusCode::OK) continue;
    ++failed;
    EXPECT_EQ(c.code, grpc::StatusCode::INVALID_ARGUMENT);
    const std::string& error = r.errors[c.error];
    EXPECT_NE(error.find(R"(-d renders to {"cpu_us":)"), std::string::npos) << error;
    EXPECT_NE(error.find("invalid value"), std::string::npos) << error;
  }
  EXPECT_EQ(failed, 5);
  EXPECT_EQ(server_.service->work_calls().size(), 3u) << "only the good ones were sent";
}

// A call whose templates fail to render is recorded on a later turn of its
// engine's loop, as if it had been made (recorded at once, the next call,
// failing alike, would recurse). Were the run to end in between, the grpc
// engine dropped it, as a call not yet due, where the h2 engine recorded it
// (or, with --duration-stop=ignore, dropped it as a call in flight). It had
// ended before the run did: both record it, whatever --duration-stop says.
// The engine's Cancel before Run ends the run on the loop's first turn,
// after the slots' first calls were issued: the window, every time.
TEST_P(LoadRunnerTest, ACallWhoseTemplateFailedJustBeforeTheEndIsRecordedOnEitherEngine) {
  for (DurationStop stop : {DurationStop::kClose, DurationStop::kWait, DurationStop::kIgnore}) {
    SCOPED_TRACE(static_cast<int>(stop));
    // Requests 0 to 2 render; 3 does not (4300000000 is out of uint32).
    LoadPlan plan = TemplatedWorkPlan(EchoPlan(), "4{{.RequestNumber}}00000000", "t");
    plan.options.duration = absl::Seconds(20);
    plan.options.concurrency = 4;
    plan.options.cpus = 1;
    plan.options.duration_stop = stop;
    RunResults r = RunEndedAtOnce(plan, GetParam());
    int unsent = 0;
    for (const CallResult& c : r.calls) {
      if (c.code != grpc::StatusCode::INVALID_ARGUMENT) continue;
      ++unsent;
      EXPECT_NE(r.errors[c.error].find("-d renders to"), std::string::npos) << r.errors[c.error];
    }
    EXPECT_EQ(unsent, 1) << "request 3 failed to render before the run ended";
  }
}

// Work calls of `sleep_us` whose "x-tag" is the slot's ghz worker ID, on a
// step concurrency schedule of `start` slots, `step` more every `width`,
// up to or down to `end`.
LoadPlan ScheduledWorkPlan(LoadPlan plan, int sleep_us, int start, int step, int end,
                           absl::Duration width) {
  plan.method = "/handoff.v1.Gateway/Work";
  plan.options.metadata = {{"x-tag", "{{.WorkerID}}"}};
  auto templates = TemplatedRequests::Make("", nullptr, plan.options.metadata, MethodNames{},
                                           /*functions=*/true);
  EXPECT_TRUE(templates.ok()) << templates.status();
  plan.templates = *std::move(templates);
  v1::WorkRequest work;
  work.set_sleep_us(sleep_us);
  plan.messages = {Serialized(work)};
  LoadOptions& o = plan.options;
  o.concurrency_schedule = LoadSchedule::kStep;
  o.concurrency_start = start;
  o.concurrency_step = step;
  o.concurrency_end = end;
  o.concurrency_step_duration = width;
  o.concurrency = std::max(start, end);  // the peak, as Validate sets it
  return plan;
}

// ghz's worker ticker adds a worker at its step's time, and the worker
// takes a call at once, before the -z timer's Stop if the step came first:
// a slot a concurrency schedule opens before the run's end makes its call,
// decided by its opening time against the end, as a paced call's due time
// is. The engines retired it whenever the end's timer ran before the
// opening's. Here the end comes first (the engine's Cancel before Run, with
// the schedule not cancelled: -z's end, not an interrupt) while the second
// slot waits to open at 100 ms, well before the 20 s end.
TEST_P(LoadRunnerTest, ASlotOpeningBeforeTheEndMakesItsCallThoughTheEndsTimerCameFirst) {
  ExpectTwoCallsInFlightAtTheEnd(
      ScheduledWorkPlan(EchoPlan(), 100'000, 1, 1, 2, absl::Milliseconds(100)),
      "slot 1 opened before the end");
}

// The slot of a "g<slot>c<connection>" worker ID.
int SlotOf(const std::string& worker_id) {
  int slot = -1;
  EXPECT_TRUE(absl::SimpleAtoi(worker_id.substr(1, worker_id.find('c') - 1), &slot))
      << worker_id;
  return slot;
}

TEST_P(LoadRunnerTest, ARisingConcurrencyScheduleOpensEachSlotAtItsStep) {
  // One slot, a second from 100 ms, a third from 200 ms; calls of 10 ms.
  LoadPlan plan = ScheduledWorkPlan(EchoPlan(), 10'000, 1, 1, 3, absl::Milliseconds(100));
  plan.options.total = 60;
  const absl::Time before = absl::Now();
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 60u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  std::set<int> slots;
  for (const auto& call : server_.service->work_calls()) {
    const int slot = SlotOf(call.tag);
    slots.insert(slot);
    EXPECT_GE(call.at - before, slot * absl::Milliseconds(100))
        << "slot " << slot << " took a call before it opened";
  }
  EXPECT_EQ(slots, (std::set<int>{0, 1, 2}));
}

TEST_P(LoadRunnerTest, AFallingConcurrencyScheduleStillMakesEveryCall) {
  // Three slots, two from 200 ms, one from 400 ms on; calls of 20 ms: the
  // closed slots' share goes to the open one, and no call is lost. Each
  // slot has 200 ms to start its first call (about ten calls' time), so a
  // busy machine that is slow to start a slot does not close it unused.
  LoadPlan plan = ScheduledWorkPlan(EchoPlan(), 20'000, 3, -1, 1, absl::Milliseconds(200));
  plan.options.total = 60;
  RunResults r = RunPlan(std::move(plan));
  ASSERT_EQ(r.calls.size(), 60u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  std::map<int, int> per_slot;
  for (const auto& call : server_.service->work_calls()) ++per_slot[SlotOf(call.tag)];
  EXPECT_EQ(per_slot.size(), 3u);
  EXPECT_EQ(per_slot[0] + per_slot[1] + per_slot[2], 60);
}

TEST_P(LoadRunnerTest, ARunThatUsesUpItsCallsDoesNotWaitForSlotsToOpen) {
  // The second slot would open at 60 s; the five calls are done long before.
  LoadPlan plan = ScheduledWorkPlan(EchoPlan(), 0, 1, 1, 2, absl::Seconds(60));
  plan.options.total = 5;
  const absl::Time before = absl::Now();
  RunResults r = RunPlan(std::move(plan));
  EXPECT_EQ(r.calls.size(), 5u);
  EXPECT_LT(absl::Now() - before, absl::Seconds(30)) << "the run waited for the closed slot";
}

TEST_P(LoadRunnerTest, ATimedRunEndsOnTimeThoughASlotIsWaitingToOpen) {
  LoadPlan plan = ScheduledWorkPlan(EchoPlan(), 1'000, 1, 1, 2, absl::Seconds(60));
  plan.options.duration = absl::Milliseconds(300);
  const absl::Time before = absl::Now();
  RunResults r = RunPlan(std::move(plan));
  EXPECT_GT(r.calls.size(), 0u);
  EXPECT_LT(absl::Now() - before, absl::Seconds(30)) << "the run waited for the closed slot";
  for (const auto& call : server_.service->work_calls()) EXPECT_EQ(SlotOf(call.tag), 0);
}

// Work calls that each take `sleep_us`.
LoadPlan SlowWork(LoadPlan plan, int sleep_us) {
  plan.method = "/handoff.v1.Gateway/Work";
  v1::WorkRequest work;
  work.set_sleep_us(sleep_us);
  plan.messages = {Serialized(work)};
  return plan;
}

// One slot, calls of a minute: without --async the slot would make the
// second call only once the first ended. With it, at 50 a second or with no
// rate at all (as ghz's pacer at rate 0: every call due at once), all ten
// reach the server while none has ended, and no more; then the run is
// cancelled.
TEST_P(LoadRunnerTest, AsyncMakesCallsWithoutWaitingForThoseInFlight) {
  for (const double rps : {50.0, 0.0}) {
    SCOPED_TRACE(absl::StrCat("--rps ", rps));
    const size_t before = server_.service->work_calls().size();
    LoadPlan plan = SlowWork(EchoPlan(), 60'000'000);
    plan.options.async = true;
    plan.options.rps = rps;
    plan.options.total = 10;
    plan.options.concurrency = 1;
    LoadRunner runner(std::move(plan));
    ASSERT_TRUE(runner.Connect().ok());
    RunResults r;
    std::thread run([&] { r = runner.Run(); });
    EXPECT_TRUE(testing::WaitUntil(
        [&] { return server_.service->work_calls().size() == before + 10; }))
        << "the calls waited for each other: " << server_.service->work_calls().size() - before;
    EXPECT_EQ(runner.completed(), 0);
    runner.Cancel();
    run.join();
    EXPECT_EQ(r.end_reason, "cancel");
    for (const CallResult& c : r.calls) EXPECT_NE(c.code, grpc::StatusCode::OK);
    EXPECT_EQ(server_.service->work_calls().size(), before + 10) << "more than -n calls";
  }
}

// Cancel ends a run at once, also while its slots wait for a server that
// has gone away to come back (a -z run without a rate waits so rather than
// fail call after call): the gRPC engine's watch of the channel cannot be
// cancelled, and watching until -z's end kept an interrupted run for it.
TEST_P(LoadRunnerTest, CancelEndsARunWaitingForALostServer) {
  LoadPlan plan = EchoPlan();
  plan.options.duration = absl::Minutes(5);
  plan.options.concurrency = 2;
  LoadRunner runner(std::move(plan));
  ASSERT_TRUE(runner.Connect().ok());
  // At once: without a deadline, Shutdown waits for the connection the h2
  // engine keeps open.
  server_.server->Shutdown(std::chrono::system_clock::now());
  absl::Notification ran;
  RunResults r;
  std::thread run([&] {
    r = runner.Run();
    ran.Notify();
  });
  // A call has failed for the lost server: its slot waits for it now.
  ASSERT_TRUE(testing::WaitUntil([&] { return runner.completed() > 0; }));
  runner.Cancel();
  const bool ended = ran.WaitForNotificationWithTimeout(absl::Seconds(20));
  EXPECT_TRUE(ended) << "the run outlived its cancel";
  if (!ended) ran.WaitForNotification();  // at -z's end
  run.join();
  EXPECT_EQ(r.end_reason, "cancel");
  EXPECT_LT(r.total, absl::Seconds(20));
}

// An interrupted run lasted until its interrupt, as ghz's total runs until
// its Stop has ended the workers: a paced run whose slots were waiting for
// their next call's time when Ctrl-C came did not end with its last call,
// and counting its time only to then overstated its rate (--rps 1 cut at
// 200 ms reported 1 call in about a millisecond).
TEST_P(LoadRunnerTest, ACancelledRunCoversItsTimeUntilTheCancel) {
  LoadPlan plan = EchoPlan();
  plan.options.rps = 1;  // calls due at 0 s, 1 s, 2 s, ...
  plan.options.total = 100;
  plan.options.concurrency = 2;
  LoadRunner runner(std::move(plan));
  ASSERT_TRUE(runner.Connect().ok());
  RunResults r;
  std::thread run([&] { r = runner.Run(); });
  ASSERT_TRUE(testing::WaitUntil([&] { return runner.completed() == 1; }));
  // After the only call so far has ended, before the next one is due (1 s):
  // a total that stops at the last call's end stops short of this.
  const int64_t cancelled_at = MonotonicNowNs();
  runner.Cancel();
  run.join();
  EXPECT_EQ(r.end_reason, "cancel");
  ASSERT_GE(r.calls.size(), 1u);
  EXPECT_GE(r.start_ns + absl::ToInt64Nanoseconds(r.total), cancelled_at)
      << "total " << r.total << " ends before the cancel";
  EXPECT_LT(r.total, absl::Seconds(20));
}

TEST_P(LoadRunnerTest, AnAsyncTimedRunEndsOnTimeAndClosesWhatIsInFlight) {
  LoadPlan plan = SlowWork(EchoPlan(), 10'000'000);  // 10 s a call
  plan.options.async = true;
  plan.options.rps = 20;
  plan.options.concurrency = 1;
  plan.options.duration = absl::Milliseconds(300);
  const absl::Time before = absl::Now();
  RunResults r = RunPlan(std::move(plan));
  EXPECT_LT(absl::Now() - before, absl::Seconds(5)) << "the run waited for its calls";
  // About six calls were out at once, on one slot; -z closed them all.
  EXPECT_GT(r.calls.size(), 1u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::CANCELLED);
}

// ghz's pacer sleeps until a call's due time and then hands the call to a
// free worker, before its -z timer's Stop: a call due before the end is
// made, and is then in flight at the end, ended as --duration-stop says.
// Here the end comes first (the engine's Cancel before Run, on the loop's
// first turn, with the schedule not cancelled: -z's end, not an interrupt)
// while the second slot waits for its call, due at 200 ms, well before the
// 20 s end. Either timer may come first in a real run, when the call is
// due just before the end; the engines retired the slot whenever the end's
// came first, and the call was never made. It is made, decided by its due
// time against the end, on either engine.
TEST_P(LoadRunnerTest, APacedCallDueBeforeTheEndIsMadeThoughTheEndsTimerCameFirst) {
  // Call 0's slot, free only after the end, takes no other.
  LoadPlan plan = PacedSecondLongWorkPlan();
  plan.options.concurrency = 2;
  ExpectTwoCallsInFlightAtTheEnd(std::move(plan), "call 1 was due before the end");
}

// ghz's async worker takes each tick and goes back for the next at once,
// so its pacer hands out every call due before the -z timer's Stop. Under
// --async a slot whose call has begun hands its place in the schedule to
// another on a later turn; the engines retired that one whenever the end's
// timer ran before its turn, and a call due before the end was never made.
// Here the end comes first (the engine's Cancel before Run, the schedule not
// cancelled: -z's end, not an interrupt) just after call 0 began; call 1 is
// due at 200 ms, before the 300 ms end, and call 2, at 400 ms, after it. The
// place is free from call 0's due time, and call 1 is made, decided by its
// due time against the end, on either engine.
TEST_P(LoadRunnerTest, AnAsyncCallDueBeforeTheEndIsMadeThoughTheEndsTimerCameFirst) {
  LoadPlan plan = PacedSecondLongWorkPlan();  // call 2 at 400 ms, after the end
  plan.options.async = true;
  plan.options.concurrency = 1;
  ExpectTwoCallsInFlightAtTheEnd(std::move(plan), "call 1 was due before the end",
                                 absl::Milliseconds(300));
}

// Past the end, an --async chain makes at most the one call its place came
// free for before the end was seen: a run fallen behind its rate would
// otherwise make, after its end, every call due before it, one after
// another (ghz's pacer, behind, meets its Stop at the next call). Here the
// end is seen just after call 0 began, with calls due every 200 ms until
// the 2 s end: call 1 is made, and call 1's successor, free only after the
// end was seen, makes none. Without the bound the chain went on to call 9.
TEST_P(LoadRunnerTest, AnAsyncChainMakesAtMostOneCallPastTheEnd) {
  LoadPlan plan = PacedSecondLongWorkPlan();
  plan.options.async = true;
  plan.options.concurrency = 1;
  ExpectTwoCallsInFlightAtTheEnd(std::move(plan), "call 0, and call 1 alone after the end",
                                 absl::Seconds(2));
}

// An -n run under --async at a rate ends with its n calls, each made once
// and each in the report, on either engine: an --async slot hands its place
// in the schedule on as each call begins, and the place takes its ticket
// only on its own turn (a successor waiting for room, AsyncSlots, holds
// none), so no ticket is taken and dropped, nor made twice. Calls of 50 ms
// at 400 a second on two client threads of three slots keep about twenty in
// flight, several on each slot; each call's cpu_us is its request number.
TEST_P(LoadRunnerTest, AnAsyncPacedCountedRunReportsExactlyItsNCalls) {
  constexpr uint32_t kCalls = 120;
  LoadPlan plan = TemplatedWorkPlan(EchoPlan(), R"({{.RequestNumber}},"sleep_us":50000)", "t");
  plan.options.async = true;
  plan.options.rps = 400;
  plan.options.total = kCalls;
  plan.options.concurrency = 3;
  plan.options.connections = 2;
  plan.options.cpus = 2;
  const Report report = BuildReport(RunPlan(std::move(plan)));
  EXPECT_EQ(report.end_reason, "normal");
  EXPECT_EQ(report.count, kCalls);
  EXPECT_EQ(report.details.size(), kCalls);
  EXPECT_EQ(report.status_code_distribution,
            (std::map<std::string, int64_t>{{"OK", int64_t{kCalls}}}));
  std::multiset<uint32_t> numbers;
  for (const auto& call : server_.service->work_calls()) numbers.insert(call.cpu_us);
  std::multiset<uint32_t> each_once;
  for (uint32_t i = 0; i < kCalls; ++i) each_once.insert(i);
  EXPECT_EQ(numbers, each_once) << "each request number made once";
}

INSTANTIATE_TEST_SUITE_P(Engines, LoadRunnerTest,
                         ::testing::Values(EngineKind::kGrpc, EngineKind::kH2),
                         [](const ::testing::TestParamInfo<EngineKind>& info) {
                           return info.param == EngineKind::kGrpc ? "Grpc" : "H2";
                         });

// A rate so low that the next call is due past int64 nanoseconds (about 292
// years) is never due: it must not wrap into the past and start at once.
TEST(CallScheduleTest, AClosedSlotRetiresWithoutUsingATicket) {
  LoadOptions o;
  o.total = 10;
  o.concurrency_schedule = LoadSchedule::kStep;
  o.concurrency_start = 3;
  o.concurrency_step = -1;
  o.concurrency_end = 1;
  o.concurrency_step_duration = absl::Milliseconds(100);  // 3, then 2, then 1
  const int64_t start = 1'000'000'000;
  CallSchedule schedule(o, start);
  EXPECT_EQ(schedule.SlotOpensAt(2), start) << "a falling schedule opens every slot at once";
  const NextCall early = schedule.Take(start + 99'000'000, 2);
  EXPECT_EQ(early.kind, NextCall::kIssue);
  EXPECT_EQ(early.ticket, 0);
  EXPECT_EQ(schedule.Take(start + 100'000'000, 2).kind, NextCall::kRetire);
  EXPECT_EQ(schedule.Take(start + 150'000'000, 1).kind, NextCall::kIssue);
  EXPECT_EQ(schedule.Take(start + 200'000'000, 1).kind, NextCall::kRetire);
  const NextCall last = schedule.Take(start + 1'000'000'000, 0);
  EXPECT_EQ(last.kind, NextCall::kIssue);
  EXPECT_EQ(last.ticket, 2) << "the retirements took no ticket";
}

TEST(CallScheduleTest, ARisingSlotOpensAtItsStepAndAnNRunIsExhaustedAtItsLastTicket) {
  LoadOptions o;
  o.total = 2;
  o.concurrency_schedule = LoadSchedule::kLine;
  o.concurrency_start = 1;
  o.concurrency_step = 1;
  o.concurrency_end = 3;
  const int64_t start = 5'000;
  CallSchedule schedule(o, start);
  EXPECT_EQ(schedule.SlotOpensAt(0), start);
  EXPECT_EQ(schedule.SlotOpensAt(1), start + 1'000'000'000);
  EXPECT_EQ(schedule.SlotOpensAt(2), start + 2'000'000'000);
  EXPECT_FALSE(schedule.exhausted(start));
  (void)schedule.Take(start, 0);
  EXPECT_FALSE(schedule.exhausted(start));
  (void)schedule.Take(start, 0);
  EXPECT_TRUE(schedule.exhausted(start)) << "both tickets are taken";
}

TEST(CallScheduleTest, ACallDuePastTheClocksRangeIsNeverDue) {
  LoadOptions o;
  o.rps = 1e-10;  // one call every 317 years
  o.total = 2;
  o.duration = absl::Seconds(1);
  CallSchedule timed(o, /*start_ns=*/1'000);
  EXPECT_EQ(timed.Take(1'000).kind, NextCall::kIssue);
  EXPECT_EQ(timed.Take(1'000).kind, NextCall::kRetire) << "past the 1 s run";
  o.duration = absl::ZeroDuration();
  CallSchedule counted(o, /*start_ns=*/1'000);
  EXPECT_EQ(counted.Take(1'000).kind, NextCall::kIssue);
  const NextCall second = counted.Take(1'000);
  EXPECT_EQ(second.kind, NextCall::kWait);
  EXPECT_GT(second.due_ns, int64_t{1'000'000'000'000'000'000});
}

// A paced call taken once the run's time is up is not made, though it was
// due before: ghz's pacer, blocked until a worker is free, takes the Stop
// at the end instead. Whether the slot asked before or after the engine's
// end-of-run timer ran must not decide it.
TEST(CallScheduleTest, APacedCallTakenAfterTheEndIsNotMadeThoughDueBefore) {
  LoadOptions o;
  o.rps = 10;  // call i due at i * 100 ms
  o.duration = absl::Seconds(1);
  const int64_t start = 1'000;
  CallSchedule schedule(o, start);
  EXPECT_EQ(schedule.Take(start).kind, NextCall::kIssue);
  const NextCall behind = schedule.Take(start + 1'000'000'000);
  EXPECT_EQ(behind.kind, NextCall::kRetire) << "due at 100 ms, taken at the 1 s end";
}

// A server-streaming call sends one request, the one that is its call's
// turn, as a unary call does and as ghz does; the fake's Stream, which
// answers each message, stands for such a method (client_streaming false).
TEST(LoadRunnerEngineTest, ServerStreamingCallsUseGrpcAndSendOneMessageEach) {
  FakeServer server = FakeServer::Start();
  LoadPlan plan;
  plan.options.host = server.address;
  plan.options.insecure = true;
  plan.method = "/handoff.v1.Gateway/Stream";
  plan.streaming = true;
  for (int i = 0; i < 3; ++i) {
    v1::WorkRequest req;
    req.set_payload(std::to_string(i));
    req.set_cpu_us(i);
    plan.messages.push_back(Serialized(req));
  }
  plan.options.total = 20;
  plan.options.concurrency = 4;
  LoadRunner runner(std::move(plan));
  ASSERT_TRUE(runner.Connect().ok());
  EXPECT_EQ(runner.engine(), EngineKind::kGrpc);
  RunResults r = runner.Run();
  ASSERT_EQ(r.calls.size(), 20u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  EXPECT_EQ(server.service->stream_messages(), 20);
  // Calls 0 to 19 take messages 0, 1, 2, 0, ...
  std::map<uint32_t, int> sent;
  for (uint32_t cpu_us : server.service->stream_cpu_us()) ++sent[cpu_us];
  EXPECT_EQ(sent, (std::map<uint32_t, int>{{0, 7}, {1, 7}, {2, 6}}));
  server.server->Shutdown();
}

// Bidirectional streaming calls of the fake's Stream, with messages "0",
// "1", ...
LoadPlan StreamPlan(const FakeServer& server, int messages) {
  LoadPlan plan;
  plan.options.host = server.address;
  plan.options.insecure = true;
  plan.method = "/handoff.v1.Gateway/Stream";
  plan.streaming = true;
  plan.client_streaming = true;
  for (int i = 0; i < messages; ++i) {
    v1::WorkRequest req;
    req.set_payload(std::to_string(i));
    plan.messages.push_back(Serialized(req));
  }
  return plan;
}

RunResults ConnectAndRun(LoadPlan plan) {
  LoadRunner runner(std::move(plan));
  EXPECT_TRUE(runner.Connect().ok());
  return runner.Run();
}

TEST(LoadRunnerEngineTest, StreamCallCountSendsThatManyMessagesRoundTheData) {
  FakeServer server = FakeServer::Start();
  LoadPlan plan = StreamPlan(server, 2);
  plan.options.total = 3;
  plan.options.concurrency = 1;
  plan.options.stream_call_count = 5;  // 0 1 0 1 0
  RunResults r = ConnectAndRun(std::move(plan));
  ASSERT_EQ(r.calls.size(), 3u);
  for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  EXPECT_EQ(server.service->stream_messages(), 15);
  server.server->Shutdown();
}

TEST(LoadRunnerEngineTest, StreamIntervalSpacesTheSendsOfACall) {
  FakeServer server = FakeServer::Start();
  LoadPlan plan = StreamPlan(server, 1);
  plan.options.total = 1;
  plan.options.concurrency = 1;
  plan.options.stream_call_count = 3;
  plan.options.stream_interval = absl::Milliseconds(50);  // sends at 0, 50, 100 ms
  RunResults r = ConnectAndRun(std::move(plan));
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].code, grpc::StatusCode::OK);
  EXPECT_GE(r.calls[0].latency_ns, 100'000'000);
  EXPECT_EQ(server.service->stream_messages(), 3);
  server.server->Shutdown();
}

// A call that ends while a send waits out its interval (here its deadline
// passes) is over then: it waited for the send, to fail it on a dead
// stream, and was reported up to an interval late.
TEST(LoadRunnerEngineTest, ACallThatEndsBetweenItsSendsEndsThenNotAtTheNextSend) {
  FakeServer server = FakeServer::Start();
  LoadPlan plan = StreamPlan(server, 1);
  plan.options.total = 1;
  plan.options.concurrency = 1;
  plan.options.stream_call_count = 3;
  plan.options.stream_interval = absl::Seconds(30);
  plan.options.timeout = absl::Milliseconds(100);
  RunResults r = ConnectAndRun(std::move(plan));
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].code, grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(r.calls[0].latency_ns, 10'000'000'000) << "waited for the next send";
  EXPECT_EQ(server.service->stream_messages(), 1);
  server.server->Shutdown();
}

TEST(LoadRunnerEngineTest, StreamCallDurationEndsTheSendsAndTheCallEndsOk) {
  // Round one message every 20 ms until 100 ms have passed: five or so
  // sends, then the client ends its side and the server finishes OK.
  FakeServer server = FakeServer::Start();
  LoadPlan plan = StreamPlan(server, 1);
  plan.options.total = 2;
  plan.options.concurrency = 1;
  plan.options.stream_interval = absl::Milliseconds(20);
  plan.options.stream_call_duration = absl::Milliseconds(100);
  RunResults r = ConnectAndRun(std::move(plan));
  ASSERT_EQ(r.calls.size(), 2u);
  for (const CallResult& c : r.calls) {
    EXPECT_EQ(c.code, grpc::StatusCode::OK);
    EXPECT_GE(c.latency_ns, 100'000'000);
    EXPECT_LT(c.latency_ns, 5'000'000'000) << "the sends did not stop";
  }
  // One send each 20 ms of the 100: about six a call, a few more if the
  // machine stalls the alarms; without the end, they would never stop.
  EXPECT_GE(server.service->stream_messages(), 2);
  EXPECT_LE(server.service->stream_messages(), 20);
  server.server->Shutdown();
}

TEST(LoadRunnerEngineTest, AutoPicksH2ForUnaryPlaintextOnly) {
  FakeServer server = FakeServer::Start();
  LoadPlan plan;
  plan.options.host = server.address;
  plan.options.insecure = true;
  plan.method = "/handoff.v1.Gateway/Echo";
  plan.messages.emplace_back();
  {
    LoadRunner runner(plan);
    ASSERT_TRUE(runner.Connect().ok());
    EXPECT_EQ(runner.engine(), EngineKind::kH2);
  }
  {
    LoadPlan tls = plan;
    tls.options.insecure = false;
    tls.options.connect_timeout = absl::Milliseconds(100);  // TLS to plaintext fails
    LoadRunner runner(std::move(tls));
    (void)runner.Connect();
    EXPECT_EQ(runner.engine(), EngineKind::kGrpc);
  }
  {
    LoadPlan unix_target = plan;
    unix_target.options.host = "unix:/nonexistent/socket";
    unix_target.options.connect_timeout = absl::Milliseconds(100);
    LoadRunner runner(std::move(unix_target));
    (void)runner.Connect();
    EXPECT_EQ(runner.engine(), EngineKind::kGrpc);
  }
  server.server->Shutdown();
}

// Echo calls to `server` whose request and reply carry `payload_bytes`.
LoadPlan BigEchoPlan(const FakeServer& server, size_t payload_bytes) {
  LoadPlan plan;
  plan.options.host = server.address;
  plan.options.insecure = true;
  plan.options.total = 2;
  plan.options.concurrency = 1;
  plan.method = "/handoff.v1.Gateway/Echo";
  v1::EchoRequest req;
  req.set_payload(std::string(payload_bytes, 'a'));
  plan.messages.push_back(Serialized(req));
  return plan;
}

TEST(LoadRunnerEngineTest, MessageSizeLimitsFailCallsResourceExhaustedAsGrpcDoes) {
  FakeServer server = FakeServer::Start();
  {
    LoadPlan plan = BigEchoPlan(server, 2000);
    plan.options.max_recv_message_size = 1000;
    LoadRunner runner(std::move(plan));
    ASSERT_TRUE(runner.Connect().ok());
    EXPECT_EQ(runner.engine(), EngineKind::kGrpc);
    RunResults r = runner.Run();
    ASSERT_EQ(r.calls.size(), 2u);
    for (const CallResult& c : r.calls) {
      EXPECT_EQ(c.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
      EXPECT_NE(r.errors[c.error].find("Received message larger than max"), std::string::npos)
          << r.errors[c.error];
    }
    EXPECT_EQ(server.service->echo_calls(), 2) << "the server answered; the reply was refused";
  }
  {
    LoadPlan plan = BigEchoPlan(server, 2000);
    plan.options.max_send_message_size = 1000;
    RunResults r = ConnectAndRun(std::move(plan));
    ASSERT_EQ(r.calls.size(), 2u);
    for (const CallResult& c : r.calls) {
      EXPECT_EQ(c.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
      EXPECT_NE(r.errors[c.error].find("Sent message larger than max"), std::string::npos)
          << r.errors[c.error];
    }
    EXPECT_EQ(server.service->echo_calls(), 2) << "no request over the limit left the client";
  }
  {
    LoadPlan plan = BigEchoPlan(server, 500);
    plan.options.max_recv_message_size = 1000;
    plan.options.max_send_message_size = 1000;
    RunResults r = ConnectAndRun(std::move(plan));
    ASSERT_EQ(r.calls.size(), 2u);
    for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  }
  server.server->Shutdown();
}

TEST(LoadRunnerEngineTest, OptionsOnlyGrpcHasTakeTheGrpcEngineAndH2SaysWhy) {
  FakeServer server = FakeServer::Start();
  const LoadPlan base = BigEchoPlan(server, 10);
  const std::vector<std::pair<std::function<void(LoadOptions&)>, std::string>> cases = {
      {[](LoadOptions& o) { o.max_recv_message_size = 4 << 20; }, "--max-recv-message-size"},
      {[](LoadOptions& o) { o.max_send_message_size = 4 << 20; }, "--max-send-message-size"},
      {[](LoadOptions& o) { o.keepalive = absl::Seconds(30); }, "--keepalive"},
      {[](LoadOptions& o) { o.lb_strategy = "round_robin"; }, "--lb-strategy"},
  };
  for (const auto& [set, flag] : cases) {
    LoadPlan plan = base;
    set(plan.options);
    {
      LoadRunner runner(plan);
      ASSERT_TRUE(runner.Connect().ok()) << flag;
      EXPECT_EQ(runner.engine(), EngineKind::kGrpc) << flag;
      RunResults r = runner.Run();
      ASSERT_EQ(r.calls.size(), 2u) << flag;
      for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK) << flag;
    }
    plan.options.engine = EngineKind::kH2;
    LoadRunner forced(std::move(plan));
    const absl::Status refused = forced.Connect();
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << flag;
    EXPECT_NE(refused.message().find(flag), absl::string_view::npos) << refused;
  }
  server.server->Shutdown();
}

TEST(LoadRunnerEngineTest, LbStrategyRoundRobinSpreadsCallsPickFirstDoesNot) {
  FakeServer first = FakeServer::Start();
  FakeServer second = FakeServer::Start();
  // One target, two addresses, as a DNS name with two records would give.
  const std::string both = "ipv4:" + first.address + "," + second.address;
  LoadPlan plan = BigEchoPlan(first, 10);
  plan.options.host = both;
  // Enough calls to outlast the second address's connect, which round_robin
  // starts with the first's but may finish a little later.
  plan.options.total = 200;
  plan.options.lb_strategy = "round_robin";
  RunResults r = ConnectAndRun(plan);
  ASSERT_EQ(r.calls.size(), 200u);
  const int64_t rr_first = first.service->echo_calls();
  const int64_t rr_second = second.service->echo_calls();
  EXPECT_GT(rr_first, 0);
  EXPECT_GT(rr_second, 0);
  EXPECT_EQ(rr_first + rr_second, 200);

  plan.options.lb_strategy = "pick_first";
  r = ConnectAndRun(plan);
  ASSERT_EQ(r.calls.size(), 200u);
  const int64_t pf_first = first.service->echo_calls() - rr_first;
  const int64_t pf_second = second.service->echo_calls() - rr_second;
  EXPECT_EQ(pf_first, 200) << "pick_first keeps to the first address; " << pf_second
                           << " went to the second";
  first.server->Shutdown();
  second.server->Shutdown();
}

TEST(LoadRunnerEngineTest, StreamDynamicMessagesRendersEachMessageOnce) {
  for (const bool dynamic : {false, true}) {
    FakeServer server = FakeServer::Start();
    LoadPlan plan = StreamPlan(server, 0);
    plan.options.total = 1;
    plan.options.concurrency = 1;
    plan.options.stream_call_count = 5;
    plan.options.stream_dynamic_messages = dynamic;
    auto templates = TemplatedRequests::Make(
        R"({"cpu_us": {{randomInt 1 1000000000}}})", v1::WorkRequest::descriptor(), {},
        MethodNames{}, /*functions=*/true);
    ASSERT_TRUE(templates.ok()) << templates.status();
    plan.templates = *std::move(templates);
    plan.messages.push_back(Serialized(v1::WorkRequest()));
    RunResults r = ConnectAndRun(std::move(plan));
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(r.calls[0].code, grpc::StatusCode::OK);
    const std::vector<uint32_t> sent = server.service->stream_cpu_us();
    ASSERT_EQ(sent.size(), 5u);
    const std::set<uint32_t> distinct(sent.begin(), sent.end());
    if (dynamic) {
      // Five draws from a billion: equal ones are a one-in-10^8 chance.
      EXPECT_EQ(distinct.size(), 5u) << "a new rendering for every message";
    } else {
      EXPECT_EQ(distinct.size(), 1u) << "one rendering per call, sent five times";
    }
    server.server->Shutdown();
  }
}

TEST(LoadRunnerEngineTest, CompressedRequestsGoThroughGrpcAndArriveGzipped) {
  // A server that refuses gzip: a compressed request is UNIMPLEMENTED there.
  FakeServer server = FakeServer::Start(false, 0, absl::InfiniteDuration(), /*gzip=*/false);
  LoadPlan plan;
  plan.options.host = server.address;
  plan.options.insecure = true;
  plan.options.total = 3;
  plan.options.concurrency = 1;
  plan.options.enable_compression = true;
  plan.method = "/handoff.v1.Gateway/Echo";
  v1::EchoRequest req;
  req.set_payload(std::string(1000, 'a'));  // worth compressing
  plan.messages.push_back(Serialized(req));
  {
    LoadRunner runner(plan);
    ASSERT_TRUE(runner.Connect().ok());
    EXPECT_EQ(runner.engine(), EngineKind::kGrpc);
    RunResults r = runner.Run();
    ASSERT_EQ(r.calls.size(), 3u);
    for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::UNIMPLEMENTED);
  }
  {
    LoadPlan plain = plan;
    plain.options.enable_compression = false;
    LoadRunner runner(std::move(plain));
    ASSERT_TRUE(runner.Connect().ok());
    RunResults r = runner.Run();
    ASSERT_EQ(r.calls.size(), 3u);
    for (const CallResult& c : r.calls) EXPECT_EQ(c.code, grpc::StatusCode::OK);
  }
  {
    plan.options.engine = EngineKind::kH2;
    LoadRunner runner(std::move(plan));
    absl::Status s = runner.Connect();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("compressed"), absl::string_view::npos) << s;
  }
  server.server->Shutdown();
}

TEST(LoadRunnerEngineTest, ForcedH2RefusesAStreamingMethodAndSaysWhy) {
  LoadPlan plan;
  plan.options.host = "127.0.0.1:1";
  plan.options.insecure = true;
  plan.options.engine = EngineKind::kH2;
  plan.method = "/handoff.v1.Gateway/Stream";
  plan.streaming = true;
  plan.messages.emplace_back();
  LoadRunner runner(std::move(plan));
  absl::Status s = runner.Connect();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("unary"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace handoff::load
