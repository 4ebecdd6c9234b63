// Copyright 2026 The handoff Authors.
//
// HandoffServer: one running handoffd — the gRPC server (Gateway, health,
// reflection), the dispatcher and its workers, and the admin HTTP port —
// with the shutdown sequence README's "Shutdown" describes:
//
//   1. readiness off: /readyz answers 503, grpc.health.v1 NOT_SERVING, and
//      new calls are answered UNAVAILABLE at once (a load balancer retries
//      them on another replica);
//   2. stop accepting, at once: Server::Shutdown sends GOAWAY on every
//      connection and closes the listener, while the calls in flight go on;
//   3. drain: wait until those calls finish, up to --drain_timeout; then
//      whatever is still running is cancelled (its Context is done, so its
//      job stops) and answered UNAVAILABLE;
//   4. the dispatcher stops: every accepted job has run or been dropped. A
//      job that ignores its cancellation is waited for --stop_grace, then
//      left running: a thread cannot be stopped, but the process can exit
//      without it (handoffd does, with status 1);
//   5. with --access_log, every call's line is written (waiting up to
//      AccessLog::kCloseGrace for the writer), so that such an exit loses
//      none.
//
// Tests run it in-process on loopback ports (listen "127.0.0.1:0").

#ifndef HANDOFF_SERVER_SERVER_H_
#define HANDOFF_SERVER_SERVER_H_

#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dispatch/dispatcher.h"
#include "server/access_log.h"
#include "server/admin_http.h"
#include "server/config.h"
#include "server/gateway_core.h"
#include "server/gateway_service.h"
#include "server/handler_registry.h"
#include "server/unknown_method.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace handoff {

// How a Shutdown() went.
struct ShutdownReport {
  // Every call finished within --drain_timeout; none had to be cancelled.
  bool drained = true;
  // Every call cancelled at the drain timeout answered within the second
  // allowed it after that cancel (true when none was cancelled).
  bool answered_after_cancel = true;
  // OK, or (DEADLINE_EXCEEDED) how many workers were still running a job
  // --stop_grace after the cancel: a handler that ignores its Context. The
  // HandoffServer's destructor waits for them.
  absl::Status workers;
};

struct ServerOptions {
  ServerConfig config;
  // Handlers served by Call; must outlive the server.
  HandlerRegistry* registry = &DefaultHandlerRegistry();
  // Turns off the dispatcher's deadline-aware admission (for comparisons).
  bool shed_late_jobs = true;
};

class HandoffServer {
 public:
  // Validates the config, binds both ports, and starts serving.
  static absl::StatusOr<std::unique_ptr<HandoffServer>> Start(
      ServerOptions options);
  // Shutdown()s.
  ~HandoffServer();

  int port() const { return port_; }
  int admin_port() const { return admin_ != nullptr ? admin_->port() : 0; }
  GatewayCore& core() { return *core_; }

  // Steps 1-5 above; blocks for at most about --drain_timeout +
  // --stop_grace + 4 s. Idempotent: a later call returns the first one's
  // report.
  ShutdownReport Shutdown();
  // Step 1 alone (Shutdown starts with it): for tests of "call during drain".
  void BeginDrain();

  // The body of GET /metrics, /healthz, /readyz.
  HttpResponse Admin(std::string_view path);

  // AccessLog::Reopen, for SIGHUP: the outcome arrives on the channel (at
  // once, OK, without --access_log).
  Chan<absl::Status> ReopenAccessLog();

 private:
  HandoffServer() = default;

  ServerOptions options_;
  std::unique_ptr<AccessLog> access_log_;  // null without --access_log
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<GatewayCore> core_;
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<UnknownMethodService> unknown_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<AdminHttpServer> admin_;
  int port_ = 0;
  std::once_flag drain_once_;
  std::once_flag shutdown_once_;
  ShutdownReport report_;
};

}  // namespace handoff

#endif  // HANDOFF_SERVER_SERVER_H_
