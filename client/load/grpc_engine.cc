#include "client/load/grpc_engine.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <grpc/support/time.h>
#include <grpcpp/alarm.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/deadline.h"
#include "client/load/call_template.h"
#include "client/load/slot_sets.h"
#include "client/status.h"

namespace handoff::load {
namespace {

// An alarm deadline `ns_from_now` ahead on gRPC's monotonic clock. Relative,
// because gpr's monotonic epoch is not steady_clock's.
gpr_timespec In(int64_t ns_from_now) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                      gpr_time_from_nanos(std::max<int64_t>(ns_from_now, 0),
                                          GPR_TIMESPAN));
}

enum class Op {
  kAlarm,
  kStarted,
  kWrote,
  kWritesDone,
  kRead,
  kFinished,
  kEnd,
  kSendDue,     // --stream-interval has passed since the last send
  kStreamOver,  // --stream-call-duration has passed since the call began
  kUnsent,      // the call's templates did not render: it fails unsent
  kOpen,        // the concurrency schedule may have opened slots
  kLaunch,      // --async: a slot takes over from one whose call has begun
  kReconnect,   // the channel has left TRANSIENT_FAILURE, or the run ended
  kCancel,      // the run was cancelled, or the worker is shutting down
};

// gRPC takes the keepalive time as int milliseconds: at least 1, at most
// about 24 days.
int KeepaliveMs(absl::Duration keepalive) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(keepalive), 1,
                                              std::numeric_limits<int>::max()));
}

}  // namespace

// One call slot: at most one call in flight, all of it on one worker's
// completion queue, so only that worker's thread ever touches it.
struct GrpcEngine::Slot {
  struct Tag {
    Slot* slot;
    Op op;
  };

  grpc::GenericStub* stub = nullptr;
  grpc::Channel* channel = nullptr;  // the stub's
  Tag alarm_tag{this, Op::kAlarm};
  Tag started_tag{this, Op::kStarted};
  Tag wrote_tag{this, Op::kWrote};
  Tag writes_done_tag{this, Op::kWritesDone};
  Tag read_tag{this, Op::kRead};
  Tag finished_tag{this, Op::kFinished};
  Tag send_due_tag{this, Op::kSendDue};
  Tag stream_over_tag{this, Op::kStreamOver};
  Tag unsent_tag{this, Op::kUnsent};
  Tag launch_tag{this, Op::kLaunch};
  Tag reconnect_tag{this, Op::kReconnect};
  std::string worker_id;  // ghz's, for call templates
  int index = 0;          // among the run's slots (the concurrency schedule's)

  grpc::Alarm alarm;
  bool waiting = false;  // on alarm, for its ticket's due time
  bool in_flight = false;
  bool discard = false;  // --duration-stop=ignore: do not record
  bool closed = false;   // cancelled by the run's end (--duration-stop=close)
  int64_t ticket = 0;
  int64_t start_ns = 0;
  // --async: when its place in the schedule came free, the due time of the
  // call that began in it (TakeOver), or never if that call was made once
  // the end was seen (AsyncSlots::kFreedAfterTheEnd).
  int64_t free_ns = 0;
  // When the call's own deadline falls, on MonotonicNowNs()'s clock; the
  // largest int64 for none.
  int64_t deadline_ns = std::numeric_limits<int64_t>::max();

  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> unary;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream;
  grpc::ByteBuffer reply;
  grpc::Status status;
  // What the call sends: the plan's messages and the options' metadata, or
  // the ones its templates rendered.
  const std::vector<grpc::ByteBuffer>* messages = nullptr;
  TemplatedRequests::Call rendered;
  // A message of the stream failed to render: the status to record.
  std::optional<grpc::Status> unsent;
  // Stream progress.
  size_t next_write = 0;
  bool writing = false;  // a write, WritesDone, or the wait before a write
  bool reading = false;
  bool finishing = false;
  grpc::Alarm send_alarm;      // --stream-interval
  bool send_waiting = false;   // on send_alarm
  grpc::Alarm stream_over_alarm;  // --stream-call-duration
  bool stream_over_armed = false;
  bool stream_over = false;    // send no more
  bool finished = false;       // the status is in; the alarm above is not
};

