// Copyright 2026 The handoff Authors.

#include "server/finish_after_headers.h"

namespace handoff {

void FinishAfterHeaders::HeadersSending() { headers_in_flight_ = true; }

void FinishAfterHeaders::HeadersDone() { headers_in_flight_ = false; }

bool FinishAfterHeaders::TakeFinish() {
  if (finished_ || headers_in_flight_) return false;
  finished_ = true;
  return true;
}

}  // namespace handoff
