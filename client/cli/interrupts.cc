#include "client/cli/interrupts.h"

#include <csignal>
#include <iostream>

namespace handoff::cli {

Interrupts::Interrupts(absl::AnyInvocable<void()> on_first)
    : signals_(io_, SIGINT, SIGTERM), on_first_(std::move(on_first)) {
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
