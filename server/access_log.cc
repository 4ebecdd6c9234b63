// Copyright 2026 The handoff Authors.

#include "server/access_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/json_text.h"
#include "dispatch/context.h"
#include "dispatch/select.h"

namespace handoff {
namespace {

// Lines taken from the queue for one write(2), at most: enough to make a
// burst cost a few writes, few enough that a line waits little for the rest.
constexpr int kLinesPerWrite = 256;
// Reopen and Flush requests that may wait for a writer busy with a write.
constexpr size_t kPendingRequests = 8;
// While lines keep coming, the writer sleeps this long between writes
// instead of being woken by each line: a wake per call cost more than the
// line itself (on the order of 5 us of CPU a call, docs/PERF.md). A line
// waits at most this long to be written; at 4096 lines a queue, more than
// 400,000 lines a second are needed to fill it in between.
constexpr absl::Duration kFlushInterval = absl::Milliseconds(10);

absl::StatusOr<int> OpenForAppend(const std::string& path) {
  // Non-blocking for the open alone: opening a FIFO that no process reads
  // yet waits for a reader, and handoffd hung at start, before it listened,
  // saying nothing (and a SIGHUP's reopen stalled the writer). Without a
  // reader such an open fails at once, ENXIO, and is reported.
  const int fd =
      open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
  if (fd < 0) {
    const int error = errno;
    // ENXIO is also a Unix socket's answer (/dev/log, or /dev/stderr where
    // stderr is journald's socket): name the FIFO only when it is one.
    struct stat st {};
    const bool fifo = error == ENXIO && stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
    return absl::InvalidArgumentError(absl::StrCat(
        "--access_log: cannot open '", path, "': ", std::strerror(error),
        fifo ? " (a FIFO that no process reads yet: start its reader first)" : ""));
  }
  // Writes block again, on a slow reader as on a slow disk: the queue in
  // front of the writer, and its drops, are what keep the calls from waiting.
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    const int error = errno;
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(
        "--access_log: cannot use '", path, "': ", std::strerror(error)));
  }
  return fd;
}

}  // namespace

// Everything the writer thread touches. The thread holds a reference of its
// own, so that a log closed while the thread is stuck on a write (kCloseGrace)
// leaves it something to finish with.
struct AccessLog::Writer {
  Writer(std::string p, int f) : path(std::move(p)), to_stderr(path == "-"), fd(f) {}

  // A Reopen or a Flush, with its reply channel (seeds/000).
  struct Request {
    Chan<absl::Status> reply;
    bool reopen = false;  // else a Flush
  };

  // The thread's body: writes batches until `stop` is closed and `entries`
  // drained, handles requests between batches, then closes the file.
  void Run();
  // Writes what waits, reopens if asked to, and answers.
  void Handle(std::optional<Request> request);
  // Sends a request, or answers it at once if kPendingRequests wait already.
  Chan<absl::Status> Ask(bool reopen);
  // Writes `first`, if any, and up to kLinesPerWrite - 1 more that wait;
  // false if there was nothing to write.
  bool WriteBatch(std::optional<AccessLogEntry> first);
  void WriteAll(absl::string_view text);
  absl::Status ReopenFile();

  const std::string path;
  // By the path, not the descriptor: a process started with fd 2 closed
  // may be given 2 for the file.
  const bool to_stderr;
  int fd;  // the thread's alone
  std::string text;  // the batch being written, kept for its capacity
  std::atomic<int64_t> dropped{0};
  Chan<AccessLogEntry> entries{kQueue};
  Chan<Request> requests{kPendingRequests};
  Chan<std::monostate> stop{0};      // closed by ~AccessLog, as `entries` is
  Chan<std::monostate> finished{0};  // closed when the thread is done
};

void AccessLog::Writer::Run() {
  for (bool running = true; running;) {
    // Idle: parked on the queue, so that the first line wakes the writer.
    Select(OnRecv(entries,
                  [&](std::optional<AccessLogEntry> e) {
                    if (!e.has_value()) {  // closed, and drained
                      running = false;
                      return;
                    }
                    WriteBatch(std::move(e));
                  }),
           OnRecv(requests, [&](std::optional<Request> r) { Handle(std::move(r)); }));
    // Busy: lines keep coming. Sleep between writes rather than be woken by
    // each line, and go back to idle once an interval brought none.
    while (running) {
      auto [interval, cancel] = WithTimeout(Context::Background(), kFlushInterval);
      Select(OnDone(interval, [] {}), OnRecv(stop, [&] { running = false; }),
             OnRecv(requests, [&](std::optional<Request> r) { Handle(std::move(r)); }));
      cancel();
      bool wrote = false;
      while (WriteBatch(std::nullopt)) wrote = true;
      if (!wrote) break;
    }
  }
  while (WriteBatch(std::nullopt)) {
  }
  // No request goes unanswered. A flush is done: every line is written.
  for (absl::StatusOr<Request> r = requests.TryRecv(); r.ok(); r = requests.TryRecv()) {
    r->reply
        .TrySend(r->reopen ? absl::FailedPreconditionError("the access log was closed")
                           : absl::OkStatus())
        .IgnoreError();
  }
  if (!to_stderr) close(fd);
}

