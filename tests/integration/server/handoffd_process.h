// Copyright 2026 The handoff Authors.
//
// HandoffdProcess: the real handoffd binary as a child process, for the tests
// that need signals, exit codes and the command line.

#ifndef HANDOFF_TESTS_INTEGRATION_SERVER_HANDOFFD_PROCESS_H_
#define HANDOFF_TESTS_INTEGRATION_SERVER_HANDOFFD_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "tests/integration/server/server_fixture.h"

extern char** environ;

namespace handoff::testing {

// handoffd in a child process; its stderr is collected by a thread.
class HandoffdProcess {
 public:
  // kClosed: handoffd starts with its stderr closed (`2>&-`), and Output()
  // has only its stdout.
  enum class Stderr { kCollected, kClosed };

  // `flags` follow --listen=127.0.0.1:0 --admin_listen= (so they may override
  // them); `env` entries ("HANDOFF_WORKERS=3") are added to the environment.
  explicit HandoffdProcess(std::vector<std::string> flags,
                           std::vector<std::string> env = {},
                           Stderr stderr_is = Stderr::kCollected) {
    std::vector<std::string> args = {"handoffd", "--listen=127.0.0.1:0",
                                     "--admin_listen="};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // A socket, not a pipe, so that StopReading can shut its reading side
    // while the reader thread is blocked on it.
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    reader_fd_ = fds[0];
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);  // --help
    if (stderr_is == Stderr::kCollected) {
      posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    } else {
      posix_spawn_file_actions_addclose(&actions, 2);
    }
    std::vector<char*> envp;
    for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, HANDOFFD_PATH, &actions, nullptr, argv.data(),
                          envp.data()),
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
    });
  }

  ~HandoffdProcess() {
    if (!exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
    close(reader_fd_);
  }

  // The gRPC port from the start-up line, or 0.
  int Port(absl::Duration timeout = absl::Seconds(10)) {
    return PortAfter("serving gRPC on port ", timeout);
  }
  // The admin HTTP port from the start-up line (pass --admin_listen), or 0.
  int AdminPort(absl::Duration timeout = absl::Seconds(10)) {
    return PortAfter("admin HTTP on port ", timeout);
  }

  void Signal(int sig) { kill(pid_, sig); }
  pid_t pid() const { return pid_; }

  // Stops reading handoffd's stdout and stderr, as a log reader that went
  // away: its writes from now on fail with EPIPE, and raise SIGPIPE unless
  // handoffd ignores it. Output() keeps what came before.
  void StopReading() {
    shutdown(reader_fd_, SHUT_RD);
    if (reader_.joinable()) reader_.join();
  }

  // The exit status if the process exits within `timeout`.
  std::optional<int> Wait(absl::Duration timeout) {
    std::optional<int> code;
    (void)WaitUntil([&] {
      int status;
      if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
      exited_ = true;
      code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return true;
    }, timeout);
    // The child is gone, so its end of the pipe is closed: read to the end,
    // so that Output() has everything it wrote.
    if (exited_ && reader_.joinable()) reader_.join();
    return code;
  }

  std::string Output() {
    std::lock_guard<std::mutex> l(mu_);
    return out_;
  }

 private:
  // The number that follows `label` in the output, once it is there.
  int PortAfter(const std::string& label, absl::Duration timeout) {
    int port = 0;
    (void)WaitUntil([&] {
      std::lock_guard<std::mutex> l(mu_);
      size_t at = out_.find(label);
      if (at == std::string::npos) return false;
      size_t start = at + label.size();
      size_t end = out_.find_first_not_of("0123456789", start);
      return end != std::string::npos &&
             absl::SimpleAtoi(out_.substr(start, end - start), &port);
    }, timeout);
    return port;
  }

  pid_t pid_ = 0;
  int reader_fd_ = -1;  // read by reader_, closed once it is joined
  bool exited_ = false;
  std::thread reader_;
  std::mutex mu_;
  std::string out_;
};

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_INTEGRATION_SERVER_HANDOFFD_PROCESS_H_
