#include "client/client.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/client_callback.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/call_error.h"
#include "client/deadline.h"
#include "client/metadata.h"
#include "client/status.h"

namespace handoff {
namespace {

// Parses `received` into `reply`; false, with `error` set INTERNAL, if it
// does not parse. Replies are read as bytes and parsed here because gRPC's
// typed reads end as the end of the stream does when a reply does not
// parse: the call then ended OK, the reply lost.
template <typename Reply>
bool ParseReply(grpc::ByteBuffer& received, Reply& reply, absl::Status& error) {
  if (grpc::SerializationTraits<Reply>::Deserialize(&received, &reply).ok()) return true;
  error = absl::InternalError(absl::StrCat("the server sent a reply that does not parse as ",
                                           Reply::descriptor()->full_name()));
  return false;
}

// OK, or INTERNAL if `reply`, which parsed and came with an OK status,
// breaks what the method promises of its shape. A BatchReply has one item
// per request item, in order: with another count, items(i) need not be item
// i's answer, and nothing says which is missing.
template <typename Request, typename Reply>
absl::Status CheckReply(const Request&, const Reply&) {
  return absl::OkStatus();
}
absl::Status CheckReply(const v1::BatchRequest& request, const v1::BatchReply& reply) {
  if (reply.items_size() == request.items_size()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("the server answered a Batch of ", request.items_size(),
                                          " items OK with ", reply.items_size(),
                                          " items, where it answers each item with one"));
}

// One unary call, from its start until gRPC is done with it: the context,
// the messages, the user's callback, and the channel, to say what state it
// was in should the call miss its deadline. It is made as a stream that
// sends the one request and reads until the server ends it, which the wire
// cannot tell from a unary call, because gRPC's unary calls count no
// replies: one that ended OK without a reply passed for an empty reply, and
// one answered twice waited, with the second reply unread, for its
// deadline, or for ever. Such calls fail INTERNAL, saying which. OnDone is
// the reactor's last callback, so it deletes the reactor.
template <typename Request, typename Reply>
class UnaryReactor final : public grpc::ClientBidiReactor<Request, grpc::ByteBuffer> {
 public:
  UnaryReactor(std::shared_ptr<grpc::Channel> channel, std::shared_ptr<const std::string> target,
               std::string method, const Request& request, std::shared_ptr<CancelToken> cancel,
               ReplyCallback<Reply> done)
      : channel_(std::move(channel)),
        target_(std::move(target)),
        method_(std::move(method)),
        request_(request),
        cancel_(std::move(cancel)),
        done_(std::move(done)) {}

  grpc::ClientContext* context() { return &context_; }
  std::shared_ptr<CancelToken>& cancel() { return cancel_; }

  void Start() {
    grpc::TemplatedGenericStub<Request, grpc::ByteBuffer>(channel_).PrepareBidiStreamingCall(
        &context_, method_, grpc::StubOptions(), this);
    this->StartWriteLast(&request_, grpc::WriteOptions());
    this->StartRead(&received_);
    this->StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // end of stream or failure; OnDone follows
    if (++replies_ == 1 && ParseReply(received_, reply_, unparsable_)) {
      this->StartRead(&received_);
    } else {
      context_.TryCancel();
    }
  }

