#include <thread>
#include "gtest/gtest.h"
#include "dispatch/chan.h"
#include "dispatch/select.h"
#include "dispatch/context.h"
#include "dispatch/dispatcher.h"
namespace handoff { namespace {
TEST(Smoke, PingPong) {
  Chan<int> a(0), b(0);
  std::thread t([&]{ for (int v : a) ASSERT_TRUE(b.Send(v + 1).ok()); b.Close().IgnoreError(); });
  for (int i = 0; i < 1000; ++i) { ASSERT_TRUE(a.Send(int(i)).ok()); EXPECT_EQ(b.Recv(), i + 1); }
  ASSERT_TRUE(a.Close().ok());
  EXPECT_EQ(b.Recv(), std::nullopt);
  t.join();
}
TEST(Smoke, Dispatch) {
  Dispatcher d({.workers = 2, .queue_depth = 8});
  Chan<int> reply(1);
  Job j; j.run = [&](const RunInfo& ri) { reply.Send(ri.worker + 100).IgnoreError(); };
  ASSERT_TRUE(d.Submit(std::move(j)).ok());
  auto v = reply.Recv(); ASSERT_TRUE(v); EXPECT_GE(*v, 100);
  auto [ctx, cancel] = WithTimeout(Context::Background(), absl::Milliseconds(5));
  int r = Select(OnRecv(reply, []{}), OnDone(ctx, []{}));
  EXPECT_EQ(r, 1);
  EXPECT_TRUE(absl::IsDeadlineExceeded(ctx.Err()));
}
}}
