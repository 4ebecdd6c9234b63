// Copyright 2026 The handoff Authors.
//
// The select algorithm, after Go's runtime/select.go:
//
//  0. Poll the cases in a random order without any lock: a buffered channel
//     through its ring, while nobody is parked on it; an unbuffered one only
//     to see that nobody is parked on it and it is open, so it is not ready.
//     The first case that completes wins. Failing that (or as soon as a case
//     might be ready but only its lock can tell), go on to
//  1. Lock every distinct channel of the select, in address order (a global
//     order, so two selects over the same channels cannot deadlock).
//  2. Poll the cases in the same order; the first that can proceed does so.
//     Failing that, a default case runs. (With a default case, these polls
//     must see all the channels at one instant, as Go's do, so the select
//     first raises the gate of each buffered channel; see PollAll.)
//     Failing that,
//  3. queue one Node per case, all pointing at one Waiter, and unlock. The
//     first channel to claim the Waiter completes it.
//  4. Once claimed, lock each other channel in turn and unlink its Node.

#include <algorithm>
#include <cstdint>
#include <utility>

#include "dispatch/select.h"

namespace handoff::internal {
namespace {

// Select and AsyncSelect refuse more at compile time (select.h); the abort
// below guards these functions' own contract.
constexpr int kMaxCases = kMaxSelectCases;

// A small, fast per-thread generator for the poll order (xorshift64*). The
// order only has to be unbiased, not unpredictable.
uint32_t NextRandom() {
  thread_local uint64_t state =
      0x9E3779B97F4A7C15ull ^ reinterpret_cast<uintptr_t>(&state);
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return static_cast<uint32_t>((state * 0x2545F4914F6CDD1Dull) >> 32);
}

// The distinct channels of a select, sorted by address.
class LockSet {
 public:
  LockSet(SelectCase* const* cases, int n) {
    for (int i = 0; i < n; ++i) {
      if (ChanCore* c = cases[i]->core()) locks_[n_++] = c;
    }
    std::sort(locks_, locks_ + n_);
    n_ = static_cast<int>(std::unique(locks_, locks_ + n_) - locks_);
  }
  void LockAll() {
    for (int i = 0; i < n_; ++i) locks_[i]->lock.lock();
  }
  void UnlockAll() {
    for (int i = n_; i-- > 0;) locks_[i]->lock.unlock();
  }
  bool empty() const { return n_ == 0; }

