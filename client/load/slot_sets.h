// The sets of call slots an engine thread keeps besides the ones making
// calls, the same for both engines (grpc_engine.cc, h2_engine.cc), which
// differ only in how a slot waits and how it makes its call:
//
//   ClosedSlots  slots the concurrency schedule has not opened yet
//   AsyncSlots   --async's spare slots, and the ones waiting for room
//
// `Slot` is the engine's slot type; ClosedSlots reads its `index`. Neither
// is thread-safe: each belongs to one engine thread.
#ifndef HANDOFF_CLIENT_LOAD_SLOT_SETS_H_
#define HANDOFF_CLIENT_LOAD_SLOT_SETS_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "client/load/schedule.h"

namespace handoff::load {

template <typename Slot>
class ClosedSlots {
 public:
  // How long a closed slot sleeps at most in an -n run: the run may use up
  // its calls before the slot opens, and then it must retire, not sleep on.
  static constexpr int64_t kPollNs = 50'000'000;

  explicit ClosedSlots(const CallSchedule* schedule = nullptr) : schedule_(schedule) {}

  void set_schedule(const CallSchedule* schedule) { schedule_ = schedule; }

  // Of `slots`, the ones open at `now`, in order; the others are kept here
  // until they open.
  std::vector<Slot*> SplitOpen(const std::vector<Slot*>& slots, int64_t now) {
    std::vector<Slot*> open;
    for (Slot* s : slots) {
      (schedule_->SlotOpensAt(s->index) <= now ? open : closed_).push_back(s);
    }
    // Latest first: the next to open is at the back.
    std::sort(closed_.begin(), closed_.end(), [this](const Slot* a, const Slot* b) {
      return schedule_->SlotOpensAt(a->index) > schedule_->SlotOpensAt(b->index);
    });
    return open;
  }

  bool empty() const { return closed_.empty(); }

  // When to look again, on MonotonicNowNs()'s clock: when the next slot
  // opens, or after kPollNs in an -n run. Not empty() only.
  int64_t WakeAt(int64_t now) const {
    const int64_t at = schedule_->SlotOpensAt(closed_.back()->index);
    return schedule_->count_bounded() ? std::min(at, now + kPollNs) : at;
  }

  // When the next slot opens, on MonotonicNowNs()'s clock. Not empty() only.
  int64_t NextOpensAt() const { return schedule_->SlotOpensAt(closed_.back()->index); }

  // The slots open by `now`, taken out, in the order they opened.
  std::vector<Slot*> TakeOpen(int64_t now) {
    std::vector<Slot*> open;
    while (!closed_.empty() && schedule_->SlotOpensAt(closed_.back()->index) <= now) {
      open.push_back(closed_.back());
      closed_.pop_back();
    }
    return open;
  }

  // Every slot still closed, taken out: the run has no call left for them.
  std::vector<Slot*> TakeAll() { return std::exchange(closed_, {}); }

 private:
  const CallSchedule* schedule_;
  std::vector<Slot*> closed_;
};

template <typename Slot>
class AsyncSlots {
 public:
  // Calls one engine thread has in flight at most. Past it, the next call
  // waits for one to end: an open loop against a server that stopped
  // answering would otherwise grow without bound.
  static constexpr int64_t kMaxCalls = 50'000;

  // A successor's `free_ns` when the call it follows was made once the run's
  // end was seen: that call freed no place, and the successor makes no call
  // (each engine's TakeOver).
  static constexpr int64_t kFreedAfterTheEnd = std::numeric_limits<int64_t>::max();

  // A slot whose call is over, to take another's place in the schedule;
  // null when there is none (the engine makes one).
  Slot* TakeSpare() {
    if (spare_.empty()) return nullptr;
    Slot* s = spare_.back();
    spare_.pop_back();
    return s;
  }

  // A call began, and `successor` takes its slot's place in the schedule:
  // true if it may go on at once, false if it waits here for room.
  bool Begin(Slot* successor) {
    if (++calls_ <= kMaxCalls) return true;
    parked_.push_back(successor);
    return false;
  }

  // The call of `slot` ended: the slot is spare. Returns a successor that
  // waited for room and may now go on, or null.
  Slot* End(Slot* slot) {
    spare_.push_back(slot);
    --calls_;
    if (parked_.empty()) return nullptr;
    Slot* next = parked_.back();
    parked_.pop_back();
    return next;
  }

  // Every successor still waiting for room, taken out: the run is over.
  std::vector<Slot*> TakeParked() { return std::exchange(parked_, {}); }

 private:
  std::vector<Slot*> spare_;
  std::vector<Slot*> parked_;
  int64_t calls_ = 0;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_SLOT_SETS_H_
