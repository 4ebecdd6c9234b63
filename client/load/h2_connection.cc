#include "client/load/h2_connection.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include <asio/connect.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/load/schedule.h"
#include "client/status.h"

namespace handoff::load {
namespace {

// Windows as large as HTTP/2 allows (h2load's default too): replies never
// wait for a WINDOW_UPDATE.
constexpr int32_t kWindow = (1 << 30) - 1;
constexpr size_t kReadSize = 64 * 1024;
// A write holds up to this much; what nghttp2 has beyond it goes next.
constexpr size_t kMaxWrite = 256 * 1024;
constexpr auto kReconnectDelay = std::chrono::seconds(1);
constexpr auto kOpenRetryDelay = std::chrono::milliseconds(100);

// grpc-timeout: at most 8 digits, in the finest unit that fits.
std::string GrpcTimeout(absl::Duration timeout) {
  constexpr int64_t kMax = 99'999'999;
  const int64_t us = absl::ToInt64Microseconds(absl::Ceil(timeout, absl::Microseconds(1)));
  if (us <= kMax) return absl::StrCat(std::max<int64_t>(us, 1), "u");
  const int64_t ms = (us + 999) / 1000;
  if (ms <= kMax) return absl::StrCat(ms, "m");
  return absl::StrCat(std::min((ms + 999) / 1000, kMax), "S");
}

// grpc-message is percent-encoded (gRPC's PROTOCOL-HTTP2 spec).
std::string PercentDecode(absl::string_view in) {
  auto nibble = [](char c) {
    return absl::ascii_isdigit(c) ? c - '0' : absl::ascii_tolower(c) - 'a' + 10;
  };
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && absl::ascii_isxdigit(in[i + 1]) &&
        absl::ascii_isxdigit(in[i + 2])) {
      out.push_back(static_cast<char>(nibble(in[i + 1]) * 16 + nibble(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// gRPC's mapping for a reply that carries no grpc-status
// (doc/http-grpc-status-mapping.md).
grpc::StatusCode FromHttpStatus(int status) {
  switch (status) {
    case 400: return grpc::StatusCode::INTERNAL;
    case 401: return grpc::StatusCode::UNAUTHENTICATED;
    case 403: return grpc::StatusCode::PERMISSION_DENIED;
    case 404: return grpc::StatusCode::UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504: return grpc::StatusCode::UNAVAILABLE;
    default: return grpc::StatusCode::UNKNOWN;
  }
}

// gRPC's mapping for a stream reset by the server (PROTOCOL-HTTP2.md).
grpc::StatusCode FromResetCode(uint32_t code) {
  switch (code) {
    case NGHTTP2_REFUSED_STREAM: return grpc::StatusCode::UNAVAILABLE;
    case NGHTTP2_CANCEL: return grpc::StatusCode::CANCELLED;
    case NGHTTP2_ENHANCE_YOUR_CALM: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case NGHTTP2_INADEQUATE_SECURITY: return grpc::StatusCode::PERMISSION_DENIED;
    default: return grpc::StatusCode::INTERNAL;
  }
}

// gRPC metadata as HTTP/2 carries it: the key lower-cased, a "-bin" value
// in base64.
std::pair<std::string, std::string> WireHeader(absl::string_view key, absl::string_view value) {
  std::string name = absl::AsciiStrToLower(key);
  std::string wire = absl::EndsWith(name, "-bin") ? absl::Base64Escape(value) : std::string(value);
  return {std::move(name), std::move(wire)};
}

nghttp2_nv Header(const std::string& name, const std::string& value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                    name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

}  // namespace

H2Connection::H2Connection(asio::io_context& io, Config config, DoneFn done)
    : io_(io),
      config_(std::move(config)),
      done_(std::move(done)),
      socket_(io),
      deadline_timer_(io),
      retry_timer_(io),
      connect_timer_(io),
      in_(kReadSize) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {":method", "POST"},
      {":scheme", "http"},
      {":path", config_.path},
      {":authority", config_.authority},
      {"content-type", "application/grpc"},
      {"te", "trailers"},
      {"user-agent", "handoff-load (nghttp2)"},
  };
  if (config_.timeout > absl::ZeroDuration()) {
    headers.emplace_back("grpc-timeout", GrpcTimeout(config_.timeout));
  }
  for (const auto& [key, value] : config_.metadata) headers.push_back(WireHeader(key, value));
  // Strings first, pointers after: the vector must not move once nv_ points in.
  header_strings_.reserve(headers.size() * 2);
  for (auto& [name, value] : headers) {
    header_strings_.push_back(std::move(name));
    header_strings_.push_back(std::move(value));
  }
  for (size_t i = 0; i < header_strings_.size(); i += 2) {
    nv_.push_back(Header(header_strings_[i], header_strings_[i + 1]));
  }
}

H2Connection::~H2Connection() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

void H2Connection::Open(std::function<void()> opened) {
  opened_ = std::move(opened);
  Connect();
}

void H2Connection::OpenAsReplacement() {
  opened_ = nullptr;  // which is also what makes a failed attempt wait a second
  Connect();
}

void H2Connection::Connect() {
  state_ = State::kConnecting;
  const uint64_t gen = generation_;
  if (config_.connect_timeout > absl::ZeroDuration()) {
    connect_timer_.expires_at(
        SteadyTimePoint(NsAfter(MonotonicNowNs(), config_.connect_timeout)));
    connect_timer_.async_wait([this, gen](const asio::error_code& ec) {
      if (!ec && gen == generation_) ConnectTimedOut();
    });
  }
  asio::async_connect(
      socket_, config_.endpoints,
      [this, gen](const asio::error_code& ec, const asio::ip::tcp::endpoint&) {
        if (gen != generation_) return;
        if (ec) return Fail(absl::StrCat("connecting to ", config_.authority, ": ",
                                         ec.message()));
        asio::error_code ignored;
        socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
        if (absl::Status s = StartSession(); !s.ok()) return Fail(s.message());
        state_ = State::kHandshaking;
        Read();
        Flush();
      });
}

void H2Connection::ConnectTimedOut() {
  const std::string limit = absl::FormatDuration(config_.connect_timeout);
  if (state_ == State::kConnecting) {
    return Fail(absl::StrCat("connecting to ", config_.authority, ": no connection within ",
                             limit));
  }
  if (state_ == State::kHandshaking) {
    Fail(absl::StrCat("the server at ", config_.authority,
                      " accepted the connection but sent no HTTP/2 SETTINGS within ", limit));
  }
}

absl::Status H2Connection::StartSession() {
  if (session_ != nullptr) nghttp2_session_del(session_);
  session_ = nullptr;
  goaway_ = false;
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) {
    return absl::ResourceExhaustedError("nghttp2: out of memory");
  }
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &OnFrameRecv);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &OnStreamClose);
  const int rv = nghttp2_session_client_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return absl::InternalError(absl::StrCat("nghttp2: ", nghttp2_strerror(rv)));
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kWindow},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kWindow);
  if (config_.first_stream_id > 1) {
    nghttp2_session_set_next_stream_id(session_, config_.first_stream_id);
  }
  return absl::OkStatus();
}

