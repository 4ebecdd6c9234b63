#include "client/load/go_duration.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"

namespace handoff::load {

absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text) {
  absl::Duration d;
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    if (std::isnan(seconds)) return absl::InvalidArgumentError("not a duration");
    if (seconds < 0) return absl::InvalidArgumentError("negative");
    d = absl::Seconds(seconds);  // "inf" is past the range below
  } else {
    // Go accepts the micro sign; absl wants "us".
    const std::string spelled = absl::StrReplaceAll(text, {{"µs", "us"}});
    if (!absl::ParseDuration(spelled, &d)) {
      return absl::InvalidArgumentError("not a duration");
    }
    if (d < absl::ZeroDuration()) return absl::InvalidArgumentError("negative");
  }
  if (d > absl::Nanoseconds(std::numeric_limits<int64_t>::max())) {
    return absl::OutOfRangeError("longer than Go's longest duration");
  }
  return d;
}

}  // namespace handoff::load
