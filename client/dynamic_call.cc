#include "client/dynamic_call.h"

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/alarm.h>

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

// A source's requests pulled on a thread of their own and handed to the
// call's loop: a request slow in coming (stdin fed as the user types)
// holds back neither the replies nor the requests before it. A loop that
// finds none ready is woken by `tag` on its queue once there is one.
class PulledRequests {
 public:
  PulledRequests(RequestSource& source, grpc::CompletionQueue& cq, void* tag)
      : source_(source), cq_(cq), tag_(tag), thread_([this] { Pull(); }) {}
  ~PulledRequests() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    source_.Stop();
    thread_.join();
  }

  enum class Next { kRequest, kEnd, kError, kWait };
  // The next request into *out, or that there are none (kEnd), that the
  // source failed (error()), or kWait: `tag` comes once one of these holds.
  Next Take(std::string* out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ready_.empty()) {
      *out = std::move(ready_.front());
      ready_.pop_front();
      return Next::kRequest;
    }
    if (ended_) return error_.ok() ? Next::kEnd : Next::kError;
    waiting_ = true;
    return Next::kWait;
  }
  // After kWait, the call is over: true if `tag` will not come (and no
  // more requests are wanted), false if it is already on its way.
  bool GiveUpWaiting() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    const bool was_waiting = waiting_;
    waiting_ = false;
    return was_waiting;
  }
  absl::Status error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

 private:
  void Pull() {
    for (;;) {
      absl::StatusOr<std::optional<std::string>> next = source_.Next();
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      if (!next.ok()) {
        error_ = next.status();
        ended_ = true;
      } else if (!next->has_value()) {
        ended_ = true;
      } else {
        ready_.push_back(**std::move(next));
      }
      if (waiting_) {
        waiting_ = false;
        alarm_.Set(&cq_, gpr_now(GPR_CLOCK_MONOTONIC), tag_);
      }
      if (ended_) return;
    }
  }

  RequestSource& source_;
  grpc::CompletionQueue& cq_;
  void* const tag_;
  std::mutex mu_;
  std::deque<std::string> ready_;
  bool ended_ = false;
  absl::Status error_;
  bool waiting_ = false;  // the loop waits for `tag`, and no alarm is set
  bool stopped_ = false;
  grpc::Alarm alarm_;  // wakes the loop; only ever set while it waits
  std::thread thread_;  // last: it starts pulling at once
};

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

namespace {
// The call itself, its requests as the source gives them.
absl::Status CallWithSource(const std::shared_ptr<grpc::Channel>& channel,
                            const pb::MethodDescriptor& method, RequestSource& source,
                            const CallOptions& options,
                            const std::function<void(const std::string&)>& on_reply,
                            ReceivedMetadata* received);
}  // namespace

absl::Status CallMethod(const std::shared_ptr<grpc::Channel>& channel,
                        const pb::MethodDescriptor& method,
                        const std::vector<std::string>& requests,
                        const CallOptions& options,
                        const std::function<void(const std::string&)>& on_reply,
                        ReceivedMetadata* received) {
  RequestList list(requests);
  return CallMethod(channel, method, list, options, on_reply, received);
}

absl::Status CallMethod(const std::shared_ptr<grpc::Channel>& channel,
                        const pb::MethodDescriptor& method, RequestSource& source,
                        const CallOptions& options,
                        const std::function<void(const std::string&)>& on_reply,
                        ReceivedMetadata* received) {
  if (!method.client_streaming()) {
    std::vector<std::string> all;
    for (;;) {
      absl::StatusOr<std::optional<std::string>> next = source.Next();
      if (!next.ok()) return next.status();
      if (!next->has_value()) break;
      all.push_back(**std::move(next));
    }
    if (all.size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(method.full_name(), " takes one request, got ", all.size()));
    }
    RequestList one(std::move(all));
    return CallWithSource(channel, method, one, options, on_reply, received);
  }
  return CallWithSource(channel, method, source, options, on_reply, received);
}

namespace {

absl::Status CallWithSource(const std::shared_ptr<grpc::Channel>& channel,
                            const pb::MethodDescriptor& method, RequestSource& source,
                            const CallOptions& options,
                            const std::function<void(const std::string&)>& on_reply,
                            ReceivedMetadata* received) {
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
  char start_tag, headers_tag, read_tag, write_tag, more_tag, finish_tag;  // by address
  bool reading = false, writing = false, writes_over = false;
  // Writing, but waiting for the source's next request (more_tag).
  bool awaiting_source = false;
  absl::Status source_error;
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
  std::optional<PulledRequests> pulled;
  auto write_next = [&] {
    writing = true;
    std::string request;
    switch (pulled->Take(&request)) {
      case PulledRequests::Next::kRequest:
        call->Write(ToBuffer(request), &write_tag);
        return;
      case PulledRequests::Next::kEnd:
        call->WritesDone(&write_tag);
        writes_over = true;
        return;
      case PulledRequests::Next::kError:
        // The requests before it are written; the call is not to go on
        // as though the stream had ended there.
        source_error = pulled->error();
        writes_over = true;
        writing = false;
        context.TryCancel();
        return;
      case PulledRequests::Next::kWait:
        awaiting_source = true;
        return;
    }
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
    pulled.emplace(source, cq, &more_tag);
    write_next();
  }
  // A method that returns one reply gets it handed on only once the call
  // has ended OK with no other: gRPC's generic call counts none, and would
  // let a server's second reply, or an OK without any, pass for an answer.
  const bool one_reply = !method.server_streaming();
  std::optional<std::string> the_reply;
  absl::Status cardinality;
  while (reading || writing) {
    // A call the server has ended takes no more requests: none is waited for.
    if (!reading && awaiting_source && pulled->GiveUpWaiting()) break;
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
    } else if (tag == &more_tag) {
      awaiting_source = false;
      writing = false;
      write_next();
    }
  }
  // Stops and joins the source's thread; an alarm it set has come (the
  // loop waited for it) or never will.
  pulled.reset();
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
  if (!source_error.ok()) return source_error;
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

}  // namespace

}  // namespace handoff
