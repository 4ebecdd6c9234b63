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
//  - a deadline read off the wall clock by someone else goes through
//    FromWallClock() first (better: take what is left of it on its own
//    monotonic clock, as GatewayCore::ClientDeadline does with gRPC's);
//  - measure how long something took as the difference of two readings;
//  - wait with a timeout on the steady clock (SteadyAfter): absl::Mutex's
//    and absl::Notification's timed waits end by the wall clock in the
//    Abseil Debian ships.

#ifndef HANDOFF_DISPATCH_CLOCK_H_
#define HANDOFF_DISPATCH_CLOCK_H_

#include <chrono>

#include "absl/time/time.h"

namespace handoff {

// Now, on the deadline clock. Never goes back.
absl::Time MonotonicNow();

// `wall`, a point on the wall clock (CLOCK_REALTIME's), as the same moment
// on MonotonicNow()'s clock: what is left until it is kept, against a fresh
// reading of the kernel's clock (absl::Now() extrapolates between readings
// up to about 2 s apart, and so lags a step). Infinite points stay infinite.
absl::Time FromWallClock(absl::Time wall);

// `d` from now on the steady clock, for a timed wait (wait_until). Saturates:
// an infinite or huge `d` gives time_point::max(), where now + d would
// overflow into the past and end the wait at once.
std::chrono::steady_clock::time_point SteadyAfter(absl::Duration d);

}  // namespace handoff

#endif  // HANDOFF_DISPATCH_CLOCK_H_
