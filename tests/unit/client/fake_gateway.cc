#include "fake_gateway.h"

#include <functional>
#include <thread>
#include <utility>

#include <google/protobuf/any.pb.h>
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/server_interceptor.h>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace handoff::testing {

std::string RpcStatusWithDetails(int code, const std::string& message) {
  google::protobuf::Any known;
  v1::EchoReply reply;
  reply.set_payload("detail");
  known.PackFrom(reply);
  google::protobuf::Any unknown;
  unknown.set_type_url("type.googleapis.com/example.NotDescribed");
  unknown.set_value("xyz");
  // google.rpc.Status, field by field: Debian ships no google/rpc/status.proto.
  google::protobuf::UnknownFieldSet status;
  status.AddVarint(1, static_cast<uint64_t>(code));
  status.AddLengthDelimited(2, message);
  status.AddLengthDelimited(3, known.SerializeAsString());
  status.AddLengthDelimited(3, unknown.SerializeAsString());
  std::string bytes;
  status.SerializeToString(&bytes);
  return bytes;
}
namespace {

// Waits on its own thread so the gRPC thread never blocks; the wait ends at
// sleep_us or at cancellation, whichever is first.
class WorkReactor final : public grpc::ServerUnaryReactor {
 public:
  WorkReactor(const v1::WorkRequest& request, v1::WorkReply* reply,
              absl::Notification* started, std::once_flag* started_once)
      : reply_(reply) {
    const absl::Duration sleep = absl::Microseconds(request.sleep_us());
    std::string payload = request.payload();
    std::thread([this, sleep, payload, started, started_once] {
      std::call_once(*started_once, [started] { started->Notify(); });
      const bool cancelled = cancelled_.WaitForNotificationWithTimeout(sleep);
      if (cancelled) {
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "work cancelled"));
        return;
      }
      reply_->set_payload(payload);
      reply_->set_ran_us(absl::ToInt64Microseconds(sleep));
      Finish(grpc::Status::OK);  // last touch of this: OnDone may follow at once
    }).detach();
  }

  void OnCancel() override { cancelled_.Notify(); }
  void OnDone() override { delete this; }

 private:
  v1::WorkReply* reply_;
  absl::Notification cancelled_;
};

class StreamReactor final
    : public grpc::ServerBidiReactor<v1::WorkRequest, v1::WorkReply> {
 public:
  StreamReactor(grpc::CallbackServerContext* context,
                std::function<void(const v1::WorkRequest&)> on_message)
      : context_(context), on_message_(std::move(on_message)) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    on_message_(request_);
    // "hold": headers, then nothing until the client gives up, as a server
    // whose first reply is long in coming.
    if (request_.payload() == "hold") {
      held_.store(true);
      context_->AddInitialMetadata("x-held", "yes");
      StartSendInitialMetadata();
      return;
    }
    // "status:CODE:MESSAGE" ends the stream with that status, after the
    // replies already written, as handoffd ends a stream at a failing job.
    int code = 0;
    if (absl::StartsWith(request_.payload(), "status:")) {
      const std::string spec = request_.payload().substr(7);
      const size_t colon = spec.find(':');
      if (colon != std::string::npos && absl::SimpleAtoi(spec.substr(0, colon), &code)) {
        Finish(grpc::Status(static_cast<grpc::StatusCode>(code), spec.substr(colon + 1)));
        return;
      }
    }
    reply_.set_payload(request_.payload());
    StartWrite(&reply_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::UNKNOWN, "write failed"));
      return;
    }
    StartRead(&request_);
  }
  void OnSendInitialMetadataDone(bool) override {}
  void OnCancel() override {
    if (held_.load()) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "held"));
  }
  void OnDone() override { delete this; }

 private:
  grpc::CallbackServerContext* const context_;
  std::atomic<bool> held_{false};
  const std::function<void(const v1::WorkRequest&)> on_message_;
  v1::WorkRequest request_;
  v1::WorkReply reply_;
};

}  // namespace

