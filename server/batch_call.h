// Copyright 2026 The handoff Authors.
//
// Batch: fan-out / fan-in (seeds/002, "Batch Request/Response") under one
// deadline.
//
// Every item becomes a Work job with the call's Context; all jobs answer on
// one shared reply channel with room for every item (fan-in: a worker never
// waits for the collector). At most --batch_window items (and never more
// than --queue_depth) are in flight at once, the next starting as each is
// collected: a batch of 1,000 items on an idle server must not fill the queue
// with its own jobs and have the rest refused as "queue full". The collector
// is an AsyncSelect on {replies, ctx.Done()}, re-armed after each reply, so
// no thread waits:
//
//   * all items answered   → OK, with each item's own status and reply —
//                            if before the deadline by the clock: items a
//                            worker dropped for a deadline the timer had not
//                            yet marked do not make a late batch OK;
//   * ctx done first       → the call's DEADLINE_EXCEEDED / CANCELLED
//                            (and the Context's cancellation stops the jobs
//                            still queued or running); once an item has
//                            started, with gRPC's server pushback, as a
//                            unary Work's (the drain timeout's UNAVAILABLE
//                            must not run the items again elsewhere).
//
// An item refused at admission (queue full, too late) gets that status in its
// slot; it does not fail the batch. One refused as overloaded while others of
// the batch are in flight is put back, and tried again once one of them has
// finished: the wait it was refused for is in part theirs. An item out of range fails the whole call
// with INVALID_ARGUMENT naming it (items[3].cpu_us), before any job runs.

#ifndef HANDOFF_SERVER_BATCH_CALL_H_
#define HANDOFF_SERVER_BATCH_CALL_H_

#include <atomic>

#include "dispatch/context.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "handoff/v1/gateway.pb.h"
#include "server/gateway_core.h"

namespace handoff {

// Tests only (null otherwise): called after each item a batch submits, on
// the thread that submitted it, with the batch's Context and how many items
// it has submitted so far. A test ends the batch here (a client's cancel,
// the drain timeout) to check that no item after it is submitted. The first
// window's items are submitted on the method's thread, before gRPC can
// deliver a client's cancel: it runs OnCancel, which marks the Context done,
// only once the method has returned. Later items are submitted one for each
// item collected, on the thread of the reply that freed the place.
inline std::atomic<void (*)(const Context& batch_ctx, int submitted)>
    batch_item_submitted_hook_for_test{nullptr};

// Starts the batch and returns its reactor (which deletes itself).
// `request` is a serialised BatchRequest (see proto_codec.h).
grpc::ServerUnaryReactor* StartBatchCall(GatewayCore& core,
                                         grpc::CallbackServerContext* call,
                                         const grpc::ByteBuffer& request,
                                         grpc::ByteBuffer* reply);

}  // namespace handoff

#endif  // HANDOFF_SERVER_BATCH_CALL_H_