class GrpcEngine::Worker {
 public:
  Worker(const LoadPlan& plan, CallSchedule& schedule, std::atomic<int64_t>* completed)
      : plan_(plan), schedule_(schedule), recorder_(completed, plan.options.skip_first) {
    // Armed for never, on the thread that makes the worker: Cancel() ends
    // the wait from another thread, and the completion queue's thread then
    // ends the run. gRPC's Alarm may be cancelled from any thread; it may
    // not be set on one while another cancels it.
    cancel_alarm_.Set(&cq_, gpr_inf_future(GPR_CLOCK_MONOTONIC), &cancel_tag_);
    cancel_armed_ = true;
    ++pending_;
  }

  // LoadEngine::Cancel for this worker's slots; from any thread, while the
  // worker exists. After the alarm has gone off (the worker shut down),
  // nothing.
  void Cancel() {
    cancel_requested_.store(true, std::memory_order_relaxed);
    cancel_alarm_.Cancel();  // delivers its tag with ok=false
  }

  void AddSlot(grpc::GenericStub* stub, grpc::Channel* channel, std::string worker_id,
               int index) {
    auto slot = std::make_unique<Slot>();
    slot->stub = stub;
    slot->channel = channel;
    slot->worker_id = std::move(worker_id);
    slot->index = index;
    slots_.push_back(std::move(slot));
  }

  // --async: calls are made at the schedule's rate whether or not earlier
  // ones are back. Each of the -c slots, once its call has begun, hands its
  // place in the schedule to a spare slot of the same worker ID and
  // connection, and sees its own call through.

