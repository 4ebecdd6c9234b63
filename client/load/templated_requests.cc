#include "client/load/templated_requests.h"

#include <algorithm>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "client/json_messages.h"
#include "client/metadata.h"

namespace handoff::load {

absl::StatusOr<std::unique_ptr<TemplatedRequests>> TemplatedRequests::Make(
    absl::string_view json, const google::protobuf::Descriptor* input,
    const Metadata& metadata, MethodNames method, bool functions,
    absl::string_view data_flag) {
  const bool data = CallTemplate::HasActions(json);
  const bool any_metadata = std::any_of(metadata.begin(), metadata.end(), [](const auto& kv) {
    return CallTemplate::HasActions(kv.second);
  });
  if (!data && !any_metadata) return nullptr;
  auto out = absl::WrapUnique(new TemplatedRequests);
  out->method_ = std::move(method);
  out->data_flag_ = std::string(data_flag);
  if (data) {
    if (input == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(data_flag, ": a template needs the request's type"));
    }
    auto parsed = CallTemplate::Parse(json, functions);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(data_flag, ": ", parsed.status().message()));
    }
    out->uses_uuid_ |= parsed->uses_uuid();
    out->data_ = *std::move(parsed);
    out->prototype_ = out->factory_.GetPrototype(input);
  }
  if (any_metadata) {
    for (const auto& [key, value] : metadata) {
      auto parsed = CallTemplate::Parse(value, functions);
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("-m: \"", key, "\": ", parsed.status().message()));
      }
      out->uses_uuid_ |= parsed->uses_uuid();
      out->metadata_.emplace_back(key, *std::move(parsed));
    }
  }
  absl::BitGen random;
  if (absl::Status s = out->Render("g0c0", 0, absl::Now(), random, out->first_); !s.ok()) {
    return s;
  }
  return out;
}

absl::Status TemplatedRequests::Render(absl::string_view worker_id, int64_t request_number,
                                       absl::Time now, absl::BitGen& random,
                                       Call& out) const {
  std::string uuid;
  if (uses_uuid_) uuid = RandomUuid(random);
  CallData call;
  call.method = &method_;
  call.worker_id = worker_id;
  call.request_number = request_number;
  call.timestamp = now;
  call.uuid = uuid;
  out.messages.clear();
  if (data_.has_value()) {
    const std::string json = data_->Render(call, random);
    auto requests = JsonToMessages(*prototype_, json);
    if (!requests.ok()) {
      // The JSON can be long; its start says which template it came from.
      constexpr size_t kShown = 120;
      return absl::InvalidArgumentError(absl::StrCat(
          data_flag_, " renders to ", json.substr(0, kShown), json.size() > kShown ? "..." : "",
          ", which is ", requests.status().message()));
    }
    for (const std::string& bytes : *requests) {
      grpc::Slice slice(bytes);
      out.messages.emplace_back(&slice, 1);
    }
  }
  out.metadata.clear();
  for (const auto& [key, value] : metadata_) {
    std::string rendered = value.Render(call, random);
    // A template may render what gRPC cannot send (client/metadata.h): fail
    // the call, where gRPC would abort the process.
    if (absl::Status s = ValidateMetadata(key, rendered); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("the metadata renders ", s.message()));
    }
    out.metadata.emplace_back(key, std::move(rendered));
  }
  return absl::OkStatus();
}

}  // namespace handoff::load
