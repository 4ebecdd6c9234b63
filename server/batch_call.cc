// Copyright 2026 The handoff Authors.

#include "server/batch_call.h"

#include <algorithm>
#include <cstddef>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "dispatch/chan.h"
#include "dispatch/clock.h"
#include "dispatch/dispatcher.h"
#include "dispatch/select.h"
#include "server/call_reactor.h"
#include "server/gateway_service.h"
#include "server/proto_codec.h"
#include "server/reply_job.h"
#include "server/work.h"

namespace handoff {
namespace {

// The fewest bytes the BatchReply to `request` can take if every item
// succeeds: each item's payload comes back, inside a WorkReply, inside a
// BatchItemReply (whose `reply` is written even when empty); the reply's
// other fields are left out, so the bound is never above the real size.
// Every field counted here has a number under 16: a one-byte tag.
size_t LeastReplyBytes(const v1::BatchRequest& request) {
  using google::protobuf::io::CodedOutputStream;
  auto length_delimited = [](size_t n) {
    return 1 + CodedOutputStream::VarintSize64(n) + n;
  };
  size_t total = 0;
  for (const v1::WorkRequest& item : request.items()) {
    const size_t payload = item.payload().size();
    const size_t work_reply = payload == 0 ? 0 : length_delimited(payload);
    total += length_delimited(length_delimited(work_reply));
  }
  return total;
}

// Admission's "overloaded: ...": the estimated wait, which counts the jobs
// ahead at their worst, would outlast the deadline. Not a full queue, nor a
// deadline too short for the item alone.
bool RefusedAsOverloaded(const absl::Status& s) {
  return absl::IsResourceExhausted(s) && JudgedByTheDeadline(s);
}

// An item's outcome, and which item it answers: items finish in any order.
struct ItemOutcome {
  int index = 0;
  Outcome<v1::WorkReply> outcome;
  // False: refused at admission, never queued or running. Until collected
  // it still counts in the window, but it is no wait another item of the
  // batch was refused for.
  bool admitted = true;
};

class BatchCall final : public CallReactor {
 public:
  BatchCall(GatewayCore& core, grpc::CallbackServerContext* call,
            grpc::ByteBuffer* response)
      : CallReactor(core, Method::kBatch, *call), response_(response) {}

  void Start(const grpc::ByteBuffer& raw) {
    if (RejectedForWantOfRequest(raw)) return;
    // Counted before the request is built, which for many small items costs
    // far more memory than the message's bytes (proto_codec.h).
    const int cap = core_.config().max_batch_items;
    if (CountTopLevelField(raw, v1::BatchRequest::kItemsFieldNumber, cap) > cap) {
      Complete(absl::InvalidArgumentError(
          absl::StrCat("items: more than ", cap,
                       ", the cap on items in a batch (--max_batch_items)")));
      return;
    }
    v1::BatchRequest request;
    if (absl::Status s = ParseMessage(raw, &request); !s.ok()) {
      Complete(std::move(s));
      return;
    }
    const int n = request.items_size();
    for (int i = 0; i < n; ++i) {
      if (absl::Status s = ValidateWork(request.items(i)); !s.ok()) {
        Complete(absl::InvalidArgumentError(
            absl::StrCat("items[", i, "].", s.message())));
        return;
      }
    }
    // A reply that could not go out even if every item succeeded is refused
    // before any item runs: their work would only be thrown away.
    const size_t least = LeastReplyBytes(request);
    const int max_bytes = core_.config().max_message_bytes;
    if (least > static_cast<size_t>(max_bytes)) {
      RefuseRetry();
      Complete(absl::ResourceExhaustedError(absl::StrCat(
          "batch of ", n, " items: its reply would be at least ", least,
          " bytes, over the limit of ", max_bytes,
          " bytes on a message (--max_message_bytes); split the batch")));
      return;
    }
    if (core_.draining()) {
      Complete(DrainingError());
      return;
    }
    request_ = std::move(request);
    items_.resize(n);
    replies_ = Chan<ItemOutcome>(static_cast<size_t>(n));
    window_ = std::min(core_.config().batch_window, core_.config().queue_depth);
    Collect();
  }

