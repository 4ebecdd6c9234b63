// Copyright 2026 The handoff Authors.
//
// AccessLog: the line's format, every recorded line written in order, a
// reopen that moves the rest to a new file, and a writer that cannot keep
// up: Record drops and counts instead of waiting, and loses nothing else.

#include "server/access_log.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "dispatch/context.h"
#include "dispatch/select.h"
#include "gtest/gtest.h"

namespace handoff {
namespace {

// A fresh path under the test's temporary directory (gtest's, which ends
// in a slash).
std::string TempPath(const std::string& name) {
  std::string path =
      absl::StrCat(::testing::TempDir(), "handoff_access_log_", getpid(), "_", name);
  std::remove(path.c_str());
  return path;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  std::vector<std::string> lines = absl::StrSplit(all.str(), '\n');
  EXPECT_EQ(lines.back(), "") << "the file does not end with a newline";
  lines.pop_back();
  return lines;
}

AccessLogEntry Entry(int i, absl::StatusCode code = absl::StatusCode::kOk,
                     std::string message = "") {
  return {.time = absl::FromUnixMicros(1'796'558'546'123'456 + i),
          .peer = "ipv4:127.0.0.1:51234",
          .method = "Echo",
          .code = code,
          .duration = absl::Microseconds(i),
          .message = std::move(message)};
}

TEST(AccessLogTest, ALineIsOneJsonObjectAndOnlyAFailureCarriesItsMessage) {
  EXPECT_EQ(AccessLog::Line(Entry(0, absl::StatusCode::kOk, "ignored")),
            "{\"time\":\"2026-12-06T12:02:26.123456Z\",\"peer\":\"ipv4:127.0.0.1:51234\","
            "\"method\":\"Echo\",\"code\":\"OK\",\"duration_us\":0}\n");
  EXPECT_EQ(AccessLog::Line(Entry(7, absl::StatusCode::kDeadlineExceeded,
                                  "took \"too\" long\n")),
            "{\"time\":\"2026-12-06T12:02:26.123463Z\",\"peer\":\"ipv4:127.0.0.1:51234\","
            "\"method\":\"Echo\",\"code\":\"DEADLINE_EXCEEDED\",\"duration_us\":7,"
            "\"message\":\"took \\\"too\\\" long\\n\"}\n");
}

// A client's cancel says it is the client's; a handler's own CANCELLED, its
// answer, does not, and has only its message to tell it by.
TEST(AccessLogTest, AClientsCancelIsWrittenAsTheClients) {
  AccessLogEntry by_client = Entry(3, absl::StatusCode::kCancelled, "context canceled");
  by_client.cancelled_by_client = true;
  EXPECT_EQ(AccessLog::Line(by_client),
            "{\"time\":\"2026-12-06T12:02:26.123459Z\",\"peer\":\"ipv4:127.0.0.1:51234\","
            "\"method\":\"Echo\",\"code\":\"CANCELLED\",\"cancelled_by\":\"client\","
            "\"duration_us\":3,\"message\":\"context canceled\"}\n");
  EXPECT_EQ(AccessLog::Line(Entry(3, absl::StatusCode::kCancelled, "mine")),
            "{\"time\":\"2026-12-06T12:02:26.123459Z\",\"peer\":\"ipv4:127.0.0.1:51234\","
            "\"method\":\"Echo\",\"code\":\"CANCELLED\",\"duration_us\":3,"
            "\"message\":\"mine\"}\n");
}

TEST(AccessLogTest, EveryLineRecordedIsWrittenInOrderByTheTimeTheLogCloses) {
  const std::string path = TempPath("order");
  constexpr int kLines = 3000;
  {
    absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status();
    // Fewer than kQueue: the queue cannot fill, so none is dropped.
    static_assert(kLines < AccessLog::kQueue);
    for (int i = 0; i < kLines; ++i) (*log)->Record(Entry(i));
    EXPECT_EQ((*log)->dropped(), 0);
    log->reset();
    const std::vector<std::string> lines = Lines(path);
    ASSERT_EQ(lines.size(), static_cast<size_t>(kLines));
    // In order: each written line's duration is larger than the last.
    int64_t last = -1;
    for (const std::string& line : lines) {
      const size_t at = line.find("\"duration_us\":");
      ASSERT_NE(at, std::string::npos) << line;
      const int64_t us = std::stoll(line.substr(at + 14));
      EXPECT_GT(us, last) << line;
      last = us;
    }
  }
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0007, 0u) << "others may read the peers' addresses";
  std::remove(path.c_str());
}

// What HandoffServer::Shutdown waits for, since handoffd may then exit
// without closing the log: while lines keep coming the writer writes only
// every 10 ms, and a Flush must not wait for that.
TEST(AccessLogTest, AFlushIsAnsweredOnceEveryLineRecordedBeforeItIsWritten) {
  const std::string path = TempPath("flush");
  absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(path);
  ASSERT_TRUE(log.ok()) << log.status();
  size_t recorded = 0;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 50; ++i, ++recorded) (*log)->Record(Entry(static_cast<int>(recorded)));
    EXPECT_EQ((*log)->Flush().Recv(), absl::OkStatus());
    EXPECT_EQ(Lines(path).size(), recorded) << "round " << round;
  }
  EXPECT_EQ((*log)->dropped(), 0);
  log->reset();
  std::remove(path.c_str());
}

