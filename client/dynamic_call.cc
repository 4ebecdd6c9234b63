#include "client/dynamic_call.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/completion_queue.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "client/call_error.h"
#include "client/deadline.h"
#include "client/metadata.h"

namespace handoff {
namespace {

namespace pb = google::protobuf;

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

}  // namespace

absl::StatusOr<MethodName> SplitMethodName(absl::string_view name) {
  // One leading separator at most: "/" of an HTTP/2 path, "." of
  // protobuf's fully-qualified names.
  absl::string_view rest = name;
  if (!absl::ConsumePrefix(&rest, "/")) absl::ConsumePrefix(&rest, ".");
  std::string full(rest);
  absl::StrReplaceAll({{"/", "."}}, &full);
  const size_t dot = full.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == full.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "method '", name, "' is not fully qualified; want package.Service.Method"));
  }
  // Left in, an empty part made the service's name one no server has
  // ("unknown service 'pkg.Service.'"), sending the user to look for it.
  if (absl::StrContains(full, "..") || full.front() == '.') {
    return absl::InvalidArgumentError(
        absl::StrCat("method '", name,
                     "' has an empty part; want package.Service.Method or "
                     "package.Service/Method"));
  }
  return MethodName{full.substr(0, dot), full.substr(dot + 1)};
}

absl::StatusOr<const pb::MethodDescriptor*> FindMethod(
    const pb::DescriptorPool& pool, absl::string_view name,
    const absl::Status* lookup_error, absl::string_view hint) {
  absl::StatusOr<MethodName> split = SplitMethodName(name);
  if (!split.ok()) return split.status();
  const std::string& service_name = split->service;
  const std::string& method_name = split->method;
  const pb::ServiceDescriptor* service = pool.FindServiceByName(service_name);
  if (service == nullptr) {
    if (lookup_error != nullptr && !lookup_error->ok() &&
        lookup_error->code() != absl::StatusCode::kNotFound) {
      return *lookup_error;
    }
    // A service's own name, split at its last dot, read as a service
    // ("handoff.v1") no server has.
    const std::string whole = absl::StrCat(service_name, ".", method_name);
    if (const pb::ServiceDescriptor* named = pool.FindServiceByName(whole);
        named != nullptr) {
      std::vector<std::string> methods;
      for (int i = 0; i < named->method_count(); ++i) methods.push_back(named->method(i)->name());
      if (methods.empty()) {
        return absl::NotFoundError(
            absl::StrCat("'", whole, "' is a service, not a method, and it has none"));
      }
      return absl::NotFoundError(absl::StrCat("'", whole,
                                              "' is a service, not a method; its methods: ",
                                              absl::StrJoin(methods, ", "), " (call one as ",
                                              whole, ".", methods.front(), ")"));
    }
    return absl::NotFoundError(
        absl::StrCat("unknown service '", service_name, "' (", hint, ")"));
  }
  const pb::MethodDescriptor* method = service->FindMethodByName(method_name);
  if (method == nullptr) {
    return absl::NotFoundError(absl::StrCat("service ", service_name,
                                            " has no method '", method_name, "'"));
  }
  return method;
}

std::string MethodPath(const pb::MethodDescriptor& method) {
  return absl::StrCat("/", method.service()->full_name(), "/", method.name());
}