 private:
  // Keeps up to window_ items in flight: submitted, and not yet collected;
  // items put back (Store) first, in the order they were. Once one has been
  // put back, one item starts for each that finishes, no more: the estimate
  // that refused it falls only as the batch's own items ahead of it run.
  // None starts once the batch has ended (Ended): it would only be refused.
  void SubmitMore() {
    const int n = request_.items_size();
    while (in_flight_ < window_ && (!put_back_.empty() || next_ < n)) {
      if (Ended().has_value()) return;
      if (paced_) {
        if (finished_since_put_back_ == 0) return;
        --finished_since_put_back_;
      }
      int i = next_;
      if (put_back_.empty()) {
        ++next_;
      } else {
        i = put_back_.front();
        put_back_.pop_front();
      }
      ++in_flight_;
      SubmitItem(i, request_.items(i));
      if (auto* hook = batch_item_submitted_hook_for_test.load(std::memory_order_relaxed)) {
        hook(ctx(), submitted_);
      }
    }
  }

  void SubmitItem(int i, const v1::WorkRequest& item) {
    core_.metrics().batch_items_submitted.fetch_add(1, std::memory_order_relaxed);
    ++submitted_;
    // SubmitReplyJob's two halves, so that a refusal says it was one.
    Job job = ReplyJob<v1::WorkReply>(
        core_, ctx(), WorkCost(item, core_.work_counters()),
        // Each item commits the batch as it starts (the first sends the
        // headers): a batch whose items have begun to run is not made again.
        [req = item, counters = &core_.work_counters(),
         start = HeadersAtJobStart()](const RunInfo& info) {
          return RunWork(req, info.ctx, info.worker, info.queued, *counters,
                         [&start] { return start->JobStarting(); });
        },
        [replies = replies_, i](Outcome<v1::WorkReply> out) {
          replies.TrySend(ItemOutcome{i, std::move(out)}).IgnoreError();
        });
    core_.Submit(std::move(job), [replies = replies_, i](absl::Status s) {
      replies.TrySend(ItemOutcome{i, {std::move(s), v1::WorkReply()}, /*admitted=*/false})
          .IgnoreError();
    });
  }

  // Takes what is already there, starting the next items as these finish,
  // then waits (without a thread) for the rest.
  void Collect() {
    for (;;) {
      // Before anything more is submitted: a batch whose Context is done
      // submitted the rest of its items here, one for each refusal it
      // collected, each refused at once, until every item had been tried
      // (all 100 of a batch that arrived past its deadline).
      if (std::optional<absl::Status> end = Ended(); end.has_value()) {
        Complete(*std::move(end), /*refuse_retry_if_ran_late=*/true);
        return;
      }
      SubmitMore();
      if (received_ == static_cast<int>(items_.size())) {
        Done();
        return;
      }
      // All that is there at once: an item refused as overloaded is put
      // back only if another of the batch was admitted, and the refusals
      // of a window submitted together are all here by now (refused at
      // once, on this thread), not in flight.
      if (!StoreReady(std::nullopt)) break;
    }
    AsyncSelect(OnRecv(replies_,
                       [this](std::optional<ItemOutcome> out) {
                         StoreReady(std::move(out));
                         Collect();
                       }),
                // Cut off with items started (the drain timeout's
                // UNAVAILABLE, above all): not to be made again, as a unary
                // Work or Call is not.
                handoff::OnDone(ctx(), [this] {
                  Complete(core_.ContextError(ctx()), /*refuse_retry_if_ran_late=*/true);
                }));
  }

  // Stores `first` and every outcome already on the channel after it, all
  // at once (Store's refused_uncollected). False if there were none.
  bool StoreReady(std::optional<ItemOutcome> first) {
    // ready_ is kept, cleared, from one call to the next: one allocation a
    // batch, not one for each item answered.
    ready_.clear();
    if (first.has_value()) ready_.push_back(*std::move(first));
    for (absl::StatusOr<ItemOutcome> out = replies_.TryRecv(); out.ok();
         out = replies_.TryRecv()) {
      ready_.push_back(*std::move(out));
    }
    int refused_uncollected = static_cast<int>(std::count_if(
        ready_.begin(), ready_.end(), [](const ItemOutcome& o) { return !o.admitted; }));
    for (ItemOutcome& out : ready_) {
      if (!out.admitted) --refused_uncollected;
      Store(std::move(out), refused_uncollected);
    }
    return !ready_.empty();
  }

