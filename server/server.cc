// Copyright 2026 The handoff Authors.

#include "server/server.h"

#include <asio/io_context.hpp>
#include <chrono>
#include <climits>
#include <future>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "dispatch/context.h"
#include "dispatch/select.h"
#include "grpc/grpc.h"
#include "grpc/health/v1/health.pb.h"
#include "grpc/support/time.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/host_port.h"
#include "server/tcp_listen.h"
#include "server/tls.h"
#include "server/unix_socket.h"

namespace handoff {
namespace {

// Why gRPC could not listen on `address`, which it does not say: a TCP
// address is tried again, by itself (the probe closes at once), for the
// system's reason.
absl::Status ListenFailure(const std::string& address) {
  if (!IsUnixSocket(address)) {
    asio::io_context io;
    if (auto probe = ListenTcp(io.get_executor(), address); !probe.ok()) {
      const absl::Status& why = probe.status();
      return absl::Status(why.code(), absl::StrCat("--listen: ", why.message()));
    }
  }
  return absl::UnavailableError(
      absl::StrCat("--listen: cannot listen on '", address,
                   "' (in use, or not an address of this host)"));
}

int ClampMillis(absl::Duration d) {
  int64_t ms = absl::ToInt64Milliseconds(d);
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HandoffServer>> HandoffServer::Start(
    ServerOptions options) {
  if (absl::Status s = Validate(options.config); !s.ok()) return s;
  if (absl::Status s = CheckUnixSocketUnserved(options.config.listen); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("--listen: ", s.message()));
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerCredentialsFor(options.config);
  if (!credentials.ok()) return credentials.status();
  std::unique_ptr<HandoffServer> self(new HandoffServer);
  self->options_ = std::move(options);
  const ServerConfig& c = self->options_.config;
  if (!c.access_log.empty()) {
    absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(c.access_log);
    if (!log.ok()) return log.status();
    self->access_log_ = std::move(*log);
  }

  DispatcherOptions d;
  d.workers = c.workers;
  d.queue_depth = c.queue_depth;
  d.shed_late_jobs = self->options_.shed_late_jobs;
  d.batch_scheduling = c.batch_scheduling;
  d.pin_workers = c.pin_workers;
  self->dispatcher_ = std::make_unique<Dispatcher>(d);
  self->core_ = std::make_unique<GatewayCore>(
      c, *self->dispatcher_, *self->options_.registry, self->access_log_.get());
  self->service_ = std::make_unique<GatewayService>(*self->core_);
  self->unknown_ = std::make_unique<UnknownMethodService>(*self->core_);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Reflection describes what is in protobuf's generated pool, and gRPC's
  // health service puts nothing there: naming a message of our own copy of
  // its .proto links that copy in, so that grpcurl can call the service
  // reflection lists.
  grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(c.listen, *credentials, &self->port_);
  // gRPC sets SO_REUSEPORT on Linux by default: a second handoffd started on
  // a port already in use would come up, take a share of the new connections
  // and serve them unnoticed (its admin port is the only thing that could
  // fail). A gateway owns its port, so a second one fails to start instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(self->service_.get());
  builder.RegisterCallbackGenericService(self->unknown_.get());
  builder.SetMaxReceiveMessageSize(c.max_message_bytes);
  if (!c.compressed_requests) {
    // Refused by their grpc-encoding header, before any byte is inflated;
    // the grpc-accept-encoding answered says identity only.
    builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_DEFLATE, false);
    builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_GZIP, false);
  }
  if (c.max_connection_age != absl::InfiniteDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               ClampMillis(c.max_connection_age));
  }
  if (c.max_connection_age_grace != absl::InfiniteDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               ClampMillis(c.max_connection_age_grace));
  }
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             ClampMillis(c.handshake_timeout));
  if (c.max_connection_idle != absl::InfiniteDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                               ClampMillis(c.max_connection_idle));
  }
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             ClampMillis(c.keepalive_min_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                             c.keepalive_permit_without_calls ? 1 : 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             c.max_concurrent_streams);
  self->server_ = builder.BuildAndStart();
  if (self->server_ == nullptr || self->port_ == 0) {
    self->dispatcher_->Stop();
    if (TlsEnabled(c)) {
      if (absl::Status tls = CheckTlsFilesListen(c); !tls.ok()) return tls;
    }
    return ListenFailure(c.listen);
  }
  if (auto* health = self->server_->GetHealthCheckService()) {
    health->SetServingStatus(true);
    health->SetServingStatus(v1::Gateway::service_full_name(), true);
  }

  if (!c.admin_listen.empty()) {
    HandoffServer* raw = self.get();
    absl::StatusOr<std::unique_ptr<AdminHttpServer>> admin =
        AdminHttpServer::Start(c.admin_listen, [raw](std::string_view path) {
          return raw->Admin(path);
        });
    if (!admin.ok()) {
      self->Shutdown();
      return absl::Status(admin.status().code(),
                          absl::StrCat("--admin_listen: ",
                                       admin.status().message()));
    }
    self->admin_ = std::move(*admin);
  }
  return self;
}