void AccessLog::Writer::Handle(std::optional<Request> request) {
  if (!request.has_value()) return;
  // What was recorded before the request is written first (to the old file,
  // for a Reopen).
  while (WriteBatch(std::nullopt)) {
  }
  request->reply.TrySend(request->reopen ? ReopenFile() : absl::OkStatus()).IgnoreError();
}

Chan<absl::Status> AccessLog::Writer::Ask(bool reopen) {
  Chan<absl::Status> reply(1);
  if (!requests.TrySend(Request{reply, reopen}).ok()) {
    reply.TrySend(absl::UnavailableError(absl::StrCat(
                      kPendingRequests, " requests already wait for the access log's writer")))
        .IgnoreError();
  }
  return reply;
}

bool AccessLog::Writer::WriteBatch(std::optional<AccessLogEntry> first) {
  text.clear();
  int lines = 0;
  if (first.has_value()) {
    text = Line(*first);
    ++lines;
  }
  for (; lines < kLinesPerWrite; ++lines) {
    absl::StatusOr<AccessLogEntry> more = entries.TryRecv();
    if (!more.ok()) break;
    text += Line(*more);
  }
  WriteAll(text);
  return lines > 0;
}

void AccessLog::Writer::WriteAll(absl::string_view rest) {
  while (!rest.empty()) {
    const ssize_t n = write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // A full disk, a closed pipe: the lines not yet written are lost, and
      // counted, rather than retried for ever while more queue up.
      dropped.fetch_add(std::count(rest.begin(), rest.end(), '\n'),
                        std::memory_order_relaxed);
      return;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

absl::Status AccessLog::Writer::ReopenFile() {
  if (to_stderr) return absl::OkStatus();
  absl::StatusOr<int> reopened = OpenForAppend(path);
  if (!reopened.ok()) return reopened.status();
  close(fd);
  fd = *reopened;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& path) {
  int fd = STDERR_FILENO;
  if (path != "-") {
    absl::StatusOr<int> opened = OpenForAppend(path);
    if (!opened.ok()) return opened.status();
    fd = *opened;
  }
  return std::unique_ptr<AccessLog>(
      new AccessLog(std::make_shared<Writer>(path, fd)));
}

AccessLog::AccessLog(std::shared_ptr<Writer> writer) : writer_(std::move(writer)) {
  std::thread([w = writer_] {
    w->Run();
    w->finished.Close().IgnoreError();
  }).detach();
}

AccessLog::~AccessLog() {
  // The writer drains what is queued, then sees the close and returns.
  writer_->entries.Close().IgnoreError();
  writer_->stop.Close().IgnoreError();
  auto [grace, cancel] = WithTimeout(Context::Background(), kCloseGrace);
  Select(OnRecv(writer_->finished, [] {}), OnDone(grace, [] {}));
  cancel();
}

void AccessLog::Record(AccessLogEntry entry) {
  if (!writer_->entries.TrySend(std::move(entry)).ok()) {
    writer_->dropped.fetch_add(1, std::memory_order_relaxed);
  }
}

Chan<absl::Status> AccessLog::Reopen() { return writer_->Ask(/*reopen=*/true); }

Chan<absl::Status> AccessLog::Flush() { return writer_->Ask(/*reopen=*/false); }

int64_t AccessLog::dropped() const {
  return writer_->dropped.load(std::memory_order_relaxed);
}

std::string AccessLog::Line(const AccessLogEntry& e) {
  std::string line = absl::StrCat(
      "{\"time\":\"", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", e.time, absl::UTCTimeZone()),
      "\",\"peer\":", JsonQuoted(e.peer), ",\"method\":", JsonQuoted(e.method),
      ",\"code\":\"", absl::StatusCodeToString(e.code), "\"",
      e.cancelled_by_client ? ",\"cancelled_by\":\"client\"" : "",
      ",\"duration_us\":", absl::ToInt64Microseconds(e.duration));
  if (e.code != absl::StatusCode::kOk && !e.message.empty()) {
    absl::StrAppend(&line, ",\"message\":", JsonQuoted(e.message));
  }
  line += "}\n";
  return line;
}

}  // namespace handoff
