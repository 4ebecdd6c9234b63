// Copyright 2026 The handoff Authors.
//
// DeclaredLoad: the queued jobs that are counted at a cost of their own, and
// the sum of those costs: what they declared (Job::declared_cost) and the
// overhead measured on such jobs, or, in a second DeclaredLoad, what their
// kind cost; each as it stood when they were submitted (Job::counted_cost).
// QueueLoad: all the jobs queued, and those among them; apart, the queued
// jobs whose cost was taken out when their context ended (withdrawal.h).
// (The runs in progress are counted worker by worker:
// Dispatcher::RunningNs.)
//
// Admission reads these to estimate a queue wait from what the jobs ahead
// will likely cost, where it knows that, instead of from the mean of all
// past runs: a mean learned only from jobs that ran cannot see that the jobs
// now ahead are far shorter than the last ones were, nor tell a slow kind of
// job from a fast one.
//
// Each field is updated and read on its own, with relaxed atomics: a reader
// may see a job counted in one field and not yet in another, so readers
// clamp what they derive (counts to [0, jobs], sums to >= 0). A job counted
// at no cost of its own (0) touches only QueueLoad::jobs, so that jobs that
// never declare pay nothing for the others.
//
// The costs are summed in two fields, so that no number of jobs a process
// could hold wraps a sum: costs under kLongNs (about 4.3 s) in ns, where
// 2^31 jobs fit; longer ones in units of kUnitNs (about 1 ms), rounded up,
// where over 8 billion jobs at the dispatcher's cap on a cost (2^50 ns, 13
// days) fit.
// In one sum of ns, 8,192 jobs at that cap, or a million queued jobs each
// counted at 2.6 h, wrapped it negative, and a negative sum counts as
// nothing: admission let every job in. A long job is counted at most 1 ms
// over, in 4.3 s.

#ifndef HANDOFF_DISPATCH_INTERNAL_DECLARED_LOAD_H_
#define HANDOFF_DISPATCH_INTERNAL_DECLARED_LOAD_H_

#include <atomic>
#include <cstdint>

namespace handoff::internal {

struct DeclaredLoad {
  static constexpr int64_t kLongNs = int64_t{1} << 32;
  static constexpr int64_t kUnitNs = int64_t{1} << 20;

  std::atomic<int64_t> jobs{0};
  std::atomic<int64_t> ns{0};          // the costs under kLongNs
  std::atomic<int64_t> long_units{0};  // the rest, in kUnitNs, rounded up

  // A job counted at `cost_ns` enters or leaves the queue; a no-op for one
  // counted at no cost of its own (<= 0).
  void Add(int64_t cost_ns) {
    if (cost_ns <= 0) return;
    jobs.fetch_add(1, std::memory_order_relaxed);
    if (cost_ns < kLongNs) {
      ns.fetch_add(cost_ns, std::memory_order_relaxed);
    } else {
      long_units.fetch_add(Units(cost_ns), std::memory_order_relaxed);
    }
  }
  void Remove(int64_t cost_ns) {
    if (cost_ns <= 0) return;
    jobs.fetch_sub(1, std::memory_order_relaxed);
    if (cost_ns < kLongNs) {
      ns.fetch_sub(cost_ns, std::memory_order_relaxed);
    } else {
      long_units.fetch_sub(Units(cost_ns), std::memory_order_relaxed);
    }
  }

  // The costs of the jobs counted here, in ns; >= 0.
  double SumNs() const {
    const int64_t short_ns = ns.load(std::memory_order_relaxed);
    const int64_t units = long_units.load(std::memory_order_relaxed);
    return static_cast<double>(short_ns > 0 ? short_ns : 0) +
           static_cast<double>(units > 0 ? units : 0) * static_cast<double>(kUnitNs);
  }

 private:
  static int64_t Units(int64_t cost_ns) {
    return cost_ns / kUnitNs + (cost_ns % kUnitNs != 0 ? 1 : 0);
  }
};

// What one job is counted at, in ns, if at a cost of its own (else 0): what
// it declared, or its kind's cost. At most one of the two is set.
struct JobLoad {
  int64_t declared_ns = 0;
  int64_t kind_ns = 0;
};

struct QueueLoad {
  // The jobs admission counts as ahead of the next one.
  std::atomic<int64_t> jobs{0};
  DeclaredLoad declared;
  DeclaredLoad kind;
  // Jobs still queued, holding their place until the dispatcher or a worker
  // drops them, but no longer counted in the fields above: their context
  // ended, and their cost was taken out then (Withdraw).
  std::atomic<int64_t> withdrawn{0};
  // Of the jobs counted above (in `jobs` or `withdrawn`), the submissions
  // still waiting for room (Dispatcher::Submit, AsyncSubmit): admission
  // counts them ahead of the next job, but they are not in the queue yet.
  std::atomic<int64_t> waiting{0};

  void Add(JobLoad load) {
    jobs.fetch_add(1, std::memory_order_relaxed);
    declared.Add(load.declared_ns);
    kind.Add(load.kind_ns);
  }
  void Remove(JobLoad load) {
    jobs.fetch_sub(1, std::memory_order_relaxed);
    declared.Remove(load.declared_ns);
    kind.Remove(load.kind_ns);
  }
  // A job whose context ended stops counting as ahead: Remove, but it
  // stays in `withdrawn` until it leaves the queue.
  void Withdraw(JobLoad load) {
    withdrawn.fetch_add(1, std::memory_order_relaxed);
    Remove(load);
  }
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_DECLARED_LOAD_H_
