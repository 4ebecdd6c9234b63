#include "client/load/h2_engine.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <grpcpp/support/slice.h>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/load/call_template.h"
#include "client/load/h2_connection.h"
#include "client/load/slot_sets.h"
#include "client/load/schedule.h"
#include "client/load/target.h"
#include "client/status.h"

namespace handoff::load {
namespace {

// The gRPC message frame: not compressed, 4-byte big-endian length, message.
std::string Framed(const grpc::ByteBuffer& message) {
  std::vector<grpc::Slice> slices;
  (void)message.Dump(&slices);
  size_t size = 0;
  for (const grpc::Slice& s : slices) size += s.size();
  std::string out;
  out.reserve(5 + size);
  out.push_back('\0');
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((size >> shift) & 0xff));
  }
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

}  // namespace

// One thread's share of the run: its io_context, connections and slots.
class H2Engine::Worker {
 public:
  Worker(const LoadPlan& plan, const std::vector<std::string>& bodies,
         std::atomic<int64_t>* completed)
      : plan_(plan),
        bodies_(bodies),
        recorder_(completed, plan.options.skip_first),
        end_timer_(io_) {}

  // Adds a connection that this thread's slots may call on; returns its
  // index for AddSlot.
  size_t AddRoute(H2Connection::Config config) {
    routes_.push_back({std::move(config), nullptr});
    routes_.back().current = NewConnection(routes_.back().config);
    return routes_.size() - 1;
  }

  void AddSlot(size_t route, std::string worker_id, int index) {
    auto slot = std::make_unique<Slot>(io_);
    slot->route = route;
    slot->worker_id = std::move(worker_id);
    slot->index = index;
    slot->call.context = slot.get();
    slots_.push_back(std::move(slot));
  }

  // Opens every connection; waits for all of them until `deadline_ns`, or
  // until `cancelled` is set and Wake() called: then CANCELLED.
  absl::Status Connect(int64_t deadline_ns, absl::string_view target,
                       const std::atomic<bool>& cancelled) {
    int opening = static_cast<int>(connections_.size());
    for (auto& connection : connections_) connection->Open([&opening] { --opening; });
    while (opening > 0) {
      if (cancelled.load()) {
        Shutdown();
        return absl::CancelledError("interrupted while connecting");
      }
      if (io_.run_one_until(SteadyTimePoint(deadline_ns)) > 0) continue;
      std::string why;
      for (auto& connection : connections_) {
        if (!connection->error().empty()) why = absl::StrCat("; ", connection->error());
      }
      Shutdown();
      return absl::UnavailableError(
          absl::StrCat("cannot connect to ", target, " within ",
                       absl::FormatDuration(plan_.options.connect_timeout), why));
    }
    return absl::OkStatus();
  }

  void Run(CallSchedule& schedule) {
    schedule_ = &schedule;
    io_.restart();
    if (schedule.end_ns() != CallSchedule::kNoEnd) {
      end_timer_.expires_at(SteadyTimePoint(schedule.end_ns()));
      end_timer_.async_wait([this](const asio::error_code& ec) {
        if (!ec) TimeUp();
      });
    }
    active_ = static_cast<int>(slots_.size());
    const int64_t now = MonotonicNowNs();
    // A copy: with --async, a call begun here adds a slot to slots_.
    std::vector<Slot*> slots;
    for (auto& slot : slots_) slots.push_back(slot.get());
    closed_.set_schedule(&schedule);
    for (Slot* open : closed_.SplitOpen(slots, now)) Next(*open, now);
    if (!closed_.empty()) ArmOpening(now);
    if (active_ == 0) Shutdown();
    io_.run();
  }

  Recorder& recorder() { return recorder_; }

  // Ends a wait in Connect, from any thread, so that it reads its
  // `cancelled` again.
  void Wake() {
    asio::post(io_, [] {});
  }

  // LoadEngine::Cancel, for this thread's slots: on the thread itself, as
  // all of a Worker's state is. Posted before Run, it runs as Run starts.
  void Cancel() {
    asio::post(io_, [this] {
      if (!time_up_) TimeUp();
    });
  }

 private:
  // One --connections connection. `current` takes the calls; after a
  // GOAWAY it is replaced by a new one, and the old one, still in
  // connections_, finishes its calls and closes.
  struct Route {
    H2Connection::Config config;
    H2Connection* current;
  };

