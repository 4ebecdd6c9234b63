// Copyright 2026 The handoff Authors.

#include "server/grpc_log.h"

#include <grpc/support/log.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace handoff {

std::optional<int64_t> LogSiteLimiter::Admit(absl::string_view file, int line,
                                              absl::Time now) {
  absl::MutexLock lock(&mu_);
  Site& site = sites_[absl::StrCat(file, ":", line)];
  if (now >= site.window_end) {
    site.window_end = now + period_;
    site.written = 0;
  }
  if (site.written >= burst_) {
    ++site.left_out;
    return std::nullopt;
  }
  ++site.written;
  return std::exchange(site.left_out, 0);
}

namespace {

LogSiteLimiter* limiter = nullptr;  // set once, before gRPC logs; never freed

// gRPC's default format ("E1206 22:02:27.669384506   30908 call.cc:1211]
// message"), so that a reader of gRPC's log finds what it knows, and what
// was left out before this line at its end.
void WriteLimited(gpr_log_func_args* args) {
  const absl::Time now = absl::Now();
  const std::optional<int64_t> left_out = limiter->Admit(args->file, args->line, now);
  if (!left_out.has_value()) return;
  absl::string_view file = args->file;
  if (size_t slash = file.rfind('/'); slash != absl::string_view::npos) {
    file.remove_prefix(slash + 1);
  }
  std::string text = absl::StrFormat(
      "%s%s %7d %s:%d] %s", gpr_log_severity_string(args->severity),
      absl::FormatTime("%m%d %H:%M:%E9S", now, absl::LocalTimeZone()),
      static_cast<long>(syscall(SYS_gettid)), file, args->line, args->message);
  if (*left_out > 0) {
    absl::StrAppend(&text, " (", *left_out, " more from here left out before this one)");
  }
  text += '\n';
  // One write, so that lines from gRPC's threads do not interleave.
  std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace

void LimitGrpcLog(int burst, absl::Duration period) {
  if (std::getenv("GRPC_VERBOSITY") != nullptr || std::getenv("GRPC_TRACE") != nullptr) {
    return;
  }
  limiter = new LogSiteLimiter(burst, period);
  gpr_set_log_function(WriteLimited);
}

}  // namespace handoff
