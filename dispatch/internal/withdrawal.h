// Copyright 2026 The handoff Authors.
//
// Withdrawal: who takes a queued job's cost out of QueueLoad, for a job
// counted at a cost of its own large enough to be worth watching its
// context for (Dispatcher::kWithdrawOnCancelFromNs). Two may try, and the
// first claims it:
//  - the job's context ending while it is queued (a Done() callback,
//    Cancelled()): its cost leaves the estimate at once, and the job moves
//    to QueueLoad::withdrawn, for it still holds its place in the queue
//    until the dispatcher or a worker drops it;
//  - the job leaving the queue (Left()): handed out, taken by a finishing
//    worker, dropped, or its submission failing. It takes the cost out as
//    for any other job, and closes `left`, which ends the watch.
// The second finds the claim taken: the cancel does nothing; the leaving
// job, withdrawn already, only leaves QueueLoad::withdrawn.
//
// So a cancelled job stops counting against the jobs behind it at its
// cancel, not when a worker reaches it. Every job could be watched so, but
// the claim costs an allocation or three, two channel registrations and an
// atomic exchange on the dispatch path: nothing against a long job, too much
// against the short ones that make up most of a gateway's traffic, whose
// costs would be taken out early by no more than they are.
//
// The watch (an AsyncSelect on the context's Done() and on `left`) holds the
// context and this state only while the job is queued: AsyncSelect cannot
// be withdrawn, and on the context alone it would hold both until the
// context ends, for a job long gone (for ever, for a context nobody cancels
// and that has no deadline).

#ifndef HANDOFF_DISPATCH_INTERNAL_WITHDRAWAL_H_
#define HANDOFF_DISPATCH_INTERNAL_WITHDRAWAL_H_

#include <atomic>
#include <memory>
#include <utility>
#include <variant>

#include "dispatch/chan.h"
#include "dispatch/internal/declared_load.h"

namespace handoff::internal {

class Withdrawal {
 public:
  Withdrawal(std::shared_ptr<QueueLoad> queued, JobLoad load)
      : queued_(std::move(queued)), load_(load) {}

  Withdrawal(const Withdrawal&) = delete;
  Withdrawal& operator=(const Withdrawal&) = delete;

  // The job's context ended while it was queued (or waiting for room).
  void Cancelled() {
    if (Claim()) queued_->Withdraw(load_);
  }

  // The job left the queue, or never got into it. Called once per job, by
  // whoever takes it out.
  void Left() {
    if (Claim()) {
      queued_->Remove(load_);
      left_.Close().IgnoreError();  // ends the watch: it has nothing to do
    } else {
      queued_->withdrawn.fetch_sub(1, std::memory_order_relaxed);
    }
  }

  // Closed when the job leaves the queue before its context ends.
  const Chan<std::monostate>& left() const { return left_; }

 private:
  // True for the first caller only. Only this flag orders the two: each
  // count is updated on its own, as QueueLoad's always are.
  bool Claim() { return !claimed_.exchange(true, std::memory_order_relaxed); }

  std::atomic<bool> claimed_{false};
  // The count outlives the Dispatcher for a watch whose context ends after
  // Stop() (as AsyncSubmit's does: dispatcher.cc).
  const std::shared_ptr<QueueLoad> queued_;
  const JobLoad load_;
  const Chan<std::monostate> left_{0};
};

}  // namespace handoff::internal

#endif  // HANDOFF_DISPATCH_INTERNAL_WITHDRAWAL_H_