  struct Slot {
    explicit Slot(asio::io_context& io) : alarm(io) {}

    size_t route = 0;
    // The connection of the call in flight, which may no longer be its
    // route's current one.
    H2Connection* connection = nullptr;
    H2Connection::Call call;
    asio::steady_timer alarm;
    bool waiting = false;  // on alarm, for its ticket's due time
    bool in_flight = false;
    bool discard = false;  // --duration-stop=ignore: do not record
    bool retried = false;  // this ticket's call was refused and made again
    // Start refused the call for want of a connection; and then, the slot
    // waits for the connection's next attempt (AwaitConnection).
    bool unconnected = false;
    bool awaiting_connection = false;
    int64_t ticket = 0;
    int64_t start_ns = 0;
    // --async: when its place in the schedule came free, the due time of
    // the call that began in it (TakeOver), or never if that call was made
    // once the end was seen (AsyncSlots::kFreedAfterTheEnd).
    int64_t free_ns = 0;
    int index = 0;  // among the run's slots (the concurrency schedule's)
    // Call templates: ghz's worker ID, and what the call's rendered to.
    std::string worker_id;
    TemplatedRequests::Call rendered;
    std::string body;  // rendered.messages' one, framed
  };

  // Starts the slots the concurrency schedule opens as they open, or, once
  // the run has no call left for them, retires the ones still closed. A
  // slot that opens before the run's end opens, whichever timer runs first
  // (TimeUp cancels this one): ghz's worker ticker adds its worker then,
  // and the worker takes a call at once, before the end's Stop.
  void ArmOpening(int64_t now_ns) {
    opening_timer_.expires_at(SteadyTimePoint(closed_.WakeAt(now_ns)));
    opening_timer_.async_wait([this](const asio::error_code&) {
      const int64_t now = MonotonicNowNs();
      const int64_t by = std::min(now, schedule_->end_ns() - 1);
      // An interrupt, or an -n run out of calls, opens none.
      if (!schedule_->exhausted(by)) {
        for (Slot* s : closed_.TakeOpen(by)) Open(*s, now);
      }
      if (closed_.empty()) return;
      if (schedule_->exhausted(by) || closed_.NextOpensAt() >= schedule_->end_ns()) {
        for (size_t n = closed_.TakeAll().size(); n > 0; --n) Retire();
        return;
      }
      ArmOpening(now);
    });
  }

  // A slot the concurrency schedule opened before the run's end, at
  // `now_ns` or, if the end has come since, before: its first call is the
  // one a slot free at its opening takes, made (and in flight at the end)
  // as a paced call due before the end is.
  void Open(Slot& s, int64_t now_ns) {
    const int64_t at = now_ns < schedule_->end_ns() ? now_ns : schedule_->SlotOpensAt(s.index);
    Give(s, schedule_->Take(at, s.index));
    if (time_up_ && s.in_flight) EndInFlight(s);
  }

  // Gives the slot, free at `now_ns`, its next call, or retires it.
  void Next(Slot& s, int64_t now_ns) {
    if (time_up_) return Retire();
    Give(s, schedule_->Take(now_ns, s.index));
  }

  void Give(Slot& s, const NextCall& next) {
    s.ticket = next.ticket;
    s.retried = false;
    switch (next.kind) {
      case NextCall::kRetire:
        return Retire();
      case NextCall::kWait:
        s.waiting = true;
        s.start_ns = next.due_ns;
        s.alarm.expires_at(SteadyTimePoint(next.due_ns));
        s.alarm.async_wait([this, &s](const asio::error_code& ec) {
          s.waiting = false;
          // An error: cancelled by an interrupt.
          if (ec || schedule_->cancelled()) return Retire();
          Issue(s, s.start_ns);
          // Due before the end (CallSchedule::Take), which came first:
          // made, and in flight at the end, as ghz's would be (engine.h).
          if (time_up_ && s.in_flight) EndInFlight(s);
        });
        return;
      case NextCall::kIssue:
        return Issue(s, next.due_ns);
    }
  }

