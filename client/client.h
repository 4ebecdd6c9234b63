// handoff::Client: typed calls to a handoffd (service handoff.v1.Gateway).
//
//   auto client = handoff::Client::Connect({.target = "localhost:50051"});
//   if (!client.ok()) ...;
//   handoff::v1::EchoRequest req;
//   req.set_payload("hi");
//   absl::StatusOr<handoff::v1::EchoReply> reply =
//       (*client)->Echo(req, {.timeout = absl::Milliseconds(200)});
//
// Every call takes CallOptions: a timeout (sent to the server, which turns it
// into the job's deadline), an optional CancelToken, and metadata. Errors are
// absl::Status values carrying the gRPC code and message unchanged, so
// `reply.status().code() == absl::StatusCode::kDeadlineExceeded` is the test
// for a missed deadline. A unary call that the server ended OK without a
// reply, or answered with two, fails INTERNAL saying which (gRPC's own
// unary calls took the first for an empty reply, and waited out the
// deadline on the second); so does any call for a reply that does not parse
// as its type, naming the type, and a Batch answered OK with an item count
// other than its request's.
//
// Each method has three forms: synchronous (blocks the calling thread), with
// a callback (runs on a gRPC thread; must not block), and with a
// std::future. A call refused before it starts (metadata gRPC cannot send,
// a CancelToken already cancelled) runs its callback on the calling thread,
// before the method returns: take no lock there that the callback takes.
// A Client is thread-safe and cheap to share; it owns one channel, which
// multiplexes all calls over one HTTP/2 connection.
//
// UNAVAILABLE is retried by the channel itself, from the service config
// (see service_config.h), within the call's deadline. A call that misses
// its deadline without ever having gone on a connection (a server that
// cannot be reached, and retries backing off, or wait_for_ready) stays
// DEADLINE_EXCEEDED, and its message says that the channel had no
// connection, and in which state it was. A call that reached a server never
// says so, even if the channel has lost its connection by the end.
//
// A server that goes away under a call (killed, or its connection lost)
// ends the call UNAVAILABLE ("Socket closed") at once without a retry
// policy. With one, a call whose job handoffd had started is not made again
// either, and ends UNAVAILABLE at once: handoffd sends a call's headers as
// its job starts (Echo's excepted), and gRPC retries no call whose headers
// it has. One the server had not started (still queued, or an Echo) is made
// again like any UNAVAILABLE, and ends UNAVAILABLE once the attempts run
// out. A server killed between a job's start and its headers reaching the
// client still leaves the call retryable: a call whose repetition would do
// harm even then wants ClientOptions::retry = std::nullopt.
#ifndef HANDOFF_CLIENT_CLIENT_H_
#define HANDOFF_CLIENT_CLIENT_H_

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/cancel_token.h"
#include "client/service_config.h"
#include "handoff/v1/gateway.grpc.pb.h"
#include "handoff/v1/gateway.pb.h"

namespace handoff {

struct ClientOptions {
  // A gRPC target: "host:port", "dns:///host:port", "unix:///path", ...
  std::string target = "";
  // Null means plaintext (handoffd's default); pass grpc::SslCredentials for
  // TLS.
  std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr;
  // With TLS: the name the server's certificate is checked against, instead
  // of the target's host (gRPC's SslTargetNameOverride): a server reached at
  // an address its certificate does not name, a test's 127.0.0.1 or a load
  // balancer's. As `handoff call`'s and `handoff load`'s --cname (grpcurl's
  // -servername, ghz's --cname). gRPC sends it as the calls' :authority
  // too. Empty: the target's host. Set with null credentials it fails
  // Connect: plaintext has no certificate to check it against, and gRPC
  // would drop it without a word (as it does with credentials that are
  // InsecureChannelCredentials, which Connect cannot tell from TLS ones).
  std::string cname = "";
  // The retry policy, set as the channel's default service config: one a
  // resolver supplies (xDS) replaces it, as gRPC defines a default. (gRPC's
  // DNS resolvers supply none unless asked to, and Connect does not ask.)
  // nullopt: no retry policy (nor one from the resolver's service config).
  // gRPC still makes a call again, once, when it never reached the server
  // (it crossed a GOAWAY); a call the server saw is never repeated. A policy
  // gRPC would refuse fails Connect (ValidateRetryPolicy).
  std::optional<RetryPolicy> retry = RetryPolicy{};
  // The largest reply the channel takes, in bytes; a larger one fails its
  // call RESOURCE_EXHAUSTED ("Received message larger than max"). gRPC's
  // default, 4 MiB, is handoffd's default --max_message_bytes: a client of a
  // handoffd with that raised raises this too. Under 1 fails Connect.
  int max_receive_message_bytes = 4 << 20;
  // Ping the connection once it has been quiet this long, and close it,
  // failing its calls UNAVAILABLE, if the ping is not answered within
  // keepalive_timeout: how a call finds a server gone silent under it (its
  // host down, packets dropped), which otherwise it waits out until its
  // deadline, or for ever without one. Infinite (the default, gRPC's) sends
  // no pings. handoffd takes pings no closer than its --keepalive_min_time
  // (10s) and closes a connection that sends them closer. Either not
  // positive fails Connect.
  absl::Duration keepalive = absl::InfiniteDuration();
  absl::Duration keepalive_timeout = absl::Seconds(20);
};

struct CallOptions {
  // The call's deadline is `timeout` from now, on the monotonic clock, so
  // that a step of the wall clock does not move it. Infinite means no
  // deadline; the server then applies its --default_deadline.
  absl::Duration timeout = absl::InfiniteDuration();
  // Optional; see cancel_token.h.
  std::shared_ptr<CancelToken> cancel = nullptr;
  // Sent as request headers; keys must be lower-case.
  std::vector<std::pair<std::string, std::string>> metadata = {};
  // Queue the call until the channel connects instead of failing fast with
  // UNAVAILABLE while the server is unreachable.
  bool wait_for_ready = false;
};

template <typename Reply>
using ReplyCallback = std::function<void(absl::StatusOr<Reply>)>;

// A Batch item's own outcome, its `code` (a google.rpc.Code, the numbers
// absl::StatusCode has) and `message`, as an absl::Status: OK, or that code
// with that message. A code outside 0..16, which no google.rpc.Code is, is
// UNKNOWN, its message naming the number before the item's: a cast would
// make a Status whose code no switch over absl::StatusCode handles.
absl::Status BatchItemStatus(const v1::BatchItemReply& item);

class Client {
 public:
  // Creates the channel; does not wait for a connection (calls do, bounded
  // by their deadline). Fails, INVALID_ARGUMENT, only on an empty target, a
  // cname without credentials, a retry policy gRPC would refuse, a
  // max_receive_message_bytes under 1, or a keepalive or keepalive_timeout
  // that is not positive.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(ClientOptions options);