  void OnDone(const grpc::Status& status) override {
    if (cancel_ != nullptr) cancel_->Detach(&context_);
    if (!unparsable_.ok()) {
      done_(unparsable_);
    } else if (replies_ > 1) {
      done_(absl::InternalError(
          absl::StrCat("the server sent more than one reply, where ", method_, " returns one")));
    } else if (!status.ok()) {
      done_(CallError(status, context_, *channel_, *target_));
    } else if (replies_ == 0) {
      done_(absl::InternalError(absl::StrCat("the server ended the call OK without a reply, where ",
                                             method_, " returns one")));
    } else if (absl::Status s = CheckReply(request_, reply_); !s.ok()) {
      done_(std::move(s));
    } else {
      done_(std::move(reply_));
    }
    delete this;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<const std::string> target_;
  const std::string method_;  // "/package.Service/Method"
  grpc::ClientContext context_;
  Request request_;
  grpc::ByteBuffer received_;
  Reply reply_;
  absl::Status unparsable_;
  int replies_ = 0;
  std::shared_ptr<CancelToken> cancel_;
  ReplyCallback<Reply> done_;
};

// Sets up `context` for a call; INVALID_ARGUMENT, with nothing set, if
// gRPC could not send the metadata (on such, gRPC C++ aborts the process).
absl::Status Prepare(grpc::ClientContext& context, const CallOptions& options) {
  if (absl::Status s = ValidateMetadata(options.metadata); !s.ok()) return s;
  if (options.timeout != absl::InfiniteDuration()) {
    context.set_deadline(DeadlineIn(options.timeout));
  }
  for (const auto& [key, value] : options.metadata) {
    context.AddMetadata(key, value);
  }
  context.set_wait_for_ready(options.wait_for_ready);
  return absl::OkStatus();
}

// Starts a unary call of `method` ("/package.Service/Method").
template <typename Request, typename Reply>
void StartUnary(std::shared_ptr<grpc::Channel> channel,
                std::shared_ptr<const std::string> target, std::string method,
                const Request& request, const CallOptions& options, ReplyCallback<Reply> done) {
  auto* call = new UnaryReactor<Request, Reply>(std::move(channel), std::move(target),
                                                std::move(method), request, options.cancel,
                                                std::move(done));
  if (absl::Status s = Prepare(*call->context(), options); !s.ok()) {
    // Never started, so OnDone will not run: report and free here.
    call->cancel() = nullptr;
    call->OnDone(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(s.message())));
    return;
  }
  if (call->cancel() != nullptr && !call->cancel()->Attach(call->context())) {
    call->cancel() = nullptr;
    call->OnDone(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled before the call started"));
    return;
  }
  call->Start();
}

template <typename Reply, typename AsyncFn>
absl::StatusOr<Reply> Wait(AsyncFn async) {
  absl::StatusOr<Reply> result;
  absl::Notification finished;
  async([&](absl::StatusOr<Reply> r) {
    result = std::move(r);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

template <typename Reply, typename AsyncFn>
std::future<absl::StatusOr<Reply>> Future(AsyncFn async) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<Reply>>>();
  auto future = promise->get_future();
  async([promise](absl::StatusOr<Reply> r) { promise->set_value(std::move(r)); });
  return future;
}

// Writes the requests one at a time (gRPC allows one outstanding write),
// reads concurrently, and reports once both directions and the status are
// in. OnDone is the reactor's last callback, so it deletes the reactor.
class StreamReactor final
    : public grpc::ClientBidiReactor<v1::WorkRequest, grpc::ByteBuffer> {
 public:
  StreamReactor(std::shared_ptr<grpc::Channel> channel,
                std::shared_ptr<const std::string> target,
                std::vector<v1::WorkRequest> requests,
                std::shared_ptr<CancelToken> cancel,
                std::function<void(const v1::WorkReply&)> on_reply,
                ReplyCallback<std::vector<v1::WorkReply>> done)
      : channel_(std::move(channel)),
        target_(std::move(target)),
        requests_(std::move(requests)),
        cancel_(std::move(cancel)),
        on_reply_(std::move(on_reply)),
        done_(std::move(done)) {}

  grpc::ClientContext* context() { return &context_; }
  std::shared_ptr<CancelToken>& cancel() { return cancel_; }

  void Start() {
    StartRead(&received_);
    WriteNext();
    StartCall();
  }

  void OnWriteDone(bool ok) override {
    // !ok: the stream is broken; the status arrives in OnDone.
    if (ok) WriteNext();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // end of stream or failure; OnDone follows
    v1::WorkReply reply;
    if (!ParseReply(received_, reply, unparsable_)) {
      context_.TryCancel();
      return;
    }
    if (on_reply_) on_reply_(reply);
    replies_.push_back(std::move(reply));
    StartRead(&received_);
  }

  void OnDone(const grpc::Status& status) override {
    if (cancel_ != nullptr) cancel_->Detach(&context_);
    if (!unparsable_.ok()) {
      done_(unparsable_);
    } else if (!status.ok()) {
      done_(CallError(status, context_, *channel_, *target_));
    } else if (replies_.size() != requests_.size()) {
      // Stream answers every request, in order: a reply count that does
      // not match cannot say which replies are missing (or extra).
      done_(absl::InternalError(absl::StrCat("the server ended the stream OK with ",
                                             replies_.size(), " replies to ", requests_.size(),
                                             " requests, where Stream answers each request "
                                             "with one")));
    } else {
      done_(std::move(replies_));
    }
    delete this;
  }

 private:
  void WriteNext() {
    if (next_ < requests_.size()) {
      StartWrite(&requests_[next_++]);
    } else {
      StartWritesDone();
    }
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<const std::string> target_;
  grpc::ClientContext context_;
  std::vector<v1::WorkRequest> requests_;
  size_t next_ = 0;
  grpc::ByteBuffer received_;
  absl::Status unparsable_;
  std::vector<v1::WorkReply> replies_;
  std::shared_ptr<CancelToken> cancel_;
  std::function<void(const v1::WorkReply&)> on_reply_;
  ReplyCallback<std::vector<v1::WorkReply>> done_;
};

// gRPC 1.51 runs callback-API completions on a pool of threads (the
// "callback alternative completion queue") that exists while at least one
// channel has used it, and it is torn down when the last such channel goes.
// A call holds its channel, and it lets go on that pool's own thread after
// the completion callback; if the Client was destroyed meanwhile, that
// thread tears down its own pool and the process aborts (grpc/grpc#32584:
// "CallbackAlternativeCQ is not designed to shutdown itself"). One channel
// that uses the pool and lives as long as the process keeps the pool alive,
// so no call can ever release the last reference. It is held by a static,
// as a process-lifetime object should be: one that only a local pointed to
// would be reported as leaked by LeakSanitizer in every program that makes
// a Client.
void KeepCallbackThreadsAlive() {
  // `used`: written once and never read, it would otherwise be optimised
  // away, and the channel with it as far as LeakSanitizer can see.
  [[gnu::used]] static const std::shared_ptr<grpc::Channel>* const keeper = [] {
    // Never connected: the one call below has an expired deadline.
    auto* channel = new std::shared_ptr<grpc::Channel>(grpc::CreateChannel(
        "unix:/nonexistent/handoff-callback-keeper", grpc::InsecureChannelCredentials()));
    auto* context = new grpc::ClientContext;
    context->set_deadline(std::chrono::system_clock::now());
    auto* request = new v1::EchoRequest;
    auto* reply = new v1::EchoReply;
    v1::Gateway::NewStub(*channel)->async()->Echo(
        context, request, reply, [context, request, reply](grpc::Status) {
          delete context;
          delete request;
          delete reply;
        });
    return channel;
  }();
  (void)keeper;
}

// gRPC takes keepalive durations as int milliseconds: at least 1 (a
// shorter one would be 0, which it reads as its default), at most INT_MAX.
int KeepaliveMs(absl::Duration d) {
  return static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, std::numeric_limits<int>::max()));
}

}  // namespace

absl::Status BatchItemStatus(const v1::BatchItemReply& item) {
  const int32_t code = item.code();
  if (code < 0 || code > static_cast<int32_t>(absl::StatusCode::kUnauthenticated)) {
    return absl::UnknownError(absl::StrCat("the item's code ", code,
                                           " is no google.rpc.Code (0 to 16)",
                                           item.message().empty() ? "" : ": ", item.message()));
  }
  return absl::Status(static_cast<absl::StatusCode>(code), item.message());
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  if (options.target.empty()) {
    return absl::InvalidArgumentError("empty target; want host:port");
  }
  if (!options.cname.empty() && options.credentials == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cname is \"", options.cname,
        "\", but credentials are null (plaintext): cname names the server's TLS certificate, "
        "and wants TLS credentials"));
  }
  if (options.max_receive_message_bytes < 1) {
    // gRPC reads a negative limit as none, and 0 as refusing every reply.
    return absl::InvalidArgumentError(absl::StrCat(
        "max_receive_message_bytes is ", options.max_receive_message_bytes, "; want 1 or more"));
  }
  for (const auto& [name, d] : {std::pair{"keepalive", options.keepalive},
                                 std::pair{"keepalive_timeout", options.keepalive_timeout}}) {
    if (d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " is ", absl::FormatDuration(d), "; want a positive duration"));
    }
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  if (!options.cname.empty()) args.SetSslTargetNameOverride(options.cname);
  if (options.keepalive != absl::InfiniteDuration()) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, KeepaliveMs(options.keepalive));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, KeepaliveMs(options.keepalive_timeout));
  }
  if (options.retry.has_value()) {
    if (absl::Status s = ValidateRetryPolicy(*options.retry); !s.ok()) return s;
    args.SetServiceConfigJSON(RetryServiceConfigJson(*options.retry));
  } else {
    // No retry policy: none of ours, and none a resolver's service config
    // could bring. Retries themselves stay enabled, because without them
    // gRPC also drops its transparent retry, and a call that crossed a
    // server's GOAWAY unprocessed (handoffd's --max_connection_age) would
    // fail UNAVAILABLE instead of being made again on a new connection.
    args.SetInt(GRPC_ARG_SERVICE_CONFIG_DISABLE_RESOLUTION, 1);
  }
  auto credentials = options.credentials != nullptr
                         ? options.credentials
                         : grpc::InsecureChannelCredentials();
  // Never null: a target gRPC cannot use makes a channel whose calls fail.
  auto channel = grpc::CreateCustomChannel(options.target, credentials, args);
  return std::make_unique<Client>(std::move(channel), std::move(options.target));
}