  void Issue(Slot& s, int64_t start_ns) {
    // A call made again after a refusal is still the one call.
    if (plan_.options.async && !s.retried) Launch(s, start_ns);
    s.start_ns = start_ns;
    s.in_flight = true;
    s.discard = false;
    s.unconnected = false;
    // A call made again after a refusal sends what it sent the first time.
    if (!s.retried) {
      s.call.body = &bodies_[static_cast<size_t>(s.ticket) % bodies_.size()];
      s.call.metadata = nullptr;
    }
    Route& route = routes_[s.route];
    if (route.current->draining()) {
      // The server is recycling the connection: take a new one at once, as
      // a gRPC channel does. The call waits for it; none is refused.
      route.current = NewConnection(route.config);
      route.current->OpenAsReplacement();
    }
    s.connection = route.current;
    if (plan_.templates != nullptr && !s.retried) {
      const absl::Status rendered =
          plan_.templates->Render(s.worker_id, s.ticket, absl::Now(), random_, s.rendered);
      if (!rendered.ok()) {
        // On a later turn, as below; never made, so never made again. Not
        // in flight: it has ended, so a run that ends before the turn comes
        // records it still, whatever --duration-stop says, as the grpc
        // engine does.
        s.in_flight = false;
        asio::post(io_, [this, &s, why = std::string(rendered.message())] {
          Record(s, grpc::StatusCode::INVALID_ARGUMENT, why);
        });
        return;
      }
      if (plan_.templates->templated_data()) {
        const auto& messages = s.rendered.messages;
        s.body = Framed(messages[static_cast<size_t>(s.ticket) % messages.size()]);
        s.call.body = &s.body;
      }
      if (plan_.templates->templated_metadata()) s.call.metadata = &s.rendered.metadata;
    }
    if (s.connection->Start(s.call)) return;
    // Report on a later turn: a broken connection refuses every call at
    // once, and reporting here would recurse through the whole run. Refused
    // for want of a connection, it is not in flight meanwhile: it has
    // failed, as grpc-go fails it at once, so a run that ends before the
    // turn comes records it still, whatever --duration-stop says. One that
    // found the stream IDs used up is to be made again (Done): still the
    // one call, in flight.
    s.in_flight = s.call.refused();
    asio::post(io_, [this, &s, error = s.connection->error()] {
      s.unconnected = true;
      Done(s, grpc::StatusCode::UNAVAILABLE, error);
    });
  }

  void Done(Slot& s, grpc::StatusCode code, absl::string_view message) {
    // Refused unprocessed, as the calls a GOAWAY crosses are: make it again,
    // once, on the route's current connection (gRPC's transparent retry).
    // After the run's end too if --duration-stop=wait waits for it, as the
    // grpc engine's gRPC does; otherwise TimeUp has ended every call in
    // flight, and one made now would outlive the run.
    if (s.call.refused() && !s.retried &&
        (!time_up_ || plan_.options.duration_stop == DurationStop::kWait)) {
      s.retried = true;
      return Issue(s, s.start_ns);
    }
    Record(s, code, message);
  }

  void Record(Slot& s, grpc::StatusCode code, absl::string_view message) {
    s.in_flight = false;
    const int64_t now = MonotonicNowNs();
    if (!s.discard) recorder_.Record(s.start_ns, now, code, message);
    if (!plan_.options.async) {
      // Once the run has ended no call follows: Next retires the slot now,
      // not after the connection's next attempt.
      if (std::exchange(s.unconnected, false) && !time_up_ &&
          schedule_->waits_out_lost_connections()) {
        return AwaitConnection(s);
      }
      return Next(s, now);
    }
    // Its place in the schedule went on with another slot.
    if (Slot* next = async_.End(&s)) Arm(*next);
    Retire();
  }

  void Retire() {
    if (--active_ == 0) Shutdown();
  }

  // schedule.h, waits_out_lost_connections: the next call after the
  // connection's next attempt, not at once, to be refused again.
  void AwaitConnection(Slot& s) {
    s.awaiting_connection = true;
    s.connection->AfterNextAttempt([this, &s] {
      // TimeUp has retired it already.
      if (!std::exchange(s.awaiting_connection, false)) return;
      Next(s, MonotonicNowNs());
    });
  }