  void Run() {
    if (schedule_.end_ns() != CallSchedule::kNoEnd) {
      end_alarm_.Set(&cq_, In(schedule_.end_ns() - MonotonicNowNs()), &end_tag_);
      end_alarm_set_ = true;
      ++pending_;
    }
    active_ = static_cast<int>(slots_.size());
    const int64_t now = MonotonicNowNs();
    // A copy: with --async, a call begun here adds a slot to slots_.
    std::vector<Slot*> slots;
    for (auto& slot : slots_) slots.push_back(slot.get());
    for (Slot* open : closed_.SplitOpen(slots, now)) Next(*open, now);
    if (!closed_.empty()) ArmOpening(now);
    MaybeShutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
      --pending_;
      auto* t = static_cast<Slot::Tag*>(tag);
      if (t->op == Op::kEnd) {
        end_alarm_set_ = false;
        if (ok) TimeUp();
      } else if (t->op == Op::kCancel) {
        cancel_armed_ = false;
        // Else cancelled by MaybeShutdown: the run is over.
        if (cancel_requested_.load(std::memory_order_relaxed) && !time_up_) TimeUp();
      } else if (t->op == Op::kOpen) {
        Open(ok);
      } else {
        Handle(*t->slot, t->op, ok);
      }
      MaybeShutdown();
    }
  }

  Recorder& recorder() { return recorder_; }

 private:
  void ArmOpening(int64_t now) {
    opening_alarm_.Set(&cq_, In(closed_.WakeAt(now) - now), &opening_tag_);
    opening_armed_ = true;
    ++pending_;
  }

  // The opening alarm: starts the slots now open, or, once the run has no
  // call left for them, retires the ones still closed. A slot that opens
  // before the run's end opens, whichever alarm comes first (TimeUp cancels
  // this one): ghz's worker ticker adds its worker then, and the worker
  // takes a call at once, before the end's Stop.
  void Open(bool /*ok*/) {
    opening_armed_ = false;
    const int64_t now = MonotonicNowNs();
    const int64_t by = std::min(now, schedule_.end_ns() - 1);
    // An interrupt, or an -n run out of calls, opens none.
    if (!schedule_.exhausted(by)) {
      for (Slot* s : closed_.TakeOpen(by)) OpenSlot(*s, now);
    }
    if (closed_.empty()) return;
    if (schedule_.exhausted(by) || closed_.NextOpensAt() >= schedule_.end_ns()) {
      for (Slot* s : closed_.TakeAll()) Retire(*s);
      return;
    }
    ArmOpening(now);
  }

  // A slot the concurrency schedule opened before the run's end, at `now`
  // or, if the end has come since, before: its first call is the one a
  // slot free at its opening takes, made (and in flight at the end) as a
  // paced call due before the end is.
  void OpenSlot(Slot& s, int64_t now) {
    const int64_t at = now < schedule_.end_ns() ? now : schedule_.SlotOpensAt(s.index);
    Give(s, schedule_.Take(at, s.index), now);
    if (time_up_ && s.in_flight) EndInFlight(s);
  }

  // Gives the slot, free at `now`, its next call, or retires it.
  void Next(Slot& s, int64_t now) {
    if (time_up_) return Retire(s);
    Give(s, schedule_.Take(now, s.index), now);
  }

  void Give(Slot& s, const NextCall& next, int64_t now) {
    s.ticket = next.ticket;
    switch (next.kind) {
      case NextCall::kRetire:
        return Retire(s);
      case NextCall::kWait:
        s.waiting = true;
        s.start_ns = next.due_ns;
        s.alarm.Set(&cq_, In(next.due_ns - now), &s.alarm_tag);
        ++pending_;
        return;
      case NextCall::kIssue:
        return Issue(s, next.due_ns);
    }
  }

  void Issue(Slot& s, int64_t start_ns) {
    const LoadOptions& o = plan_.options;
    if (o.async) Launch(s, start_ns);
    s.start_ns = start_ns;
    s.in_flight = true;
    s.discard = false;
    s.closed = false;
    s.unsent.reset();
    s.messages = &plan_.messages;
    const std::vector<std::pair<std::string, std::string>>* metadata = &o.metadata;
    if (plan_.templates != nullptr) {
      const absl::Status rendered =
          plan_.templates->Render(s.worker_id, s.ticket, absl::Now(), random_, s.rendered);
      if (!rendered.ok()) return FailUnsent(s, rendered);
      if (plan_.templates->templated_data()) s.messages = &s.rendered.messages;
      if (plan_.templates->templated_metadata()) metadata = &s.rendered.metadata;
    }
    s.context = std::make_unique<grpc::ClientContext>();
    s.deadline_ns = std::numeric_limits<int64_t>::max();
    if (o.timeout > absl::ZeroDuration()) {
      s.deadline_ns = NsAfter(MonotonicNowNs(), o.timeout);
      s.context->set_deadline(DeadlineIn(o.timeout));
    }
    for (const auto& [key, value] : *metadata) s.context->AddMetadata(key, value);
    if (o.enable_compression) s.context->set_compression_algorithm(GRPC_COMPRESS_GZIP);
    s.status = grpc::Status();
    if (!plan_.streaming) {
      const grpc::ByteBuffer& request =
          (*s.messages)[static_cast<size_t>(s.ticket) % s.messages->size()];
      s.unary = s.stub->PrepareUnaryCall(s.context.get(), plan_.method, request, &cq_);
      s.unary->StartCall();
      s.unary->Finish(&s.reply, &s.status, &s.finished_tag);
      ++pending_;
      return;
    }
    s.next_write = 0;
    s.writing = s.reading = s.finishing = false;
    s.stream_over = s.finished = false;
    s.stream = s.stub->PrepareCall(s.context.get(), plan_.method, &cq_);
    s.stream->StartCall(&s.started_tag);
    ++pending_;
    if (o.stream_call_duration > absl::ZeroDuration()) {
      s.stream_over_armed = true;
      s.stream_over_alarm.Set(&cq_, In(absl::ToInt64Nanoseconds(o.stream_call_duration)),
                              &s.stream_over_tag);
      ++pending_;
    }
  }

  void Handle(Slot& s, Op op, bool ok) {
    switch (op) {
      case Op::kAlarm:
        s.waiting = false;
        // !ok: cancelled by an interrupt.
        if (!ok || schedule_.cancelled()) return Retire(s);
        Issue(s, s.start_ns);
        // Due before the end (CallSchedule::Take), which came first: made,
        // and in flight at the end, as ghz's would be (engine.h).
        if (time_up_ && s.in_flight) EndInFlight(s);
        return;
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
        // The call is over (its deadline, the end of a -z run, the server's
        // status): a send waiting out --stream-interval must not hold the
        // Finish back until it would have been due.
        if (s.send_waiting) s.send_alarm.Cancel();
        return FinishStream(s);
      case Op::kFinished:
        if (s.stream_over_armed) {
          // Done once the alarm is back: it must not fire into the next call.
          s.finished = true;
          s.stream_over_alarm.Cancel();
          return;
        }
        return Done(s);
      case Op::kSendDue:
        s.send_waiting = false;
        if (!s.reading) {  // the call is over: nothing more to send
          s.writing = false;
          return FinishStream(s);
        }
        return Send(s);
      case Op::kStreamOver:
        s.stream_over_armed = false;
        if (s.finished) return Done(s);
        s.stream_over = true;
        // A send waiting out its interval sends no more; one in flight
        // finds the stream over when it completes.
        if (s.send_waiting) s.send_alarm.Cancel();
        return;
      case Op::kUnsent:
        s.waiting = false;
        // Recorded though the run has ended since (!ok: TimeUp cancelled
        // this wait): the call was due, and failed, before it did. The h2
        // engine records it alike.
        return Done(s);
      case Op::kLaunch:
        s.waiting = false;
        // !ok: cancelled by an interrupt.
        if (!ok) return Retire(s);
        return TakeOver(s);
      case Op::kReconnect: {
        if (time_up_) return Retire(s);
        const int64_t now = MonotonicNowNs();
        // !ok: the watch's step ended first; still down, watch on.
        if (!ok && now < schedule_.end_ns() &&
            s.channel->GetState(false) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
          return WatchReconnect(s, now);
        }
        return Next(s, now);
      }
      case Op::kEnd:
      case Op::kCancel:
      case Op::kOpen:
        return;  // the worker's own, handled in Run
    }
  }

  // Records the call as failed with `why` on a later turn of the queue, as
  // if it had been made: failing it here would recurse into the next call,
  // which may fail the same way, through the whole run.
  void FailUnsent(Slot& s, const absl::Status& why) {
    s.in_flight = false;
    s.unsent = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(why.message()));
    s.waiting = true;
    s.alarm.Set(&cq_, In(0), &s.unsent_tag);
    ++pending_;
  }

  bool RendersEachMessage() const {
    return plan_.options.stream_dynamic_messages && plan_.templates != nullptr &&
           plan_.templates->templated_data();
  }

  // Whether the call has another message to send.
  bool MoreToSend(const Slot& s) const {
    const LoadOptions& o = plan_.options;
    if (s.stream_over) return false;
    // A server-streaming method takes one request, as a unary one does.
    if (!plan_.client_streaming) return s.next_write == 0;
    if (o.stream_call_count > 0) {
      return s.next_write < static_cast<size_t>(o.stream_call_count);
    }
    // Round the messages until the time is up.
    if (o.stream_call_duration > absl::ZeroDuration()) return true;
    return s.next_write < s.messages->size();
  }

  void WriteNext(Slot& s) {
    s.writing = true;
    const absl::Duration interval = plan_.options.stream_interval;
    if (plan_.client_streaming && interval > absl::ZeroDuration() && s.next_write > 0 &&
        MoreToSend(s)) {
      s.send_alarm.Set(&cq_, In(absl::ToInt64Nanoseconds(interval)), &s.send_due_tag);
      s.send_waiting = true;
      ++pending_;
      return;
    }
    Send(s);
  }

  void Send(Slot& s) {
    ++pending_;
    if (MoreToSend(s) && s.next_write > 0 && RendersEachMessage()) {
      // --stream-dynamic-messages: the call's number, and new times and
      // random values for this message.
      const absl::Status rendered =
          plan_.templates->Render(s.worker_id, s.ticket, absl::Now(), random_, s.rendered);
      if (!rendered.ok()) {
        // The call fails with why, as a call that failed to render before
        // it began does; what it sent so far is abandoned.
        s.unsent = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                std::string(rendered.message()));
        s.stream_over = true;
        s.context->TryCancel();
      }
    }
    if (MoreToSend(s)) {
      // A client stream sends the messages in turn; a server-streaming
      // call, the one that is its call's turn, as a unary call does (and
      // ghz: not every message on every call).
      const size_t i = plan_.client_streaming ? s.next_write : static_cast<size_t>(s.ticket);
      ++s.next_write;
      s.stream->Write((*s.messages)[i % s.messages->size()], &s.wrote_tag);
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
    s.in_flight = false;
    const int64_t now = MonotonicNowNs();
    if (s.unsent.has_value()) s.status = *std::exchange(s.unsent, std::nullopt);
    if (!s.discard) {
      // The call's own deadline ended it (gRPC's timer fires at or after
      // it; gRPC keeps deadlines to the millisecond): grpc-go's words, as
      // ghz reports it and the h2 engine does. A server's DEADLINE_EXCEEDED
      // that came first keeps the server's message.
      // Cancelled by the run's end: grpc-go's words for a call on a
      // connection its client closes, as ghz reports it and the h2 engine
      // does.
      const bool own_deadline = s.status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
                                now >= s.deadline_ns - 1'000'000;
      const bool closed = s.closed && s.status.error_code() == grpc::StatusCode::CANCELLED;
      recorder_.Record(s.start_ns, now, s.status.error_code(),
                       own_deadline ? kGoClientDeadlineMessage
                       : closed     ? kGoClientConnClosingMessage
                                    : absl::string_view(s.status.error_message()));
    }
    s.unary.reset();
    s.stream.reset();
    s.context.reset();
    s.reply.Clear();
    if (!plan_.options.async) {
      // Failed fast for want of a connection (gRPC's TRANSIENT_FAILURE): the
      // next call waits until the channel tries again (schedule.h,
      // waits_out_lost_connections), rather than fail at once the same way.
      if (s.status.error_code() == grpc::StatusCode::UNAVAILABLE &&
          schedule_.waits_out_lost_connections() &&
          s.channel->GetState(false) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
        return WatchReconnect(s, now);
      }
      return Next(s, now);
    }
    // Its place in the schedule went on with another slot.
    --active_;
    if (Slot* next = async_.End(&s)) Arm(*next);
  }

  void Retire(Slot&) { --active_; }

  // Waits for the slot's channel to leave TRANSIENT_FAILURE, in steps of
  // kReconnectStep at most: a watch cannot be cancelled, and an interrupted
  // run (Cancel) must not wait for the server to come back or for -z to end.
  void WatchReconnect(Slot& s, int64_t now) {
    constexpr int64_t kReconnectStep = 250'000'000;  // ns
    const int64_t until = std::min(schedule_.end_ns(), now + kReconnectStep);
    s.channel->NotifyOnStateChange(GRPC_CHANNEL_TRANSIENT_FAILURE, In(until - now), &cq_,
                                   &s.reconnect_tag);
    ++pending_;
  }

  // --async: a spare slot (or a new one) takes `from`'s place in the
  // schedule, free from `free_ns`, on the queue's next turn, not here: here
  // it would issue its call at once when it is due, and hand over again,
  // through the whole run.
  void Launch(Slot& from, int64_t free_ns) {
    Slot* next = async_.TakeSpare();
    if (next == nullptr) {
      slots_.push_back(std::make_unique<Slot>());
      next = slots_.back().get();
    }
    next->stub = from.stub;
    next->channel = from.channel;
    next->worker_id = from.worker_id;
    next->index = from.index;
    // A call made once the end was seen frees no place (AsyncSlots::
    // kFreedAfterTheEnd): at most one call a chain is made past the end,
    // however far behind its rate the run had fallen, as ghz's pacer,
    // behind, meets its Stop at the next call.
    next->free_ns = time_up_ ? AsyncSlots<Slot>::kFreedAfterTheEnd : free_ns;
    ++active_;
    if (async_.Begin(next)) Arm(*next);
  }

  // --async: the slot takes its place in the schedule. In a paced run the
  // place came free at the due time of the call that began in it, as ghz's
  // async worker takes a call and is back for the next at once: the call due
  // next is made if it is due before the end, whichever of its turn and the
  // end's timer ran first, and is then in flight at the end. Unpaced, a call
  // is due when its slot is free, and none is made once the end is seen, as
  // ghz's pacer, with its Stop and a worker both ready, takes either.
  void TakeOver(Slot& s) {
    const int64_t now = MonotonicNowNs();
    if (!schedule_.paced()) return Next(s, now);
    if (s.free_ns == AsyncSlots<Slot>::kFreedAfterTheEnd) return Retire(s);
    Give(s, schedule_.Take(s.free_ns, s.index), now);
    if (time_up_ && s.in_flight) EndInFlight(s);
  }

  void Arm(Slot& s) {
    s.waiting = true;
    s.alarm.Set(&cq_, In(0), &s.launch_tag);
    ++pending_;
  }

  // -z elapsed: no new calls; in-flight ones per --duration-stop.
  void TimeUp() {
    time_up_ = true;
    if (opening_armed_) opening_alarm_.Cancel();
    for (Slot* s : async_.TakeParked()) Retire(*s);
    for (auto& slot : slots_) {
      Slot& s = *slot;
      // A slot waiting for its call's due time is woken by an interrupt
      // only: the call is due before the run's end, and made (engine.h).
      if (s.waiting && schedule_.cancelled()) s.alarm.Cancel();
      if (s.in_flight) EndInFlight(s);
    }
  }

  // The call was in flight at the run's end: per --duration-stop.
  void EndInFlight(Slot& s) {
    if (plan_.options.duration_stop == DurationStop::kWait) return;
    s.discard = plan_.options.duration_stop == DurationStop::kIgnore;
    s.closed = true;
    s.context->TryCancel();
  }

  void MaybeShutdown() {
    if (active_ > 0 || shut_down_) return;
    if (end_alarm_set_ || cancel_armed_) {
      // Each delivers its tag with ok=false, and the last brings us back.
      if (end_alarm_set_) end_alarm_.Cancel();
      if (cancel_armed_) cancel_alarm_.Cancel();
      return;
    }
    if (pending_ == 0) {
      shut_down_ = true;
      cq_.Shutdown();
    }
  }

  const LoadPlan& plan_;
  CallSchedule& schedule_;
  Recorder recorder_;
  absl::BitGen random_;  // for call templates
  grpc::CompletionQueue cq_;
  std::vector<std::unique_ptr<Slot>> slots_;
  grpc::Alarm end_alarm_;
  Slot::Tag end_tag_{nullptr, Op::kEnd};
  AsyncSlots<Slot> async_;
  // Slots the concurrency schedule has not opened yet, and the alarm for
  // the next to open.
  ClosedSlots<Slot> closed_{&schedule_};
  grpc::Alarm opening_alarm_;
  Slot::Tag opening_tag_{nullptr, Op::kOpen};
  bool opening_armed_ = false;
  bool end_alarm_set_ = false;
  grpc::Alarm cancel_alarm_;
  Slot::Tag cancel_tag_{nullptr, Op::kCancel};
  bool cancel_armed_ = false;
  std::atomic<bool> cancel_requested_{false};
  bool time_up_ = false;
  bool shut_down_ = false;
  int active_ = 0;
  int64_t pending_ = 0;
};

