// Subprocess: start a program, talk to its stdout, stop it. For tests that
// drive the `handoff` CLI and real servers; every wait is bounded.
#ifndef HANDOFF_TESTS_UNIT_CLIENT_SUBPROCESS_H_
#define HANDOFF_TESTS_UNIT_CLIENT_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace handoff::testing {

struct ProcessResult {
  int exit_code = -1;  // 128+signal if killed
  std::string out;
  std::string err;
};

// Runs argv to completion with `input` on stdin; kills it after `timeout`.
ProcessResult Run(const std::vector<std::string>& argv,
                  absl::Duration timeout = absl::Seconds(60),
                  const std::string& input = "");

// A long-running child (a server) with stdout readable line by line and
// stderr passed through to the test's. A thread drains stderr as it comes, so
// the child never blocks on a full pipe, and keeps it for WaitForStderr.
class Process {
 public:
  static absl::StatusOr<Process> Start(const std::vector<std::string>& argv);
  Process(Process&& other) noexcept;
  Process& operator=(Process&&) = delete;
  ~Process();  // Stop()

  // The next line of stdout, without the newline.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);
  // All of stderr so far, once it contains `text`; an error if
  // the child closes stderr (exits) first or `timeout` passes.
  absl::StatusOr<std::string> WaitForStderr(absl::string_view text,
                                            absl::Duration timeout);
  // SIGTERM, then SIGKILL after `grace`; returns the exit code.
  int Stop(absl::Duration grace = absl::Seconds(10));
  // Waits up to `timeout` for the child to exit on its own: its exit code,
  // or -2 if it is still running.
  int Wait(absl::Duration timeout);
  pid_t pid() const { return pid_; }

 private:
  class StderrTee;
  Process(pid_t pid, int out_fd, std::unique_ptr<StderrTee> err);
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffered_;
  std::unique_ptr<StderrTee> err_;
};

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_UNIT_CLIENT_SUBPROCESS_H_
