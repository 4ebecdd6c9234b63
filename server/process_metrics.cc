// Copyright 2026 The handoff Authors.

#include "server/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace handoff {
namespace {

absl::StatusOr<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in.is_open()) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// /proc/stat's "btime": when the machine booted, in seconds since the epoch.
absl::StatusOr<int64_t> BootTime() {
  absl::StatusOr<std::string> stat = ReadFile("/proc/stat");
  if (!stat.ok()) return stat.status();
  for (absl::string_view line : absl::StrSplit(*stat, '\n')) {
    int64_t btime;
    if (absl::ConsumePrefix(&line, "btime ") && absl::SimpleAtoi(line, &btime)) return btime;
  }
  return absl::UnavailableError("no btime in /proc/stat");
}

// Entries of /proc/self/fd but the one reading it.
absl::StatusOr<int64_t> OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return absl::UnavailableError("cannot read /proc/self/fd");
  int64_t n = 0;
  const std::string own = std::to_string(dirfd(dir));
  while (const dirent* e = readdir(dir)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != ".." && name != own) ++n;
  }
  closedir(dir);
  return n;
}

}  // namespace

absl::StatusOr<ProcessStats> ParseProcStat(std::string_view stat, int64_t ticks_per_second,
                                           int64_t page_bytes, int64_t boot_time) {
  const size_t paren = stat.rfind(')');
  if (paren == std::string_view::npos) {
    return absl::InvalidArgumentError("/proc/self/stat: no ')' after the command name");
  }
  if (ticks_per_second <= 0) {
    return absl::InvalidArgumentError("sysconf(_SC_CLK_TCK): no clock tick rate");
  }
  // Fields 3 (state) on, numbered as proc(5) numbers them.
  const std::vector<absl::string_view> f = absl::StrSplit(
      absl::string_view(stat.data() + paren + 1, stat.size() - paren - 1), ' ',
      absl::SkipWhitespace());
  auto field = [&](size_t number, int64_t* out) {
    return number - 3 < f.size() && absl::SimpleAtoi(f[number - 3], out);
  };
  int64_t utime, stime, starttime, vsize, rss;
  if (!field(14, &utime) || !field(15, &stime) || !field(22, &starttime) ||
      !field(23, &vsize) || !field(24, &rss)) {
    return absl::InvalidArgumentError("/proc/self/stat: too few fields, or not numbers");
  }
  const double ticks = static_cast<double>(ticks_per_second);
  ProcessStats s;
  s.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  s.virtual_bytes = vsize;
  s.resident_bytes = rss * page_bytes;
  s.start_time_seconds = static_cast<double>(boot_time) + static_cast<double>(starttime) / ticks;
  return s;
}

absl::StatusOr<ProcessStats> ReadProcessStats() {
  absl::StatusOr<std::string> stat = ReadFile("/proc/self/stat");
  if (!stat.ok()) return stat.status();
  absl::StatusOr<int64_t> boot = BootTime();
  if (!boot.ok()) return boot.status();
  absl::StatusOr<ProcessStats> s =
      ParseProcStat(*stat, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), *boot);
  if (!s.ok()) return s.status();
  absl::StatusOr<int64_t> fds = OpenFds();
  if (!fds.ok()) return fds.status();
  s->open_fds = *fds;
  rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) != 0) {
    return absl::UnavailableError("getrlimit(RLIMIT_NOFILE) failed");
  }
  s->max_fds = static_cast<int64_t>(nofile.rlim_cur);
  return s;
}

std::string RenderProcessMetrics(const ProcessStats& s) {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help,
                    const std::string& value) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n",
                    name, " ", value, "\n");
  };
  family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
         absl::StrFormat("%.2f", s.cpu_seconds));
  family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         absl::StrCat(s.resident_bytes));
  family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
         absl::StrCat(s.virtual_bytes));
  family("process_open_fds", "gauge", "Number of open file descriptors.",
         absl::StrCat(s.open_fds));
  family("process_max_fds", "gauge", "Maximum number of open file descriptors.",
         absl::StrCat(s.max_fds));
  family("process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.",
         absl::StrFormat("%.2f", s.start_time_seconds));
  return out;
}

}  // namespace handoff