void AddServerNameArgs(const LoadOptions& o, grpc::ChannelArguments& args) {
  if (!o.authority.empty()) args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, o.authority);
  if (!o.cname.empty()) args.SetSslTargetNameOverride(o.cname);
}

// Why `channel` could not connect, as "; <reason>", or "" if it does not
// say. gRPC's channel API keeps the reason to itself, but a call that does
// not wait for a connection fails with it at once while the channel is in
// TRANSIENT_FAILURE ("failed to connect to all addresses; last error: ...
// Connection refused", a TLS handshake's failure). Health's Check, should
// the channel connect meanwhile: the one method any server may be asked
// without effect.
std::string WhyNotConnected(const std::shared_ptr<grpc::Channel>& channel) {
  if (channel->GetState(/*try_to_connect=*/false) != GRPC_CHANNEL_TRANSIENT_FAILURE) return "";
  grpc::CompletionQueue cq;
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_wait_for_ready(false);
  context.set_deadline(DeadlineIn(absl::Seconds(1)));
  grpc::ByteBuffer request, reply;
  grpc::Status status;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  call->Finish(&reply, &status, &cq);
  void* tag;
  bool ok;
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  // Only a failure to connect says why it could not: any other answer came
  // from a server reached meanwhile.
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE || status.error_message().empty()) {
    return "";
  }
  return absl::StrCat("; ", status.error_message());
}

