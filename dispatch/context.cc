// Copyright 2026 The handoff Authors.

#include "dispatch/context.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "dispatch/clock.h"
#include "dispatch/internal/deadline_timer.h"

namespace handoff {
namespace internal {

// The shared state behind a cancellable Context.
//
// Invariants: `err_` goes from kOk to a final code once (the CAS in Mark),
// and only then is `done_` closed, so whoever sees Done() closed sees Err();
// and a cancel sets the `err_` of the whole subtree before it closes any
// `done_` (Cancel).
// A parent holds weak references to its children (a child that is dropped
// without being cancelled unregisters itself in its destructor); a child
// holds a strong reference to its parent.
class ContextState : public std::enable_shared_from_this<ContextState> {
 public:
  using Marked = absl::InlinedVector<std::shared_ptr<ContextState>, 4>;

  ContextState(std::shared_ptr<ContextState> parent, absl::Time deadline)
      : deadline_(deadline), parent_(std::move(parent)) {}

  ~ContextState() {
    if (parent_ != nullptr) {
      std::lock_guard<std::mutex> l(parent_->mu_);
      parent_->children_.erase(this);
    }
  }

  const Chan<std::monostate>& done() const { return done_; }
  absl::Time deadline() const { return deadline_; }
  absl::StatusCode code() const {
    return static_cast<absl::StatusCode>(err_.load(std::memory_order_acquire));
  }

  // Links this new context under its parent and arms its deadline. Called
  // once, right after construction.
  void Start(bool own_deadline) {
    absl::StatusCode inherited = absl::StatusCode::kOk;
    if (parent_ != nullptr) {
      std::lock_guard<std::mutex> l(parent_->mu_);
      // Checked under the parent's lock: a parent cancelled from here on
      // finds this child in its map (its Cancel takes the same lock).
      inherited = parent_->code();
      if (inherited == absl::StatusCode::kOk) {
        parent_->children_.emplace(this, weak_from_this());
      }
    }
    if (inherited != absl::StatusCode::kOk) {
      Cancel(inherited);
      return;
    }
    if (!own_deadline) return;
    if (deadline_ <= MonotonicNow()) {
      Cancel(absl::StatusCode::kDeadlineExceeded);
      return;
    }
    std::lock_guard<std::mutex> l(mu_);
    if (code() != absl::StatusCode::kOk) return;  // a parent got there first
    timer_.emplace(deadline_, [weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        self->Cancel(absl::StatusCode::kDeadlineExceeded);
      }
    });
  }

  // Cancels this context and its descendants in two passes: every one is
  // marked done (Err, IsDone) before any Done() closes. A Done() wakes what
  // waits on it, and what wakes may act on a context not yet cancelled: a
  // job stopped by its stream's cancel frees its worker, which then took
  // the stream's next queued job, a sibling still to be marked, and ran it
  // for a caller that had gone.
  void Cancel(absl::StatusCode code) {
    // Inline: a call's contexts are a handful, and a cancel is on every
    // call's path, which allocates nothing it need not (call_allocations_test).
    Marked descendants;
    if (!Mark(code, descendants)) return;
    // Cannot fail: only the CAS winner of each closes it.
    done_.Close().IgnoreError();
    for (const auto& state : descendants) state->done_.Close().IgnoreError();
  }

 private:
  // The first pass of Cancel: sets this context's Err and its descendants',
  // unless already set. False if this one's was: the cancel that set it
  // closes its Done(). The descendants it sets go in `marked`, held so that
  // they live until the second pass has closed their Done()s; a context
  // with no children (most: a job's) takes no reference to anything.
  bool Mark(absl::StatusCode code, Marked& marked) {
    int expected = static_cast<int>(absl::StatusCode::kOk);
    if (!err_.compare_exchange_strong(expected, static_cast<int>(code),
                                      std::memory_order_acq_rel)) {
      return false;  // already done: Done() closes exactly once
    }
    std::vector<std::weak_ptr<ContextState>> children;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (timer_.has_value()) timer_->Cancel();
      children.reserve(children_.size());
      for (auto& [ptr, weak] : children_) children.push_back(std::move(weak));
      children_.clear();
    }
    for (auto& weak : children) {
      if (auto child = weak.lock(); child != nullptr && child->Mark(code, marked)) {
        marked.push_back(std::move(child));
      }
    }
    return true;
  }

  const absl::Time deadline_;
  const std::shared_ptr<ContextState> parent_;
  Chan<std::monostate> done_{0};
  std::atomic<int> err_{static_cast<int>(absl::StatusCode::kOk)};

  // A std::mutex, not an absl::Mutex: pthread locks are what ThreadSanitizer
  // understands, and the dispatch tests run under it.
  std::mutex mu_;
  std::optional<DeadlineTimer> timer_;  // guarded by mu_
  absl::flat_hash_map<ContextState*, std::weak_ptr<ContextState>>
      children_;  // guarded by mu_
};

struct ContextAccess {
  static std::pair<Context, CancelFunc> Make(const Context& parent,
                                             absl::Time deadline) {
    const std::shared_ptr<ContextState>& p = parent.state_;
    absl::Time parent_deadline = p ? p->deadline() : absl::InfiniteFuture();
    // A parent that expires first cancels this child through the link; the
    // child needs no timer of its own then.
    bool own_deadline = deadline < parent_deadline;
    auto state = std::make_shared<ContextState>(
        p, own_deadline ? deadline : parent_deadline);
    state->Start(own_deadline);
    return {Context(state), CancelFunc(state)};
  }
};

}  // namespace internal

namespace {
const Chan<std::monostate>& NilDone() {
  static const Chan<std::monostate>* const nil = new Chan<std::monostate>();
  return *nil;
}
}  // namespace

Context Context::Background() { return Context(); }

const Chan<std::monostate>& Context::Done() const {
  return state_ ? state_->done() : NilDone();
}

bool Context::IsDone() const {
  return state_ != nullptr && state_->code() != absl::StatusCode::kOk;
}

absl::Status Context::Err() const {
  switch (state_ ? state_->code() : absl::StatusCode::kOk) {
    case absl::StatusCode::kOk:
      return absl::OkStatus();
    case absl::StatusCode::kDeadlineExceeded:
      return absl::DeadlineExceededError("context deadline exceeded");
    default:
      return absl::CancelledError("context canceled");
  }
}

absl::Time Context::Deadline() const {
  return state_ ? state_->deadline() : absl::InfiniteFuture();
}

void CancelFunc::operator()() const {
  if (state_ != nullptr) state_->Cancel(absl::StatusCode::kCancelled);
}

std::pair<Context, CancelFunc> WithCancel(const Context& parent) {
  return internal::ContextAccess::Make(parent, absl::InfiniteFuture());
}

std::pair<Context, CancelFunc> WithDeadline(const Context& parent,
                                            absl::Time deadline) {
  return internal::ContextAccess::Make(parent, deadline);
}

std::pair<Context, CancelFunc> WithTimeout(const Context& parent,
                                           absl::Duration timeout) {
  return WithDeadline(parent, MonotonicNow() + timeout);
}

}  // namespace handoff
