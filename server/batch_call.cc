// Copyright 2026 The handoff Authors.

#include "server/batch_call.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dispatch/chan.h"
#include "dispatch/select.h"
#include "server/gateway_service.h"
#include "server/proto_codec.h"
#include "server/work.h"

namespace handoff {
namespace {

struct ItemOutcome {
  int index = 0;
  absl::Status status;
  v1::WorkReply reply;
};

class BatchCall final : public grpc::ServerUnaryReactor {
 public:
  BatchCall(GatewayCore& core, grpc::CallbackServerContext* call,
            grpc::ByteBuffer* response)
      : core_(core), response_(response), start_(absl::Now()) {
    core_.CallStarted();
    std::tie(ctx_, cancel_) = core_.CallContext(*call);
  }

  void Start(const grpc::ByteBuffer& raw) {
    v1::BatchRequest request;
    if (absl::Status s = ParseMessage(raw, &request); !s.ok()) {
      Complete(std::move(s));
      return;
    }
    const int n = request.items_size();
    if (n > core_.config().max_batch_items) {
      Complete(absl::InvalidArgumentError(
          absl::StrCat("items: ", n, " items is over the cap of ",
                       core_.config().max_batch_items)));
      return;
    }
    for (int i = 0; i < n; ++i) {
      if (absl::Status s = ValidateWork(request.items(i)); !s.ok()) {
        Complete(absl::InvalidArgumentError(
            absl::StrCat("items[", i, "].", s.message())));
        return;
      }
    }
    if (core_.draining()) {
      Complete(DrainingError());
      return;
    }
    items_.resize(n);
    replies_ = Chan<ItemOutcome>(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) SubmitItem(i, request.items(i));
    Collect();
  }

  void OnCancel() override {
    if (absl::Now() < ctx_.Deadline()) cancel_();  // see UnaryCall::OnCancel
  }
  void OnDone() override {
    cancel_();
    core_.CallDone();
    delete this;
  }
  // Never blocks: run it inline (see UnaryCall::InternalInlineable).
  bool InternalInlineable() override { return true; }

 private:
  void SubmitItem(int i, const v1::WorkRequest& item) {
    Chan<ItemOutcome> replies = replies_;
    GatewayCore* core = &core_;
    Job job;
    job.ctx = ctx_;
    job.expected_run = absl::Microseconds(item.cpu_us());
    job.run = [core, replies, i, req = item](const RunInfo& info) {
      ItemOutcome out{i, absl::OkStatus(), {}};
      if (core->StartedLate(info)) {
        out.status = absl::DeadlineExceededError(
            "deadline passed before the job started");
      } else {
        absl::StatusOr<v1::WorkReply> r = RunWork(
            req, info.ctx, info.worker, info.queued, core->work_counters());
        if (r.ok()) {
          out.reply = std::move(*r);
        } else {
          out.status = std::move(r).status();
        }
      }
      replies.TrySend(std::move(out)).IgnoreError();
    };
    auto send_error = [replies, i](absl::Status s) {
      replies.TrySend(ItemOutcome{i, std::move(s), {}}).IgnoreError();
    };
    job.on_error = send_error;
    core_.Submit(std::move(job), send_error);
  }

  // Takes what is already there, then waits (without a thread) for the rest.
  void Collect() {
    for (;;) {
      if (received_ == static_cast<int>(items_.size())) {
        Done();
        return;
      }
      absl::StatusOr<ItemOutcome> ready = replies_.TryRecv();
      if (!ready.ok()) break;
      Store(std::move(*ready));
    }
    AsyncSelect(OnRecv(replies_,
                       [this](std::optional<ItemOutcome> out) {
                         if (out.has_value()) Store(std::move(*out));
                         Collect();
                       }),
                handoff::OnDone(ctx_, [this] { Complete(core_.ContextError(ctx_)); }));
  }

  void Store(ItemOutcome out) {
    items_[out.index] = std::move(out);
    ++received_;
  }

  void Done() {
    v1::BatchReply reply;
    for (ItemOutcome& item : items_) {
      v1::BatchItemReply* r = reply.add_items();
      r->set_code(static_cast<int>(item.status.code()));
      r->set_message(std::string(item.status.message()));
      if (item.status.ok()) *r->mutable_reply() = std::move(item.reply);
    }
    Complete(SerializeMessage(reply, response_));
  }

  void Complete(absl::Status s) {
    core_.metrics().RecordCall(Method::kBatch, s.code(), absl::Now() - start_);
    Finish(ToGrpcStatus(s));
  }

  GatewayCore& core_;
  grpc::ByteBuffer* const response_;
  const absl::Time start_;
  Context ctx_;
  CancelFunc cancel_;
  Chan<ItemOutcome> replies_;
  std::vector<ItemOutcome> items_;
  int received_ = 0;  // touched only by the collector, one step at a time
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
