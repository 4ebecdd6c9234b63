// Copyright 2026 The handoff Authors.

#include "dispatch/clock.h"

#include <chrono>

#include "absl/time/clock.h"

namespace handoff {

namespace {

struct Anchor {
  absl::Time wall;
  std::chrono::steady_clock::time_point steady;
};

const Anchor& TheAnchor() {
  static const Anchor anchor{absl::Now(), std::chrono::steady_clock::now()};
  return anchor;
}

}  // namespace

absl::Time MonotonicNow() {
  const Anchor& a = TheAnchor();
  return a.wall + absl::FromChrono(std::chrono::steady_clock::now() - a.steady);
}

absl::Time FromWallClock(absl::Time wall) {
  if (wall == absl::InfiniteFuture() || wall == absl::InfinitePast()) {
    return wall;
  }
  return MonotonicNow() + (wall - absl::Now());
}

}  // namespace handoff