TEST(AccessLogTest, AReopenSendsTheLinesAfterItToANewFileAtThePath) {
  const std::string path = TempPath("rotate");
  const std::string rotated = path + ".1";
  absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(path);
  ASSERT_TRUE(log.ok()) << log.status();
  (*log)->Record(Entry(1));
  (*log)->Record(Entry(2));
  // logrotate: rename, then SIGHUP.
  ASSERT_EQ(std::rename(path.c_str(), rotated.c_str()), 0);
  EXPECT_EQ((*log)->Reopen().Recv(), absl::OkStatus());
  (*log)->Record(Entry(3));
  log->reset();

  const std::vector<std::string> old_lines = Lines(rotated);
  const std::vector<std::string> new_lines = Lines(path);
  ASSERT_EQ(old_lines.size(), 2u);
  EXPECT_NE(old_lines[1].find("\"duration_us\":2}"), std::string::npos) << old_lines[1];
  ASSERT_EQ(new_lines.size(), 1u);
  EXPECT_NE(new_lines[0].find("\"duration_us\":3}"), std::string::npos) << new_lines[0];
  std::remove(path.c_str());
  std::remove(rotated.c_str());
}

TEST(AccessLogTest, APathThatCannotBeOpenedIsRefusedNamingIt) {
  absl::StatusOr<std::unique_ptr<AccessLog>> log =
      AccessLog::Open("/nonexistent-dir/handoff.log");
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log.status().message(),
            "--access_log: cannot open '/nonexistent-dir/handoff.log': No such file "
            "or directory");
}

// open(2) of a FIFO for writing waits for a reader: handoffd given one that
// nobody read yet hung at start, before it listened, without a word. It is
// refused at once instead, as a path that cannot be opened.
TEST(AccessLogTest, AFifoNobodyReadsIsRefusedAtOnceNotWaitedFor) {
  const std::string fifo = TempPath("fifo_no_reader");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::future<absl::StatusOr<std::unique_ptr<AccessLog>>> opening =
      std::async(std::launch::async, [&] { return AccessLog::Open(fifo); });
  if (opening.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    // A reader lets the stuck open through, so that the test can end.
    const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    opening.get().IgnoreError();
    close(reader);
    std::remove(fifo.c_str());
    FAIL() << "AccessLog::Open waited for the FIFO's reader";
  }
  absl::StatusOr<std::unique_ptr<AccessLog>> log = opening.get();
  std::remove(fifo.c_str());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log.status().message(),
            absl::StrCat("--access_log: cannot open '", fifo,
                         "': No such device or address (a FIFO that no process "
                         "reads yet: start its reader first)"));
}

// A Unix socket refuses open(2) with the same ENXIO: not called a FIFO.
TEST(AccessLogTest, AUnixSocketIsNotCalledAFifo) {
  const std::string path = TempPath("socket");
  std::remove(path.c_str());
  const int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  absl::Cleanup close_listener = [&] {
    close(listener);
    std::remove(path.c_str());
  };
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof address.sun_path);
  path.copy(address.sun_path, path.size());
  ASSERT_EQ(bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(path);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().message(),
            absl::StrCat("--access_log: cannot open '", path, "': No such device or address"));
}

