// Interrupts: Ctrl-C (SIGINT) and SIGTERM during a load run, taken as ghz
// takes them. The first ends the run early, so that the calls made so far
// are still reported (endReason "cancel"); a second quits at once, by the
// signal's default action, for a run whose calls will not end. A signal
// ignored when the watch begins (nohup) stays ignored.
#ifndef HANDOFF_CLIENT_CLI_INTERRUPTS_H_
#define HANDOFF_CLIENT_CLI_INTERRUPTS_H_

#include <thread>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include "absl/functional/any_invocable.h"

namespace handoff::cli {

class Interrupts {
 public:
  // Watches from now on; `on_first` runs on a thread of the watcher's own,
  // at the first signal.
  explicit Interrupts(absl::AnyInvocable<void()> on_first);
  // Stops watching, after `on_first` if it is running: the signals' default
  // actions are back.
  ~Interrupts();

  Interrupts(const Interrupts&) = delete;
  Interrupts& operator=(const Interrupts&) = delete;

 private:
  asio::io_context io_;
  asio::signal_set signals_;
  absl::AnyInvocable<void()> on_first_;
  std::thread thread_;
};

}  // namespace handoff::cli

#endif  // HANDOFF_CLIENT_CLI_INTERRUPTS_H_