  // Wraps an existing channel (tests, or a caller with its own channel
  // arguments); `target` names it in errors.
  explicit Client(std::shared_ptr<grpc::Channel> channel, std::string target = "");

  // Waits until the channel is connected, or fails with UNAVAILABLE naming
  // the target after `timeout` (on the monotonic clock; a timeout of 0 or
  // less only looks).
  absl::Status WaitForConnected(absl::Duration timeout);

  absl::StatusOr<v1::EchoReply> Echo(const v1::EchoRequest& request,
                                     const CallOptions& options = {});
  void EchoAsync(const v1::EchoRequest& request, const CallOptions& options,
                 ReplyCallback<v1::EchoReply> done);
  std::future<absl::StatusOr<v1::EchoReply>> EchoFuture(
      const v1::EchoRequest& request, const CallOptions& options = {});

  absl::StatusOr<v1::WorkReply> Work(const v1::WorkRequest& request,
                                     const CallOptions& options = {});
  void WorkAsync(const v1::WorkRequest& request, const CallOptions& options,
                 ReplyCallback<v1::WorkReply> done);
  std::future<absl::StatusOr<v1::WorkReply>> WorkFuture(
      const v1::WorkRequest& request, const CallOptions& options = {});

  absl::StatusOr<v1::BatchReply> Batch(const v1::BatchRequest& request,
                                       const CallOptions& options = {});
  void BatchAsync(const v1::BatchRequest& request, const CallOptions& options,
                  ReplyCallback<v1::BatchReply> done);
  std::future<absl::StatusOr<v1::BatchReply>> BatchFuture(
      const v1::BatchRequest& request, const CallOptions& options = {});

  // Runs the handler registered on the server under request.handler()
  // (server/handler_registry.h) on request.payload(). A name the server
  // does not have is UNIMPLEMENTED, naming the ones it has; the handler's
  // own error is the call's status.
  absl::StatusOr<v1::CallReply> Call(const v1::CallRequest& request,
                                     const CallOptions& options = {});
  void CallAsync(const v1::CallRequest& request, const CallOptions& options,
                 ReplyCallback<v1::CallReply> done);
  std::future<absl::StatusOr<v1::CallReply>> CallFuture(
      const v1::CallRequest& request, const CallOptions& options = {});

  // Stream sends every request on one bidirectional stream, half-closes, and
  // returns the replies in order. The server ends the stream at the first
  // failing job; that status is the result, and the replies received before
  // it are lost to the caller (use StreamAsync's on_reply to see them). A
  // stream the server ended OK with a reply count other than the requests'
  // fails INTERNAL, saying both.
  absl::StatusOr<std::vector<v1::WorkReply>> Stream(
      std::vector<v1::WorkRequest> requests, const CallOptions& options = {});
  // on_reply (optional) sees each reply as it arrives; done gets every reply
  // or the stream's error. Both run on gRPC threads.
  void StreamAsync(std::vector<v1::WorkRequest> requests,
                   const CallOptions& options,
                   std::function<void(const v1::WorkReply&)> on_reply,
                   ReplyCallback<std::vector<v1::WorkReply>> done);
  std::future<absl::StatusOr<std::vector<v1::WorkReply>>> StreamFuture(
      std::vector<v1::WorkRequest> requests, const CallOptions& options = {});

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  // Shared with the calls, which may outlive the Client.
  std::shared_ptr<const std::string> target_;
};

}  // namespace handoff

#endif  // HANDOFF_CLIENT_CLIENT_H_