void H2Connection::AfterNextAttempt(std::function<void()> then) {
  const bool connecting = state_ == State::kConnecting || state_ == State::kHandshaking;
  if (state_ == State::kReady || state_ == State::kClosed || (connecting && queue_until_ready_)) {
    asio::post(io_, std::move(then));
    return;
  }
  attempt_waiters_.push_back(std::move(then));
}

void H2Connection::WakeAttemptWaiters() {
  for (auto& then : attempt_waiters_) asio::post(io_, std::move(then));
  attempt_waiters_.clear();
}

bool H2Connection::Start(Call& call) {
  // First: a call refused here was refused by no server, whatever the
  // call's last turn was.
  call.refused_ = false;
  if (goaway_) {
    error_ = absl::StrCat("the server at ", config_.authority,
                          " is closing the connection (GOAWAY)");
    return false;
  }
  const bool connecting = state_ == State::kConnecting || state_ == State::kHandshaking;
  if (state_ != State::kReady && !(connecting && queue_until_ready_)) return false;
  call.sent = 0;
  call.http_status = 0;
  call.grpc_status = -1;
  call.grpc_message.clear();
  call.owner = this;
  if (state_ == State::kReady) {
    if (!Submit(call)) return false;
  } else {
    call.stream_id = kQueued;  // SubmitQueued sends it once SETTINGS arrive
  }
  if (config_.timeout > absl::ZeroDuration()) {
    call.deadline_ns = NsAfter(MonotonicNowNs(), config_.timeout);
  }
  Link(call);
  ArmDeadline();
  // From inside nghttp2's read callbacks the read handler flushes once it
  // is done; otherwise flush soon, after whatever else this turn starts.
  if (!in_recv_) ScheduleFlush();
  return true;
}