GrpcEngine::GrpcEngine(const LoadPlan& plan, std::atomic<int64_t>* completed)
    : plan_(plan), completed_(completed) {}
GrpcEngine::~GrpcEngine() = default;

absl::Status GrpcEngine::Connect() {
  const LoadOptions& o = plan_.options;
  auto credentials = plan_.credentials != nullptr ? plan_.credentials
                                                  : grpc::InsecureChannelCredentials();
  for (int i = 0; i < o.connections; ++i) {
    grpc::ChannelArguments args;
    // A distinct argument and a private subchannel pool per channel: without
    // them gRPC shares one connection among equal channels.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("handoff.load.connection", i);
    // A load generator measures the server, not a client's retry policy: no
    // service config from the resolver can bring one. Retries stay enabled
    // all the same, since without them gRPC also drops its transparent
    // retry, and a call that crossed a GOAWAY (never processed) would count
    // as UNAVAILABLE, as it does not for ghz or any other gRPC client.
    args.SetInt(GRPC_ARG_SERVICE_CONFIG_DISABLE_RESOLUTION, 1);
    args.SetMaxReceiveMessageSize(o.max_recv_message_size > 0 ? o.max_recv_message_size : -1);
    args.SetMaxSendMessageSize(o.max_send_message_size > 0 ? o.max_send_message_size : -1);
    if (o.keepalive > absl::ZeroDuration()) {
      args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, KeepaliveMs(o.keepalive));
    }
    if (!o.lb_strategy.empty()) args.SetLoadBalancingPolicyName(o.lb_strategy);
    AddServerNameArgs(o, args);
    channels_.push_back(grpc::CreateCustomChannel(o.host, credentials, args));
  }
  // Monotonic (deadline.h): a step of the wall clock neither cuts the wait
  // short nor stretches it.
  const int64_t deadline_ns = NsAfter(MonotonicNowNs(), o.connect_timeout);
  for (auto& channel : channels_) {
    // In slices, for Cancel (an interrupt) to end the wait: gRPC has no way
    // to cut a channel's state watch short, whose deadline is its only end.
    for (;;) {
      if (Cancelled()) return absl::CancelledError("interrupted while connecting");
      const int64_t now = MonotonicNowNs();
      const int64_t slice_ns = std::min<int64_t>(deadline_ns - now, kConnectSliceNs);
      if (channel->WaitForConnected(DeadlineIn(absl::Nanoseconds(slice_ns)))) break;
      if (MonotonicNowNs() >= deadline_ns) {
        if (Cancelled()) return absl::CancelledError("interrupted while connecting");
        return absl::UnavailableError(
            absl::StrCat("cannot connect to ", o.host, " within ",
                         absl::FormatDuration(o.connect_timeout), WhyNotConnected(channel)));
      }
    }
  }
  // An interrupt while connecting ends the run before its first call, even
  // if the last connection opened meanwhile.
  if (Cancelled()) return absl::CancelledError("interrupted while connecting");
  return absl::OkStatus();
}