grpc::ServerUnaryReactor* FakeGateway::Echo(grpc::CallbackServerContext* context,
                                            const v1::EchoRequest* request,
                                            v1::EchoReply* reply) {
  echo_calls_.fetch_add(1);
  {
    absl::MutexLock lock(&mu_);
    const grpc::string_ref authority = context->ExperimentalGetAuthority();
    last_authority_.assign(authority.data(), authority.size());
    echo_peers_.insert(context->peer());
  }
  auto* reactor = context->DefaultReactor();
  int fail_first = 0;
  if (absl::StartsWith(request->payload(), "unavailable:") &&
      absl::SimpleAtoi(request->payload().substr(12), &fail_first)) {
    absl::MutexLock lock(&mu_);
    if (failures_[request->payload()]++ < fail_first) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "try again"));
      return reactor;
    }
  }
  if (absl::StartsWith(request->payload(), "header:")) {
    const auto& headers = context->client_metadata();
    const auto header = headers.find(request->payload().substr(7));
    if (header != headers.end()) reply->set_payload(header->second.data(), header->second.size());
    context->AddInitialMetadata("x-asked-for", request->payload().substr(7));
    context->AddTrailingMetadata("x-answer-bin", reply->payload());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  int code = 0;
  const bool details = absl::StartsWith(request->payload(), "details:");
  if (details || absl::StartsWith(request->payload(), "status:")) {
    const std::string spec = request->payload().substr(details ? 8 : 7);
    const size_t colon = spec.find(':');
    if (colon != std::string::npos && absl::SimpleAtoi(spec.substr(0, colon), &code)) {
      const std::string message = spec.substr(colon + 1);
      reactor->Finish(details ? grpc::Status(static_cast<grpc::StatusCode>(code), message,
                                             RpcStatusWithDetails(code, message))
                              : grpc::Status(static_cast<grpc::StatusCode>(code), message));
      return reactor;
    }
  }
  reply->set_payload(request->payload());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* FakeGateway::Work(grpc::CallbackServerContext* context,
                                            const v1::WorkRequest* request,
                                            v1::WorkReply* reply) {
  {
    const auto& metadata = context->client_metadata();
    const auto tag = metadata.find("x-tag");
    absl::MutexLock lock(&mu_);
    work_calls_.push_back(
        {request->cpu_us(),
         tag == metadata.end() ? std::string() : std::string(tag->second.data(), tag->second.size()),
         absl::Now()});
  }
  return new WorkReactor(*request, reply, &work_started_, &work_started_once_);
}

grpc::ServerBidiReactor<v1::WorkRequest, v1::WorkReply>* FakeGateway::Stream(
    grpc::CallbackServerContext* context) {
  return new StreamReactor(context, [this](const v1::WorkRequest& request) {
    stream_messages_.fetch_add(1);
    absl::MutexLock lock(&mu_);
    stream_cpu_us_.push_back(request.cpu_us());
  });
}

namespace {

// Cancels a call that does not carry the header `header` with the value
// TOKEN, as a server that guards a service would refuse it.
class TokenGuard final : public grpc::experimental::Interceptor {
 public:
  TokenGuard(grpc::experimental::ServerRpcInfo* info, std::string header, std::string token)
      : info_(info), header_(std::move(header)), token_(std::move(token)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      const auto* metadata = methods->GetRecvInitialMetadata();
      const auto given = metadata->find(header_);
      if (given == metadata->end() || given->second != grpc::string_ref(token_)) {
        info_->server_context()->TryCancel();
      }
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  const std::string header_;
  const std::string token_;
};

// Guards reflection with "x-reflection-token: TOKEN" and the health check
// with "x-health-token: TOKEN".
class TokenGuardFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit TokenGuardFactory(std::string token) : token_(std::move(token)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const absl::string_view method = info->method();
    if (method == "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo") {
      return new TokenGuard(info, "x-reflection-token", token_);
    }
    if (method == "/grpc.health.v1.Health/Check") {
      return new TokenGuard(info, "x-health-token", token_);
    }
    return nullptr;
  }

 private:
  const std::string token_;
};

}  // namespace

FakeServer FakeServer::Start(bool reflection, int port, absl::Duration max_connection_age,
                             bool gzip, const std::string& reflection_token) {
  FakeServer s;
  s.service = std::make_unique<FakeGateway>();
  grpc::EnableDefaultHealthCheckService(true);
  if (reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(s.service.get());
  if (max_connection_age != absl::InfiniteDuration()) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(absl::ToInt64Milliseconds(max_connection_age)));
  }
  if (!gzip) builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_GZIP, false);
  if (!reflection_token.empty()) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> guards;
    guards.push_back(std::make_unique<TokenGuardFactory>(reflection_token));
    builder.experimental().SetInterceptorCreators(std::move(guards));
  }
  s.server = builder.BuildAndStart();
  s.address = absl::StrCat("127.0.0.1:", port);
  return s;
}

}  // namespace handoff::testing
