// Copyright 2026 The handoff Authors.
//
// Parks an OS thread until another thread readies it: a short adaptive spin,
// then a futex sleep.
//
// Why spin at all: a futex sleep and wake costs microseconds of CPU on each
// side (and 5-50 us of latency on a VM, where the wake is an interrupt to a
// halted vCPU), while a channel peer running on the other core usually
// answers within a few hundred nanoseconds. Why bound it: on two cores a
// spinning waiter steals the core that would have made it ready (on one
// core it always does, so there nothing spins: see SpinningCanHelp). So the
// spin is bounded in time (not in `pause` instructions, whose cost differs
// tenfold between CPUs), by about the latency a sleep would add.
//
// How long to spin is learned per thread from how long its waits actually
// were (see SpinBudget). A waiter that slept learns when it was readied: the
// readier stamps the time. Learning only from hits and misses is not enough:
// once both sides of a ping-pong sleep, each wake takes longer than the
// budget, every spin misses, and the budget stays at its minimum for good.
// Where a wake takes longer than any ordinary spin (40-60 us on a nested VM),
// learning from waits is not enough either: what a thread just did tells
// more (SpinBudget::AfterWake and AfterHandoff).
//
// Three ideas were measured and dropped: a sched_yield before sleeping was
// 9% of handoffd's CPU, mostly the switches it caused; Go's cap of ncpu/2
// spinning threads made a ping-pong 20x slower, since the thread just woken
// still counts as spinning when its peer starts to wait, without lowering
// handoffd's CPU per call; and on one CPU, spinning by sched_yield()
// instead of not at all took a ping-pong to 4-5 us a round trip, against 11,
// but cost handoffd there 14-20% of its requests/s and 17-28% more CPU per
// call (4 interleaved rounds), likely because a worker's wait mostly ends
// with a job from a gRPC thread, not from the thread it yields to.
//
// Lifetime: Ready() may be the last thing that touches a ThreadParker; the
// parked thread may return and destroy it as soon as it sees the state flip.
// The futex wake that follows uses only the address, which the kernel treats
// as a number: at worst a later occupant of that address sees a spurious
// wakeup, which every futex waiter must tolerate anyway.

#ifndef HANDOFF_DISPATCH_INTERNAL_PARKER_H_
#define HANDOFF_DISPATCH_INTERNAL_PARKER_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iterator>
#include <utility>

namespace handoff::internal {

// Tells the CPU this is a spin-wait loop (x86 `pause`, ARM `yield`).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected);
void FutexWakeOne(std::atomic<uint32_t>* word);

// Whether a spin can ever catch a wakeup: not when this process may run on
// one CPU only (taskset, a container's cpuset of one), where the thread
// that would ready a spinner cannot run until the spinner gives the CPU up.
// There a ping-pong spent its whole budget on every wait: 40-50 us a round
// trip against 11 us for parking at once. Go's runtime likewise spins in
// its locks and its scheduler only when ncpu > 1.
//
// Read once, from the process's affinity mask (its main thread's, not the
// caller's: a thread pinned to one core on purpose still has peers that run
// elsewhere), as Go reads ncpu once at start. A CPU quota (cgroup cpu.max)
// is deliberately not read: with a quota of one CPU but two cores to run
// on, parking at once made a ping-pong 40-90 times slower, since both threads
// still run at once and a wake of an idle core is what costs.
bool SpinningCanHelp();

// The per-thread spin budget, in nanoseconds: twice the median of the
// thread's last kWindow waits, or kMinNs if that median is longer than any
// spin should be.
//
// Why the median: a spin pays only if it usually catches the wakeup. A
// worker whose jobs arrive at random, a few hundred microseconds apart on
// average, catches only the few that come soon and burns the whole spin on
// the rest, far more than the futex sleeps it saves (a rule that let short
// waits raise the budget at once put 10% of handoffd's CPU into spinning at
// 4 calls in flight). Its median wait is over the ceiling, so it sleeps at
// once. Both sides of a ping-pong wait about the same short time every
// round, so they spin.
//
// The wait that begins right after this thread readied another may get a
// longer budget: AfterWake() if it woke a sleeper, AfterHandoff() if the
// thread it readied was running.
class SpinBudget {
 public:
  static constexpr int64_t kMinNs = 500;
  // Long enough to outlast a futex wake on this VM, where it is an interrupt
  // to a halted vCPU: two threads stuck sleeping in turn wait about 28 us a
  // round, and a spin must cover that to get them out. No longer: a 50 us
  // ceiling cost handoffd 10-17% more CPU per call at 4 calls in flight,
  // spent by idle workers spinning on the cores gRPC's threads needed.
  static constexpr int64_t kMaxNs = 30000;
  static constexpr int kWindow = 8;
  // The longest spin AfterWake() allows: a sleep relay's upper waits (one
  // futex wake each, 40-60 us on a nested VM) with a quarter to spare.
  static constexpr int64_t kMaxAfterWakeNs = 100000;

