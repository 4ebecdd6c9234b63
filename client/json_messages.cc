#include "client/json_messages.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>
#include <google/protobuf/util/type_resolver_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/jsonpb_defaults.h"

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

// Walks `text` from `from`, calling `on(i)` at each character outside its
// strings and at each string's closing quote (an opening quote, a string's
// contents and what a backslash escapes are skipped), until `on` returns
// false. Returns where it stopped, or text.size() if it ran out first. The
// one place that knows where a JSON string ends, for the splitters below,
// which look only at brackets, commas and whole strings.
template <typename OnCharacter>
size_t WalkOutsideStrings(absl::string_view text, size_t from, OnCharacter on) {
  bool in_string = false;
  for (size_t i = from; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, a quote included
        continue;
      }
      if (c != '"') continue;
      in_string = false;
    } else if (c == '"') {
      in_string = true;
      continue;
    }
    if (!on(i)) return i;
  }
  return text.size();
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
  size_t start = 1;
  absl::Status refused;  // OK until the walk finds what is wrong
  const size_t end = WalkOutsideStrings(text, 0, [&](size_t i) {
    const char c = text[i];
    if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (--depth < 0 || (depth == 0 && c != ']')) {
        refused = BadJson(type, "unbalanced brackets in the array");
        return false;
      }
      if (depth > 0) return true;
      const absl::string_view last = absl::StripAsciiWhitespace(text.substr(start, i - start));
      if (!last.empty()) {
        elements.push_back(last);
      } else if (!elements.empty()) {
        refused = BadJson(type, "an empty array element");  // "[{},]"
      }
      return false;
    } else if (c == ',' && depth == 1) {
      const absl::string_view element =
          absl::StripAsciiWhitespace(text.substr(start, i - start));
      if (element.empty()) {
        refused = BadJson(type, "an empty array element");
        return false;
      }
      elements.push_back(element);
      start = i + 1;
    }
    return true;
  });
  if (!refused.ok()) return refused;
  if (end == text.size()) return BadJson(type, "the array does not end");
  if (!absl::StripAsciiWhitespace(text.substr(end + 1)).empty()) {
    return BadJson(type, "text after the array");
  }
  return elements;
}

// How the value that starts at text[start] (no whitespace) ends.
struct ValueEnd {
  enum Kind { kComplete, kUnfinished, kBroken } kind;
  size_t end;  // one past its last character, if kComplete or kBroken
};

// An object, array or string ends at the bracket that closes its first, or
// at its closing quote; a scalar at whitespace or at the start of the next
// object, array or string, which `text` ending leaves kUnfinished (more
// text may lengthen it). A bracket that closes the wrong one is kBroken,
// the value taken to end with it.
ValueEnd EndOfValue(absl::string_view text, size_t start) {
  const char first = text[start];
  if (first == '{' || first == '[' || first == '"') {
    std::vector<char> closers;
    bool broken = false;
    const size_t i = WalkOutsideStrings(text, start, [&](size_t at) {
      const char c = text[at];
      if (c == '{' || c == '[') {
        closers.push_back(c == '{' ? '}' : ']');
      } else if (c == '}' || c == ']') {
        broken = closers.empty() || closers.back() != c;
        if (broken) return false;
        closers.pop_back();
      }
      return !closers.empty();
    });
    if (broken) return {ValueEnd::kBroken, i + 1};
    if (i == text.size()) return {ValueEnd::kUnfinished, 0};
    return {ValueEnd::kComplete, i + 1};  // past the closing bracket or quote
  }
  size_t i = start;
  while (i < text.size() && !absl::ascii_isspace(static_cast<unsigned char>(text[i])) &&
         text[i] != '{' && text[i] != '[' && text[i] != '"') {
    ++i;
  }
  if (i == text.size()) return {ValueEnd::kUnfinished, 0};
  return {ValueEnd::kComplete, i};
}

// The JSON values `text` holds one after another, separated by whitespace
// or by nothing ("{} {}", "{}\n{}", "{}{}"), each as written, as grpcurl
// and `jq -c` write several messages; empty if the text is no such
// sequence (brackets that do not close, a string that does not end), which
// is then the message parser's to name as a whole.
std::vector<absl::string_view> TopLevelValues(absl::string_view text) {
  std::vector<absl::string_view> values;
  size_t i = 0;
  while (i < text.size()) {
    if (absl::ascii_isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    const size_t start = i;
    const ValueEnd end = EndOfValue(text, start);
    if (end.kind == ValueEnd::kBroken) return {};
    const bool scalar = text[start] != '{' && text[start] != '[' && text[start] != '"';
    if (end.kind == ValueEnd::kUnfinished) {
      if (!scalar) return {};
      i = text.size();  // a scalar ends with the text
    } else {
      i = end.end;
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

std::optional<JsonValueSpan> FirstJsonValue(absl::string_view text, bool text_is_all) {
  size_t start = 0;
  while (start < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[start]))) {
    ++start;
  }
  if (start == text.size()) return std::nullopt;
  const ValueEnd end = EndOfValue(text, start);
  if (end.kind != ValueEnd::kUnfinished) return JsonValueSpan{start, end.end};
  if (!text_is_all) return std::nullopt;
  return JsonValueSpan{start, text.size()};  // the parser says what is wrong with it
}

absl::StatusOr<std::string> JsonToOneMessage(const pb::Message& prototype,
                                             absl::string_view json, size_t number) {
  return OneMessage(prototype, std::string(json), number, /*in_array=*/false);
}

absl::StatusOr<std::string> MessageToJson(const pb::Descriptor& type,
                                          const std::string& bytes, bool pretty,
                                          bool emit_defaults) {
  pb::DynamicMessageFactory factory;
  std::unique_ptr<pb::Message> message(factory.GetPrototype(&type)->New());
  // Partial: a proto2 reply that lacks a required field is still a message
  // on the wire, and is shown as it is, not refused as bytes that do not
  // parse (with a line of protobuf's own log besides).
  bool parsed;
  {
    // Nor with protobuf's log of why (a proto3 string that is no UTF-8):
    // errors are one line, and this one says what failed.
    pb::LogSilencer quiet;
    parsed = message->ParsePartialFromString(bytes);
  }
  if (!parsed) {
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
  // grpcurl's -emit-defaults writes an unset sub-message or proto2 scalar
  // as null, which protobuf C++ has no option for.
  if (emit_defaults) json = AsJsonpbEmitsDefaults(*message, json, pretty);
  return json;
}

}  // namespace handoff
