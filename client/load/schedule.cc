#include "client/load/schedule.h"

#include <algorithm>
#include <chrono>

namespace handoff::load {

int64_t MonotonicNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

CallSchedule::CallSchedule(const LoadOptions& options, int64_t start_ns)
    : total_(options.total),
      count_bounded_(options.duration <= absl::ZeroDuration()),
      rate_(options),
      start_ns_(start_ns),
      end_ns_(RunLimit(options) > absl::ZeroDuration()
                  ? std::min(NsAfter(start_ns, RunLimit(options)), kNoEnd - 1)
                  : kNoEnd),
      concurrency_([&options] {
        // Options that never went through Validate (a test's) have -c
        // slots, as a const schedule does.
        auto made = ConcurrencySchedule::Make(options);
        return made.ok() ? *std::move(made) : ConcurrencySchedule::Constant(options.concurrency);
      }()) {}

int64_t CallSchedule::SlotOpensAt(int slot) const {
  const int64_t at = concurrency_.OpensAt(slot);
  if (at == ConcurrencySchedule::kNever || at >= kNoEnd - start_ns_) return kNoEnd;
  return start_ns_ + at;
}

bool CallSchedule::exhausted(int64_t now_ns) const {
  return now_ns >= end_ns_ || cancelled() ||
         (count_bounded_ && next_ticket_.load(std::memory_order_relaxed) >= total_);
}

NextCall CallSchedule::Take(int64_t now_ns, int slot) {
  NextCall next;
  if (cancelled()) return next;  // kRetire
  const int64_t closes = concurrency_.ClosesAt(slot);
  if (closes != ConcurrencySchedule::kNever && now_ns - start_ns_ >= closes) return next;
  next.ticket = next_ticket_.fetch_add(1, std::memory_order_relaxed);
  if (count_bounded_ && next.ticket >= total_) return next;  // kRetire
  if (rate_.paced()) {
    // In double first: at a tiny rate the offset is past int64 nanoseconds,
    // and converted as it is, it would wrap into the past (start at once).
    const double offset = rate_.DueSeconds(next.ticket) * 1e9;
    const double room = static_cast<double>(kNoEnd - 1 - start_ns_);
    next.due_ns = offset >= room ? kNoEnd - 1 : start_ns_ + static_cast<int64_t>(offset);
    // Due at or after the end, or asked for once the end has come (a slot
    // free only then, behind the rate): not made, as ghz's pacer takes its
    // Stop then. Decided here by the time, not by whether the engine's
    // end-of-run timer has run yet.
    if (next.due_ns >= end_ns_ || now_ns >= end_ns_) return next;
    next.kind = next.due_ns > now_ns ? NextCall::kWait : NextCall::kIssue;
    return next;
  }
  if (now_ns >= end_ns_) return next;
  next.kind = NextCall::kIssue;
  next.due_ns = now_ns;
  return next;
}

}  // namespace handoff::load