bool GrpcEngine::Cancelled() {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

void GrpcEngine::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  for (Worker* worker : running_) worker->Cancel();
}

std::vector<Recorder> GrpcEngine::Run(CallSchedule& schedule) {
  const LoadOptions& o = plan_.options;
  std::vector<grpc::GenericStub> stubs;
  stubs.reserve(channels_.size());
  for (auto& channel : channels_) stubs.emplace_back(channel);

  const int threads = std::max(1, std::min(o.cpus, o.concurrency));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < threads; ++i) {
    workers.push_back(std::make_unique<Worker>(plan_, schedule, completed_));
  }
  for (int i = 0; i < o.concurrency; ++i) {
    const int connection = i % static_cast<int>(stubs.size());
    workers[i % threads]->AddSlot(&stubs[connection], channels_[connection].get(),
                                  GhzWorkerId(o.name, i, connection), i);
  }
  {
    absl::MutexLock lock(&mu_);
    for (auto& worker : workers) {
      running_.push_back(worker.get());
      if (cancelled_) worker->Cancel();
    }
  }
  std::vector<std::thread> running;
  for (auto& worker : workers) running.emplace_back([&w = *worker] { w.Run(); });
  for (auto& t : running) t.join();
  {
    absl::MutexLock lock(&mu_);
    running_.clear();
  }

  std::vector<Recorder> recorders;
  for (auto& worker : workers) recorders.push_back(std::move(worker->recorder()));
  return recorders;
}

}  // namespace handoff::load
