// RateSchedule: when the i-th call of a paced run is due, in seconds from
// its start — at one rate (--rps), or at a rate that changes in steps, as
// ghz's --load-schedule has it:
//
//   step   --load-start calls/s, then --load-step more (or, negative, fewer)
//          every --load-step-duration, until the rate reaches --load-end
//          (where it stays) or --load-max-duration, D, has passed: then, as
//          ghz's pacer has it, the rate goes to --load-end if given, else to
//          start + step x floor(D / step duration), and stays there
//   line   the same in steps of one second: --load-step is the slope
//
// Call i is due when the rate, integrated from the start, reaches i: the
// calls of each step are spread evenly over it. A ramp is how one finds the
// load at which a server starts to shed (handoffd's RESOURCE_EXHAUSTED).
#ifndef HANDOFF_CLIENT_LOAD_RATE_SCHEDULE_H_
#define HANDOFF_CLIENT_LOAD_RATE_SCHEDULE_H_

#include <cstdint>
#include <vector>

#include "client/load/options.h"

namespace handoff::load {

class RateSchedule {
 public:
  // From validated options (ValidateLoadSchedule): the step and line
  // schedules, else --rps, else none.
  explicit RateSchedule(const LoadOptions& options);

  // Whether calls are paced at all; unpaced, a call is due when a slot is
  // free to make it.
  bool paced() const { return !steps_.empty(); }

  // Seconds from the start at which call `ticket` is due. Paced only.
  double DueSeconds(int64_t ticket) const;

 private:
  struct Step {
    double start_seconds;
    double first_ticket;  // calls due before this step: the rate's integral
    double rate;          // calls per second, > 0
  };

  // Steps in time order; the last one lasts for ever.
  std::vector<Step> steps_;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_RATE_SCHEDULE_H_