Chan<absl::Status> HandoffServer::ReopenAccessLog() {
  if (access_log_ != nullptr) return access_log_->Reopen();
  Chan<absl::Status> done(1);
  done.TrySend(absl::OkStatus()).IgnoreError();
  return done;
}

HandoffServer::~HandoffServer() {
  Shutdown();
  // A job Shutdown left running (its handler ignores its Context) may still
  // read the core, which is destroyed before the dispatcher: wait for it
  // here, first.
  if (dispatcher_ != nullptr) dispatcher_->Stop();
  // The admin thread reads core_ and dispatcher_ (for /metrics; a stopped
  // dispatcher still answers its counts): stop it before they are destroyed.
  if (admin_ != nullptr) admin_->Stop();
}

HttpResponse HandoffServer::Admin(std::string_view path) {
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8",
            core_->RenderMetrics()};
  }
  if (path == "/healthz") return {200, "text/plain", "ok\n"};
  if (path == "/readyz") {
    if (core_->draining()) return {503, "text/plain", "draining\n"};
    return {200, "text/plain", "ready\n"};
  }
  return {404, "text/plain", "not found\n"};
}

void HandoffServer::BeginDrain() {
  std::call_once(drain_once_, [this] {
    core_->BeginDrain();
    // Shutdown() of the health service sets every service NOT_SERVING and
    // keeps it so; watchers are told at once.
    if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
  });
}

ShutdownReport HandoffServer::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (server_ == nullptr) return;
    BeginDrain();
    // Stop accepting at once: gRPC sends GOAWAY on every connection and
    // closes the listener, so clients and proxies (nginx's grpc_next_upstream
    // error) take new calls to another replica instead of being answered
    // UNAVAILABLE here. Calls in flight go on; Shutdown returns when the last
    // one is done (the deadline is a backstop: CancelAll comes first).
    absl::Duration backstop = options_.config.drain_timeout + absl::Seconds(1);
    // A future, not an absl::Notification: its timed wait below runs on the
    // steady clock, not the wall clock.
    std::promise<void> stopped;
    std::future<void> stopped_future = stopped.get_future();
    std::thread stop_accepting([this, backstop, &stopped] {
      // On gRPC's monotonic clock, and in seconds since boot, so that a
      // --drain_timeout of a million years cannot overflow into the past.
      server_->Shutdown(gpr_time_add(
          gpr_now(GPR_CLOCK_MONOTONIC),
          gpr_time_from_nanos(absl::ToInt64Nanoseconds(backstop), GPR_TIMESPAN)));
      stopped.set_value();
    });
    report_.drained = core_->AwaitIdle(options_.config.drain_timeout);
    // What is left is cancelled: its Context is done, so its job stops, and
    // its reactor finishes (UNAVAILABLE).
    core_->CancelAll();
    report_.answered_after_cancel = core_->AwaitIdle(absl::Seconds(1));
    // Every Gateway call has now answered. What may still hold gRPC's
    // Shutdown is a call of gRPC's own services — a health Watch, a
    // reflection stream — open until its client closes it: end those now
    // rather than at the backstop. Repeated, because a cancel that comes
    // before Shutdown has begun on the other thread misses calls that start
    // after it.
    while (stopped_future.wait_for(std::chrono::milliseconds(50)) !=
           std::future_status::ready) {
      grpc_server_cancel_all_calls(server_->c_server());
    }
    stop_accepting.join();
    report_.workers = dispatcher_->StopWithin(options_.config.stop_grace);
    // Every call is over, and logged: have the lines written, since a
    // process left with a stuck worker exits without closing the log.
    if (access_log_ != nullptr) {
      auto [grace, cancel] = WithTimeout(Context::Background(), AccessLog::kCloseGrace);
      Select(OnRecv(access_log_->Flush(), [] {}), OnDone(grace, [] {}));
      cancel();
    }
  });
  return report_;
}

}  // namespace handoff
