// Copyright 2026 The handoff Authors.

#include <cerrno>
#include <cstring>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"

namespace handoff::cli {

absl::Status WriteStdout(absl::string_view text, absl::string_view what) {
  // A stream says that a write failed only once it is flushed: text still
  // in its buffer at the check would be lost with exit 0.
  errno = 0;
  std::cout << text;
  std::cout.flush();
  if (std::cout) return absl::OkStatus();
  const int error = errno;
  return absl::UnavailableError(absl::StrCat("cannot write ", what, " to stdout",
                                             error != 0 ? absl::StrCat(": ", std::strerror(error))
                                                        : ""));
}

}  // namespace handoff::cli
