// Copyright 2026 The handoff Authors.

#include "server/job_start_headers.h"

#include <utility>

namespace handoff {

bool JobStartHeaders::JobStarting() {
  {
    absl::MutexLock l(&mu_);
    if (answered_) return false;
    if (started_) return true;
    started_ = true;
    sending_ = true;
  }
  // With mu_ released: gRPC may answer the call from here, through an
  // OnCancel it runs inline, and that Finish waits in finish_ until
  // HeadersSent. Until then the call is not finished, so the reactor is
  // alive.
  SendHeaders();
  return true;
}

void JobStartHeaders::HeadersSent() {
  std::optional<grpc::Status> finish;
  {
    absl::MutexLock l(&mu_);
    sending_ = false;
    finish.swap(finish_);
  }
  if (finish.has_value()) FinishCall(std::move(*finish));
}

void JobStartHeaders::Finish(grpc::Status status, absl::FunctionRef<void()> if_started) {
  {
    absl::MutexLock l(&mu_);
    answered_ = true;
    if (started_) if_started();
    if (sending_) {
      finish_ = std::move(status);
      return;
    }
  }
  FinishCall(std::move(status));
}

bool JobStartHeaders::started() const {
  absl::MutexLock l(&mu_);
  return started_;
}

void JobStartHeaders::SendHeaders() { call_->StartSendInitialMetadata(); }

void JobStartHeaders::FinishCall(grpc::Status status) { call_->Finish(std::move(status)); }

}  // namespace handoff
