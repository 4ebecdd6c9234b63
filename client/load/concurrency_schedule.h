// ConcurrencySchedule: how many call slots (ghz's workers) a run has at
// each moment, as ghz's --concurrency-schedule has it:
//
//   const  -c slots throughout
//   step   --concurrency-start slots, then --concurrency-step more (or,
//          negative, fewer) every --concurrency-step-duration, until the
//          count reaches --concurrency-end (where it stays) or
//          --concurrency-max-duration has passed: then, at the next step, as
//          ghz's ticker has it, the count goes to --concurrency-end if given,
//          and stays where it is
//   line   the same in steps of one second: --concurrency-step is the slope
//
// The count is a function of time alone, rising or falling, so each slot
// has one window: a rising schedule opens slot k when the count first
// exceeds k, a falling one closes it when the count first drops to k. A
// slot takes calls only inside its window; a call it has begun, it
// finishes. With --rps the rate is the run's, shared by the open slots.
#ifndef HANDOFF_CLIENT_LOAD_CONCURRENCY_SCHEDULE_H_
#define HANDOFF_CLIENT_LOAD_CONCURRENCY_SCHEDULE_H_

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/statusor.h"
#include "client/load/options.h"

namespace handoff::load {

class ConcurrencySchedule {
 public:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  // A run has at most this many slots: each is a call's worth of client
  // state, and a ramp that would need more is a mistyped flag.
  static constexpr int kMaxSlots = 10'000;

  // The schedule of `options`, whose other flags are valid. Errors name the
  // flag: a step of 0, a start below 1, an end behind the start, a step
  // schedule without --concurrency-step-duration, a falling schedule with
  // no floor, a rising one that nothing stops (no --concurrency-end,
  // --concurrency-max-duration, -z or -x), one past kMaxSlots.
  static absl::StatusOr<ConcurrencySchedule> Make(const LoadOptions& options);

  // `slots` slots, open throughout.
  static ConcurrencySchedule Constant(int slots);

  // How many slots the run needs: the most it has open at once.
  int slots() const { return slots_; }

  // When slot `slot` (0 to slots() - 1) opens and closes, in nanoseconds
  // from the run's start; kNever when it does not close.
  int64_t OpensAt(int slot) const;
  int64_t ClosesAt(int slot) const;

 private:
  struct Step {
    int64_t start_ns;
    int count;
  };

  // In time order; the last one lasts for ever. Counts only rise, or only
  // fall.
  std::vector<Step> steps_;
  int slots_ = 0;
  bool rising_ = true;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_CONCURRENCY_SCHEDULE_H_
