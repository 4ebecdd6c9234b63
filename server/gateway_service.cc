// Copyright 2026 The handoff Authors.

#include "server/gateway_service.h"

#include <algorithm>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dispatch/job_not_run.h"
#include "server/batch_call.h"
#include "server/proto_codec.h"
#include "server/quoted_text.h"
#include "server/stream_call.h"
#include "server/unary_call.h"
#include "server/work.h"

namespace handoff {

absl::Status DrainingError() {
  return absl::UnavailableError("server is draining; retry on another replica");
}

namespace {

// A client's name for a handler, as an error quotes it (quoted_text.h).
std::string QuotedName(absl::string_view name) {
  const absl::string_view shown = QuotedPart(name);
  if (shown.size() == name.size()) return absl::StrCat("'", name, "'");
  return absl::StrCat("'", shown, "...' (", name.size(), " bytes)");
}

// The registered names, as an unknown name's error lists them: sorted, and
// cut short after about 1 KiB, saying how many more there are. Like the
// name quoted, the list travels in a trailer; a server with a thousand
// handlers listed them all, over the client's limit on headers, and its
// client got RESOURCE_EXHAUSTED in place of UNIMPLEMENTED.
std::string NamesListed(std::vector<std::string> names) {
  if (names.empty()) return "none";
  std::sort(names.begin(), names.end());
  constexpr size_t kListed = 1024;
  std::string out;
  size_t i = 0;
  for (; i < names.size(); ++i) {
    if (i > 0 && out.size() + 2 + names[i].size() > kListed) break;
    absl::StrAppend(&out, i > 0 ? ", " : "", names[i]);
  }
  if (i < names.size()) absl::StrAppend(&out, " and ", names.size() - i, " more");
  return out;
}

// What a Call declares it will cost (HandlerCost): zero if its handler says
// nothing. A cost function that throws fails the call INTERNAL, as a
// throwing handler does; it runs on gRPC's thread, which must go on.
absl::StatusOr<absl::Duration> CostOfCall(const RegisteredHandler& handler,
                                          const v1::CallRequest& request) {
  if (!handler.cost) return absl::ZeroDuration();
  try {
    return handler.cost(request.payload());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(
        "handler '", request.handler(), "': its cost function threw: ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(
        "handler '", request.handler(),
        "': its cost function threw a non-std::exception"));
  }
}

}  // namespace

grpc::ServerUnaryReactor* GatewayService::Echo(
    grpc::CallbackServerContext* call, const grpc::ByteBuffer* raw,
    grpc::ByteBuffer* reply) {
  auto* r = new UnaryCall<v1::EchoReply>(core_, Method::kEcho, call, reply);
  if (r->RejectedForWantOfRequest(*raw)) return r;
  v1::EchoRequest request;
  if (absl::Status s = ParseMessage(*raw, &request); !s.ok()) {
    r->Reject(std::move(s));
    return r;
  }
  if (core_.draining()) {
    r->Reject(DrainingError());
    return r;
  }
  r->Dispatch([payload = std::move(*request.mutable_payload())](
                  const RunInfo&) mutable
              -> absl::StatusOr<v1::EchoReply> {
    v1::EchoReply out;
    out.set_payload(std::move(payload));
    return out;
  });
  return r;
}

grpc::ServerUnaryReactor* GatewayService::Work(
    grpc::CallbackServerContext* call, const grpc::ByteBuffer* raw,
    grpc::ByteBuffer* reply) {
  auto* r = new UnaryCall<v1::WorkReply>(core_, Method::kWork, call, reply);
  if (r->RejectedForWantOfRequest(*raw)) return r;
  v1::WorkRequest request;
  if (absl::Status s = ParseMessage(*raw, &request); !s.ok()) {
    r->Reject(std::move(s));
    return r;
  }
  if (absl::Status s = ValidateWork(request); !s.ok()) {
    r->Reject(std::move(s));
    return r;
  }
  if (core_.draining()) {
    r->Reject(DrainingError());
    return r;
  }
  WorkCounters* counters = &core_.work_counters();
  JobCost cost = WorkCost(request, *counters);
  r->Dispatch(
      [req = std::move(request), counters,
       start = r->HeadersAtJobStart()](const RunInfo& info) {
        return RunWork(req, info.ctx, info.worker, info.queued, *counters,
                       [&start] { return start->JobStarting(); });
      },
      std::move(cost));
  return r;
}

grpc::ServerUnaryReactor* GatewayService::Call(
    grpc::CallbackServerContext* call, const grpc::ByteBuffer* raw,
    grpc::ByteBuffer* reply) {
  auto* r = new UnaryCall<v1::CallReply>(core_, Method::kCall, call, reply);
  if (r->RejectedForWantOfRequest(*raw)) return r;
  v1::CallRequest request;
  if (absl::Status s = ParseMessage(*raw, &request); !s.ok()) {
    r->Reject(std::move(s));
    return r;
  }
  if (request.handler().empty()) {
    r->Reject(absl::InvalidArgumentError(
        "handler: empty; name a registered handler"));
    return r;
  }
  std::shared_ptr<const RegisteredHandler> handler =
      core_.registry().Find(request.handler());
  if (handler == nullptr) {
    // Like an unknown method's answer: say what would have worked.
    r->Reject(absl::UnimplementedError(absl::StrCat(
        "no handler named ", QuotedName(request.handler()), "; this server has ",
        NamesListed(core_.registry().Names()))));
    return r;
  }
  if (core_.draining()) {
    r->Reject(DrainingError());
    return r;
  }
  absl::StatusOr<absl::Duration> cost = CostOfCall(*handler, request);
  if (!cost.ok()) {
    r->Reject(std::move(cost).status());
    return r;
  }
  std::shared_ptr<JobKind> handler_kind = handler->kind;
  r->Dispatch(
      // A handler may have done what it does by the time its call ends: once
      // it starts, the client must not make the call again elsewhere.
      [handler = std::move(handler), start = r->HeadersAtJobStart(),
       name = std::move(*request.mutable_handler()),
       payload = std::move(*request.mutable_payload())](
          const RunInfo& info) -> absl::StatusOr<v1::CallReply> {
        if (!start->JobStarting()) {
          // Unrun: counted as a job dropped in the queue (job_not_run.h).
          throw JobNotRun(
              absl::CancelledError("the call was answered before its handler started"));
        }
        absl::StatusOr<std::string> out;
        // Thrown on, named: the worker's "job threw: " (INTERNAL, and
        // handoff_jobs_failed_total) would otherwise leave an operator to
        // guess which of the registered handlers threw.
        try {
          out = handler->run(HandlerCall{info.ctx, info.worker, payload});
        } catch (const std::exception& e) {
          throw std::runtime_error(absl::StrCat("handler '", name, "': ", e.what()));
        } catch (...) {
          throw std::runtime_error(
              absl::StrCat("handler '", name, "': a non-std::exception"));
        }
        if (!out.ok()) return std::move(out).status();
        v1::CallReply reply;
        reply.set_payload(std::move(*out));
        return reply;
      },
      JobCost{.expected_run = absl::ZeroDuration(), .declared = *cost,
              .kind = std::move(handler_kind)});
  return r;
}

grpc::ServerUnaryReactor* GatewayService::Batch(
    grpc::CallbackServerContext* call, const grpc::ByteBuffer* raw,
    grpc::ByteBuffer* reply) {
  return StartBatchCall(core_, call, *raw, reply);
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
GatewayService::Stream(grpc::CallbackServerContext* call) {
  return new StreamCall(core_, call);
}

}  // namespace handoff