bool H2Connection::Submit(Call& call) {
  nghttp2_data_provider body;
  body.source.ptr = &call;
  body.read_callback = &ReadBody;
  int32_t id = 0;
  if (call.metadata == nullptr || call.metadata->empty()) {
    id = nghttp2_submit_request(session_, nullptr, nv_.data(), nv_.size(), &body, &call);
  } else {
    // nghttp2 copies the array, not the strings the flags say not to copy:
    // those stay in the call until it ends.
    call.wire_metadata.clear();
    for (const auto& [key, value] : *call.metadata) {
      auto [name, wire] = WireHeader(key, value);
      call.wire_metadata.push_back(std::move(name));
      call.wire_metadata.push_back(std::move(wire));
    }
    std::vector<nghttp2_nv> nv = nv_;
    for (size_t i = 0; i < call.wire_metadata.size(); i += 2) {
      nv.push_back(Header(call.wire_metadata[i], call.wire_metadata[i + 1]));
    }
    id = nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(), &body, &call);
  }
  if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) {
    // 2^30 calls have used up the connection's stream IDs. Like a server's
    // GOAWAY: the connection takes no new calls, says so (our own GOAWAY,
    // after which nghttp2 wants nothing more once the last stream ends, and
    // the connection closes), and this call, refused unprocessed, is made
    // again on a new one. Else every later call failed at once, UNAVAILABLE,
    // for the rest of the run.
    goaway_ = true;
    call.refused_ = true;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
    if (!in_recv_) ScheduleFlush();
    error_ = absl::StrCat("the connection to ", config_.authority, " has used up its stream IDs");
    return false;
  }
  if (id < 0) {
    error_ = absl::StrCat("nghttp2: ", nghttp2_strerror(id));
    return false;
  }
  call.stream_id = id;
  return true;
}

void H2Connection::SubmitQueued() {
  std::vector<Call*> queued;
  for (Call* call = oldest_; call != nullptr; call = call->next) {
    if (call->stream_id == kQueued) queued.push_back(call);
  }
  for (Call* call : queued) {
    // Ending one call may have started its slot's next one on this very
    // Call, already submitted.
    if (call->stream_id != kQueued) continue;
    if (!Submit(*call)) End(*call, grpc::StatusCode::UNAVAILABLE, error_);
  }
}

void H2Connection::Cancel(Call& call, grpc::StatusCode code, absl::string_view message) {
  if (call.stream_id == 0 || call.owner != this) return;
  if (call.stream_id != kQueued &&
      (state_ == State::kReady || state_ == State::kHandshaking)) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, call.stream_id, NGHTTP2_CANCEL);
    if (!in_recv_) ScheduleFlush();
  }
  End(call, code, message);
}

void H2Connection::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  ++generation_;
  writing_ = false;
  error_ = absl::StrCat("the connection to ", config_.authority, " is closed");
  deadline_timer_.cancel();
  retry_timer_.cancel();
  connect_timer_.cancel();
  asio::error_code ignored;
  socket_.close(ignored);
  WakeAttemptWaiters();
  // A connection replaced after a GOAWAY stays in its engine's list until
  // the run ends, so it lets go of its session and buffers now. Not here:
  // Close may run inside nghttp2_session_mem_recv, still reading in_; the
  // posted release runs after that handler, and after the completions of
  // the socket's operations, which closing it has already queued.
  asio::post(io_, [this] {
    if (session_ != nullptr) nghttp2_session_del(session_);
    session_ = nullptr;
    std::vector<uint8_t>().swap(in_);
    std::vector<uint8_t>().swap(out_);
  });
}