// The same for a SIGHUP's reopen: the writer answers at once, and does not
// stop writing while it waits for a reader.
TEST(AccessLogTest, AReopenOntoAFifoNobodyReadsFailsAtOnce) {
  const std::string fifo = TempPath("fifo_reader_gone");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  absl::Cleanup remove_fifo = [&] { std::remove(fifo.c_str()); };
  int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  absl::Cleanup close_reader = [&] {
    if (reader >= 0) close(reader);
  };
  absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(fifo);
  ASSERT_TRUE(log.ok()) << log.status();
  close(std::exchange(reader, -1));

  Chan<absl::Status> reopened = (*log)->Reopen();
  std::optional<absl::Status> answer;
  auto [patience, cancel] = WithTimeout(Context::Background(), absl::Seconds(10));
  Select(OnRecv(reopened, [&](std::optional<absl::Status> s) { answer = s; }),
         OnDone(patience, [] {}));
  cancel();
  int late_reader = -1;
  if (!answer.has_value()) {
    // A reader lets the stuck reopen through, so that the test can end.
    late_reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  }
  log->reset();
  if (late_reader >= 0) close(late_reader);
  ASSERT_TRUE(answer.has_value()) << "the reopen waited for the FIFO's reader";
  EXPECT_EQ(answer->code(), absl::StatusCode::kInvalidArgument) << *answer;
  EXPECT_NE(answer->message().find("a FIFO that no process reads yet"),
            std::string_view::npos)
      << *answer;
}

TEST(AccessLogTest, LinesAWriteCouldNotStoreAreCountedAsDropped) {
  absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open("/dev/full");
  ASSERT_TRUE(log.ok()) << log.status();
  for (int i = 0; i < 10; ++i) (*log)->Record(Entry(i));
  // A Reopen is handled once what was recorded before it is written.
  EXPECT_EQ((*log)->Reopen().Recv(), absl::OkStatus());
  EXPECT_EQ((*log)->dropped(), 10);
}

// A pipe nobody reads: the writer blocks once the pipe is full, then the
// queue fills, and from then on Record drops. A Reopen returns at once and
// is answered later; closing the log waits only kCloseGrace for the stuck
// writer, which goes on alone once the pipe is read: every line that was not
// dropped arrives.
TEST(AccessLogTest, AWriterThatCannotKeepUpMakesRecordDropAndNothingWaitForIt) {
  const std::string fifo = TempPath("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // The read end first, so that the log's open finds a reader.
  const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(fifo);
  ASSERT_TRUE(log.ok()) << log.status();
  const int pipe_bytes = fcntl(reader, F_GETPIPE_SZ);
  ASSERT_GT(pipe_bytes, 0);

  constexpr int kRecorded = 20000;
  for (int i = 0; i < kRecorded; ++i) (*log)->Record(Entry(i));
  // At most: a full queue, a batch in the writer's hands, a full pipe.
  const int64_t line_bytes = static_cast<int64_t>(AccessLog::Line(Entry(0)).size());
  const int64_t kept_at_most =
      static_cast<int64_t>(AccessLog::kQueue) + 256 + pipe_bytes / line_bytes + 1;
  const int64_t dropped = (*log)->dropped();
  EXPECT_GE(dropped, kRecorded - kept_at_most);

  Chan<absl::Status> reopened = (*log)->Reopen();
  bool answered = true;
  Select(OnRecv(reopened, [] {}), OnDefault([&] { answered = false; }));
  EXPECT_FALSE(answered) << "answered by a writer that is stuck";
  log->reset();  // returns after kCloseGrace, the writer still stuck

  // Read it all: back to blocking reads, which end when the writer, alone
  // now, has written the rest and closed the pipe.
  ASSERT_EQ(fcntl(reader, F_SETFL, 0), 0);
  int64_t newlines = 0;
  char buf[65536];
  for (ssize_t n; (n = read(reader, buf, sizeof buf)) > 0;) {
    newlines += std::count(buf, buf + n, '\n');
  }
  close(reader);
  std::remove(fifo.c_str());
  EXPECT_EQ(newlines + dropped, kRecorded);
  EXPECT_TRUE(reopened.Recv().has_value()) << "a reopen went unanswered";
}

}  // namespace
}  // namespace handoff
