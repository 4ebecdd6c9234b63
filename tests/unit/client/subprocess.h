// Subprocess: start a program, talk to its stdout, stop it. For tests that
// drive the `handoff` CLI and real servers; every wait is bounded.
#ifndef HANDOFF_TESTS_UNIT_CLIENT_SUBPROCESS_H_
#define HANDOFF_TESTS_UNIT_CLIENT_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
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
// stderr passed through to the test's.
class Process {
 public:
  static absl::StatusOr<Process> Start(const std::vector<std::string>& argv);
  Process(Process&& other) noexcept;
  Process& operator=(Process&&) = delete;
  ~Process();  // Stop()

  // The next line of stdout, without the newline.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);
  // SIGTERM, then SIGKILL after `grace`; returns the exit code.
  int Stop(absl::Duration grace = absl::Seconds(10));
  pid_t pid() const { return pid_; }

 private:
  Process(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffered_;
};

// A loopback port that was free a moment ago (bound to port 0, then
// closed). Good enough for tests on one machine.
int FreePort();

}  // namespace handoff::testing

#endif  // HANDOFF_TESTS_UNIT_CLIENT_SUBPROCESS_H_