Client::Client(std::shared_ptr<grpc::Channel> channel, std::string target)
    : channel_(std::move(channel)),
      target_(std::make_shared<const std::string>(std::move(target))) {
  KeepCallbackThreadsAlive();
}

absl::Status Client::WaitForConnected(absl::Duration timeout) {
  // Monotonic, as a call's deadline (deadline.h); and a negative timeout
  // is now, where the wall clock's time_point before 1970 read to gRPC as
  // no deadline at all.
  if (channel_->WaitForConnected(DeadlineIn(timeout))) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "no connection", target_->empty() ? "" : absl::StrCat(" to ", *target_), " within ",
      absl::FormatDuration(timeout)));
}

#define HANDOFF_UNARY_METHOD(Method, Request, Reply)                          \
  void Client::Method##Async(const Request& request,                         \
                             const CallOptions& options,                     \
                             ReplyCallback<Reply> done) {                    \
    StartUnary<Request, Reply>(                                               \
        channel_, target_,                                                    \
        absl::StrCat("/", v1::Gateway::service_full_name(), "/", #Method),    \
        request, options, std::move(done));                                   \
  }                                                                           \
  absl::StatusOr<Reply> Client::Method(const Request& request,               \
                                       const CallOptions& options) {         \
    return Wait<Reply>([&](ReplyCallback<Reply> done) {                       \
      Method##Async(request, options, std::move(done));                       \
    });                                                                       \
  }                                                                           \
  std::future<absl::StatusOr<Reply>> Client::Method##Future(                 \
      const Request& request, const CallOptions& options) {                  \
    return Future<Reply>([&](ReplyCallback<Reply> done) {                     \
      Method##Async(request, options, std::move(done));                       \
    });                                                                       \
  }

