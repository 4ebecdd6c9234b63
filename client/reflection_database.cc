#include "client/reflection_database.h"

#include "absl/strings/str_cat.h"
#include "client/status.h"

namespace handoff {

ReflectionDatabase::ReflectionDatabase(std::shared_ptr<grpc::Channel> channel,
                                       absl::Duration timeout)
    : channel_(std::move(channel)),
      timeout_(timeout),
      stub_(grpc::reflection::v1alpha::ServerReflection::NewStub(channel_)) {}

ReflectionDatabase::~ReflectionDatabase() {
  if (stream_ != nullptr) {
    // Half-close and collect the status so the server sees a clean end.
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
  if (stream_ == nullptr) {
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    stream_ = stub_->ServerReflectionInfo(context_.get());
  }
  Response response;
  if (!stream_->Write(request) || !stream_->Read(&response)) {
    // The stream is dead; its status says why (no reflection service,
    // unreachable, deadline...).
    grpc::Status status = stream_->Finish();
    stream_.reset();
    stream_error_ = status.ok() ? absl::UnavailableError("reflection stream ended")
                                : FromGrpcStatus(status);
    if (stream_error_.code() == absl::StatusCode::kUnimplemented) {
      stream_error_ = absl::UnimplementedError(
          "the server does not support reflection (grpc.reflection.v1alpha)");
    }
    return stream_error_;
  }
  if (response.has_error_response()) {
    return absl::Status(
        static_cast<absl::StatusCode>(response.error_response().error_code()),
        response.error_response().error_message());
  }
  return response;
}

bool ReflectionDatabase::TakeFiles(const absl::StatusOr<Response>& response,
                                   google::protobuf::FileDescriptorProto* output) {
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
  google::protobuf::FileDescriptorProto first;
  for (int i = 0; i < files.size(); ++i) {
    google::protobuf::FileDescriptorProto file;
    if (!file.ParseFromString(files[i])) {
      last_error_ = absl::InternalError("reflection sent a malformed file descriptor");
      return false;
    }
    if (i == 0) first = file;
    files_.emplace(file.name(), std::move(file));
  }
  *output = std::move(first);
  last_error_ = absl::OkStatus();
  return true;
}

absl::StatusOr<std::vector<std::string>> ReflectionDatabase::ListServices() {
  Request request;
  request.set_list_services("");
  absl::StatusOr<Response> response = RoundTrip(request);
  if (!response.ok()) return response.status();
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
  return TakeFiles(RoundTrip(request), output);
}

bool ReflectionDatabase::FindFileContainingSymbol(
    const std::string& symbol_name, google::protobuf::FileDescriptorProto* output) {
  Request request;
  request.set_file_containing_symbol(symbol_name);
  return TakeFiles(RoundTrip(request), output);
}

bool ReflectionDatabase::FindFileContainingExtension(
    const std::string& containing_type, int field_number,
    google::protobuf::FileDescriptorProto* output) {
  Request request;
  request.mutable_file_containing_extension()->set_containing_type(containing_type);
  request.mutable_file_containing_extension()->set_extension_number(field_number);
  return TakeFiles(RoundTrip(request), output);
}

}  // namespace handoff