  SpinBudget() { std::fill(std::begin(waits_), std::end(waits_), kMinNs); }

  // The budget for an ordinary wait.
  int64_t get() const { return budget_ns_; }

  // The budget for a wait that begins right after this thread woke a
  // sleeper.
  //
  // Why: two threads that wait for each other can fall into a sleep relay.
  // One misses its spin and sleeps; its peer, which has to wake it, then
  // waits a whole wake for the answer, misses its own spin and sleeps; and
  // so on, every wait one wake long. Where a wake takes longer than kMaxNs,
  // get() says to sleep after every such wait and the relay never ends: on a
  // nested VM a ping-pong that takes 0.5 us a round trip while both sides
  // spin took 30-100 us for whole benchmark runs. It ends once one side
  // spins through one wake, and the side that has just woken its peer is
  // the one that knows its answer is a wake away.
  //
  // Why not always: a worker whose jobs come at a steady rate also waits
  // about the same long time every round, and spinning through each gap
  // would cost a core. Those waits do not follow a wake of its own (whoever
  // submits the job wakes it), so it keeps get(). The waits must also be
  // alike (the 7th of 8 within 1.5x the 3rd), as a relay's are: when they
  // scatter, the next one says nothing.
  int64_t AfterWake() const { return std::max(budget_ns_, after_wake_ns_); }

  // The budget for a wait that begins right after this thread readied a
  // thread that was running (spinning, or not parked yet).
  //
  // Why: when two threads hand work back and forth and each answers in
  // about the same short time, a wait several times longer than usual is
  // most often the host taking the peer's vCPU away for a moment, not a
  // change of pattern. Sleeping through it costs far more than the hiccup:
  // the peer must then wake this thread (15-18 us of the peer's CPU and a
  // 40-60 us wait on a nested VM), and the peer's next wait is long too,
  // which starts a sleep relay (see AfterWake). The peer was on a core a
  // moment ago, so the answer is coming: spin up to kMaxNs for it, as an
  // adaptive mutex spins while its owner runs.
  //
  // Only when the waits are alike and short: a worker whose waits scatter
  // (jobs arriving at random) keeps get(), since a long wait there says
  // nothing about the next one.
  int64_t AfterHandoff() const {
    return std::max(budget_ns_, after_handoff_ns_);
  }

  // This thread has just readied another: its next wait gets AfterWake() if
  // that one was asleep, AfterHandoff() if it was running.
  void WokeSleeper() { readied_ = Readied::kSleeper; }
  void ReadiedRunner() { readied_ = Readied::kRunner; }

  // The budget for the wait that begins now.
  int64_t ForThisWait() {
    switch (std::exchange(readied_, Readied::kNobody)) {
      case Readied::kSleeper:
        return AfterWake();
      case Readied::kRunner:
        return AfterHandoff();
      case Readied::kNobody:
        break;
    }
    return budget_ns_;
  }

  // A wait ended `waited_ns` after it began (negative: unknown, counted as
  // too long to spin for).
  void Waited(int64_t waited_ns) {
    waits_[next_] = waited_ns < 0 ? kMaxNs + 1 : waited_ns;
    next_ = (next_ + 1) % kWindow;
    int64_t w[kWindow];
    Sort(waits_, w);
    const int64_t median = w[kWindow / 2];
    budget_ns_ = median > kMaxNs ? kMinNs : std::clamp(2 * median, kMinNs, kMaxNs);
    const int64_t upper = w[6] + w[6] / 4;
    const bool alike = w[6] <= w[2] + w[2] / 2;
    after_wake_ns_ =
        median > kMaxNs && alike && upper <= kMaxAfterWakeNs ? upper : 0;
    after_handoff_ns_ = median <= kMaxNs && alike ? kMaxNs : 0;
  }

  static SpinBudget& ForThisThread();

