// `handoff call METHOD -d JSON`: any method, typed by server reflection, or
// by --proto / --protoset for a server without it.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/dynamic_message.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/cancel_token.h"
#include "client/cli/commands.h"
#include "client/cli/undescribed_service.h"
#include "client/dynamic_call.h"
#include "client/json_request_reader.h"
#include "client/local_descriptors.h"
#include "client/proto_source.h"
#include "client/reflection_database.h"
#include "client/status_details.h"

namespace handoff::cli {
namespace {

// -d @file reads a file, -d @- reads stdin, and so does -d @ alone, as
// grpcurl's and handoff load's; anything else is the JSON.
absl::StatusOr<std::string> ReadData(const std::string& data) {
  if (!absl::StartsWith(data, "@")) return data;
  if (data == "@") return ReadInput("-");
  return ReadInput(data.substr(1));
}

// A failed call's rich error details, a line each after its error (so
// never indented, --pretty or not): as JSON when the type is known (from
// --proto or --protoset when given, else by reflection), else by type URL
// and size. `unknown` says where a type was looked for in vain.
void PrintDetails(const absl::Status& status, const google::protobuf::DescriptorPool& pool,
                  absl::string_view unknown) {
  auto details = StatusDetails(status);
  if (!details.ok()) {
    std::cerr << "handoff: details: " << details.status().message() << "\n";
    return;
  }
  for (size_t i = 0; i < details->size(); ++i) {
    const StatusDetail& detail = (*details)[i];
    std::cerr << "handoff: detail " << i + 1 << ": ";
    const auto* type = pool.FindMessageTypeByName(detail.TypeName());
    auto json = type == nullptr ? absl::NotFoundError("")
                                : MessageToJson(*type, detail.value, /*pretty=*/false);
    if (json.ok()) {
      std::cerr << type->full_name() << " " << *json << "\n";
    } else {
      std::cerr << OneLine(detail.type_url) << " (" << detail.value.size() << " bytes"
                << (type == nullptr ? absl::StrCat(", a type ", unknown)
                                    : std::string(", which do not parse as that type"))
                << ")\n";
    }
  }
}

// Each of `metadata` on a line of its own: "handoff: response header:
// key: value" (`what` is "response header"), a "-bin" key's value in
// base64, as it goes on the wire. None is a line too, "handoff: response
// headers: (empty)", as grpcurl's -v prints an empty section: silence
// would read as a --verbose that did nothing.
void PrintMetadata(absl::string_view what,
                   const std::vector<std::pair<std::string, std::string>>& metadata) {
  if (metadata.empty()) {
    std::cerr << "handoff: " << what << "s: (empty)\n";
    return;
  }
  for (const auto& [key, value] : metadata) {
    std::cerr << "handoff: " << what << ": " << key << ": "
              << (absl::EndsWith(key, "-bin") ? absl::Base64Escape(value) : OneLine(value))
              << "\n";
  }
}

}  // namespace

int Call(const Connection& connection, const CallArgs& args) {
  // --timeout bounds the whole command: the reflection lookup and the call
  // share it, so that a server still starting (--wait_for_ready) costs the
  // call its time rather than doubling the wait.
  // Counted on the steady clock, as DeadlineIn counts a call's, so that a
  // step of the wall clock during the lookup neither eats the call's time
  // nor adds to it.
  const auto start = std::chrono::steady_clock::now();
  // The request's text first: a file that cannot be read is the user's to
  // fix before any server is asked anything.
  // Except a stream's from stdin, read as the call goes (below).
  const bool data_from_stdin = args.data == "@" || args.data == "@-";
  absl::StatusOr<std::string> data = std::string();
  if (!data_from_stdin) data = ReadData(args.data);
  if (!data.ok()) return Fail("-d", data.status());
  auto channel = Dial(connection);
  if (!channel.ok()) return Fail(connection.addr, channel.status());
  auto local = LocalDescriptors::FromFlags(args.proto, args.import_paths, args.protoset);
  if (!local.ok()) return Fail("call", local.status());
  // What the wait for the connection took is the lookup's no more.
  ReflectionDatabase db(*channel, TimeAfterDial(connection, start), connection.wait_for_ready,
                        connection.reflect_metadata, connection.addr);
  google::protobuf::DescriptorPool pool(&db, db.build_errors());
  auto method = *local != nullptr
                    ? FindMethod((*local)->pool(), args.method, nullptr,
                                 absl::StrCat("not in ", (*local)->source(), " or its imports"))
                    : FindMethod(pool, args.method, &db.last_error());
  if (*local == nullptr && !method.ok() &&
      method.status().code() == absl::StatusCode::kNotFound) {
    // A service the server lists but does not describe (gRPC's own health
    // service) is not unknown: say so.
    if (absl::StatusOr<MethodName> split = SplitMethodName(args.method); split.ok()) {
      method = ExplainUndescribed(db, pool, {split->service}, method.status(),
                                  ", so its requests cannot be encoded");
    }
  }
  if (!method.ok()) {
    return Fail(method.status().code() == absl::StatusCode::kNotFound ||
                        method.status().code() == absl::StatusCode::kInvalidArgument
                    ? "call"
                    : absl::StrCat("reflection at ", connection.addr),
                WithTlsHint(connection, method.status()));
  }
  // First, as grpcurl's -v says "Resolved method descriptor:": which
  // method, and which types, reflection or --proto gave the call. As
  // .proto source, as describe prints it, a line each.
  if (args.verbose) {
    for (absl::string_view line :
         absl::StrSplit(ProtoSource(**method), '\n', absl::SkipEmpty())) {
      std::cerr << "handoff: resolved method descriptor: " << line << "\n";
    }
    // Then what the call sends, as grpcurl's "Request metadata to send:".
    PrintMetadata("request header", connection.metadata);
  }
  // A stream's requests from stdin are sent as they come, each as soon as
  // its JSON has, as grpcurl sends them: read to the end first, a bidi
  // stream fed from a pipe had no answer until the pipe closed.
  google::protobuf::DynamicMessageFactory factory;
  std::optional<JsonRequestReader> from_stdin;
  if (data_from_stdin && (*method)->client_streaming()) {
    from_stdin.emplace(STDIN_FILENO, *factory.GetPrototype((*method)->input_type()),
                       "standard input");
  } else if (data_from_stdin) {
    data = ReadData(args.data);
    if (!data.ok()) return Fail("-d", data.status());
  }
  auto requests = from_stdin.has_value()
                      ? absl::StatusOr<std::vector<std::string>>(std::vector<std::string>())
                      : JsonToMessages(*(*method)->input_type(), *data);
  if (!requests.ok()) return Fail("-d", requests.status());
  // No request data (no -d, or only JSON's whitespace) is no message on a
  // stream the client writes, as grpcurl sends: one default message would
  // be a request the user never asked for. A method that takes one request
  // still gets a default one, as in grpcurl.
  if ((*method)->client_streaming() && !from_stdin.has_value() &&
      data->find_first_not_of(" \t\r\n") == std::string::npos) {
    requests->clear();
  }
  // CallMethod refuses this too, but as a status the call would seem to
  // have ended with: refused here, it is the CLI's own failure (exit 1),
  // never a server's code.
  if (!(*method)->client_streaming() && requests->size() != 1) {
    return Fail("-d", absl::InvalidArgumentError(absl::StrCat(
                          (*method)->full_name(), " takes one request, got ",
                          requests->size())));
  }

  CallOptions options;
  options.timeout = std::max(
      connection.timeout - absl::FromChrono(std::chrono::steady_clock::now() - start),
      absl::ZeroDuration());
  options.wait_for_ready = connection.wait_for_ready;
  options.metadata = connection.metadata;
  // A stream whose replies can no longer be written is ended: nobody will
  // read what it goes on sending.
  options.cancel = std::make_shared<CancelToken>();
  // Each reply is printed as it arrives, so the replies a stream sent before
  // failing are output ahead of its error, as the server ordered them. One
  // that cannot be printed (a --proto whose type differs from the
  // server's) is said at once, on a stream by its number, and the later
  // ones are still printed, as grpcurl goes on after "Failed to format
  // response message 2": the first such reply ended the printing, and the
  // rest went without a word.
  const bool numbered = (*method)->server_streaming();
  int replies = 0;
  bool unprintable = false;
  absl::Status unwritten;
  ReceivedMetadata received;
  // Said as they come, before the replies, as grpcurl's -v does: said at
  // the end, they followed the line for a stream's reply that could not
  // be printed.
  if (args.verbose) {
    received.on_headers = [](const ReceivedMetadata& r) {
      PrintMetadata("response header", r.headers);
    };
  }
  RequestList given(from_stdin.has_value() ? std::vector<std::string>() : *std::move(requests));
  absl::Status status = CallMethod(
      *channel, **method, from_stdin.has_value() ? static_cast<RequestSource&>(*from_stdin) : given,
      options,
      [&](const std::string& reply) {
        if (!unwritten.ok()) return;
        ++replies;
        auto json = MessageToJson(*(*method)->output_type(), reply, args.pretty,
                                  args.emit_defaults);
        if (!json.ok()) {
          unprintable = true;
          Fail((*method)->full_name(),
               numbered ? absl::Status(json.status().code(),
                                       absl::StrCat("reply ", replies, ": ",
                                                    json.status().message()))
                        : json.status());
          return;
        }
        unwritten = WriteStdout(absl::StrCat(*json, "\n"), "the reply");
        if (!unwritten.ok()) options.cancel->Cancel();
      },
      &received);
  if (args.verbose) {
    PrintMetadata("response trailer", received.trailers);
    // Last, as grpcurl's -v ends "Sent 1 request and received 1 response":
    // on a stream that ended early it tells how far the call got.
    std::cerr << "handoff: sent " << received.requests_sent << " request"
              << (received.requests_sent == 1 ? "" : "s") << " and received " << replies
              << " response" << (replies == 1 ? "" : "s") << "\n";
  }
  // Before the call's status: a stream ended for it reads CANCELLED.
  if (!unwritten.ok()) return Fail("call", unwritten);
  // A request that stdin's JSON could not give ended the call (CANCELLED):
  // the user's input to fix, as when all of it is read first.
  if (from_stdin.has_value() && !from_stdin->error().ok()) return Fail("-d", from_stdin->error());
  if (!status.ok()) {
    // Any reply that could not be printed was said before the status,
    // which decides the exit code.
    Fail((*method)->full_name(), WithTlsHint(connection, status));
    if (*local != nullptr) {
      PrintDetails(status, (*local)->pool(), absl::StrCat("not in ", (*local)->source()));
    } else {
      PrintDetails(status, pool, "the server does not describe");
    }
    return kStatusExitOffset + static_cast<int>(status.code());
  }
  // Said as it came: the call ended OK, but not all of it was printed.
  if (unprintable) return 1;
  return 0;
}

}  // namespace handoff::cli
