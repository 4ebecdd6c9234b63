// Copyright 2026 The handoff Authors.
//
// gRPC's own log lines, at most a few a minute from each line of gRPC's
// source.
//
// gRPC 1.51 writes some lines once per offending call or connection:
// "Compression algorithm 'gzip' is disabled." for each compressed request
// while --compressed_requests is off, "Handshake failed ..." for each client
// that speaks plaintext to a TLS port. So a client could make handoffd write
// as many lines as it sends calls: fill a disk, drown whatever else the log
// says, and hold gRPC's threads on a stderr that blocks. Through
// LimitGrpcLog, each place in gRPC's source writes at most `burst` lines in
// a `period`; the lines over that are counted, and the place's next line
// that is written says how many were left out before it.

#ifndef HANDOFF_SERVER_GRPC_LOG_H_
#define HANDOFF_SERVER_GRPC_LOG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace handoff {

// Admits at most `burst` lines from each log site (a file and a line in it)
// per `period`, a window that opens at the first line the site writes after
// the last window ended. Thread-safe. The number of sites is that of the
// log statements in the program, so the map of them stays small.
class LogSiteLimiter {
 public:
  LogSiteLimiter(int burst, absl::Duration period) : burst_(burst), period_(period) {}

  LogSiteLimiter(const LogSiteLimiter&) = delete;
  LogSiteLimiter& operator=(const LogSiteLimiter&) = delete;

  // Whether a line from `file`:`line` may be written at `now`: nullopt if
  // not (it is counted as left out), else how many of the site's lines were
  // left out since the last one written.
  std::optional<int64_t> Admit(absl::string_view file, int line, absl::Time now);

 private:
  struct Site {
    absl::Time window_end = absl::InfinitePast();
    int written = 0;  // in the window
    int64_t left_out = 0;  // since the last line written
  };

  const int burst_;
  const absl::Duration period_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Site> sites_ ABSL_GUARDED_BY(mu_);  // by "file:line"
};

// Has gRPC write its log lines to stderr, in its own format, through a
// LogSiteLimiter of `burst` lines per `period`. Does nothing when
// GRPC_VERBOSITY or GRPC_TRACE is set: whoever sets them asks for gRPC's
// log as it is. Call once, before gRPC starts; the limiter lives as long as
// the process, since gRPC may log while it exits.
void LimitGrpcLog(int burst, absl::Duration period);

}  // namespace handoff

#endif  // HANDOFF_SERVER_GRPC_LOG_H_
