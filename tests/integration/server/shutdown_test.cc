// Copyright 2026 The handoff Authors.
//
// SIGTERM against the real handoffd binary, run as a subprocess.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/server/server_fixture.h"

extern char** environ;

namespace handoff::testing {
namespace {

// handoffd in a child process; its stderr is collected by a thread.
class Handoffd {
 public:
  explicit Handoffd(std::vector<std::string> flags) {
    std::vector<std::string> args = {"handoffd", "--listen=127.0.0.1:0",
                                     "--admin_listen="};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    EXPECT_EQ(posix_spawn(&pid_, HANDOFFD_PATH, &actions, nullptr, argv.data(),
                          environ),
              0);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    reader_ = std::thread([this, fd = fds[0]] {
      char buf[4096];
      for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) break;
        std::lock_guard<std::mutex> l(mu_);
        out_.append(buf, static_cast<size_t>(n));
      }
      close(fd);
    });
  }

  ~Handoffd() {
    if (!exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    reader_.join();
  }

  // The gRPC port from the start-up line, or 0.
  int Port(absl::Duration timeout = absl::Seconds(10)) {
    int port = 0;
    WaitUntil([&] {
      std::lock_guard<std::mutex> l(mu_);
      size_t at = out_.find("serving gRPC on port ");
      if (at == std::string::npos) return false;
      size_t start = at + 21;
      size_t end = out_.find(' ', start);
      return end != std::string::npos &&
             absl::SimpleAtoi(out_.substr(start, end - start), &port);
    }, timeout);
    return port;
  }

  void Signal(int sig) { kill(pid_, sig); }

  // The exit status if the process exits within `timeout`.
  std::optional<int> Wait(absl::Duration timeout) {
    std::optional<int> code;
    WaitUntil([&] {
      int status;
      if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
      exited_ = true;
      code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return true;
    }, timeout);
    return code;
  }

  std::string Output() {
    std::lock_guard<std::mutex> l(mu_);
    return out_;
  }

 private:
  pid_t pid_ = 0;
  bool exited_ = false;
  std::thread reader_;
  std::mutex mu_;
  std::string out_;
};

// The test that matters: every call sent before the signal ends OK or
// UNAVAILABLE, none hangs, and handoffd exits 0 inside the drain timeout.
TEST(ShutdownTest, SigtermUnderLoadDrainsEveryCallAndExitsZero) {
  Handoffd server({"--workers=2", "--queue_depth=64", "--drain_timeout=5s"});
  int port = server.Port();
  ASSERT_NE(port, 0) << server.Output();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Gateway::NewStub(channel);

  struct Outcome {
    absl::Time sent;
    grpc::StatusCode code;
    std::string message;
  };
  std::mutex mu;
  std::vector<Outcome> outcomes;
  std::atomic<int> ok{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        grpc::ClientContext ctx;
        ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
        v1::WorkRequest req;
        req.set_cpu_us(300);
        req.set_sleep_us(20'000);
        v1::WorkReply reply;
        absl::Time sent = absl::Now();
        grpc::Status s = stub->Work(&ctx, req, &reply);
        if (s.ok()) ok.fetch_add(1);
        std::lock_guard<std::mutex> l(mu);
        outcomes.push_back({sent, s.error_code(), s.error_message()});
        if (!s.ok()) return;  // the server is going away: this client is done
      }
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return ok.load() >= 50; }));
  const absl::Time signalled = absl::Now();
  server.Signal(SIGTERM);
  std::optional<int> code = server.Wait(absl::Seconds(5) + absl::Seconds(2));
  const absl::Duration exit_after = absl::Now() - signalled;
  stop.store(true);
  for (auto& c : clients) c.join();

  ASSERT_TRUE(code.has_value()) << "handoffd did not exit\n" << server.Output();
  EXPECT_EQ(*code, 0) << server.Output();
  EXPECT_LT(exit_after, absl::Seconds(5) + absl::Seconds(1));
  int before = 0;
  for (const Outcome& o : outcomes) {
    if (o.sent >= signalled) continue;
    ++before;
    EXPECT_TRUE(o.code == grpc::StatusCode::OK ||
                o.code == grpc::StatusCode::UNAVAILABLE)
        << "code " << o.code << ": " << o.message;
  }
  EXPECT_GE(before, 50);
}

// A second signal does not wait for the drain.
TEST(ShutdownTest, SecondSignalForcesExit) {
  Handoffd server({"--workers=1", "--drain_timeout=60s"});
  int port = server.Port();
  ASSERT_NE(port, 0) << server.Output();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Gateway::NewStub(channel);
  AsyncCall<v1::WorkRequest, v1::WorkReply> call;
  call.request.set_sleep_us(50'000'000);
  stub->async()->Work(&call.ctx, &call.request, &call.reply,
                      [&](grpc::Status s) { call.done.TrySend(s).IgnoreError(); });
  ASSERT_TRUE(WaitUntil([&] {
    return server.Output().find("draining") == std::string::npos &&
           HealthCheck(channel.get(), "") == 1;
  }));
  server.Signal(SIGTERM);
  // The first signal has been handled once health says NOT_SERVING.
  ASSERT_TRUE(WaitUntil([&] { return HealthCheck(channel.get(), "") == 2; }));
  server.Signal(SIGTERM);
  std::optional<int> code = server.Wait(absl::Seconds(5));
  ASSERT_TRUE(code.has_value()) << server.Output();
  EXPECT_EQ(*code, 1);
  EXPECT_NE(call.Wait().error_code(), grpc::StatusCode::OK);
}

// A call that outlasts the drain timeout is cut off with UNAVAILABLE (the
// client may retry elsewhere) and handoffd still exits 0, on time.
TEST(ShutdownTest, CallOutlastingDrainTimeoutIsUnavailable) {
  Handoffd server({"--workers=1", "--drain_timeout=500ms"});
  int port = server.Port();
  ASSERT_NE(port, 0) << server.Output();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Gateway::NewStub(channel);
  AsyncCall<v1::WorkRequest, v1::WorkReply> call;
  call.request.set_sleep_us(50'000'000);
  stub->async()->Work(&call.ctx, &call.request, &call.reply,
                      [&](grpc::Status s) { call.done.TrySend(s).IgnoreError(); });
  ASSERT_TRUE(WaitUntil([&] { return HealthCheck(channel.get(), "") == 1; }));
  // The call is in flight once the server's health check and the Work call
  // share the connection; give the Work call its own proof: a full queue
  // would refuse, an idle worker would take it. Poll the worker via Echo.
  const absl::Time signalled = absl::Now();
  server.Signal(SIGTERM);
  std::optional<int> code = server.Wait(absl::Seconds(5));
  ASSERT_TRUE(code.has_value()) << server.Output();
  EXPECT_EQ(*code, 0);
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(3));
  grpc::Status s = call.Wait();
  EXPECT_TRUE(s.error_code() == grpc::StatusCode::UNAVAILABLE) << s.error_code()
      << " " << s.error_message();
}

}  // namespace
}  // namespace handoff::testing