  // `refused_uncollected`: other items' admission refusals, already here
  // and not yet stored, that in_flight_ still counts.
  void Store(ItemOutcome out, int refused_uncollected) {
    --in_flight_;
    // Refused as overloaded while others of this batch are in flight: the
    // wait it was refused for is, in part or in whole, those items'. Each
    // refusal also freed its place in the window at once, so the whole rest
    // of a batch was refused in the same moment, and none was tried again
    // as the items ahead of it ran (18 of 30 items of 100 ms on two idle
    // workers, with 1 s to run them, where 6 more had time to run). It is
    // tried again once one of them has finished. Refused with none in
    // flight (admitted: queued or running), its refusal is its answer: the
    // others of a window refused together, their refusals not yet
    // collected, were put back as though they were in flight, and each
    // tried again (7 refusals for 4 items, all refused for another call's
    // long job: OneBusyWorkerBatchTest.ItemsAllRefusedAsOverloadedAreEachTriedOnce).
    if (in_flight_ - refused_uncollected > 0 && RefusedAsOverloaded(out.outcome.status)) {
      put_back_.push_back(out.index);
      paced_ = true;
      return;
    }
    if (paced_) ++finished_since_put_back_;
    // An item's deadline is the batch's: one the server set says so.
    if (!out.outcome.status.ok()) {
      out.outcome.status = NamingTheServersDeadline(std::move(out.outcome.status));
    }
    items_[out.index] = std::move(out.outcome);
    ++received_;
  }

  // The batch's own end, if its Context is done (cancelled, expired, or
  // cut off by the drain timeout) or its deadline has passed by the clock:
  // a worker drops a job by the clock, before the timer thread (which may
  // lag) marks the Context done. Else nullopt.
  std::optional<absl::Status> Ended() const {
    if (ctx().IsDone()) return core_.ContextError(ctx());
    if (MonotonicNow() >= ctx().Deadline()) {
      return absl::DeadlineExceededError("context deadline exceeded");
    }
    return std::nullopt;
  }

  void Done() {
    // Every item has answered, but perhaps only because the deadline passed
    // (Ended): a batch answered after its deadline is late as a whole, as
    // it is when the Context is marked in time.
    if (std::optional<absl::Status> end = Ended(); end.has_value()) {
      Complete(*std::move(end), /*refuse_retry_if_ran_late=*/true);
      return;
    }
    v1::BatchReply reply;
    for (Outcome<v1::WorkReply>& item : items_) {
      v1::BatchItemReply* r = reply.add_items();
      r->set_code(static_cast<int>(item.status.code()));
      r->set_message(std::string(item.status.message()));
      if (item.status.ok()) *r->mutable_reply() = std::move(item.reply);
    }
    // The items are one reply: over the limit, the whole Batch is refused
    // (its items have run), and the client is told to split it. Another
    // attempt would only run them again for the same refusal, so gRPC's
    // retry is told not to make one (gRFC A6's server pushback).
    absl::Status s = SerializeReply(reply, core_.config().max_message_bytes, response_);
    if (absl::IsResourceExhausted(s)) {
      RefuseRetry();  // once: Complete is not asked to add it again
      Complete(absl::ResourceExhaustedError(absl::StrCat(
          "batch of ", items_.size(), " items: ", s.message(), "; split the batch")));
      return;
    }
    Complete(std::move(s), /*refuse_retry_if_ran_late=*/true);
  }

  grpc::ByteBuffer* const response_;
  v1::BatchRequest request_;
  Chan<ItemOutcome> replies_;
  std::vector<Outcome<v1::WorkReply>> items_;
  int window_ = 1;
  // Touched only by the collector, one step at a time.
  int next_ = 0;       // the first item never submitted
  int in_flight_ = 0;  // submitted, and not yet collected
  int received_ = 0;   // answered for good
  int submitted_ = 0;  // for the test hook: SubmitItem calls so far
  std::deque<int> put_back_;
  std::vector<ItemOutcome> ready_;  // StoreReady's, between its calls empty or spent
  bool paced_ = false;  // an item has been put back
  int finished_since_put_back_ = 0;  // not yet matched by a new start
};

}  // namespace

grpc::ServerUnaryReactor* StartBatchCall(GatewayCore& core,
                                         grpc::CallbackServerContext* call,
                                         const grpc::ByteBuffer& request,
                                         grpc::ByteBuffer* reply) {
  auto* r = new BatchCall(core, call, reply);
  r->Start(request);
  return r;
}

}  // namespace handoff
