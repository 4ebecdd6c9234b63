#include "client/load/runner.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include <grpc/support/time.h>
#include <grpcpp/alarm.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "client/status.h"

namespace handoff::load {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// An alarm deadline `ns_from_now` ahead on gRPC's monotonic clock. Relative,
// because gpr's monotonic epoch is not steady_clock's.
gpr_timespec In(int64_t ns_from_now) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                      gpr_time_from_nanos(std::max<int64_t>(ns_from_now, 0),
                                          GPR_TIMESPAN));
}

enum class Op { kAlarm, kStarted, kWrote, kWritesDone, kRead, kFinished, kEnd };

}  // namespace

// One call slot: at most one call in flight, all of it on one worker's
// completion queue, so only that worker's thread ever touches it.
struct LoadRunner::Slot {
  struct Tag {
    Slot* slot;
    Op op;
  };

  Worker* worker = nullptr;
  grpc::GenericStub* stub = nullptr;
  Tag alarm_tag{this, Op::kAlarm};
  Tag started_tag{this, Op::kStarted};
  Tag wrote_tag{this, Op::kWrote};
  Tag writes_done_tag{this, Op::kWritesDone};
  Tag read_tag{this, Op::kRead};
  Tag finished_tag{this, Op::kFinished};

  grpc::Alarm alarm;
  bool waiting = false;  // on alarm, for its ticket's scheduled time
  bool in_flight = false;
  bool discard = false;  // --duration-stop=ignore: do not record
  int64_t ticket = 0;
  int64_t start_ns = 0;

  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> unary;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream;
  grpc::ByteBuffer reply;
  grpc::Status status;
  // Stream progress.
  size_t next_write = 0;
  bool writing = false;
  bool reading = false;
  bool finishing = false;
};

class LoadRunner::Worker {
 public:
  Worker(LoadRunner* runner, int64_t start_ns, int64_t end_ns)
      : runner_(runner), plan_(runner->plan_), start_ns_(start_ns), end_ns_(end_ns) {}

  void AddSlot(grpc::GenericStub* stub) {
    auto slot = std::make_unique<Slot>();
    slot->worker = this;
    slot->stub = stub;
    slots_.push_back(std::move(slot));
  }

