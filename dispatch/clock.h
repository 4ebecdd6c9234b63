// Copyright 2026 The handoff Authors.
//
// MonotonicNow(): the clock every deadline in handoff is read against.
//
// It returns an absl::Time, so a deadline prints, compares and adds like any
// other, but it advances with CLOCK_MONOTONIC: it is the wall clock as it
// read the first time the process asked, plus the monotonic time since. A
// step of the wall clock (NTP's first sync, a VM's resume, `date -s`) then
// neither expires every context in flight at once nor keeps one alive an
// hour past its timeout, which is why Go's time.Time carries a monotonic
// reading and its contexts compare by it.
//
// The two clocks part only when the wall clock steps (or the machine
// suspends). So:
//  - make deadlines with WithTimeout(), or as MonotonicNow() + d;
//  - a deadline read off the wall clock by someone else (gRPC's
//    ServerContext::deadline(), say) goes through FromWallClock() first;
//  - measure how long something took as the difference of two readings.

#ifndef HANDOFF_DISPATCH_CLOCK_H_
#define HANDOFF_DISPATCH_CLOCK_H_

#include "absl/time/time.h"

namespace handoff {

// Now, on the deadline clock. Never goes back.
absl::Time MonotonicNow();

// `wall`, a point on the wall clock (absl::Now()'s), as the same moment on
// MonotonicNow()'s clock: what is left until it is kept. Infinite points
// stay infinite.
absl::Time FromWallClock(absl::Time wall);

}  // namespace handoff

#endif  // HANDOFF_DISPATCH_CLOCK_H_
