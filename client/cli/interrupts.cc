#include "client/cli/interrupts.h"

#include <signal.h>

#include <csignal>
#include <iostream>

namespace handoff::cli {

Interrupts::Interrupts(absl::AnyInvocable<void()> on_first)
    : signals_(io_), on_first_(std::move(on_first)) {
  // Not a signal ignored on entry (nohup, a background job of a script):
  // watched, it would reach the run, and after the watch asio restores the
  // default action, not the ignoring.
  for (int signal : {SIGINT, SIGTERM}) {
    struct sigaction now {};
    if (sigaction(signal, nullptr, &now) == 0 && now.sa_handler == SIG_IGN) continue;
    signals_.add(signal);
  }
  signals_.async_wait([this](const asio::error_code& ec, int) {
    if (ec) return;  // stopped watching
    std::cerr << "handoff load: interrupted: ending the run and reporting the calls "
                 "made so far (interrupt again to quit at once)"
              << std::endl;
    on_first_();
    signals_.async_wait([](const asio::error_code& ec, int signal) {
      if (ec) return;
      std::signal(signal, SIG_DFL);
      std::raise(signal);
    });
  });
  thread_ = std::thread([this] { io_.run(); });
}

Interrupts::~Interrupts() {
  io_.stop();
  thread_.join();
}

}  // namespace handoff::cli
