// Copyright 2026 The handoff Authors.
//
// JobCost: what a call tells the dispatcher of its job's cost, for admission
// and for the worker that would start it (dispatcher.h, Job, says how each
// is used). Any of it may be left unset: not known.

#ifndef HANDOFF_SERVER_JOB_COST_H_
#define HANDOFF_SERVER_JOB_COST_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "dispatch/job_kind.h"

namespace handoff {

struct JobCost {
  // How long the job must run to succeed (Job::expected_run): it is refused,
  // or skipped, with less deadline left.
  absl::Duration expected_run = absl::ZeroDuration();
  // What it will cost its worker (Job::declared_cost).
  absl::Duration declared = absl::ZeroDuration();
  // Its kind, whose learned cost it is counted at if it declares none
  // (Job::kind).
  std::shared_ptr<JobKind> kind;
  // Counted in, if set, when a worker skips the job for want of time left
  // for expected_run (SkippedByWorker): Work's counter of skips, which the
  // job itself never sees, since it is dropped before it runs.
  std::atomic<int64_t>* skipped = nullptr;
};

}  // namespace handoff

#endif  // HANDOFF_SERVER_JOB_COST_H_
