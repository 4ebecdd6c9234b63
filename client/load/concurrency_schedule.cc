#include "client/load/concurrency_schedule.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace handoff::load {

absl::StatusOr<ConcurrencySchedule> ConcurrencySchedule::Make(const LoadOptions& o) {
  ConcurrencySchedule out;
  if (o.concurrency_schedule == LoadSchedule::kConst) {
    if (o.concurrency_start != 0 || o.concurrency_step != 1 || o.concurrency_end != 0 ||
        o.concurrency_step_duration != absl::ZeroDuration() ||
        o.concurrency_max_duration != absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          "--concurrency-start, --concurrency-step, --concurrency-end, "
          "--concurrency-step-duration and --concurrency-max-duration shape "
          "--concurrency-schedule=step or line");
    }
    return Constant(o.concurrency);
  }
  const std::string flag = absl::StrCat(
      "--concurrency-schedule=", o.concurrency_schedule == LoadSchedule::kStep ? "step" : "line");
  const int start = o.concurrency_start;
  const int step = o.concurrency_step;
  const int end = o.concurrency_end;
  if (start < 1) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " needs --concurrency-start above 0"));
  }
  if (step == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " needs a --concurrency-step other than 0"));
  }
  if (o.concurrency_schedule == LoadSchedule::kStep &&
      o.concurrency_step_duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " needs --concurrency-step-duration"));
  }
  if (end > 0 && (step > 0 ? end < start : end > start)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": --concurrency-end ", end, " is behind --concurrency-start ",
                     start, " for a --concurrency-step of ", step));
  }
  if (step > 0 && end == 0 && o.concurrency_max_duration <= absl::ZeroDuration() &&
      RunLimit(o) <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " rises without end: give --concurrency-end, --concurrency-max-duration, "
              "-z or -x"));
  }
  const int64_t width = o.concurrency_schedule == LoadSchedule::kLine
                            ? absl::ToInt64Nanoseconds(absl::Seconds(1))
                            : absl::ToInt64Nanoseconds(o.concurrency_step_duration);
  const int64_t ramp_ns = o.concurrency_max_duration > absl::ZeroDuration()
                              ? absl::ToInt64Nanoseconds(o.concurrency_max_duration)
                              : kNever;
  const int64_t run_ns =
      RunLimit(o) > absl::ZeroDuration() ? absl::ToInt64Nanoseconds(RunLimit(o)) : kNever;
  // A falling count stops at its end, and never goes below one slot.
  const int floor = std::max(end, 1);
  auto add = [&](const Step& s) -> absl::Status {
    if (s.count > kMaxSlots) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, " reaches ", s.count, " slots; handoff load runs at most ", kMaxSlots,
          " (lower --concurrency-end or --concurrency-max-duration)"));
    }
    out.steps_.push_back(s);
    return absl::OkStatus();
  };
  Step current{0, start};
  while (true) {
    if (absl::Status s = add(current); !s.ok()) return s;
    if (current.start_ns >= kNever - width) break;
    const int64_t next_start = current.start_ns + width;
    if (next_start >= run_ns) break;  // it stays where it is
    if (next_start >= ramp_ns) {
      // --concurrency-max-duration has passed: at the next step, as ghz's
      // ticker does, the count goes to --concurrency-end if given, reached or
      // not; else it stays where it is.
      if (end > 0 && end != current.count) {
        if (absl::Status s = add(Step{next_start, end}); !s.ok()) return s;
      }
      break;
    }
    int next = current.count + step;
    bool last = false;
    if (step > 0 && end > 0 && next >= end) {
      next = end;
      last = true;
    }
    if (step < 0 && next <= floor) {
      next = floor;
      last = true;
    }
    current = Step{next_start, next};
    if (last) {
      if (absl::Status s = add(current); !s.ok()) return s;
      break;
    }
  }
  out.rising_ = step > 0;
  out.slots_ = out.rising_ ? out.steps_.back().count : out.steps_.front().count;
  return out;
}

ConcurrencySchedule ConcurrencySchedule::Constant(int slots) {
  ConcurrencySchedule out;
  out.steps_.push_back({0, slots});
  out.slots_ = slots;
  return out;
}

int64_t ConcurrencySchedule::OpensAt(int slot) const {
  if (!rising_) return 0;
  for (const Step& s : steps_) {
    if (s.count > slot) return s.start_ns;
  }
  return kNever;
}

int64_t ConcurrencySchedule::ClosesAt(int slot) const {
  if (rising_) return kNever;
  for (const Step& s : steps_) {
    if (s.count <= slot) return s.start_ns;
  }
  return kNever;
}

}  // namespace handoff::load
