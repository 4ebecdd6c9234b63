#include "client/json_messages.h"

#include <memory>

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace handoff {
namespace {

namespace pb = google::protobuf;

absl::Status BadJson(const pb::Descriptor& type, absl::string_view why) {
  // Protobuf's parser adds the input and a caret on further lines; the CLI
  // promises one line.
  why = why.substr(0, why.find('\n'));
  // It also puts the field's path first, "(path): ", which is empty for
  // the root ("null" is ": Root element must be a message.").
  why = absl::StripPrefix(why, ": ");
  return absl::InvalidArgumentError(
      absl::StrCat("bad JSON for ", type.full_name(), ": ", why));
}

absl::StatusOr<std::string> OneMessage(const pb::Message& prototype,
                                       const std::string& json) {
  std::unique_ptr<pb::Message> message(prototype.New());
  pb::util::Status status = pb::util::JsonStringToMessage(json, message.get());
  if (!status.ok()) return BadJson(*prototype.GetDescriptor(), status.message().as_string());
  return message->SerializeAsString();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> JsonToMessages(const pb::Descriptor& type,
                                                        absl::string_view json) {
  pb::DynamicMessageFactory factory;
  return JsonToMessages(*factory.GetPrototype(&type), json);
}

absl::StatusOr<std::vector<std::string>> JsonToMessages(const pb::Message& prototype,
                                                        absl::string_view json) {
  const pb::Descriptor& type = *prototype.GetDescriptor();
  absl::string_view text = absl::StripAsciiWhitespace(json);
  if (text.empty()) return std::vector<std::string>{std::string()};
  if (text.front() != '[') {
    auto one = OneMessage(prototype, std::string(text));
    if (!one.ok()) return one.status();
    return std::vector<std::string>{*std::move(one)};
  }
  // An array: split it with protobuf's own JSON parser, then parse each
  // element as the request type. (Numbers pass through a double here, which
  // is exact up to 2^53.)
  pb::ListValue list;
  pb::util::Status status = pb::util::JsonStringToMessage(std::string(text), &list);
  if (!status.ok()) return BadJson(type, status.message().as_string());
  std::vector<std::string> out;
  for (const pb::Value& element : list.values()) {
    std::string element_json;
    if (!pb::util::MessageToJsonString(element, &element_json).ok()) {
      return BadJson(type, "unprintable array element");
    }
    auto one = OneMessage(prototype, element_json);
    if (!one.ok()) return one.status();
    out.push_back(*std::move(one));
  }
  return out;
}

absl::StatusOr<std::string> MessageToJson(const pb::Descriptor& type,
                                          const std::string& bytes, bool pretty) {
  pb::DynamicMessageFactory factory;
  std::unique_ptr<pb::Message> message(factory.GetPrototype(&type)->New());
  if (!message->ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("the reply does not parse as ", type.full_name()));
  }
  pb::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = false;
  std::string json;
  pb::util::Status status = pb::util::MessageToJsonString(*message, &json, options);
  if (!status.ok()) return absl::InternalError(status.message().as_string());
  return json;
}

}  // namespace handoff
