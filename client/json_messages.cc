#include "client/json_messages.h"

#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace handoff {
namespace {

namespace pb = google::protobuf;

// `element`, from 1, is the message's place in an array (`in_array`), or
// among several written one after another; 0 if it came alone.
absl::Status BadJson(const pb::Descriptor& type, absl::string_view why,
                     size_t element = 0, bool in_array = true) {
  // Protobuf's parser adds the input and a caret on further lines; the CLI
  // promises one line.
  why = why.substr(0, why.find('\n'));
  // It also puts the field's path first, "(path): ", which is empty for
  // the root ("null" is ": Root element must be a message.").
  why = absl::StripPrefix(why, ": ");
  return absl::InvalidArgumentError(absl::StrCat(
      "bad JSON for ", type.full_name(),
      element == 0 ? ""
      : in_array   ? absl::StrCat(", element ", element, " of the array")
                   : absl::StrCat(", message ", element),
      ": ", why));
}

absl::StatusOr<std::string> OneMessage(const pb::Message& prototype, const std::string& json,
                                       size_t element = 0, bool in_array = true) {
  std::unique_ptr<pb::Message> message(prototype.New());
  pb::util::Status status = pb::util::JsonStringToMessage(json, message.get());
  if (!status.ok()) {
    return BadJson(*prototype.GetDescriptor(), status.message().as_string(), element,
                   in_array);
  }
  return message->SerializeAsString();
}

// The elements of the JSON array `text` (which starts with '['), each as
// written: split at the commas outside any string, object or array within
// it. What each element is, and whether it is JSON at all, is for the
// message parser to say; this checks only that the brackets close, and
// close last. Split so rather than by protobuf's ListValue, whose numbers
// are doubles: 9007199254740993 became ...992, and a uint64 past 2^53 was
// refused in an array though accepted alone.
absl::StatusOr<std::vector<absl::string_view>> ArrayElements(const pb::Descriptor& type,
                                                             absl::string_view text) {
  std::vector<absl::string_view> elements;
  int depth = 0;
  bool in_string = false;
  size_t start = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, a quote included
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (--depth < 0) return BadJson(type, "unbalanced brackets in the array");
      if (depth > 0) continue;
      if (c != ']') return BadJson(type, "unbalanced brackets in the array");
      if (!absl::StripAsciiWhitespace(text.substr(i + 1)).empty()) {
        return BadJson(type, "text after the array");
      }
      const absl::string_view last = absl::StripAsciiWhitespace(text.substr(start, i - start));
      if (!last.empty()) {
        elements.push_back(last);
      } else if (!elements.empty()) {
        return BadJson(type, "an empty array element");  // "[{},]"
      }
      return elements;
    } else if (c == ',' && depth == 1) {
      const absl::string_view element =
          absl::StripAsciiWhitespace(text.substr(start, i - start));
      if (element.empty()) return BadJson(type, "an empty array element");
      elements.push_back(element);
      start = i + 1;
    }
  }
  return BadJson(type, "the array does not end");
}

