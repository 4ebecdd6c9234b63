// Copyright 2026 The handoff Authors.
//
// ProcessMetrics: the process_* series that every Prometheus client
// library's process collector exports, so that the dashboards and alerts
// written for any exporter (CPU, memory, descriptors, restarts) work on
// handoffd as they are:
//
//   process_cpu_seconds_total       counter  user + system CPU time
//   process_resident_memory_bytes   gauge
//   process_virtual_memory_bytes    gauge
//   process_open_fds                gauge
//   process_max_fds                 gauge    the soft RLIMIT_NOFILE
//   process_start_time_seconds      gauge    since the Unix epoch
//
// Read from /proc at each scrape (Linux). A scrape that cannot read them
// leaves them out rather than exporting zeros a dashboard would believe.

#ifndef HANDOFF_SERVER_PROCESS_METRICS_H_
#define HANDOFF_SERVER_PROCESS_METRICS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace handoff {

struct ProcessStats {
  double cpu_seconds = 0;
  int64_t resident_bytes = 0;
  int64_t virtual_bytes = 0;
  int64_t open_fds = 0;
  int64_t max_fds = 0;
  double start_time_seconds = 0;
};

// This process's figures now. An error names the file that could not be
// read or parsed.
absl::StatusOr<ProcessStats> ReadProcessStats();

// The fields of ProcessStats that /proc/<pid>/stat holds (CPU, memory and
// start time), from its text `stat`; `ticks_per_second` is sysconf's
// _SC_CLK_TCK, `boot_time` /proc/stat's btime. The command name, in
// parentheses, may itself hold spaces and parentheses: the fields are
// counted from the last ')'.
absl::StatusOr<ProcessStats> ParseProcStat(std::string_view stat, int64_t ticks_per_second,
                                           int64_t page_bytes, int64_t boot_time);

// The Prometheus text of `stats`, HELP and TYPE included.
std::string RenderProcessMetrics(const ProcessStats& stats);

}  // namespace handoff

#endif  // HANDOFF_SERVER_PROCESS_METRICS_H_
