// Copyright 2026 The handoff Authors.

#include "dispatch/clock.h"

#include <chrono>

namespace handoff {

namespace {

struct Anchor {
  absl::Time wall;
  std::chrono::steady_clock::time_point steady;
};

const Anchor& TheAnchor() {
  static const Anchor anchor{absl::FromChrono(std::chrono::system_clock::now()),
                             std::chrono::steady_clock::now()};
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
  return MonotonicNow() +
         (wall - absl::FromChrono(std::chrono::system_clock::now()));
}

std::chrono::steady_clock::time_point SteadyAfter(absl::Duration d) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point now = Clock::now();
  if (d <= absl::ZeroDuration()) return now;
  const Clock::duration left = Clock::time_point::max() - now;
  // Compared as Durations: absl saturates where chrono would overflow.
  if (d >= absl::FromChrono(left)) return Clock::time_point::max();
  return now + std::chrono::duration_cast<Clock::duration>(
                   absl::ToChronoNanoseconds(d));
}

}  // namespace handoff
