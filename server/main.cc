// Copyright 2026 The handoff Authors.
//
// handoffd: flags and environment → ServerConfig → HandoffServer, then wait
// for SIGTERM/SIGINT (asio::signal_set). The first signal starts the drain
// (server.h) on a thread of its own, so that the signal set keeps listening:
// a second signal exits at once, with status 1. A completed drain exits 0,
// but for a handler that ignores its Context and still runs after the
// cancel and its grace: then handoffd exits 1 without waiting for it, since
// its call has been answered and nothing else can end it.

#include <asio.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "common/descriptor_limit.h"
#include "common/help_flags.h"
#include "common/standard_streams.h"
#include "dispatch/select.h"
#include "server/access_log.h"
#include "server/config.h"
#include "server/grpc_log.h"
#include "server/host_port.h"
#include "server/malloc_in_use.h"
#include "server/server.h"
#include "server/tls.h"

ABSL_FLAG(bool, check_config, false,
          "Check the flags and HANDOFF_* variables (and read the TLS files "
          "they name), print the configuration, and exit: 0 if handoffd "
          "would start with it, 2 if not. Serves nothing (with TLS, a "
          "loopback port opens for a moment, to test the key pair); "
          "command line only.");

namespace {

// --check_config: what Start would refuse of `config` before it listens,
// short of the addresses, which only listening can test.
int CheckConfig(const handoff::ServerConfig& config) {
  // With TLS, a loopback port opens for a moment: only gRPC can tell
  // whether it accepts the files.
  if (absl::Status tls = handoff::CheckTlsFilesListen(config); !tls.ok()) {
    std::fprintf(stderr, "handoffd: %s\n", std::string(tls.message()).c_str());
    return 2;
  }
  if (!config.access_log.empty()) {
    // Opened (and so created) as a start would, as `nginx -t` opens its logs.
    absl::StatusOr<std::unique_ptr<handoff::AccessLog>> log =
        handoff::AccessLog::Open(config.access_log);
    if (!log.ok()) {
      std::fprintf(stderr, "handoffd: %s\n", std::string(log.status().message()).c_str());
      return 2;
    }
  }
  std::fprintf(stderr,
               "handoffd: configuration OK: gRPC on %s%s, admin HTTP %s, %d worker%s, "
               "queue %d (%s), deadlines %s by default and %s at most, drain %s%s\n",
               config.listen.c_str(), handoff::TlsEnabled(config) ? " (TLS)" : "",
               config.admin_listen.empty() ? "off" : config.admin_listen.c_str(),
               config.workers, config.workers == 1 ? "" : "s", config.queue_depth,
               handoff::QueuePolicyName(config.queue_policy).c_str(),
               absl::FormatDuration(config.default_deadline).c_str(),
               absl::FormatDuration(config.max_deadline).c_str(),
               absl::FormatDuration(config.drain_timeout).c_str(),
               config.access_log.empty()
                   ? ""
                   : absl::StrCat(", access log ",
                                  config.access_log == "-" ? "on stderr" : config.access_log)
                         .c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything opens a descriptor: with stderr closed, the first one
  // (Asio's eventfd) would take its number, and every message and
  // --access_log=- line would be written into it.
  handoff::OpenClosedStandardStreams();
  // Before gRPC listens: its listener stops for good at the first EMFILE
  // (descriptor_limit.h). A failure leaves the limit as it was, which is
  // not a reason to refuse to serve.
  if (absl::StatusOr<rlim_t> raised = handoff::RaiseDescriptorLimit(); !raised.ok()) {
    std::fprintf(stderr, "handoffd: cannot raise the descriptor limit: %s\n",
                 std::string(raised.status().message()).c_str());
  }
  // A write to a pipe nobody reads any more (stderr piped to a log shipper
  // that restarted, `handoffd 2>&1 | tee` after tee died) must fail with
  // EPIPE, which the access log counts as dropped lines, not kill handoffd
  // with the calls in flight. systemd ignores SIGPIPE for its services by
  // default; a shell or another supervisor does not. gRPC's sockets are
  // written with MSG_NOSIGNAL already.
  std::signal(SIGPIPE, SIG_IGN);
  // Some of gRPC's lines come one per bad call or connection (grpc_log.h):
  // ten a minute from each place in gRPC's source says what is wrong
  // without letting a client fill the log.
  handoff::LimitGrpcLog(/*burst=*/10, absl::Minutes(1));
  // Abseil's Mutex deadlock detection (a lock graph, updated on every lock;
  // gRPC's own mutexes are absl::Mutex) costs CPU on every call and finds
  // nothing in production: the tests and sanitizer builds keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // --help lists handoffd's own flags (server/config.cc), not only those of
  // the file that holds main(); --helpfull still lists Abseil's too.
  absl::FlagsUsageConfig usage;
  const auto contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "server/config.cc") ||
           absl::StrContains(file, "server/main.cc");
  };
  usage.contains_help_flags = contains_help_flags;
  usage.normalize_filename = [](absl::string_view file) {
    size_t at = file.rfind("server/");
    return std::string(at == absl::string_view::npos ? file : file.substr(at));
  };
  // Abseil's default says whether Debian built Abseil itself with NDEBUG,
  // which is no answer to which handoffd this is; the malloc in use is part
  // of the answer (cmake/Malloc.cmake).
  usage.version_string = [] {
    return absl::StrCat("handoffd " HANDOFF_VERSION "\nmalloc: ",
                        handoff::MallocInUse(), "\n");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "the handoff gRPC gateway.\n"
      "Every flag can also be set by the environment variable HANDOFF_<FLAG> "
      "(e.g. HANDOFF_WORKERS=4); the command line wins.\n"
      "Usage: handoffd [--listen=0.0.0.0:50051] [--workers=N] ...");
  absl::StatusOr<handoff::EnvironmentOverrides> env =
      handoff::ApplyEnvironmentOverrides(absl::MakeConstSpan(argv, argc));
  if (env.ok()) {
    for (const std::string& var : env->overridden) {
      std::fprintf(stderr, "handoffd: %s ignored: the command line sets its flag\n",
                   var.c_str());
    }
  }
  // --help and --version answer (and exit) here, whatever the environment
  // holds: a container's bad HANDOFF_ variable must not hide its version.
  // --help is answered here rather than by ParseCommandLine, which would
  // exit 1, as for bad usage (common/help_flags.h); it still checks the
  // other flags.
  std::vector<char*> args(argv, argv + argc);
  absl::StatusOr<handoff::HelpRequest> taken = handoff::TakeHelpFlags(args);
  if (!taken.ok()) {
    std::fprintf(stderr, "handoffd: %s\n", std::string(taken.status().message()).c_str());
    return 2;
  }
  const handoff::HelpRequest help = *std::move(taken);
  if (absl::Status s = handoff::CheckNoHelpFlagInFlagfiles(absl::MakeConstSpan(argv, argc));
      !s.ok()) {
    std::fprintf(stderr, "handoffd: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  const std::vector<char*> arguments =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (help.mode != handoff::HelpRequest::Mode::kNone) {
    handoff::PrintFlagsHelp(std::cout, help, argv[0], absl::ProgramUsageMessage(),
                            contains_help_flags);
    return std::cout.flush() ? 0 : 1;
  }
  if (!env.ok()) {
    std::fprintf(stderr, "handoffd: %s\n",
                 std::string(env.status().message()).c_str());
    return 2;
  }
  // Abseil reads `--batch_scheduling false` as the flag set to true and an
  // argument "false", which handoffd would otherwise drop without a word:
  // the opposite of what was asked.
  if (arguments.size() > 1) {
    std::fprintf(stderr,
                 "handoffd: unexpected argument '%s': handoffd takes only flags, and a "
                 "bool flag takes its value after '=' (--pin_workers=false)\n",
                 arguments[1]);
    return 2;
  }
  absl::StatusOr<handoff::ServerConfig> config =
      handoff::ConfigFromFlags(*env);
  if (!config.ok()) {
    std::fprintf(stderr, "handoffd: %s\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_check_config)) return CheckConfig(*config);

  // Signals are caught from before the server listens: a SIGTERM that arrives
  // while it starts is then a drain, not the default action (death).
  asio::io_context io;
  asio::signal_set signals(io, SIGTERM, SIGINT);
  // SIGHUP too: it reopens the access log file (logrotate's postrotate), and
  // one that came before the server was up, or with no file to reopen, must
  // not end handoffd by its default action (systemd counts that a clean exit
  // and would not restart it).
  asio::signal_set hangups(io, SIGHUP);

  handoff::ServerOptions options;
  options.config = *config;
  auto server = handoff::HandoffServer::Start(std::move(options));
  if (!server.ok()) {
    std::fprintf(stderr, "handoffd: %s\n",
                 std::string(server.status().message()).c_str());
    // A bad value found only at start (a TLS file, say) is a bad value like
    // the config's; an address that cannot be had is a failure to start.
    return absl::IsInvalidArgument(server.status()) ? 2 : 1;
  }
  // A Unix socket has no port to speak of (gRPC reports 1): name its path.
  const std::string where =
      handoff::IsUnixSocket(config->listen)
          ? config->listen
          : absl::StrCat("port ", (*server)->port());
  const std::string admin =
      config->admin_listen.empty()
          ? std::string("admin HTTP off")
          : absl::StrCat("admin HTTP on port ", (*server)->admin_port());
  std::fprintf(stderr,
               "handoffd: serving gRPC on %s (%s), %d worker%s, queue %d (%s)\n",
               where.c_str(), admin.c_str(), config->workers, config->workers == 1 ? "" : "s",
               config->queue_depth,
               handoff::QueuePolicyName(config->queue_policy).c_str());

  std::thread drainer;
  handoff::ShutdownReport report;
  std::function<void(const asio::error_code&, int)> on_signal =
      [&](const asio::error_code& ec, int signo) {
        if (ec) return;
        if (drainer.joinable()) {
          std::fprintf(stderr, "handoffd: signal %d again: exiting now\n",
                       signo);
          std::_Exit(1);
        }
        std::fprintf(stderr, "handoffd: signal %d: draining (up to %s)\n",
                     signo,
                     absl::FormatDuration(config->drain_timeout).c_str());
        drainer = std::thread([&] {
          report = (*server)->Shutdown();
          asio::post(io, [&] { io.stop(); });
        });
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  // The outcome of a reopen is told when the log's writer gets to it,
  // without a thread waiting: one stuck on a write must not hold up the
  // signals after it.
  std::function<void(const asio::error_code&, int)> on_hangup =
      [&](const asio::error_code& ec, int) {
        if (ec) return;
        if (config->access_log.empty() || config->access_log == "-") {
          std::fprintf(stderr, "handoffd: SIGHUP: no access log file to reopen\n");
          hangups.async_wait(on_hangup);
          return;
        }
        handoff::AsyncRecv((*server)->ReopenAccessLog(),
                           [path = config->access_log](std::optional<absl::Status> s) {
                             if (s.has_value() && s->ok()) {
                               std::fprintf(stderr,
                                            "handoffd: SIGHUP: reopened the access log %s\n",
                                            path.c_str());
                             } else if (s.has_value()) {
                               std::fprintf(stderr,
                                            "handoffd: SIGHUP: %s; still writing to the "
                                            "old file\n",
                                            std::string(s->message()).c_str());
                             }
                           });
        hangups.async_wait(on_hangup);
      };
  hangups.async_wait(on_hangup);
  io.run();
  drainer.join();
  const char* calls = report.drained ? "every call finished"
                                     : "drain timeout: the rest were cancelled";
  if (!report.workers.ok()) {
    // The destructor would join those workers, that is wait for ever.
    std::fprintf(stderr, "handoffd: stopped (%s), but %s; exiting without them\n",
                 calls, std::string(report.workers.message()).c_str());
    std::fflush(stderr);
    std::_Exit(1);
  }
  std::fprintf(stderr, "handoffd: stopped (%s)\n", calls);
  server->reset();
  return 0;
}
