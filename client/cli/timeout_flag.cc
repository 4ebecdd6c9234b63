#include "client/cli/timeout_flag.h"

#include "absl/status/status.h"
#include "client/load/go_duration.h"

namespace handoff::cli {

bool AbslParseFlag(absl::string_view text, TimeoutFlag* timeout, std::string* error) {
  // Go has no infinite duration, so ParseGoDuration takes "inf" as out of
  // range; here it is the way to say "none" that Abseil's type accepted.
  if (text == "inf" || text == "+inf") {
    timeout->value = absl::InfiniteDuration();
    return true;
  }
  absl::StatusOr<absl::Duration> d = load::ParseGoDuration(text);
  // Under a nanosecond is no deadline a call can keep, and what rounds to
  // zero ("0.1ns": the mantissa has a digit other than 0, where "0e5" is a
  // zero the user wrote) would quietly mean no deadline at all.
  const bool written_as_zero =
      text.substr(0, text.find_first_of("eE")).find_first_of("123456789") ==
      absl::string_view::npos;
  if (d.ok() && *d < absl::Nanoseconds(1) && !(*d == absl::ZeroDuration() && written_as_zero)) {
    *error = "shorter than 1ns; 0 or inf is no deadline";
    return false;
  }
  if (d.ok()) {
    timeout->value = *d == absl::ZeroDuration() ? absl::InfiniteDuration() : *d;
    return true;
  }
  if (d.status().code() == absl::StatusCode::kOutOfRange) {
    *error = "longer than 2562047h, Go's longest duration; 0 or inf is no deadline";
  } else if (d.status().message() == "negative") {
    *error = "a timeout cannot be negative; 0 or inf is no deadline";
  } else {
    *error =
        "not a duration: write a number and a unit (ns, us, ms, s, m, h), as "
        "in 500ms or 1m30s, or a number of seconds; 0 or inf is no deadline";
  }
  return false;
}

std::string AbslUnparseFlag(TimeoutFlag timeout) {
  return absl::FormatDuration(timeout.value);
}

}  // namespace handoff::cli
