#include "client/load/progress.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace handoff::load {

ProgressBar::ProgressBar(std::function<int64_t()> done, int64_t expected,
                         absl::Duration duration)
    : done_(std::move(done)), expected_(expected), duration_(duration) {}

ProgressBar::~ProgressBar() { Stop(); }

void ProgressBar::Start() {
  const absl::Time start = absl::Now();
  thread_ = std::thread([this, start] {
    // Waiting on the notification with a timeout is the redraw tick and the
    // stop signal at once.
    while (!stop_.WaitForNotificationWithTimeout(absl::Milliseconds(100))) {
      Draw(absl::Now() - start);
    }
    std::fputs("\r\033[K", stderr);  // erase the bar
    std::fflush(stderr);
  });
}

void ProgressBar::Stop() {
  if (!thread_.joinable()) return;
  if (!stop_.HasBeenNotified()) stop_.Notify();
  thread_.join();
}

void ProgressBar::Draw(absl::Duration elapsed) {
  const int64_t done = done_();
  double fraction = 0;
  if (expected_ > 0) {
    fraction = static_cast<double>(done) / static_cast<double>(expected_);
  } else if (duration_ > absl::ZeroDuration()) {
    fraction = absl::FDivDuration(elapsed, duration_);
  }
  fraction = std::clamp(fraction, 0.0, 1.0);
  constexpr int kWidth = 40;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(filled, '=');
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r[%s] %3d%%  %lld calls", bar.c_str(),
               static_cast<int>(fraction * 100), static_cast<long long>(done));
  std::fflush(stderr);
}

}  // namespace handoff::load