absl::Status CallMethod(const std::shared_ptr<grpc::Channel>& channel,
                        const pb::MethodDescriptor& method,
                        const std::vector<std::string>& requests,
                        const CallOptions& options,
                        const std::function<void(const std::string&)>& on_reply,
                        ReceivedMetadata* received) {
  if (!method.client_streaming() && requests.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        method.full_name(), " takes one request, got ", requests.size()));
  }
  // gRPC C++ aborts the process on metadata it cannot send.
  if (absl::Status s = ValidateMetadata(options.metadata); !s.ok()) return s;
  // Every method kind is the same on the wire: a stream of messages each
  // way. One generic streaming call, driven on a private queue, covers
  // unary and streaming methods alike.
  grpc::ClientContext context;
  if (options.timeout != absl::InfiniteDuration()) {
    context.set_deadline(DeadlineIn(options.timeout));
  }
  for (const auto& [key, value] : options.metadata) context.AddMetadata(key, value);
  context.set_wait_for_ready(options.wait_for_ready);
  if (options.cancel != nullptr && !options.cancel->Attach(&context)) {
    return absl::CancelledError("cancelled before the call started");
  }
  // Before `context` goes: declared after it, so destroyed first.
  absl::Cleanup detach = [&] {
    if (options.cancel != nullptr) options.cancel->Detach(&context);
  };

  grpc::CompletionQueue cq;
  grpc::GenericStub stub(channel);
  auto call = stub.PrepareCall(&context, MethodPath(method), &cq);
  // The reads and the writes go on at once, one of each outstanding, so
  // that replies are handed on as they arrive. Written first and read
  // after, a stream whose server ended it part-way lost the replies it had
  // sent (a write failed, and the reads were skipped), and one whose
  // server answers as it reads could stall both sides on flow control.
  char start_tag, headers_tag, read_tag, write_tag, finish_tag;  // by address
  bool reading = false, writing = false, writes_over = false;
  size_t next = 0;
  grpc::ByteBuffer reply;
  const auto copy = [](const std::multimap<grpc::string_ref, grpc::string_ref>& from,
                       std::vector<std::pair<std::string, std::string>>& to) {
    for (const auto& [key, value] : from) {
      to.emplace_back(std::string(key.data(), key.size()),
                      std::string(value.data(), value.size()));
    }
  };
  // Once they have been read, or Finish has ended the call, gRPC has the
  // headers: said then, ahead of any reply, as they came.
  bool headers_known = false;
  auto know_headers = [&] {
    if (headers_known || received == nullptr) return;
    headers_known = true;
    copy(context.GetServerInitialMetadata(), received->headers);
    if (received->on_headers) received->on_headers(*received);
  };
  auto write_next = [&] {
    if (next < requests.size()) {
      call->Write(ToBuffer(requests[next++]), &write_tag);
    } else {
      call->WritesDone(&write_tag);
      writes_over = true;
    }
    writing = true;
  };
  call->StartCall(&start_tag);
  void* tag = nullptr;
  bool ok = false;
  if (cq.Next(&tag, &ok) && ok) {
    // The headers first, on their own, so that they are known the moment
    // they come, as grpcurl's -v says them, not only with the first reply
    // (a stream's may be long in coming). gRPC allows no Read until this
    // has completed; the writes go on meanwhile.
    call->ReadInitialMetadata(&headers_tag);
    reading = true;
    write_next();
  }
  // A method that returns one reply gets it handed on only once the call
  // has ended OK with no other: gRPC's generic call counts none, and would
  // let a server's second reply, or an OK without any, pass for an answer.
  const bool one_reply = !method.server_streaming();
  std::optional<std::string> the_reply;
  absl::Status cardinality;
  while (reading || writing) {
    if (!cq.Next(&tag, &ok)) break;
    if (tag == &headers_tag) {
      reading = ok;
      if (!ok) continue;  // the call is over: Finish has what came
      know_headers();
      call->Read(&reply, &read_tag);
    } else if (tag == &read_tag) {
      reading = ok;
      if (!ok) continue;  // no more: the server has ended the call
      if (!one_reply) {
        on_reply(FromBuffer(reply));
      } else if (!the_reply.has_value()) {
        the_reply = FromBuffer(reply);
      } else if (cardinality.ok()) {
        cardinality = absl::InternalError(absl::StrCat(
            "the server sent more than one reply, where ", method.full_name(),
            " returns one"));
        context.TryCancel();
      }
      call->Read(&reply, &read_tag);
    } else if (tag == &write_tag) {
      writing = false;
      if (ok && !writes_over && received != nullptr) ++received->requests_sent;
      if (ok && !writes_over) write_next();
      // A failed write: the call is over, and the reads drain what the
      // server sent before its status.
    }
  }
  grpc::Status status;
  call->Finish(&status, &finish_tag);
  while (cq.Next(&tag, &ok) && tag != &finish_tag) {
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  // Finish has received both, the headers too if no reply came.
  know_headers();
  if (received != nullptr) copy(context.GetServerTrailingMetadata(), received->trailers);
  if (!cardinality.ok()) return cardinality;
  if (status.ok() && one_reply) {
    if (!the_reply.has_value()) {
      return absl::InternalError(absl::StrCat("the server ended the call OK without a reply, where ",
                                              method.full_name(), " returns one"));
    }
    on_reply(*the_reply);
  }
  // Its target unknown here: a call that never had a connection is told
  // by its peer alone (call_error.h).
  return CallError(status, context, *channel, /*target=*/"");
}

}  // namespace handoff
