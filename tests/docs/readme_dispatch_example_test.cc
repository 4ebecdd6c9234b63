// Copyright 2026 The handoff Authors.
//
// README's example of the channel runtime ("The channel runtime"), compiled
// and run as README shows it: a job carrying its own reply channel, handed
// to a Dispatcher's worker, and a select on {reply, ctx.Done()}. The example
// is included from README itself (extract_snippets.cmake), so it cannot
// drift from what runs here.

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "dispatch/context.h"
#include "dispatch/dispatcher.h"
#include "dispatch/select.h"
#include "gtest/gtest.h"

namespace {

TEST(ReadmeDispatchExampleTest, TheWorkersReplyOrTheDeadlineEndsTheSelect) {
  // The example's #includes are the headers above again: their include
  // guards leave nothing to expand inside this function.
#include "channel_runtime.inc"

  // The example's variables are still in scope. README names two outcomes:
  // the worker's reply, or, on a machine too busy to run it within 100 ms,
  // the deadline.
  if (ctx.IsDone() && absl::StrContains(answer, "DEADLINE_EXCEEDED")) {
    // Then the worker must still reply, late: a pool that never ran the job
    // would be a failure, not a slow machine.
    auto [patience, stop_waiting] = WithTimeout(Context::Background(), absl::Seconds(30));
    bool replied = false;
    Select(OnRecv(reply, [&] { replied = true; }), OnDone(patience, [] {}));
    ASSERT_TRUE(replied) << "the worker never ran the example's job";
    GTEST_SKIP() << "the worker did not run within the example's 100 ms";
  }
  EXPECT_TRUE(answer == "done by worker 0" || answer == "done by worker 1" ||
              answer == "done by worker 2" || answer == "done by worker 3")
      << answer;
}

}  // namespace
