// Copyright 2026 The handoff Authors.
//
// AccessLog: one JSON line per finished call (--access_log), for an
// operator's log pipeline:
//
//   {"time":"2026-12-06T12:02:26.123456Z","peer":"ipv4:127.0.0.1:51234",
//    "method":"Work","code":"DEADLINE_EXCEEDED","duration_us":100231,
//    "message":"context deadline exceeded"}                 (one line each)
//
// "time" is when the call finished (UTC), "duration_us" how long it took
// from its method being called, "message" is there only for a call that
// failed, "cancelled_by":"client" (after "code") only for a call its client
// cancelled. An unknown method is logged as "unknown"; a Stream once, at its
// end.
//
// The file belongs to one thread, which writes what the calls hand it
// (seeds/003: state owned by one goroutine), so that a call's thread never
// waits on a disk. Record() never blocks: with kQueue lines already waiting
// for the writer (a disk that stalls, a pipe nobody reads), the line is
// dropped and counted (handoff_access_log_dropped_total) rather than
// slowing the calls down. Lines are written in the order they were
// recorded, many to a write(2): while they keep coming, the writer writes
// every 10 ms instead of being woken by each one, which cost more than the
// line (docs/PERF.md); an idle writer is woken by the next line.

#ifndef HANDOFF_SERVER_ACCESS_LOG_H_
#define HANDOFF_SERVER_ACCESS_LOG_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "dispatch/chan.h"

namespace handoff {

struct AccessLogEntry {
  absl::Time time;          // when the call finished
  std::string peer;         // gRPC's name for the client ("ipv4:1.2.3.4:5")
  absl::string_view method;  // a name that outlives the log ("Echo")
  absl::StatusCode code = absl::StatusCode::kOk;
  absl::Duration duration;
  std::string message;      // written only if code is not OK and it is not empty
  // The client cancelled the call (or went away): written as
  // "cancelled_by":"client", so that a handler's own CANCELLED, which has
  // no such field, is not taken for it.
  bool cancelled_by_client = false;
};

class AccessLog {
 public:
  // Lines that may wait for the writer before more are dropped.
  static constexpr size_t kQueue = 4096;
  // How long closing the log waits for the writer to write what is queued.
  // A writer stuck on a write (a pipe nobody reads) is left to finish on
  // its own, with what it needs, so that a stop never waits on a log.
  static constexpr absl::Duration kCloseGrace = absl::Seconds(2);

  // "-" writes to stderr; anything else is a file, created if need be
  // (mode 0640) and appended to. InvalidArgument naming the path if it
  // cannot be opened, at once: a FIFO that no process reads yet is refused,
  // not waited on (Reopen too).
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(const std::string& path);
  // Lets the writer write every line recorded before it, waiting up to
  // kCloseGrace for that, and close the file.
  ~AccessLog();

  // Hands the line to the writer, or drops it if kQueue lines wait already.
  void Record(AccessLogEntry entry);

  // Asks the writer to close the file and open its path again, for
  // logrotate (handoffd does this on SIGHUP), once the lines recorded before
  // this call are written to the old file; the outcome arrives on the
  // channel returned. Never blocks: a writer stuck on a write answers when
  // it is free. If the path cannot be opened, the old file stays in use and
  // the error says why. Nothing to do for stderr.
  Chan<absl::Status> Reopen();

  // Answers OK on the channel returned once every line recorded before this
  // call is written (or dropped, if a write failed): for a process about to
  // exit without closing the log. Never blocks, as Reopen.
  Chan<absl::Status> Flush();

  // Lines dropped: the queue was full, or a write failed.
  int64_t dropped() const;

  // The line `entry` is written as, newline included.
  static std::string Line(const AccessLogEntry& entry);

 private:
  struct Writer;  // the writer thread's state, which may outlive the log
  explicit AccessLog(std::shared_ptr<Writer> writer);

  std::shared_ptr<Writer> writer_;
};

}  // namespace handoff

#endif  // HANDOFF_SERVER_ACCESS_LOG_H_
