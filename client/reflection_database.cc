#include "client/reflection_database.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/call_error.h"
#include "client/deadline.h"
#include "client/metadata.h"
#include "client/status.h"

namespace handoff {

ReflectionDatabase::ReflectionDatabase(std::shared_ptr<grpc::Channel> channel,
                                       absl::Duration timeout,
                                       bool wait_for_ready,
                                       std::vector<std::pair<std::string, std::string>> metadata,
                                       std::string target)
    : channel_(std::move(channel)),
      timeout_(timeout),
      wait_for_ready_(wait_for_ready),
      metadata_(std::move(metadata)),
      target_(std::move(target)),
      stub_(grpc::reflection::v1alpha::ServerReflection::NewStub(channel_)),
      // gRPC C++ aborts the process on metadata it cannot send: the session
      // fails instead, before its first call.
      stream_error_(ValidateMetadata(metadata_)) {}

ReflectionDatabase::~ReflectionDatabase() {
  if (stream_ != nullptr) {
    // Half-close and collect the status so the server sees a clean end,
    // within the session's deadline. A session with none (`handoff call
    // --timeout 0`) would wait on a server that does not end a half-closed
    // stream for ever: it cancels instead.
    if (timeout_ == absl::InfiniteDuration()) context_->TryCancel();
    stream_->WritesDone();
    Response ignored;
    while (stream_->Read(&ignored)) {
    }
    stream_->Finish().IgnoreError();
  }
}

absl::StatusOr<ReflectionDatabase::Response> ReflectionDatabase::RoundTrip(
    const Request& request) {
  if (!stream_error_.ok()) return stream_error_;
  Response response;
  for (int attempt = 1;; ++attempt) {
    if (stream_ == nullptr) {
      if (!deadline_.has_value()) deadline_ = DeadlineIn(timeout_);
      context_ = std::make_unique<grpc::ClientContext>();
      context_->set_deadline(*deadline_);
      context_->set_wait_for_ready(wait_for_ready_);
      for (const auto& [key, value] : metadata_) context_->AddMetadata(key, value);
      stream_ = stub_->ServerReflectionInfo(context_.get());
    }
    if (stream_->Write(request) && stream_->Read(&response)) break;
    // The stream is dead; its status says why (no reflection service,
    // unreachable, deadline...).
    grpc::Status status = stream_->Finish();
    stream_.reset();
    absl::Status error = status.ok() ? absl::UnavailableError("reflection stream ended")
                                     : FromGrpcStatus(status);
    // UNAVAILABLE is gRPC's "try again": a server recycling its connection
    // (--max_connection_age) refuses a stream that crossed its GOAWAY, and
    // closes one at the end of its grace. Lookups are reads, safe to ask
    // again on a new stream, within the session's deadline. A server that
    // cannot be reached at all fails as fast the second time.
    if (error.code() == absl::StatusCode::kUnavailable && attempt < kMaxAttempts) continue;
    stream_error_ = std::move(error);
    switch (stream_error_.code()) {
      case absl::StatusCode::kUnimplemented:
        stream_error_ = absl::UnimplementedError(
            "the server does not support reflection (grpc.reflection.v1alpha)");
        break;
      case absl::StatusCode::kUnavailable:
        break;  // the server, not its reflection: the message says so
      case absl::StatusCode::kDeadlineExceeded: {
        // gRPC's message is "Deadline Exceeded": say whose deadline, and
        // whether the server was ever reached: one that is down (or, with
        // wait_for_ready, still starting) and one whose reflection hangs
        // read alike. The message ends with the limit, where `handoff load`
        // names the flag that set it.
        const std::optional<std::string> state =
            StateWithoutConnection(*context_, *channel_, target_);
        stream_error_ = absl::DeadlineExceededError(absl::StrCat(
            state.has_value()
                ? absl::StrCat("the server could not be reached (the channel had no "
                               "connection at the deadline: ",
                               *state, "): no answer")
                : std::string("the server was reached, but its reflection gave no answer"),
            " within ", absl::FormatDuration(timeout_)));
        break;
      }
      default:
        // The server answered and refused (a guarded reflection service,
        // say): the code alone would not say which call it refused.
        stream_error_ = absl::Status(
            stream_error_.code(),
            absl::StrCat("server reflection failed: ", stream_error_.message()));
    }
    return stream_error_;
  }
  if (response.has_error_response()) {
    const int code = response.error_response().error_code();
    const std::string& message = response.error_response().error_message();
    // The server's to fill in: 0 (OK) would make an error of no error (a
    // StatusOr built from OK aborts, in a debug build of Abseil), and a code
    // past gRPC's 16 is none of them.
    if (code <= 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
      return absl::UnknownError(absl::StrCat(
          "server reflection answered an error with code ", code, ": ", message));
    }
    return absl::Status(static_cast<absl::StatusCode>(code), message);
  }
  return response;
}

void ReflectionDatabase::BuildErrors::AddError(const std::string& filename,
                                               const std::string& element_name,
                                               const google::protobuf::Message*,
                                               ErrorLocation, const std::string& message) {
  if (db_->last_error_is_build_error_) return;
  db_->last_error_is_build_error_ = true;
  db_->last_error_ = absl::InternalError(absl::StrCat(
      "reflection described ", filename, " as protobuf cannot build it: ",
      element_name.empty() || element_name == filename ? "" : absl::StrCat(element_name, ": "),
      message));
}

bool ReflectionDatabase::TakeFiles(const absl::StatusOr<Response>& response,
                                   const Wanted& wanted,
                                   google::protobuf::FileDescriptorProto* output) {
  last_error_is_build_error_ = false;
  if (!response.ok()) {
    last_error_ = response.status();
    return false;
  }
  if (!response->has_file_descriptor_response() ||
      response->file_descriptor_response().file_descriptor_proto_size() == 0) {
    last_error_ = absl::InternalError("reflection answered without a file");
    return false;
  }
  const auto& files = response->file_descriptor_response().file_descriptor_proto();
  // The answer is the asked-for file together with files it depends on, in
  // no promised order (gRPC's server may put a dependency first), so pick
  // the one that matches.
  std::optional<google::protobuf::FileDescriptorProto> match;
  for (int i = 0; i < files.size(); ++i) {
    google::protobuf::FileDescriptorProto file;
    if (!file.ParseFromString(files[i])) {
      last_error_ = absl::InternalError("reflection sent a malformed file descriptor");
      return false;
    }
    if (!match.has_value() && wanted(file)) match = file;
    files_.emplace(file.name(), std::move(file));
  }
  if (!match.has_value()) {
    last_error_ = absl::NotFoundError("reflection answered with unrelated files");
    return false;
  }
  *output = *std::move(match);
  last_error_ = absl::OkStatus();
  return true;
}

bool ReflectionDatabase::Defines(const google::protobuf::FileDescriptorProto& file,
                                 absl::string_view symbol) {
  absl::string_view rest = symbol;
  if (!file.package().empty() &&
      !(absl::ConsumePrefix(&rest, file.package()) && absl::ConsumePrefix(&rest, "."))) {
    return false;
  }
  // The first name after the package is a top-level definition; anything
  // after it (a method, a nested message, a field) lives in the same file.
  const absl::string_view top = rest.substr(0, rest.find('.'));
  for (const auto& m : file.message_type()) if (m.name() == top) return true;
  for (const auto& e : file.enum_type()) if (e.name() == top) return true;
  for (const auto& s : file.service()) if (s.name() == top) return true;
  for (const auto& x : file.extension()) if (x.name() == top) return true;
  // Enum values are scoped like siblings of their enum.
  for (const auto& e : file.enum_type()) {
    for (const auto& v : e.value()) if (v.name() == top) return true;
  }
  return false;
}

absl::StatusOr<std::vector<std::string>> ReflectionDatabase::ListServices() {
  Request request;
  request.set_list_services("");
  absl::StatusOr<Response> response = RoundTrip(request);
  if (!response.ok()) return response.status();
  // A server with no services still sends an (empty) list: an answer
  // without one is no answer.
  if (!response->has_list_services_response()) {
    return absl::InternalError("reflection answered without a list of services");
  }
  std::vector<std::string> names;
  for (const auto& service : response->list_services_response().service()) {
    names.push_back(service.name());
  }
  return names;
}

bool ReflectionDatabase::FindFileByName(const std::string& filename,
                                        google::protobuf::FileDescriptorProto* output) {
  if (auto it = files_.find(filename); it != files_.end()) {
    *output = it->second;
    return true;
  }
  Request request;
  request.set_file_by_filename(filename);
  return TakeFiles(
      RoundTrip(request),
      [&](const google::protobuf::FileDescriptorProto& f) { return f.name() == filename; },
      output);
}

bool ReflectionDatabase::FindFileContainingSymbol(
    const std::string& symbol_name, google::protobuf::FileDescriptorProto* output) {
  Request request;
  request.set_file_containing_symbol(symbol_name);
  return TakeFiles(
      RoundTrip(request),
      [&](const google::protobuf::FileDescriptorProto& f) { return Defines(f, symbol_name); },
      output);
}

bool ReflectionDatabase::FindFileContainingExtension(
    const std::string& containing_type, int field_number,
    google::protobuf::FileDescriptorProto* output) {
  Request request;
  request.mutable_file_containing_extension()->set_containing_type(containing_type);
  request.mutable_file_containing_extension()->set_extension_number(field_number);
  // Extensions are rare here; trust the server's first file.
  bool first = true;
  return TakeFiles(
      RoundTrip(request),
      [&](const google::protobuf::FileDescriptorProto&) { return std::exchange(first, false); },
      output);
}

}  // namespace handoff