  void Run() {
    if (end_ns_ != kNoEnd) {
      end_alarm_.Set(&cq_, In(end_ns_ - NowNs()), &end_tag_);
      end_alarm_set_ = true;
      ++pending_;
    }
    active_ = static_cast<int>(slots_.size());
    for (auto& slot : slots_) Next(*slot);
    MaybeShutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
      --pending_;
      auto* t = static_cast<Slot::Tag*>(tag);
      if (t->op == Op::kEnd) {
        end_alarm_set_ = false;
        if (ok) TimeUp();
      } else {
        Handle(*t->slot, t->op, ok);
      }
      MaybeShutdown();
    }
  }

  std::vector<CallResult>& results() { return results_; }
  std::vector<std::string>& errors() { return errors_; }
  int64_t last_end_ns() const { return last_end_ns_; }

  static constexpr int64_t kNoEnd = std::numeric_limits<int64_t>::max();

 private:
  // Gives the slot its next call, or retires it.
  void Next(Slot& s) {
    const LoadOptions& o = plan_.options;
    if (time_up_) return Retire(s);
    const int64_t ticket = runner_->next_ticket_.fetch_add(1, std::memory_order_relaxed);
    if (end_ns_ == kNoEnd && ticket >= o.total) return Retire(s);
    s.ticket = ticket;
    const int64_t now = NowNs();
    if (o.rps > 0) {
      const int64_t scheduled =
          start_ns_ + static_cast<int64_t>(static_cast<double>(ticket) * 1e9 / o.rps);
      if (scheduled >= end_ns_) return Retire(s);
      if (scheduled > now) {
        s.waiting = true;
        s.start_ns = scheduled;
        s.alarm.Set(&cq_, In(scheduled - now), &s.alarm_tag);
        ++pending_;
        return;
      }
      return Issue(s, scheduled);
    }
    if (now >= end_ns_) return Retire(s);
    Issue(s, now);
  }

  void Issue(Slot& s, int64_t start_ns) {
    const LoadOptions& o = plan_.options;
    s.start_ns = start_ns;
    s.in_flight = true;
    s.discard = false;
    s.context = std::make_unique<grpc::ClientContext>();
    if (o.timeout > absl::ZeroDuration()) {
      s.context->set_deadline(absl::ToChronoTime(absl::Now() + o.timeout));
    }
    for (const auto& [key, value] : o.metadata) s.context->AddMetadata(key, value);
    s.status = grpc::Status();
    if (!plan_.streaming) {
      const grpc::ByteBuffer& request =
          plan_.messages[static_cast<size_t>(s.ticket) % plan_.messages.size()];
      s.unary = s.stub->PrepareUnaryCall(s.context.get(), plan_.method, request, &cq_);
      s.unary->StartCall();
      s.unary->Finish(&s.reply, &s.status, &s.finished_tag);
      ++pending_;
      return;
    }
    s.next_write = 0;
    s.writing = s.reading = s.finishing = false;
    s.stream = s.stub->PrepareCall(s.context.get(), plan_.method, &cq_);
    s.stream->StartCall(&s.started_tag);
    ++pending_;
  }

  void Handle(Slot& s, Op op, bool ok) {
    switch (op) {
      case Op::kAlarm:
        s.waiting = false;
        // !ok: cancelled at the end of a -z run.
        if (!ok || time_up_) return Retire(s);
        return Issue(s, s.start_ns);
      case Op::kStarted:
        if (!ok) return FinishStream(s);
        s.reading = true;
        s.stream->Read(&s.reply, &s.read_tag);
        ++pending_;
        return WriteNext(s);
      case Op::kWrote:
        s.writing = false;
        if (!ok) return FinishStream(s);
        return WriteNext(s);
      case Op::kWritesDone:
        s.writing = false;
        return FinishStream(s);
      case Op::kRead:
        if (ok) {
          s.stream->Read(&s.reply, &s.read_tag);
          ++pending_;
          return;
        }
        s.reading = false;
        return FinishStream(s);
      case Op::kFinished:
        return Done(s);
      case Op::kEnd:
        return;
    }
  }

  void WriteNext(Slot& s) {
    s.writing = true;
    ++pending_;
    if (s.next_write < plan_.messages.size()) {
      s.stream->Write(plan_.messages[s.next_write++], &s.wrote_tag);
    } else {
      s.stream->WritesDone(&s.writes_done_tag);
    }
  }

  // Finish once no read or write is outstanding: gRPC wants the stream's
  // operations drained before it reports the status.
  void FinishStream(Slot& s) {
    if (s.finishing || s.writing || s.reading) return;
    s.finishing = true;
    s.stream->Finish(&s.status, &s.finished_tag);
    ++pending_;
  }

  void Done(Slot& s) {
    const int64_t end = NowNs();
    s.in_flight = false;
    if (!s.discard) {
      CallResult r;
      r.latency_ns = end - s.start_ns;
      r.code = s.status.error_code();
      if (r.code != grpc::StatusCode::OK) {
        std::string text = GoErrorString(r.code, s.status.error_message());
        auto [it, inserted] = error_index_.try_emplace(text, errors_.size());
        if (inserted) errors_.push_back(std::move(text));
        r.error = it->second;
      }
      results_.push_back(r);
      last_end_ns_ = std::max(last_end_ns_, end);
      runner_->completed_.fetch_add(1, std::memory_order_relaxed);
    }
    s.unary.reset();
    s.stream.reset();
    s.context.reset();
    s.reply.Clear();
    Next(s);
  }

  void Retire(Slot&) { --active_; }

  // -z elapsed: no new calls; in-flight ones per --duration-stop.
  void TimeUp() {
    time_up_ = true;
    for (auto& slot : slots_) {
      Slot& s = *slot;
      if (s.waiting) s.alarm.Cancel();
      if (s.in_flight && plan_.options.duration_stop != DurationStop::kWait) {
        s.discard = plan_.options.duration_stop == DurationStop::kIgnore;
        s.context->TryCancel();
      }
    }
  }

  void MaybeShutdown() {
    if (active_ > 0 || shut_down_) return;
    if (end_alarm_set_) {
      end_alarm_.Cancel();  // delivers its tag with ok=false
      return;
    }
    if (pending_ == 0) {
      shut_down_ = true;
      cq_.Shutdown();
    }
  }

  LoadRunner* runner_;
  const LoadPlan& plan_;
  const int64_t start_ns_;
  const int64_t end_ns_;
  grpc::CompletionQueue cq_;
  std::vector<std::unique_ptr<Slot>> slots_;
  grpc::Alarm end_alarm_;
  Slot::Tag end_tag_{nullptr, Op::kEnd};
  bool end_alarm_set_ = false;
  bool time_up_ = false;
  bool shut_down_ = false;
  int active_ = 0;
  int64_t pending_ = 0;
  int64_t last_end_ns_ = 0;
  std::vector<CallResult> results_;
  std::vector<std::string> errors_;
  absl::flat_hash_map<std::string, uint32_t> error_index_;
};