void H2Connection::Read() {
  const uint64_t gen = generation_;
  socket_.async_read_some(
      asio::buffer(in_), [this, gen](const asio::error_code& ec, size_t n) {
        if (gen != generation_) return;
        if (ec) {
          return Fail(ec == asio::error::eof
                          ? absl::StrCat("the server at ", config_.authority,
                                         " closed the connection")
                          : absl::StrCat("the connection to ", config_.authority,
                                         " was lost: ", ec.message()));
        }
        in_recv_ = true;
        const ssize_t rv = nghttp2_session_mem_recv(session_, in_.data(), n);
        in_recv_ = false;
        if (gen != generation_) return;  // closed from a callback
        if (rv < 0) {
          return Fail(absl::StrCat("HTTP/2 error from ", config_.authority, ": ",
                                   nghttp2_strerror(static_cast<int>(rv))));
        }
        Flush();
        if (gen != generation_) return;
        Read();
      });
}

void H2Connection::ScheduleFlush() {
  if (flush_scheduled_ || writing_) return;
  flush_scheduled_ = true;
  const uint64_t gen = generation_;
  asio::post(io_, [this, gen] {
    flush_scheduled_ = false;
    if (gen == generation_) Flush();
  });
}

void H2Connection::Flush() {
  if (writing_ || in_recv_ || session_ == nullptr ||
      (state_ != State::kHandshaking && state_ != State::kReady)) {
    return;
  }
  out_.clear();
  while (out_.size() < kMaxWrite) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      return Fail(absl::StrCat("nghttp2: ", nghttp2_strerror(static_cast<int>(n))));
    }
    if (n == 0) break;
    out_.insert(out_.end(), data, data + n);
  }
  if (out_.empty()) {
    // After a GOAWAY, nghttp2 wants nothing more once the last stream ends.
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
      Fail(absl::StrCat("the server at ", config_.authority, " closed the connection"));
    }
    return;
  }
  writing_ = true;
  const uint64_t gen = generation_;
  asio::async_write(socket_, asio::buffer(out_),
                    [this, gen](const asio::error_code& ec, size_t) {
                      if (gen != generation_) return;
                      writing_ = false;
                      if (ec) {
                        return Fail(absl::StrCat("the connection to ", config_.authority,
                                                 " was lost: ", ec.message()));
                      }
                      Flush();
                    });
}

void H2Connection::Fail(absl::string_view reason) {
  if (state_ == State::kClosed || state_ == State::kBroken) return;
  state_ = State::kBroken;
  ++generation_;
  writing_ = false;
  queue_until_ready_ = false;
  error_ = std::string(reason);
  asio::error_code ignored;
  socket_.close(ignored);
  deadline_timer_.cancel();
  connect_timer_.cancel();
  // A copy: ending a call may close the connection, which rewrites error_.
  const std::string why = error_;
  while (oldest_ != nullptr) End(*oldest_, grpc::StatusCode::UNAVAILABLE, why);
  if (state_ == State::kClosed) return;  // a done_ callback closed it
  // Whoever waited for this attempt has its answer: it failed.
  WakeAttemptWaiters();
  // After a GOAWAY the owner has moved on to another connection: this one
  // is done, drained or not, and never reconnects.
  if (goaway_) return Close();
  // Until the first SETTINGS of an Open, retry soon: the server may be
  // starting. A connection that was up, or took over after a GOAWAY, waits.
  retry_timer_.expires_after(opened_ ? kOpenRetryDelay : kReconnectDelay);
  const uint64_t gen = generation_;
  retry_timer_.async_wait([this, gen](const asio::error_code& ec) {
    if (ec || gen != generation_) return;
    socket_ = asio::ip::tcp::socket(io_);
    Connect();
  });
}

void H2Connection::ArmDeadline() {
  if (deadline_armed_ || oldest_ == nullptr || config_.timeout <= absl::ZeroDuration()) {
    return;
  }
  deadline_armed_ = true;
  deadline_timer_.expires_at(SteadyTimePoint(oldest_->deadline_ns));
  deadline_timer_.async_wait([this](const asio::error_code& ec) {
    deadline_armed_ = false;
    if (ec) return;
    ExpireDeadlines();
  });
}

void H2Connection::ExpireDeadlines() {
  // Every call has the same timeout, so in_flight_'s oldest is the first due.
  const int64_t now = MonotonicNowNs();
  while (oldest_ != nullptr && oldest_->deadline_ns <= now) {
    Cancel(*oldest_, grpc::StatusCode::DEADLINE_EXCEEDED, kGoClientDeadlineMessage);
  }
  ArmDeadline();
}

