#include "client/cancel_token.h"

namespace handoff {

void CancelToken::Cancel() {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return;
  cancelled_ = true;
  // TryCancel runs under the lock on purpose: a call completing on another
  // thread blocks in Detach until this loop is done, so no context is
  // destroyed while it is being cancelled. gRPC delivers completion
  // callbacks of application calls on its own threads, never inline in
  // TryCancel, so this cannot re-enter Detach on this thread.
  for (grpc::ClientContext* context : live_) context->TryCancel();
  live_.clear();
}

bool CancelToken::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

bool CancelToken::Attach(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return false;
  live_.insert(context);
  return true;
}

void CancelToken::Detach(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  live_.erase(context);
}

}  // namespace handoff