LoadRunner::LoadRunner(LoadPlan plan) : plan_(std::move(plan)) {}
LoadRunner::~LoadRunner() = default;

int64_t LoadRunner::expected() const {
  return plan_.options.duration > absl::ZeroDuration() ? -1 : plan_.options.total;
}

absl::Status LoadRunner::Connect() {
  const LoadOptions& o = plan_.options;
  auto credentials = plan_.credentials != nullptr ? plan_.credentials
                                                  : grpc::InsecureChannelCredentials();
  for (int i = 0; i < o.connections; ++i) {
    grpc::ChannelArguments args;
    // A distinct argument and a private subchannel pool per channel: without
    // them gRPC shares one connection among equal channels.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("handoff.load.connection", i);
    // A load generator measures the server, not the client's retry policy.
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    channels_.push_back(grpc::CreateCustomChannel(o.host, credentials, args));
  }
  const auto deadline = absl::ToChronoTime(absl::Now() + o.connect_timeout);
  for (auto& channel : channels_) {
    if (!channel->WaitForConnected(deadline)) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to ", o.host, " within ",
                       absl::FormatDuration(o.connect_timeout)));
    }
  }
  return absl::OkStatus();
}

RunResults LoadRunner::Run() {
  const LoadOptions& o = plan_.options;
  RunResults out;
  out.start = absl::Now();
  const int64_t start_ns = NowNs();
  const int64_t end_ns = o.duration > absl::ZeroDuration()
                             ? start_ns + absl::ToInt64Nanoseconds(o.duration)
                             : Worker::kNoEnd;

  std::vector<grpc::GenericStub> stubs;
  stubs.reserve(channels_.size());
  for (auto& channel : channels_) stubs.emplace_back(channel);

  const int threads = std::max(1, std::min(o.cpus, o.concurrency));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < threads; ++i) {
    workers.push_back(std::make_unique<Worker>(this, start_ns, end_ns));
  }
  for (int i = 0; i < o.concurrency; ++i) {
    workers[i % threads]->AddSlot(&stubs[i % stubs.size()]);
  }
  std::vector<std::thread> running;
  for (auto& worker : workers) running.emplace_back([&w = *worker] { w.Run(); });
  for (auto& t : running) t.join();

  int64_t last_end = start_ns;
  for (auto& worker : workers) {
    last_end = std::max(last_end, worker->last_end_ns());
    // Re-number this worker's error indexes into the merged table.
    std::vector<uint32_t> remap;
    for (std::string& text : worker->errors()) {
      auto it = std::find(out.errors.begin(), out.errors.end(), text);
      remap.push_back(static_cast<uint32_t>(it - out.errors.begin()));
      if (it == out.errors.end()) out.errors.push_back(std::move(text));
    }
    for (CallResult r : worker->results()) {
      if (r.code != grpc::StatusCode::OK) r.error = remap[r.error];
      out.calls.push_back(r);
    }
  }
  if (end_ns != Worker::kNoEnd) {
    out.end_reason = "timeout";  // ghz's name for a -z run that ran out
    last_end = std::max(last_end, std::min(NowNs(), end_ns));
  }
  out.total = absl::Nanoseconds(last_end - start_ns);
  return out;
}

}  // namespace handoff::load
