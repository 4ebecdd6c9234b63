// Calling a method known only by name: resolve it through a descriptor pool
// (fed by server reflection), and make the call with a generic stub. The
// JSON conversions on either side are json_messages.h's.
#ifndef HANDOFF_CLIENT_DYNAMIC_CALL_H_
#define HANDOFF_CLIENT_DYNAMIC_CALL_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <grpcpp/channel.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/client.h"
#include "client/json_messages.h"
#include "client/request_source.h"

namespace handoff {

// A method's name split into its service's full name and its own.
struct MethodName {
  std::string service;
  std::string method;
};
// `name` spelled "pkg.Service.Method", "pkg.Service/Method",
// "/pkg.Service/Method" or, protobuf's fully-qualified form,
// ".pkg.Service.Method"; INVALID_ARGUMENT, naming it, if it has no service
// part or an empty part ("pkg.Service//Method").
absl::StatusOr<MethodName> SplitMethodName(absl::string_view name);

// Finds `name` (as SplitMethodName takes it) in `pool`. NOT_FOUND says
// which part is unknown, an unknown service with `hint` after it, and a
// service's own name that it names a service and its methods; other codes
// come from the pool's database (an unreachable server, say) via
// `lookup_error`, which may be null.
absl::StatusOr<const google::protobuf::MethodDescriptor*> FindMethod(
    const google::protobuf::DescriptorPool& pool, absl::string_view name,
    const absl::Status* lookup_error = nullptr,
    absl::string_view hint = "try: handoff list");

// "/pkg.Service/Method", the HTTP/2 path of a call.
std::string MethodPath(const google::protobuf::MethodDescriptor& method);

// The metadata a server sent back on a call, in the order it came; values
// of "-bin" keys as their bytes (gRPC has decoded the base64).
struct ReceivedMetadata {
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> trailers;
  // If set, called once, with `headers` filled, as soon as they come (so
  // before the first reply is handed on), or once the call is over if none
  // came, so that a caller can show them when and in the order they came.
  std::function<void(const ReceivedMetadata&)> on_headers;
  // How many of the requests gRPC took to send (their writes succeeded):
  // fewer than were given if the call ended first.
  size_t requests_sent = 0;
};

// Calls `method` with every request on one call (unary methods take
// exactly one), hands each serialized reply to `on_reply` as it arrives, and
// returns the call's status. A stream that fails part-way has still
// delivered the replies the server sent before its error. A method that
// returns one reply (not server-streaming) hands it on once the call has
// ended OK; a server that ended such a call OK without a reply, or sent
// more than one, fails it INTERNAL, saying which, and hands on none. `options.cancel`
// ends the call with CANCELLED, as it does Client's; a deadline missed
// without ever having had a connection says so, as Client's does
// (call_error.h). If `received` is not
// null, it gets the response headers as they are known (its on_headers)
// and the trailers once the call is over.
absl::Status CallMethod(const std::shared_ptr<grpc::Channel>& channel,
                        const google::protobuf::MethodDescriptor& method,
                        const std::vector<std::string>& requests,
                        const CallOptions& options,
                        const std::function<void(const std::string&)>& on_reply,
                        ReceivedMetadata* received = nullptr);

// The same, with the requests taken from `requests` as the call goes: on a
// client stream each is written as soon as the source gives it (read on a
// thread of the call's own, so that one slow in coming holds back no
// reply), as grpcurl sends them. A source's error cancels the call once the
// requests before it have been written, and is what this returns. A call
// the server ends first Stops the source. A method that takes one request
// has them all read first, so that two are refused before any call.
absl::Status CallMethod(const std::shared_ptr<grpc::Channel>& channel,
                        const google::protobuf::MethodDescriptor& method,
                        RequestSource& requests, const CallOptions& options,
                        const std::function<void(const std::string&)>& on_reply,
                        ReceivedMetadata* received = nullptr);

}  // namespace handoff

#endif  // HANDOFF_CLIENT_DYNAMIC_CALL_H_