 private:
  ChanCore* locks_[kMaxCases];
  int n_ = 0;
};

// A fresh random permutation of the case indices: the poll order, and the
// order in which a parking select queues its nodes (so that when several
// cases wait on one channel, the peer that arrives picks among them fairly).
void Shuffle(int* order, int n) {
  for (int i = 0; i < n; ++i) {
    int j = static_cast<int>(NextRandom() % static_cast<uint32_t>(i + 1));
    order[i] = i;  // the "inside-out" Fisher-Yates: place i, then swap it to j
    std::swap(order[i], order[j]);
  }
}

// Step 0. Returns the index of the case that completed, or -1 to take the
// locks. It never concludes that no case is ready, so never runs a default:
// its checks happen one after another, and "none was ready" across them is
// no instant's truth (a case may turn ready after its check while another
// is drained; Go's TestNonblockSelectRace). It stops at the first case that
// might be ready and leaves it, in the same order, to the locked poll, so the
// choice among ready cases stays uniform.
int PollWithoutLocks(SelectCase* const* cases, const int* order, int n) {
  for (int k = 0; k < n; ++k) {
    SelectCase* c = cases[order[k]];
    if (c->is_default()) continue;
    switch (c->PollWithoutLock()) {
      case FastPoll::kDone:
        return order[k];
      case FastPoll::kNotReady:
        continue;
      case FastPoll::kNeedLock:
        return -1;
    }
  }
  return -1;
}

// Raises, then lowers, the gates of a select's buffered channels, whose
// locks it holds (ChanState::HoldLocked).
void HoldAll(SelectCase* const* cases, int n) {
  for (int i = 0; i < n; ++i) {
    if (cases[i]->lock_free()) cases[i]->Hold();
  }
}
void ReleaseAll(SelectCase* const* cases, int n) {
  for (int i = 0; i < n; ++i) {
    if (cases[i]->lock_free()) cases[i]->Release();
  }
}

// Steps 1 and 2. Returns the index of the case that completed (channel locks
// released, peers woken, not yet Finish()ed), or -1 with all locks still held
// and the peers that polling completed on *wake.
//
// A select without a default case that finds nothing ready parks, and so
// needs no single instant: each channel's gate goes up as the select queues
// on it, operations still in flight are waited for and the channel settled
// (ChanState::Enqueue*Locked), so a case that turned ready after its poll
// completes the select then. A select with a default case takes the default
// on the strength of its polls alone. Each poll happens under the channel's
// lock, but a buffered channel's ring can still be pushed to or popped from
// without it, so between the polls of cases A and B another thread could
// fill B and then drain A: at every instant a case was ready, and yet each
// poll found its own not ready. So such a select raises the gate of each
// buffered channel first: head and tail then move only by its hand, and
// every poll sees the channels as they were once the last gate went up.
// (A single case on a buffered channel needs no gate: its one poll is its
// one instant, and the other channels do not change while locked.)
int PollAll(SelectCase* const* cases, const int* order, int n, LockSet& locks,
            WakeList* wake) {
  locks.LockAll();
  int default_index = -1;
  int lock_free = 0;
  for (int k = 0; k < n; ++k) {
    SelectCase* c = cases[order[k]];
    if (c->is_default()) {
      default_index = order[k];
    } else if (c->lock_free()) {
      ++lock_free;
    }
  }
  const bool hold = default_index >= 0 && lock_free > 1;
  if (hold) HoldAll(cases, n);
  for (int k = 0; k < n; ++k) {
    SelectCase* c = cases[order[k]];
    if (c->is_default()) continue;
    if (c->core() == nullptr) continue;  // nil channel: never ready
    if (c->Poll(wake)) {
      if (hold) ReleaseAll(cases, n);
      locks.UnlockAll();
      wake->WakeAll();
      return order[k];
    }
  }
  if (default_index >= 0) {
    if (hold) ReleaseAll(cases, n);
    locks.UnlockAll();
    wake->WakeAll();
    return default_index;
  }
  return -1;
}

void EnqueueAll(SelectCase* const* cases, const int* order, int n, Waiter* w,
                WakeList* wake) {
  for (int k = 0; k < n; ++k) {
    SelectCase* c = cases[order[k]];
    if (c->core() != nullptr) c->Enqueue(w, order[k], wake);
  }
}

}  // namespace

int SelectBlocking(SelectCase* const* cases, int n) {
  if (n > kMaxCases) std::abort();  // a programming error, not an input
  int order[kMaxCases];
  Shuffle(order, n);
  int chosen = PollWithoutLocks(cases, order, n);
  if (chosen >= 0) {
    cases[chosen]->Finish();
    return chosen;
  }
  LockSet locks(cases, n);
  WakeList wake;
  chosen = PollAll(cases, order, n, locks, &wake);
  if (chosen < 0) {
    ThreadWaiter w;
    EnqueueAll(cases, order, n, &w, &wake);
    locks.UnlockAll();
    wake.WakeAll();  // may include w itself, whose Park() then returns at once
    w.Park();  // with no channel at all, forever: Go's `select {}`
    chosen = w.selected();
    SelectUnlinkLosers(cases, n, chosen);
  }
  cases[chosen]->Finish();
  return chosen;
}

int SelectStart(SelectCase* const* cases, int n, Waiter* w) {
  if (n > kMaxCases) std::abort();
  int order[kMaxCases];
  Shuffle(order, n);
  int chosen = PollWithoutLocks(cases, order, n);
  if (chosen >= 0) return chosen;
  LockSet locks(cases, n);
  WakeList wake;
  chosen = PollAll(cases, order, n, locks, &wake);
  if (chosen < 0) {
    EnqueueAll(cases, order, n, w, &wake);
    // Queueing may claim w itself: a push or pop in flight, awaited, can
    // complete it (chan.h, settling). Only a holder of one of these locks
    // claims, so whether it did is settled now. If so, w completes on this
    // thread either way; completed here, as a case ready at once is, not in
    // its Wake(), a function that throws reaches the caller, as the header
    // promises, instead of ending the process.
    if (w->selected() != Waiter::kUnclaimed && wake.Remove(w)) {
      chosen = w->selected();
      locks.UnlockAll();
      wake.WakeAll();
      SelectUnlinkLosers(cases, n, chosen);
      return chosen;
    }
    locks.UnlockAll();
    wake.WakeAll();  // last: it may complete, and so free, w and the cases
  }
  return chosen;
}

void SelectUnlinkLosers(SelectCase* const* cases, int n, int chosen) {
  for (int i = 0; i < n; ++i) {
    if (i != chosen && cases[i]->core() != nullptr) cases[i]->Dequeue();
  }
}

}  // namespace handoff::internal
