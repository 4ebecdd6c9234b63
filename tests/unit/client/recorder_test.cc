// Recorder: each engine thread's calls, merged into one RunResults.

#include "client/load/recorder.h"

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/status.h"
#include "gtest/gtest.h"

namespace handoff::load {
namespace {

// The error text a call's recorded index points at.
const std::string& ErrorOf(const RunResults& r, size_t call) {
  return r.errors.at(r.calls.at(call).error);
}

TEST(RecorderTest, MergedErrorsAreKeptOnceAndEachCallKeepsItsOwn) {
  std::atomic<int64_t> completed{0};
  Recorder a(&completed), b(&completed);
  a.Record(0, 10, grpc::StatusCode::UNAVAILABLE, "down");
  a.Record(0, 20, grpc::StatusCode::OK, "");
  a.Record(0, 30, grpc::StatusCode::INTERNAL, "only a's");
  b.Record(0, 40, grpc::StatusCode::INTERNAL, "only b's");
  b.Record(0, 50, grpc::StatusCode::UNAVAILABLE, "down");
  b.Record(0, 60, grpc::StatusCode::UNAVAILABLE, "down");
  RunResults out;
  a.MoveInto(out);
  b.MoveInto(out);
  ASSERT_EQ(out.calls.size(), 6u);
  EXPECT_EQ(out.errors.size(), 3u);
  const std::string down = GoErrorString(grpc::StatusCode::UNAVAILABLE, "down");
  EXPECT_EQ(ErrorOf(out, 0), down);
  EXPECT_EQ(out.calls[1].code, grpc::StatusCode::OK);
  EXPECT_EQ(ErrorOf(out, 2), GoErrorString(grpc::StatusCode::INTERNAL, "only a's"));
  EXPECT_EQ(ErrorOf(out, 3), GoErrorString(grpc::StatusCode::INTERNAL, "only b's"));
  EXPECT_EQ(ErrorOf(out, 4), down);
  EXPECT_EQ(ErrorOf(out, 5), down);
  EXPECT_EQ(out.calls[5].latency_ns, 60);
}

// A run whose calls each fail with a message of their own (a value echoed in
// the error): every message is kept, once, across threads, and every index
// points at the right one after the merge.
TEST(RecorderTest, ManyDistinctErrorsMergeOnceEach) {
  constexpr int kPerThread = 20000;
  std::atomic<int64_t> completed{0};
  Recorder a(&completed), b(&completed);
  for (int i = 0; i < kPerThread; ++i) {
    a.Record(0, 1, grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("value ", i));
    // b shares every other message with a.
    b.Record(0, 1, grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("value ", 2 * i));
  }
  RunResults out;
  a.MoveInto(out);
  b.MoveInto(out);
  EXPECT_EQ(out.errors.size(), static_cast<size_t>(kPerThread + kPerThread / 2));
  for (int i = 0; i < kPerThread; ++i) {
    ASSERT_EQ(ErrorOf(out, i),
              GoErrorString(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("value ", i)));
    ASSERT_EQ(ErrorOf(out, kPerThread + i),
              GoErrorString(grpc::StatusCode::INVALID_ARGUMENT,
                            absl::StrCat("value ", 2 * i)));
  }
}

TEST(RecorderTest, TheFirstSkippedCallsAcrossThreadsAreNotKept) {
  std::atomic<int64_t> completed{0};
  Recorder a(&completed, /*skip_first=*/2), b(&completed, /*skip_first=*/2);
  a.Record(0, 1, grpc::StatusCode::OK, "");
  b.Record(0, 2, grpc::StatusCode::INTERNAL, "warm-up");
  a.Record(0, 3, grpc::StatusCode::OK, "");
  RunResults out;
  a.MoveInto(out);
  b.MoveInto(out);
  ASSERT_EQ(out.calls.size(), 1u);
  EXPECT_EQ(out.calls[0].end_ns, 3);
  EXPECT_TRUE(out.errors.empty());
  EXPECT_EQ(completed.load(), 3);
  EXPECT_EQ(b.last_end_ns(), 2) << "a skipped call still ends the run";
}

}  // namespace
}  // namespace handoff::load
