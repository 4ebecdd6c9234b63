#include "client/load/rate_schedule.h"

#include <algorithm>
#include <iterator>
#include <limits>

namespace handoff::load {
namespace {

// A ramp that no --load-end or --load-max-duration stops is laid out only as
// far as the run can go (-n calls, or -z's or -x's time), and never past
// this many steps: a million one-second steps is eleven days.
constexpr size_t kMaxSteps = 1'000'000;

}  // namespace

RateSchedule::RateSchedule(const LoadOptions& o) {
  if (o.load_schedule == LoadSchedule::kConst) {
    if (o.rps > 0) steps_.push_back({0, 0, o.rps});
    return;
  }
  constexpr double kForever = std::numeric_limits<double>::infinity();
  const double width = o.load_schedule == LoadSchedule::kLine
                           ? 1.0
                           : absl::ToDoubleSeconds(o.load_step_duration);
  const double ramp_seconds = o.load_max_duration > absl::ZeroDuration()
                                  ? absl::ToDoubleSeconds(o.load_max_duration)
                                  : kForever;
  // How far the run itself can reach.
  const double run_seconds =
      RunLimit(o) > absl::ZeroDuration() ? absl::ToDoubleSeconds(RunLimit(o)) : kForever;
  const double run_tickets = o.duration > absl::ZeroDuration()
                                 ? kForever
                                 : static_cast<double>(o.total);

  Step step{0, 0, o.load_start};
  while (true) {
    steps_.push_back(step);
    const double next_start = step.start_seconds + width;
    const double next_first = step.first_ticket + step.rate * width;
    if (next_start >= ramp_seconds) {
      // At --load-max-duration, D, the rate goes where ghz's pacer puts it,
      // and stays: to --load-end if given, else to start + step x floor(D /
      // width), the rate of a step that begins exactly at D (one begun
      // before it is kept). Counted in whole nanoseconds, so that 0.3 s in
      // steps of 0.1 s is three steps, not 2.9999.
      const absl::Duration width_duration = o.load_schedule == LoadSchedule::kLine
                                                ? absl::Seconds(1)
                                                : o.load_step_duration;
      absl::Duration past_a_step;
      const double steps_at_end = static_cast<double>(
          absl::IDivDuration(o.load_max_duration, width_duration, &past_a_step));
      const double final_rate =
          o.load_end > 0 ? o.load_end : o.load_start + o.load_step * steps_at_end;
      const double first =
          step.first_ticket + step.rate * (ramp_seconds - step.start_seconds);
      if (final_rate != step.rate && ramp_seconds < run_seconds && first < run_tickets) {
        steps_.push_back({ramp_seconds, first, final_rate});
      }
      return;
    }
    if (next_start >= run_seconds || next_first >= run_tickets ||
        steps_.size() >= kMaxSteps) {
      return;  // the rate stays where it is
    }
    double next_rate = step.rate + o.load_step;
    const bool reaches_end =
        o.load_end > 0 && (o.load_step > 0 ? next_rate >= o.load_end : next_rate <= o.load_end);
    if (reaches_end) next_rate = o.load_end;
    step = Step{next_start, next_first, next_rate};
    if (reaches_end) {
      steps_.push_back(step);
      return;
    }
  }
}

double RateSchedule::DueSeconds(int64_t ticket) const {
  const double i = static_cast<double>(ticket);
  // The last step that began at or before call i.
  auto after = std::upper_bound(steps_.begin(), steps_.end(), i,
                                [](double t, const Step& s) { return t < s.first_ticket; });
  const Step& s = *std::prev(after);
  return s.start_seconds + (i - s.first_ticket) / s.rate;
}

}  // namespace handoff::load