 private:
  // Sorts 8 waits into `a` by a sorting network: min and max compile to
  // conditional moves, so this costs a few nanoseconds and no mispredicted
  // branch. It runs just after a thread was readied, while its peer waits
  // for what it does next; std::nth_element there (for the median alone)
  // cost a ping-pong round trip about 100 ns.
  static void Sort(const int64_t (&w)[kWindow], int64_t (&a)[kWindow]) {
    static_assert(kWindow == 8, "the network below sorts exactly 8");
    std::copy(std::begin(w), std::end(w), a);
    auto order = [&a](int i, int j) {
      const int64_t lo = std::min(a[i], a[j]);
      a[j] = std::max(a[i], a[j]);
      a[i] = lo;
    };
    order(0, 2), order(1, 3), order(4, 6), order(5, 7);
    order(0, 4), order(1, 5), order(2, 6), order(3, 7);
    order(0, 1), order(2, 3), order(4, 5), order(6, 7);
    order(2, 4), order(3, 5);
    order(1, 4), order(3, 6);
    order(1, 2), order(3, 4), order(5, 6);
  }

  int64_t waits_[kWindow];
  int next_ = 0;
  int64_t budget_ns_ = 2 * kMinNs;
  int64_t after_wake_ns_ = 0;     // what AfterWake() allows beyond get(), or 0
  int64_t after_handoff_ns_ = 0;  // what AfterHandoff() allows, or 0
  enum class Readied : uint8_t { kNobody, kSleeper, kRunner };
  Readied readied_ = Readied::kNobody;  // since this thread's last wait
};

class ThreadParker {
 public:
  // How long the wait that begins now may spin, in nanoseconds.
  static int64_t SpinNs(SpinBudget& budget) {
    const int64_t ns = budget.ForThisWait();  // also clears the readied mark
    return SpinningCanHelp() ? ns : 0;
  }

  // Blocks until Ready() has been called (possibly already).
  void Park() {
    SpinBudget& budget = SpinBudget::ForThisThread();
    const int64_t start = NowNs();
    const int64_t spin_ns = SpinNs(budget);
    if (spin_ns > 0 ? Spin(start + spin_ns)
                    : state_.load(std::memory_order_acquire) == kReady) {
      budget.Waited(NowNs() - start);
      return;
    }
    uint32_t expected = kSpinning;
    if (!state_.compare_exchange_strong(expected, kSleeping,
                                        std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      budget.Waited(NowNs() - start);  // readied just before the sleep
      return;
    }
    do {
      FutexWait(&state_, kSleeping);
    } while (state_.load(std::memory_order_acquire) != kReady);
    const int64_t readied = readied_ns_.load(std::memory_order_relaxed);
    budget.Waited(readied == 0 ? -1 : readied - start);
  }

  // Releases the parked thread. Everything written before Ready() is visible
  // to it when Park() returns.
  void Ready() {
    // Stamp only a sleeper (the clock read is not free), and before the
    // exchange: after it, the parker may already be gone. A sleeper that
    // falls asleep after this load gets no stamp, and counts its wait as
    // unknown (too long to spin for).
    if (state_.load(std::memory_order_relaxed) == kSleeping) {
      readied_ns_.store(NowNs(), std::memory_order_relaxed);
    }
    if (state_.exchange(kReady, std::memory_order_acq_rel) == kSleeping) {
      FutexWakeOne(&state_);
      SpinBudget::ForThisThread().WokeSleeper();
    } else {
      SpinBudget::ForThisThread().ReadiedRunner();
    }
  }

  // The monotonic clock the spins are timed by, in nanoseconds.
  static int64_t NowNs();

  // Whether the parked thread has gone to sleep. For tests: what Ready()
  // finds decides the readier's next budget (SpinBudget::ForThisWait).
  bool asleep() const {
    return state_.load(std::memory_order_acquire) == kSleeping;
  }

 private:
  // Spins until `give_up_ns` (NowNs()); true if readied meanwhile.
  bool Spin(int64_t give_up_ns);

  static constexpr uint32_t kSpinning = 0;
  static constexpr uint32_t kSleeping = 1;
  static constexpr uint32_t kReady = 2;

  std::atomic<uint32_t> state_{kSpinning};
  // When Ready() found the thread asleep (NowNs()), or 0.
  std::atomic<int64_t> readied_ns_{0};
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_PARKER_H_