HANDOFF_UNARY_METHOD(Echo, v1::EchoRequest, v1::EchoReply)
HANDOFF_UNARY_METHOD(Work, v1::WorkRequest, v1::WorkReply)
HANDOFF_UNARY_METHOD(Batch, v1::BatchRequest, v1::BatchReply)
HANDOFF_UNARY_METHOD(Call, v1::CallRequest, v1::CallReply)

#undef HANDOFF_UNARY_METHOD

void Client::StreamAsync(std::vector<v1::WorkRequest> requests,
                         const CallOptions& options,
                         std::function<void(const v1::WorkReply&)> on_reply,
                         ReplyCallback<std::vector<v1::WorkReply>> done) {
  auto* reactor = new StreamReactor(channel_, target_, std::move(requests), options.cancel,
                                    std::move(on_reply), std::move(done));
  if (absl::Status s = Prepare(*reactor->context(), options); !s.ok()) {
    // Never started, so OnDone will not run: report and free here.
    reactor->cancel() = nullptr;
    reactor->OnDone(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(s.message())));
    return;
  }
  if (reactor->cancel() != nullptr &&
      !reactor->cancel()->Attach(reactor->context())) {
    // Never started, so OnDone will not run: report and free here.
    reactor->cancel() = nullptr;
    reactor->OnDone(grpc::Status(grpc::StatusCode::CANCELLED,
                                 "cancelled before the call started"));
    return;
  }
  grpc::TemplatedGenericStub<v1::WorkRequest, grpc::ByteBuffer>(channel_)
      .PrepareBidiStreamingCall(reactor->context(),
                                absl::StrCat("/", v1::Gateway::service_full_name(), "/Stream"),
                                grpc::StubOptions(), reactor);
  reactor->Start();
}

absl::StatusOr<std::vector<v1::WorkReply>> Client::Stream(
    std::vector<v1::WorkRequest> requests, const CallOptions& options) {
  return Wait<std::vector<v1::WorkReply>>(
      [&](ReplyCallback<std::vector<v1::WorkReply>> done) {
        StreamAsync(std::move(requests), options, nullptr, std::move(done));
      });
}

std::future<absl::StatusOr<std::vector<v1::WorkReply>>> Client::StreamFuture(
    std::vector<v1::WorkRequest> requests, const CallOptions& options) {
  return Future<std::vector<v1::WorkReply>>(
      [&](ReplyCallback<std::vector<v1::WorkReply>> done) {
        StreamAsync(std::move(requests), options, nullptr, std::move(done));
      });
}

}  // namespace handoff
