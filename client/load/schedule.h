// CallSchedule: which call a free slot makes next, and when.
//
// ghz's model: tickets 0, 1, 2, ... go to free slots in order, until -n of
// them are used or -z's time is up. Without --rps a ticket is due the moment
// a slot takes it. With --rps, ticket i is due at start + i/rps (or as a
// --load-schedule ramp has it, rate_schedule.h): a slot that is early waits
// for that time, and the call's latency is measured from it, not from when
// a slot got free. So when the server stalls, the calls queued
// behind the stall are charged for it (no coordinated omission), and the
// rate never bursts to catch up beyond the concurrency limit.
//
// Every engine thread takes tickets from one CallSchedule; Take is one
// relaxed fetch_add.
#ifndef HANDOFF_CLIENT_LOAD_SCHEDULE_H_
#define HANDOFF_CLIENT_LOAD_SCHEDULE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>

#include "client/load/concurrency_schedule.h"
#include "client/load/options.h"
#include "client/load/rate_schedule.h"

namespace handoff::load {

// steady_clock, in nanoseconds: every timestamp of a run is on this clock.
int64_t MonotonicNowNs();

// `d` after `start_ns`, saturating: a far-off deadline or end stays in the
// future instead of wrapping into the past.
inline int64_t NsAfter(int64_t start_ns, absl::Duration d) {
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  return ns > std::numeric_limits<int64_t>::max() - start_ns
             ? std::numeric_limits<int64_t>::max()
             : start_ns + ns;
}

// A MonotonicNowNs() timestamp as a time point, for timers.
inline std::chrono::steady_clock::time_point SteadyTimePoint(int64_t ns) {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

struct NextCall {
  enum Kind {
    kRetire,  // the run has no more calls for this slot
    kWait,    // wait until `due_ns`, then issue the call
    kIssue,   // issue the call now
  };
  Kind kind = kRetire;
  int64_t ticket = 0;
  // The time the call's latency counts from.
  int64_t due_ns = 0;
};

class CallSchedule {
 public:
  static constexpr int64_t kNoEnd = std::numeric_limits<int64_t>::max();

  // A run of `options` starting at `start_ns`: with -z it ends at
  // start + -z; without, after -n tickets, or at start + -x if that comes
  // first.
  CallSchedule(const LoadOptions& options, int64_t start_ns);

  CallSchedule(const CallSchedule&) = delete;
  CallSchedule& operator=(const CallSchedule&) = delete;

  // The next call for slot `slot` (0 to -c - 1), free at `now_ns`; kRetire
  // once the concurrency schedule has closed the slot, without using a
  // ticket, and once `now_ns` or the call's due time is at or past the end.
  // A kWait call is due before the end: it is made, even if the end comes
  // while its slot waits for it (engine.h). A slot not yet open must not
  // ask (SlotOpensAt). Thread-safe.
  NextCall Take(int64_t now_ns, int slot = 0);

  // When slot `slot` opens, on the MonotonicNowNs() clock; kNoEnd for never.
  int64_t SlotOpensAt(int slot) const;

  // Whether no call is left to give: every ticket of an -n run is taken,
  // the run's time is up, or it was cancelled. A slot waiting to open
  // retires then.
  bool exhausted(int64_t now_ns) const;

  // Gives out no more calls: every Take from now on retires its slot.
  // Thread-safe (an interrupted run: Ctrl-C).
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  int64_t start_ns() const { return start_ns_; }
  // kNoEnd when the run is bounded by count alone.
  int64_t end_ns() const { return end_ns_; }
  // Whether -n bounds the run (no -z).
  bool count_bounded() const { return count_bounded_; }
  // Whether a slot whose call found no connection to the server waits for
  // the next attempt to connect before its next call. In a -z run without a
  // rate nothing else bounds how fast such calls fail: a closed loop would
  // fail (and keep for the report) as many as it can make, for as long as
  // the server is away. An -n run ends after its count, and a paced one
  // fails its calls as they come due, as ghz's do.
  bool waits_out_lost_connections() const { return !count_bounded_ && !rate_.paced(); }
  // Whether calls come due at a rate (--rps, a load schedule), not when a
  // slot is free.
  bool paced() const { return rate_.paced(); }

 private:
  const int64_t total_;
  const bool count_bounded_;
  const RateSchedule rate_;
  const int64_t start_ns_;
  const int64_t end_ns_;
  ConcurrencySchedule concurrency_;
  std::atomic<int64_t> next_ticket_{0};
  std::atomic<bool> cancelled_{false};
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_SCHEDULE_H_
