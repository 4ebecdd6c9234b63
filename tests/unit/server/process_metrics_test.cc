// Copyright 2026 The handoff Authors.

#include "server/process_metrics.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace handoff {
namespace {

// A stat line as proc(5) lays it out, with a command name that holds what
// would throw a naive split: a space and a ')'.
constexpr std::string_view kStat =
    "4242 (handoff) d) S 1 4242 4242 0 -1 4194560 1000 0 0 0 "
    "250 150 0 0 20 0 7 0 90000 123456789 2000 18446744073709551615";

TEST(ProcessMetricsTest, StatIsReadFromTheFieldsAfterTheLastParenthesis) {
  absl::StatusOr<ProcessStats> s =
      ParseProcStat(kStat, /*ticks_per_second=*/100, /*page_bytes=*/4096, /*boot_time=*/1'700'000'000);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 4.0);                   // (250 + 150) ticks
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1'700'000'900.0);  // boot + 90000 ticks
  EXPECT_EQ(s->virtual_bytes, 123456789);
  EXPECT_EQ(s->resident_bytes, 2000 * 4096);
}

TEST(ProcessMetricsTest, AStatCutShortIsAnErrorNotZeros) {
  EXPECT_FALSE(ParseProcStat("4242 (handoffd) S 1 4242", 100, 4096, 0).ok());
  EXPECT_FALSE(ParseProcStat("no parenthesis", 100, 4096, 0).ok());
}

TEST(ProcessMetricsTest, TheOpenDescriptorsCountOneMoreWhileAFileIsOpen) {
  absl::StatusOr<ProcessStats> before = ReadProcessStats();
  ASSERT_TRUE(before.ok()) << before.status();
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  absl::StatusOr<ProcessStats> during = ReadProcessStats();
  close(fd);
  absl::StatusOr<ProcessStats> after = ReadProcessStats();
  ASSERT_TRUE(during.ok() && after.ok());
  EXPECT_EQ(during->open_fds, before->open_fds + 1);
  EXPECT_EQ(after->open_fds, before->open_fds);

  rlimit nofile;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &nofile), 0);
  EXPECT_EQ(before->max_fds, static_cast<int64_t>(nofile.rlim_cur));
  EXPECT_GT(before->resident_bytes, 0);
  EXPECT_GE(before->virtual_bytes, before->resident_bytes);
  // This process started before now, and since the machine booted.
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  EXPECT_LE(before->start_time_seconds, now + 1);
  EXPECT_GT(before->start_time_seconds, 0);
}

TEST(ProcessMetricsTest, CpuSecondsGrowWithWorkDone) {
  absl::StatusOr<ProcessStats> before = ReadProcessStats();
  ASSERT_TRUE(before.ok()) << before.status();
  // Spins until the process's own count moves, which it must: the test
  // fails by ctest's timeout if it never does.
  volatile uint64_t sink = 0;
  for (;;) {
    for (int i = 0; i < 1'000'000; ++i) sink = sink + i;
    absl::StatusOr<ProcessStats> now = ReadProcessStats();
    ASSERT_TRUE(now.ok());
    if (now->cpu_seconds > before->cpu_seconds) break;
  }
}

TEST(ProcessMetricsTest, EachSeriesHasItsHelpAndType) {
  ProcessStats s;
  s.cpu_seconds = 12.5;
  s.start_time_seconds = 1'765'000'000.5;
  s.resident_bytes = 1 << 20;
  const std::string text = RenderProcessMetrics(s);
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_open_fds",
                           "process_max_fds", "process_start_time_seconds"}) {
    EXPECT_TRUE(absl::StrContains(text, absl::StrCat("# HELP ", name, " "))) << name;
    EXPECT_TRUE(absl::StrContains(text, absl::StrCat("# TYPE ", name, " "))) << name;
  }
  EXPECT_TRUE(absl::StrContains(text, "\nprocess_cpu_seconds_total 12.50\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\nprocess_resident_memory_bytes 1048576\n")) << text;
  // Whole seconds and more: not 1.765e+09.
  EXPECT_TRUE(absl::StrContains(text, "\nprocess_start_time_seconds 1765000000.50\n")) << text;
}

}  // namespace
}  // namespace handoff
