#include "subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace handoff::testing {
namespace {

pid_t Spawn(const std::vector<std::string>& argv, int in_fd, int out_fd, int err_fd) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    if (in_fd >= 0) dup2(in_fd, 0);
    if (out_fd >= 0) dup2(out_fd, 1);
    if (err_fd >= 0) dup2(err_fd, 2);
    // Own process group, so stopping it reaches anything it started.
    setpgid(0, 0);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for pid until `deadline`; -2 if still running then.
int WaitUntil(pid_t pid, absl::Time deadline) {
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return ExitCode(status);
    if (r < 0) return -1;
    if (absl::Now() >= deadline) return -2;
    // Polling a child's exit has no file descriptor to wait on; 5 ms steps
    // bound the latency without spinning.
    absl::SleepFor(absl::Milliseconds(5));
  }
}

}  // namespace

ProcessResult Run(const std::vector<std::string>& argv, absl::Duration timeout,
                  const std::string& input) {
  int in[2], out[2], err[2];
  // Close-on-exec: the child gets only the ends dup2 gives it. Were it to
  // inherit stdin's write end, its stdin would never reach end of file.
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
      pipe2(err, O_CLOEXEC) != 0) {
    return {};
  }
  const pid_t pid = Spawn(argv, in[0], out[1], err[1]);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (!input.empty()) {
    [[maybe_unused]] ssize_t n = write(in[1], input.data(), input.size());
  }
  close(in[1]);
  ProcessResult result;
  const absl::Time deadline = absl::Now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    const int ms = static_cast<int>(
        std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now())));
    if (poll(fds, 2, ms) <= 0) break;  // timeout
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buf, n);
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  int code = WaitUntil(pid, deadline);
  if (code == -2) {
    kill(-pid, SIGKILL);
    code = WaitUntil(pid, absl::InfiniteFuture());
    result.err += "\n[killed: timeout]";
  }
  result.exit_code = code;
  return result;
}

// Reads the child's stderr to its end, copying it to the test's stderr and
// keeping it. The pipe's ends are closed on exec, so no other child of the
// test inherits the write end: end of file comes when this child (and any
// child of its own) exits.
class Process::StderrTee {
 public:
  explicit StderrTee(int fd) : reader_([this, fd] { Read(fd); }) {}
  ~StderrTee() { reader_.join(); }

  absl::StatusOr<std::string> WaitFor(absl::string_view text,
                                      absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    const bool seen = cv_.wait_until(
        lock, absl::ToChronoTime(absl::Now() + timeout),
        [&] { return absl::StrContains(text_, text) || closed_; });
    if (absl::StrContains(text_, text)) return text_;
    return seen ? absl::UnavailableError(
                      absl::StrCat("stderr closed before \"", text, "\": ", text_))
                : absl::DeadlineExceededError(
                      absl::StrCat("no \"", text, "\" on stderr in ",
                                   absl::FormatDuration(timeout), ": ", text_));
  }

 private:
  void Read(int fd) {
    char buf[4096];
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      [[maybe_unused]] ssize_t w = write(2, buf, static_cast<size_t>(n));
      std::lock_guard<std::mutex> lock(mu_);
      text_.append(buf, static_cast<size_t>(n));
      cv_.notify_all();
    }
    close(fd);
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::string text_;
  bool closed_ = false;
  std::thread reader_;  // last: it starts reading the members above
};

absl::StatusOr<Process> Process::Start(const std::vector<std::string>& argv) {
  if (access(argv.at(0).c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("not executable: ", argv[0]));
  }
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe");
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return absl::InternalError("pipe");
  }
  const pid_t pid = Spawn(argv, -1, out[1], err[1]);
  close(out[1]);
  close(err[1]);
  return Process(pid, out[0], std::make_unique<StderrTee>(err[0]));
}

Process::Process(pid_t pid, int out_fd, std::unique_ptr<StderrTee> err)
    : pid_(pid), out_fd_(out_fd), err_(std::move(err)) {}

Process::Process(Process&& other) noexcept
    : pid_(other.pid_),
      out_fd_(other.out_fd_),
      buffered_(std::move(other.buffered_)),
      err_(std::move(other.err_)) {
  other.pid_ = -1;
  other.out_fd_ = -1;
}

Process::~Process() { Stop(); }

absl::StatusOr<std::string> Process::WaitForStderr(absl::string_view text,
                                                   absl::Duration timeout) {
  if (err_ == nullptr) return absl::FailedPreconditionError("not started");
  return err_->WaitFor(text, timeout);
}

absl::StatusOr<std::string> Process::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (size_t nl = buffered_.find('\n'); nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    const int ms = static_cast<int>(
        std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now())));
    pollfd fd = {out_fd_, POLLIN, 0};
    if (poll(&fd, 1, ms) <= 0) return absl::DeadlineExceededError("no line in time");
    char buf[4096];
    const ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) return absl::UnavailableError("stdout closed");
    buffered_.append(buf, n);
  }
}

int Process::Wait(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  const int code = WaitUntil(pid_, absl::Now() + timeout);
  if (code == -2) return code;
  pid_ = -1;
  if (out_fd_ >= 0) close(out_fd_);
  out_fd_ = -1;
  err_.reset();  // the child is gone: its stderr is at its end
  return code;
}

int Process::Stop(absl::Duration grace) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int code = WaitUntil(pid_, absl::Now() + grace);
  if (code == -2) {
    kill(-pid_, SIGKILL);
    code = WaitUntil(pid_, absl::InfiniteFuture());
  }
  pid_ = -1;
  if (out_fd_ >= 0) close(out_fd_);
  out_fd_ = -1;
  err_.reset();  // the child is gone: its stderr is at its end
  return code;
}

}  // namespace handoff::testing
