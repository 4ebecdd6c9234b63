#include "client/load/go_duration.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

namespace {

// `v` over 10^`digits`, its fraction without trailing zeros, as Go's fmtFrac
// and fmtInt leave it.
std::string Scaled(uint64_t v, int digits) {
  uint64_t unit = 1;
  for (int i = 0; i < digits; ++i) unit *= 10;
  std::string out = absl::StrCat(v / unit);
  uint64_t frac = v % unit;
  if (frac == 0) return out;
  std::string decimals(digits, '0');
  for (int i = digits - 1; i >= 0; --i, frac /= 10) {
    decimals[i] = static_cast<char>('0' + frac % 10);
  }
  decimals.erase(decimals.find_last_not_of('0') + 1);
  return absl::StrCat(out, ".", decimals);
}

}  // namespace

std::string GoDurationString(absl::Duration d) {
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  if (ns == 0) return "0s";
  // Unsigned, so that Go's shortest duration, -2^63 ns, has a magnitude.
  const uint64_t u = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  const std::string sign = ns < 0 ? "-" : "";
  // Below a second, Go takes the largest unit the span reaches.
  if (u < 1000) return absl::StrCat(sign, u, "ns");
  if (u < 1000000) return absl::StrCat(sign, Scaled(u, 3), "µs");
  if (u < 1000000000) return absl::StrCat(sign, Scaled(u, 6), "ms");
  // From a second on, hours and minutes as they are reached, and the
  // minutes written, 0 or not, once there are hours.
  const uint64_t seconds = u / 1000000000;
  std::string out = absl::StrCat(Scaled(seconds % 60 * 1000000000 + u % 1000000000, 9), "s");
  if (seconds >= 60) {
    out = absl::StrCat(seconds / 60 % 60, "m", out);
    if (seconds >= 3600) out = absl::StrCat(seconds / 3600, "h", out);
  }
  return absl::StrCat(sign, out);
}

}  // namespace handoff::load