// The JSON values `text` holds one after another, separated by whitespace
// or by nothing ("{} {}", "{}\n{}", "{}{}"), each as written, as grpcurl
// and `jq -c` write several messages; empty if the text is no such
// sequence (brackets that do not close, a string that does not end), which
// is then the message parser's to name as a whole. A scalar ends at
// whitespace or at the start of the next object, array or string.
std::vector<absl::string_view> TopLevelValues(absl::string_view text) {
  std::vector<absl::string_view> values;
  size_t i = 0;
  while (i < text.size()) {
    if (absl::ascii_isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    const size_t start = i;
    const char first = text[i];
    if (first == '{' || first == '[') {
      std::vector<char> closers;
      bool in_string = false;
      for (; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
          if (c == '\\') {
            ++i;
          } else if (c == '"') {
            in_string = false;
          }
          continue;
        }
        if (c == '"') {
          in_string = true;
        } else if (c == '{') {
          closers.push_back('}');
        } else if (c == '[') {
          closers.push_back(']');
        } else if (c == '}' || c == ']') {
          if (closers.empty() || closers.back() != c) return {};
          closers.pop_back();
          if (closers.empty()) break;
        }
      }
      if (i >= text.size()) return {};
      ++i;  // past the closing bracket
    } else if (first == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
      if (i >= text.size()) return {};
      ++i;  // past the closing quote
    } else {
      while (i < text.size() && !absl::ascii_isspace(static_cast<unsigned char>(text[i])) &&
             text[i] != '{' && text[i] != '[' && text[i] != '"') {
        ++i;
      }
    }
    values.push_back(text.substr(start, i - start));
  }
  return values;
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
  // A ListValue's JSON, and a Value's that holds a list, is itself an
  // array: for these types an array is the one message, not a list of them.
  const bool array_is_a_message = type.full_name() == "google.protobuf.ListValue" ||
                                  type.full_name() == "google.protobuf.Value";
  // Several values one after another, as grpcurl takes a stream's
  // messages: each is one message, named by its place if it is refused.
  // Before, all but an array were read as one message, and protobuf said
  // only "Parsing terminated before end of input".
  if (text.front() != '[' || array_is_a_message) {
    const std::vector<absl::string_view> values = TopLevelValues(text);
    if (values.size() > 1) {
      std::vector<std::string> out;
      out.reserve(values.size());
      for (absl::string_view value : values) {
        auto one = OneMessage(prototype, std::string(value), out.size() + 1,
                              /*in_array=*/false);
        if (!one.ok()) return one.status();
        out.push_back(*std::move(one));
      }
      return out;
    }
    auto one = OneMessage(prototype, std::string(text));
    if (!one.ok()) return one.status();
    return std::vector<std::string>{*std::move(one)};
  }
  // An array: each element is a message of the request type.
  absl::StatusOr<std::vector<absl::string_view>> elements = ArrayElements(type, text);
  if (!elements.ok()) return elements.status();
  std::vector<std::string> out;
  out.reserve(elements->size());
  for (absl::string_view element : *elements) {
    // Named by its place: in a stream of many, the field alone does not
    // say which request is at fault.
    auto one = OneMessage(prototype, std::string(element), out.size() + 1);
    if (!one.ok()) return one.status();
    out.push_back(*std::move(one));
  }
  return out;
}

absl::StatusOr<std::string> MessageToJson(const pb::Descriptor& type,
                                          const std::string& bytes, bool pretty,
                                          bool emit_defaults) {
  pb::DynamicMessageFactory factory;
  std::unique_ptr<pb::Message> message(factory.GetPrototype(&type)->New());
  // Partial: a proto2 reply that lacks a required field is still a message
  // on the wire, and is shown as it is, not refused as bytes that do not
  // parse (with a line of protobuf's own log besides).
  if (!message->ParsePartialFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("the reply does not parse as ", type.full_name()));
  }
  pb::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = false;
  options.always_print_primitive_fields = emit_defaults;
  // What MessageToJsonString does, less its check that every required
  // field is set: it serialises the message, which refuses one that is not.
  std::string canonical;
  message->SerializePartialToString(&canonical);
  constexpr absl::string_view kUrlPrefix = "type.googleapis.com";
  std::unique_ptr<pb::util::TypeResolver> resolver(
      pb::util::NewTypeResolverForDescriptorPool(std::string(kUrlPrefix), type.file()->pool()));
  std::string json;
  pb::util::Status status = pb::util::BinaryToJsonString(
      resolver.get(), absl::StrCat(kUrlPrefix, "/", type.full_name()), canonical, &json, options);
  if (!status.ok()) return absl::InternalError(status.message().as_string());
  // Indented, protobuf ends the text with a newline, and one-line without:
  // the caller ends each the same way.
  if (!json.empty() && json.back() == '\n') json.pop_back();
  return json;
}

}  // namespace handoff
