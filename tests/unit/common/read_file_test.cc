// ReadFile against what a path on a command line can name besides a file.

#include "common/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace handoff {
namespace {

using ::testing::HasSubstr;

std::string ScratchPath(const std::string& name) {
  return testing::TempDir() + "read_file_test_" + std::to_string(getpid()) + "_" + name;
}

TEST(ReadFileTest, AFileIsReadWhole) {
  const std::string path = ScratchPath("file");
  const std::string bytes(200 * 1024, 'x');  // more than one read
  std::ofstream(path, std::ios::binary) << bytes;
  const absl::StatusOr<std::string> text = ReadFile(path);
  std::remove(path.c_str());
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, bytes);
}

TEST(ReadFileTest, AMissingFileIsNotFoundNamingThePath) {
  const absl::StatusOr<std::string> text = ReadFile("/nonexistent/cert.pem");
  EXPECT_EQ(text.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(text.status().message(), HasSubstr("cannot read /nonexistent/cert.pem"));
}

TEST(ReadFileTest, ADirectorySaysSo) {
  const absl::StatusOr<std::string> text = ReadFile("/tmp");
  EXPECT_FALSE(text.ok());
  EXPECT_THAT(text.status().message(), HasSubstr("cannot read /tmp: Is a directory"));
}

// A plain open() of a FIFO waits for a writer: handoffd given one as its
// certificate hung before it listened.
TEST(ReadFileTest, AFifoNobodyWritesToIsAnErrorAtOnce) {
  const std::string path = ScratchPath("fifo_unwritten");
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  const absl::StatusOr<std::string> text = ReadFile(path);
  std::remove(path.c_str());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("a FIFO nothing was written to"));
}

// Whether this thread's task is inside read(2) right now: the proc file
// starts with the number of the system call it is blocked in.
bool BlockedInRead(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/syscall");
  long number = -1;
  in >> number;
  return number == SYS_read;
}

// The open must not wait for a writer, but the reads must: a FIFO whose
// writer has not written yet is read to its end, not found empty.
TEST(ReadFileTest, AFifoWithAWriterIsReadToItsEnd) {
  const std::string path = ScratchPath("fifo_written");
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  // A reader of our own first, so that the writer's open returns at once
  // and a write never meets a FIFO with no reader.
  const int keep = open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(keep, 0);
  const int writer = open(path.c_str(), O_WRONLY);
  ASSERT_GE(writer, 0);

  std::atomic<pid_t> reader_tid{0};
  std::atomic<bool> returned{false};
  absl::StatusOr<std::string> text;
  std::thread reader([&] {
    reader_tid = static_cast<pid_t>(syscall(SYS_gettid));
    text = ReadFile(path);
    returned = true;
  });
  // Write only once ReadFile is waiting in read(): the case a non-blocking
  // read would have taken for an error (EAGAIN).
  while (!returned && (reader_tid == 0 || !BlockedInRead(reader_tid))) {
    std::this_thread::yield();
  }
  const std::string bytes = "-----BEGIN CERTIFICATE-----\n";
  ASSERT_EQ(write(writer, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  close(writer);
  reader.join();
  close(keep);
  std::remove(path.c_str());
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, bytes);
}

TEST(ReadFileTest, ADeviceThatNeverEndsIsCutOffWithAMessage) {
  const absl::StatusOr<std::string> text = ReadFile("/dev/zero");
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("cannot read /dev/zero: longer than 64 MiB"));
}

}  // namespace
}  // namespace handoff