H2Connection::Call* H2Connection::CallOn(int32_t stream_id) {
  auto* call = static_cast<Call*>(nghttp2_session_get_stream_user_data(session_, stream_id));
  // A cancelled call may have moved on to another stream, here or on
  // another connection.
  return call != nullptr && call->owner == this && call->stream_id == stream_id ? call
                                                                                  : nullptr;
}

void H2Connection::Link(Call& call) {
  call.prev = newest_;
  call.next = nullptr;
  (newest_ != nullptr ? newest_->next : oldest_) = &call;
  newest_ = &call;
}

void H2Connection::Unlink(Call& call) {
  (call.prev != nullptr ? call.prev->next : oldest_) = call.next;
  (call.next != nullptr ? call.next->prev : newest_) = call.prev;
  call.prev = call.next = nullptr;
}

void H2Connection::End(Call& call, grpc::StatusCode code, absl::string_view message) {
  Unlink(call);
  call.stream_id = 0;
  done_(call, code, message);
}

int H2Connection::OnHeader(nghttp2_session*, const nghttp2_frame* frame,
                           const uint8_t* name, size_t namelen, const uint8_t* value,
                           size_t valuelen, uint8_t, void* self) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  Call* call = static_cast<H2Connection*>(self)->CallOn(frame->hd.stream_id);
  if (call == nullptr) return 0;
  const absl::string_view n(reinterpret_cast<const char*>(name), namelen);
  const absl::string_view v(reinterpret_cast<const char*>(value), valuelen);
  if (n == ":status") {
    if (!absl::SimpleAtoi(v, &call->http_status)) call->http_status = -1;
  } else if (n == "grpc-status") {
    if (!absl::SimpleAtoi(v, &call->grpc_status) || call->grpc_status < 0 ||
        call->grpc_status > 16) {
      call->grpc_status = static_cast<int>(grpc::StatusCode::UNKNOWN);
    }
  } else if (n == "grpc-message") {
    call->grpc_message = PercentDecode(v);
  }
  return 0;
}

int H2Connection::OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  auto* c = static_cast<H2Connection*>(self);
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    c->goaway_ = true;
  } else if (frame->hd.type == NGHTTP2_SETTINGS && (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0 &&
             c->state_ == State::kHandshaking) {
    c->state_ = State::kReady;
    c->connect_timer_.cancel();
    c->SubmitQueued();
    c->WakeAttemptWaiters();
    if (c->opened_) {
      auto opened = std::move(c->opened_);
      c->opened_ = nullptr;
      opened();
    }
  }
  return 0;
}

int H2Connection::OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                                void* self) {
  auto* c = static_cast<H2Connection*>(self);
  Call* call = c->CallOn(stream_id);
  if (call == nullptr) return 0;
  if (call->grpc_status >= 0) {
    const std::string message = std::move(call->grpc_message);
    c->End(*call, static_cast<grpc::StatusCode>(call->grpc_status), message);
  } else if (call->http_status != 0 && call->http_status != 200) {
    c->End(*call, FromHttpStatus(call->http_status),
           absl::StrCat("unexpected HTTP status code received from server: ",
                        call->http_status));
  } else if (error_code != NGHTTP2_NO_ERROR) {
    call->refused_ = error_code == NGHTTP2_REFUSED_STREAM && call->http_status == 0;
    c->End(*call, FromResetCode(error_code),
           absl::StrCat("stream terminated by RST_STREAM with error code: ",
                        nghttp2_http2_strerror(error_code)));
  } else {
    c->End(*call, grpc::StatusCode::INTERNAL,
           "server closed the stream without sending trailers");
  }
  return 0;
}

ssize_t H2Connection::ReadBody(nghttp2_session*, int32_t stream_id, uint8_t* buf,
                               size_t length, uint32_t* data_flags,
                               nghttp2_data_source* source, void* self) {
  auto* call = static_cast<Call*>(source->ptr);
  if (call->owner != static_cast<H2Connection*>(self) || call->stream_id != stream_id) {
    // Cancelled, and maybe started again on another stream: this stream's
    // reset is on its way, so end its body here.
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return 0;
  }
  const std::string& body = *call->body;
  const size_t n = std::min(length, body.size() - call->sent);
  std::memcpy(buf, body.data() + call->sent, n);
  call->sent += n;
  if (call->sent == body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

}  // namespace handoff::load
