// Copyright 2026 The handoff Authors.
//
// LineAlignedAllocator: what std::allocate_shared builds with it sits on a
// cache line boundary, and frees cleanly (ASan checks the frees in CI).

#include "dispatch/internal/line_aligned_allocator.h"

#include <cstdint>
#include <memory>
#include <vector>

#include "dispatch/chan.h"
#include "gtest/gtest.h"

namespace handoff::internal {
namespace {

struct alignas(64) Line {
  explicit Line(int v) : value(v) {}
  int value;
};

// Many at once, so that operator new's blocks start at every offset a line
// can have from a 16-byte boundary; each holds its own value.
TEST(LineAlignedAllocatorTest, SharedObjectsStartOnALineAndKeepTheirValues) {
  std::vector<std::shared_ptr<Line>> lines;
  for (int i = 0; i < 1000; ++i) {
    lines.push_back(std::allocate_shared<Line>(LineAlignedAllocator<Line>(), i));
    ASSERT_EQ(reinterpret_cast<uintptr_t>(lines.back().get()) % 64, 0u) << i;
  }
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(lines[i]->value, i);
}

// A channel's state is laid out by cache line (chan.h), which holds only if
// the state starts on one: unbuffered, one slot, and a longer ring.
TEST(LineAlignedAllocatorTest, EveryChannelsStateStartsOnALine) {
  std::vector<Chan<int>> chans;
  for (int i = 0; i < 300; ++i) chans.emplace_back(static_cast<size_t>(i % 3));
  for (const Chan<int>& ch : chans) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(ChanAccess::State(ch).get()) % 64, 0u);
  }
}

}  // namespace
}  // namespace handoff::internal
