// Copyright 2026 The handoff Authors.
//
// DeclaredLoad: the jobs in one stage of the pool (queued, or running) that
// declared what they will cost (Job::declared_cost), and the sum of what
// they declared. QueueLoad: all the jobs queued, and those among them.
//
// Admission reads these to estimate a queue wait from what the jobs ahead
// said they need, where it has that, instead of from the mean of past runs:
// a mean learned only from jobs that ran cannot see that the jobs now ahead
// are far shorter than the last ones were.
//
// Each field is updated and read on its own, with relaxed atomics: a reader
// may see a job counted in one field and not yet in another, so readers
// clamp what they derive (declared_jobs to [0, jobs], sums to >= 0). A job
// that declared nothing (0) touches only QueueLoad::jobs, so that jobs that
// never declare pay nothing for the others.

#ifndef HANDOFF_DISPATCH_INTERNAL_DECLARED_LOAD_H_
#define HANDOFF_DISPATCH_INTERNAL_DECLARED_LOAD_H_

#include <atomic>
#include <cstdint>

namespace handoff::internal {

struct DeclaredLoad {
  std::atomic<int64_t> jobs{0};
  std::atomic<int64_t> ns{0};

  // A job that declared `declared_ns` enters or leaves the stage; a no-op
  // for one that declared nothing (<= 0).
  void Add(int64_t declared_ns) {
    if (declared_ns <= 0) return;
    jobs.fetch_add(1, std::memory_order_relaxed);
    ns.fetch_add(declared_ns, std::memory_order_relaxed);
  }
  void Remove(int64_t declared_ns) {
    if (declared_ns <= 0) return;
    jobs.fetch_sub(1, std::memory_order_relaxed);
    ns.fetch_sub(declared_ns, std::memory_order_relaxed);
  }
};

struct QueueLoad {
  std::atomic<int64_t> jobs{0};
  DeclaredLoad declared;

  void Add(int64_t declared_ns) {
    jobs.fetch_add(1, std::memory_order_relaxed);
    declared.Add(declared_ns);
  }
  void Remove(int64_t declared_ns) {
    jobs.fetch_sub(1, std::memory_order_relaxed);
    declared.Remove(declared_ns);
  }
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_DECLARED_LOAD_H_
