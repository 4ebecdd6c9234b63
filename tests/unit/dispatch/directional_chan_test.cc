// Copyright 2026 The handoff Authors.
//
// SendChan and RecvChan: a half of a channel is that channel (seeds/001:
// "Prefer the directional types"). What a half must not do is checked at
// compile time: directional_chan_compile_fail.cc.

#include "dispatch/directional_chan.h"

#include <optional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "dispatch/chan.h"
#include "dispatch/chan_status.h"
#include "dispatch/select.h"
#include "gtest/gtest.h"

namespace handoff {
namespace {

// What a producer handed only the send half can do: send, then close.
void Produce(SendChan<int> out, int n) {
  for (int i = 0; i < n; ++i) ASSERT_TRUE(out.Send(i).ok());
  ASSERT_TRUE(out.Close().ok());
}

// And a consumer handed only the receive half: range until closed.
std::vector<int> Consume(RecvChan<int> in) {
  std::vector<int> got;
  for (int v : in) got.push_back(v);
  return got;
}

TEST(DirectionalChanTest, BothHalvesAreTheChannelTheyWereMadeFrom) {
  Chan<int> ch(0);
  std::vector<int> got;
  std::thread consumer([&] { got = Consume(ch); });
  Produce(ch, 5);
  consumer.join();
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(ch.closed());
  const SendChan<int> out = ch;
  const RecvChan<int> in = ch;
  EXPECT_TRUE(out == SendChan<int>(ch));
  EXPECT_FALSE(in == RecvChan<int>(Chan<int>(0)));
}

TEST(DirectionalChanTest, AHalfKeepsTheChannelsBufferAndNonBlockingForms) {
  Chan<int> ch(2);
  SendChan<int> out = ch;
  RecvChan<int> in = ch;
  EXPECT_EQ(out.capacity(), 2u);
  ASSERT_TRUE(out.TrySend(1).ok());
  ASSERT_TRUE(out.TrySend(2).ok());
  EXPECT_TRUE(IsChannelFull(out.TrySend(3)));
  EXPECT_EQ(in.size(), 2u);
  EXPECT_EQ(*in.TryRecv(), 1);
  EXPECT_EQ(in.Recv(), 2);
  EXPECT_TRUE(IsChannelEmpty(in.TryRecv().status()));
  ASSERT_TRUE(out.Close().ok());
  EXPECT_TRUE(in.closed());
  EXPECT_EQ(in.Recv(), std::nullopt);
}

TEST(DirectionalChanTest, HalvesTakePartInASelect) {
  Chan<int> a(1), b(0);
  SendChan<int> out = a;
  RecvChan<int> in = a;
  int sent = 0;
  EXPECT_EQ(Select(OnSend(out, 7, [&] { ++sent; }), OnRecv(RecvChan<int>(b), [] {})), 0);
  EXPECT_EQ(sent, 1);
  std::optional<int> got;
  EXPECT_EQ(Select(OnRecv(in, [&](std::optional<int> v) { got = v; }),
                   OnSend(SendChan<int>(b), 1, [] {})),
            0);
  EXPECT_EQ(got, 7);
  // A callback waits on a receive half as on a channel.
  Chan<int> delivered(1);
  AsyncRecv(in, [delivered](std::optional<int> v) { ASSERT_TRUE(delivered.Send(*v).ok()); });
  ASSERT_TRUE(out.Send(9).ok());
  EXPECT_EQ(delivered.Recv(), 9);
}

TEST(DirectionalChanTest, ADefaultHalfIsNil) {
  SendChan<int> out;
  RecvChan<int> in;
  EXPECT_TRUE(out.is_nil());
  EXPECT_TRUE(in.is_nil());
  EXPECT_TRUE(IsChannelClosed(out.Send(1)));
  EXPECT_EQ(in.Recv(), std::nullopt);
  // In a select a nil half's case never fires, as a nil channel's.
  EXPECT_EQ(Select(OnRecv(in, [] {}), OnSend(out, 1, [] {}), OnDefault([] {})), 2);
}

}  // namespace
}  // namespace handoff
