// H2Connection: one plaintext HTTP/2 connection making unary gRPC calls,
// framed by nghttp2 and driven by one thread's asio::io_context.
//
// It is the client side of gRPC's wire protocol and no more: a call is a
// HEADERS frame from a header block shared by every call, then one DATA
// frame holding the gRPC-framed request; the reply is not parsed, only its
// status read (grpc-status and grpc-message from the trailers, or from the
// headers of a trailers-only reply). Frames queue in nghttp2 while a write
// is out and leave together in the next one, so under load one write
// carries many calls, as h2load's do, and one read many replies.
//
// Statuses follow gRPC's rules for what HTTP/2 can say: a reply without
// grpc-status is mapped from its HTTP status (404 is UNIMPLEMENTED, 503
// UNAVAILABLE, ...), a reset stream from its error code (REFUSED_STREAM is
// UNAVAILABLE, CANCEL is CANCELLED), a lost connection is UNAVAILABLE. Each
// call has a deadline of `timeout` from its start, sent as grpc-timeout and
// enforced here too, so a server that ignores it still ends the call.
//
// A connection that breaks fails its calls, refuses new ones with
// UNAVAILABLE (as a gRPC channel in TRANSIENT_FAILURE does), and reconnects
// after a second; AfterNextAttempt tells an owner when a refused call is
// worth trying again. A GOAWAY is no break: the server is recycling the
// connection (handoffd's --max_connection_age), so the connection takes no
// new calls (draining()), finishes the ones it has and closes for good; its
// owner opens a new one for the next calls, as a gRPC channel does. Calls
// started on a new connection before it is ready wait for it, deadlines
// running, unless an attempt to connect has already failed. An attempt ends
// at `connect_timeout` if the server has not sent its SETTINGS by then (a
// port whose listener accepts and then says nothing, a stopped process
// whose kernel still completes the TCP handshake): a failed attempt like
// any other, so that a call with no deadline of its own cannot wait on it
// for ever.
//
// Not thread-safe: every member runs on the io_context's one thread.
#ifndef HANDOFF_CLIENT_LOAD_H2_CONNECTION_H_
#define HANDOFF_CLIENT_LOAD_H2_CONNECTION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <grpcpp/support/status.h>
#include <nghttp2/nghttp2.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace handoff::load {

class H2Connection {
 public:
  struct Config {
    // Where to connect, and the :authority to name.
    asio::ip::tcp::resolver::results_type endpoints;
    std::string authority;
    // "/package.Service/Method".
    std::string path;
    // Per call; zero means none.
    absl::Duration timeout = absl::ZeroDuration();
    // Per attempt to connect, from the TCP connect to the server's SETTINGS;
    // zero means none.
    absl::Duration connect_timeout = absl::ZeroDuration();
    // Sent with every call; keys are lower-cased, "-bin" values encoded.
    std::vector<std::pair<std::string, std::string>> metadata;
    // The first stream ID (odd; LoadPlan::h2_first_stream_id).
    int32_t first_stream_id = 1;
  };

  // One call. The caller owns it, sets `body` and `context`, and keeps it in
  // place until its end is reported; then it may be started again.
  struct Call {
    // The gRPC-framed request: 5-byte prefix, then the message.
    const std::string* body = nullptr;
    // Sent with this call alone, after Config::metadata, as that is sent;
    // null for none.
    const std::vector<std::pair<std::string, std::string>>* metadata = nullptr;
    void* context = nullptr;

    // Whether the call, now ended, was refused before the server processed
    // it (REFUSED_STREAM, as for streams a GOAWAY crossed): it did nothing,
    // so it may be made again, as gRPC retries such calls transparently.
    // After a Start that returned false: whether Start found the
    // connection's stream IDs used up (its own GOAWAY); a call refused for
    // want of a connection is not.
    bool refused() const { return refused_; }

   private:
    friend class H2Connection;
    // The connection the call is in flight on. Each numbers its streams
    // from the same first ID, so a call moved to another connection may
    // have its old stream ID there; the stream ID alone does not say whose
    // the call is.
    const H2Connection* owner = nullptr;
    int32_t stream_id = 0;  // 0: not in flight; kQueued: waiting for kReady
    size_t sent = 0;
    int http_status = 0;
    int grpc_status = -1;
    std::string grpc_message;
    int64_t deadline_ns = 0;
    bool refused_ = false;
    // `metadata` as sent, which the HEADERS frame points into until written.
    std::vector<std::string> wire_metadata;
    Call* prev = nullptr;  // in_flight_, oldest first
    Call* next = nullptr;
  };