  // --async: as the grpc engine's (grpc_engine.cc), a spare slot takes
  // `from`'s place in the schedule, free from `free_ns`, on a later turn of
  // the loop.
  void Launch(Slot& from, int64_t free_ns) {
    Slot* next = async_.TakeSpare();
    if (next == nullptr) {
      slots_.push_back(std::make_unique<Slot>(io_));
      next = slots_.back().get();
      next->call.context = next;
    }
    next->route = from.route;
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

  void Arm(Slot& s) {
    asio::post(io_, [this, &s] { TakeOver(s); });
  }

  // --async: the slot takes its place in the schedule, as the grpc engine's
  // does (grpc_engine.cc, TakeOver): in a paced run, the call due next after
  // the place came free is made if it is due before the end, whichever of
  // this turn and the end's timer ran first; unpaced, none once the end is
  // seen.
  void TakeOver(Slot& s) {
    if (!schedule_->paced()) return Next(s, MonotonicNowNs());
    if (s.free_ns == AsyncSlots<Slot>::kFreedAfterTheEnd) return Retire();
    Give(s, schedule_->Take(s.free_ns, s.index));
    if (time_up_ && s.in_flight) EndInFlight(s);
  }

  // -z elapsed: no new calls; in-flight ones per --duration-stop.
  void TimeUp() {
    time_up_ = true;
    opening_timer_.cancel();
    for (size_t n = async_.TakeParked().size(); n > 0; --n) Retire();
    for (auto& slot : slots_) {
      Slot& s = *slot;
      // A slot waiting for its call's due time is woken by an interrupt
      // only: the call is due before the run's end, and made (engine.h).
      if (s.waiting && schedule_->cancelled()) s.alarm.cancel();
      if (std::exchange(s.awaiting_connection, false)) Retire();
      if (s.in_flight) EndInFlight(s);
    }
  }

  // The call was in flight at the run's end: per --duration-stop.
  void EndInFlight(Slot& s) {
    if (plan_.options.duration_stop == DurationStop::kWait) return;
    s.discard = plan_.options.duration_stop == DurationStop::kIgnore;
    // ghz closes its connections here, and grpc-go fails the calls on
    // them with these words: the grpc engine reports them alike.
    s.connection->Cancel(s.call, grpc::StatusCode::CANCELLED, kGoClientConnClosingMessage);
  }

  H2Connection* NewConnection(const H2Connection::Config& config) {
    connections_.push_back(std::make_unique<H2Connection>(
        io_, config,
        [this](H2Connection::Call& call, grpc::StatusCode code, absl::string_view message) {
          Done(*static_cast<Slot*>(call.context), code, message);
        }));
    return connections_.back().get();
  }

  // Every slot has retired, so no call is in flight: close the connections,
  // and io_.run() returns once their last handlers have run.
  void Shutdown() {
    end_timer_.cancel();
    for (auto& connection : connections_) connection->Close();
  }

  const LoadPlan& plan_;
  const std::vector<std::string>& bodies_;
  Recorder recorder_;
  absl::BitGen random_;  // for call templates
  // One thread runs it: no locking inside.
  asio::io_context io_{1};
  asio::steady_timer end_timer_;
  // Every connection this thread opened, current or replaced; a replaced
  // one is kept, closed, until the run ends, since asio may still hold
  // completions that name it.
  std::vector<std::unique_ptr<H2Connection>> connections_;
  std::vector<Route> routes_;
  std::vector<std::unique_ptr<Slot>> slots_;
  AsyncSlots<Slot> async_;
  // Slots the concurrency schedule has not opened yet.
  ClosedSlots<Slot> closed_;
  asio::steady_timer opening_timer_{io_};
  CallSchedule* schedule_ = nullptr;
  bool time_up_ = false;
  int active_ = 0;
};

absl::Status H2Engine::Supports(const LoadPlan& plan) {
  if (plan.streaming) return absl::InvalidArgumentError("it makes unary calls only");
  if (!plan.options.insecure) {
    return absl::InvalidArgumentError("it speaks plaintext only (--insecure)");
  }
  if (plan.options.enable_compression) {
    return absl::InvalidArgumentError("it sends no compressed message (-e)");
  }
  if (plan.options.max_recv_message_size > 0 || plan.options.max_send_message_size > 0) {
    return absl::InvalidArgumentError(
        "it enforces no message size limit (--max-recv-message-size, "
        "--max-send-message-size)");
  }
  if (plan.options.keepalive > absl::ZeroDuration()) {
    return absl::InvalidArgumentError("it sends no keepalive pings (--keepalive)");
  }
  if (!plan.options.lb_strategy.empty()) {
    return absl::InvalidArgumentError(
        "it connects to HOST's first address, with no load balancing (--lb-strategy)");
  }
  return SplitTarget(plan.options.host).status();
}

H2Engine::H2Engine(const LoadPlan& plan, std::atomic<int64_t>* completed)
    : plan_(plan), completed_(completed) {
  for (const grpc::ByteBuffer& message : plan_.messages) bodies_.push_back(Framed(message));
}

H2Engine::~H2Engine() = default;

absl::Status H2Engine::Connect() {
  const LoadOptions& o = plan_.options;
  if (absl::Status s = Supports(plan_); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--engine=h2 cannot make this run's calls: ", s.message()));
  }
  if (bodies_.empty()) return absl::InvalidArgumentError("no request to send");
  const HostPort target = *SplitTarget(o.host);
  asio::io_context resolving;
  asio::ip::tcp::resolver resolver(resolving);
  asio::error_code ec;
  auto endpoints = resolver.resolve(target.host, target.port, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", o.host, ": ", ec.message()));
  }

  const int threads = std::max(1, std::min({o.cpus, o.connections, o.concurrency}));
  // The workers' waits run unlocked, for Cancel to wake them; only Connect
  // changes the list, so `workers` stays good meanwhile.
  std::vector<Worker*> workers;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_.load()) return absl::CancelledError("interrupted before connecting");
    for (int i = 0; i < threads; ++i) {
      workers_.push_back(std::make_unique<Worker>(plan_, bodies_, completed_));
      workers.push_back(workers_.back().get());
    }
    connecting_ = true;
  }
  absl::string_view authority = o.host;
  absl::ConsumePrefix(&authority, "dns:///");
  if (!o.authority.empty()) authority = o.authority;
  std::vector<size_t> routes;
  for (int i = 0; i < o.connections; ++i) {
    H2Connection::Config config;
    config.endpoints = endpoints;
    config.authority = std::string(authority);
    config.path = plan_.method;
    config.timeout = o.timeout;
    config.connect_timeout = o.connect_timeout;
    config.first_stream_id = plan_.h2_first_stream_id;
    // Templated metadata is each call's own.
    if (plan_.templates == nullptr || !plan_.templates->templated_metadata()) {
      config.metadata = o.metadata;
    }
    routes.push_back(workers[i % threads]->AddRoute(std::move(config)));
  }
  for (int i = 0; i < o.concurrency; ++i) {
    const int c = i % o.connections;
    workers[c % threads]->AddSlot(routes[c], GhzWorkerId(o.name, i, c), i);
  }
  const int64_t deadline = NsAfter(MonotonicNowNs(), o.connect_timeout);
  absl::Status connected = absl::OkStatus();
  for (Worker* worker : workers) {
    connected = worker->Connect(deadline, o.host, cancelled_);
    if (!connected.ok()) break;
  }
  absl::MutexLock lock(&mu_);
  connecting_ = false;
  // An interrupt while connecting ends the run before its first call, even
  // if the last connection opened meanwhile.
  if (cancelled_.load()) connected = absl::CancelledError("interrupted while connecting");
  if (!connected.ok()) workers_.clear();  // closes what did open
  return connected;
}

void H2Engine::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_.store(true);
  for (auto& worker : workers_) {
    if (connecting_) {
      worker->Wake();
    } else {
      worker->Cancel();
    }
  }
}

std::vector<Recorder> H2Engine::Run(CallSchedule& schedule) {
  std::vector<Worker*> workers;
  {
    absl::MutexLock lock(&mu_);
    for (auto& worker : workers_) workers.push_back(worker.get());
  }
  std::vector<std::thread> running;
  for (Worker* worker : workers) {
    running.emplace_back([&w = *worker, &schedule] { w.Run(schedule); });
  }
  for (auto& t : running) t.join();
  std::vector<Recorder> recorders;
  for (Worker* worker : workers) recorders.push_back(std::move(worker->recorder()));
  return recorders;
}

}  // namespace handoff::load
