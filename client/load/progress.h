// ProgressBar: a one-line progress display for long load runs.
//
// Redraws ten times a second on stderr, then erases itself on Stop(), so the
// report that follows starts on a clean line. The CLI shows it only when
// stdout and stderr are terminals: piped output never carries it.
#ifndef HANDOFF_CLIENT_LOAD_PROGRESS_H_
#define HANDOFF_CLIENT_LOAD_PROGRESS_H_

#include <cstdint>
#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace handoff::load {

class ProgressBar {
 public:
  // `done` reports calls finished; `expected` is the call count, or -1 for a
  // run bounded by `duration`.
  ProgressBar(std::function<int64_t()> done, int64_t expected,
              absl::Duration duration);
  ~ProgressBar();  // stops

  void Start();
  void Stop();

 private:
  void Draw(absl::Duration elapsed);

  std::function<int64_t()> done_;
  int64_t expected_;
  absl::Duration duration_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_PROGRESS_H_
