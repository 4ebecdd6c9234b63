// Copyright 2026 The handoff Authors.
//
// Must not compile: a channel of a value whose move may throw (chan.h,
// ChannelValue). The test chan_refuses_a_value_whose_move_may_throw compiles
// this file alone and expects the static_assert's message; everything else
// here is well-formed, so that no other error can pass for it.

#include <cstddef>

#include "dispatch/chan.h"

namespace {

struct MayThrowOnMove {
  MayThrowOnMove() = default;
  MayThrowOnMove(const MayThrowOnMove&) {}  // and so no implicit move
};

}  // namespace

int main() {
  handoff::Chan<MayThrowOnMove> ch(size_t{1});
  return ch.capacity() == 1 ? 0 : 1;
}
