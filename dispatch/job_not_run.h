// Copyright 2026 The handoff Authors.
//
// JobNotRun: what a job's run throws, before it has done anything of its
// own, to say it will not run after all: it reached its worker in time, but
// what it was for is gone (its call was answered, by its deadline or its
// client's cancel, after the worker's last check and before the job began).
// The worker then counts it as it counts a job it drops unrun (Dispatcher
// Stats::expired), not as a run, learns no cost from it, and hands `why` to
// the job's on_error, as for any job dropped before it ran.
//
// An exception, not a status the run returns: the worker's loop then pays
// nothing for it on the path every job takes (an Echo's included), where a
// flag would be one more branch after each run. Thrown only at the start of
// a run: a job that has done anything must return, or its work goes
// uncounted.

#ifndef HANDOFF_DISPATCH_JOB_NOT_RUN_H_
#define HANDOFF_DISPATCH_JOB_NOT_RUN_H_

#include <exception>
#include <utility>

#include "absl/status/status.h"

namespace handoff {

class JobNotRun : public std::exception {
 public:
  explicit JobNotRun(absl::Status why) : why_(std::move(why)) {}

  const char* what() const noexcept override { return "job not run"; }
  // Not OK: the job's answer, as on_error receives it.
  absl::Status why() && { return std::move(why_); }

 private:
  absl::Status why_;
};

}  // namespace handoff

#endif  // HANDOFF_DISPATCH_JOB_NOT_RUN_H_