  // How every call ends: exactly once per started call.
  using DoneFn = std::function<void(Call&, grpc::StatusCode, absl::string_view message)>;

  H2Connection(asio::io_context& io, Config config, DoneFn done);
  ~H2Connection();

  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  // Connects and exchanges SETTINGS, then calls `opened`. Until then it
  // retries every 100 ms (the server may be starting), and error() says why
  // the last attempt failed. Call once, first.
  void Open(std::function<void()> opened);

  // As Open, for a connection that takes over from one the server sent
  // away (GOAWAY): a failed attempt is retried after a second, as a broken
  // connection's is, not after 100 ms. That server is likely stopping, and
  // each failed attempt fails the calls waiting for it: ten a second would
  // swamp a run's report with UNAVAILABLE. Call once, first, instead of Open.
  void OpenAsReplacement();

  // Starts `call`, or queues it until the connection is ready if it is
  // still making its first attempt. False when the connection cannot take
  // calls now (see error()); then nothing is reported for it.
  bool Start(Call& call);

  // Runs `then` on a later turn of the io_context once a call that Start
  // refuses now might be taken: when the connection is ready again, or the
  // next attempt to connect has failed, or the connection closes; at once if
  // it takes calls now. For a caller that would otherwise try again at once,
  // and be refused again, for as long as the server is away.
  void AfterNextAttempt(std::function<void()> then);

  // True once the server sent GOAWAY: the connection takes no new calls,
  // and closes when its last call ends. Start the next ones elsewhere.
  bool draining() const { return goaway_; }

  // Ends `call` now with `code`, resetting its stream; reports it. Nothing
  // happens to a call that is not in flight.
  void Cancel(Call& call, grpc::StatusCode code, absl::string_view message);

  // Closes the connection for good, and frees its buffers on a later turn
  // of the io_context. Calls still in flight are abandoned unreported, so
  // close only once none are.
  void Close();

  // Why Start refused a call, or why the last connection attempt failed.
  const std::string& error() const { return error_; }

 private:
  enum class State { kIdle, kConnecting, kHandshaking, kReady, kBroken, kClosed };
  static constexpr int32_t kQueued = -1;

  static int OnHeader(nghttp2_session* session, const nghttp2_frame* frame,
                      const uint8_t* name, size_t namelen, const uint8_t* value,
                      size_t valuelen, uint8_t flags, void* self);
  static int OnFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* self);
  static int OnStreamClose(nghttp2_session* session, int32_t stream_id,
                           uint32_t error_code, void* self);
  static ssize_t ReadBody(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                          size_t length, uint32_t* data_flags,
                          nghttp2_data_source* source, void* self);

  void Connect();
  void ConnectTimedOut();
  absl::Status StartSession();
  bool Submit(Call& call);
  void SubmitQueued();
  void Read();
  void Flush();
  void ScheduleFlush();
  void Fail(absl::string_view reason);
  // Posts every AfterNextAttempt callback waiting.
  void WakeAttemptWaiters();
  void ArmDeadline();
  void ExpireDeadlines();
  Call* CallOn(int32_t stream_id);
  void Link(Call& call);
  void Unlink(Call& call);
  void End(Call& call, grpc::StatusCode code, absl::string_view message);

  asio::io_context& io_;
  const Config config_;
  const DoneFn done_;
  std::function<void()> opened_;
  std::vector<std::function<void()>> attempt_waiters_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer deadline_timer_;
  asio::steady_timer retry_timer_;
  asio::steady_timer connect_timer_;  // the attempt in progress
  nghttp2_session* session_ = nullptr;
  // The shared request headers; nv_ points into header_strings_.
  std::vector<std::string> header_strings_;
  std::vector<nghttp2_nv> nv_;
  State state_ = State::kIdle;
  // Bumped whenever the socket is closed, so that completions of its
  // operations can tell they are stale.
  uint64_t generation_ = 0;
  bool in_recv_ = false;  // inside nghttp2_session_mem_recv
  bool writing_ = false;
  bool flush_scheduled_ = false;
  bool deadline_armed_ = false;
  bool goaway_ = false;
  // No attempt to connect has failed yet: calls may queue for the first.
  bool queue_until_ready_ = true;
  std::string error_;
  Call* oldest_ = nullptr;
  Call* newest_ = nullptr;
  std::vector<uint8_t> in_;
  std::vector<uint8_t> out_;
};

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_H2_CONNECTION_H_
