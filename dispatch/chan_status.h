// Copyright 2026 The handoff Authors.
//
// The errors a channel operation reports, as absl::Status values.
//
// Go panics on a send to a closed channel and on a double close; handoff
// returns these instead, so a misuse is an error value and never undefined
// behaviour. The three are distinct codes, so a caller can tell "full" from
// "closed" (which asio::experimental::concurrent_channel's try_send cannot).

#ifndef HANDOFF_DISPATCH_CHAN_STATUS_H_
#define HANDOFF_DISPATCH_CHAN_STATUS_H_

#include "absl/status/status.h"

namespace handoff {

// The channel is closed: a send, or a second close. FAILED_PRECONDITION.
absl::Status ChannelClosedError();
// TrySend found no receiver and no buffer room. RESOURCE_EXHAUSTED.
absl::Status ChannelFullError();
// TryRecv found no sender and nothing buffered. UNAVAILABLE.
absl::Status ChannelEmptyError();

bool IsChannelClosed(const absl::Status& s);
bool IsChannelFull(const absl::Status& s);
bool IsChannelEmpty(const absl::Status& s);

}  // namespace handoff

#endif  // HANDOFF_DISPATCH_CHAN_STATUS_H_
