#include "client/load/go_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json_text.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace handoff::load {

std::string GoQuoted(absl::string_view s) { return JsonQuoted(s, HtmlSafe::kAsGo); }

std::string GoNumber(double v) {
  char buf[64];
  const double magnitude = std::abs(v);
  const bool exponent_form = magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21);
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, end);
  if (exponent_form) {
    const size_t n = sci.size();
    if (n >= 4 && sci[n - 4] == 'e' && sci[n - 3] == '-' && sci[n - 2] == '0') {
      sci.erase(n - 2, 1);
    }
    return sci;
  }
  // Shortest digits d.ddd and exponent E, laid out without an exponent.
  std::string out;
  size_t i = 0;
  if (sci[0] == '-') {
    out += '-';
    i = 1;
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (size_t k = i; k < e; ++k) {
    if (sci[k] != '.') digits += sci[k];
  }
  const int exponent = std::atoi(sci.c_str() + e + 1);
  const int before_point = exponent + 1;  // digits left of the point
  if (before_point <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-before_point), '0');
    out += digits;
  } else if (static_cast<size_t>(before_point) >= digits.size()) {
    out += digits;
    out.append(static_cast<size_t>(before_point) - digits.size(), '0');
  } else {
    out += digits.substr(0, static_cast<size_t>(before_point));
    out += '.';
    out += digits.substr(static_cast<size_t>(before_point));
  }
  return out;
}

namespace {

// `v` as Go writes back what it read into an interface{}: an object's keys
// sorted bytewise, every number a float64.
void AppendGo(const google::protobuf::Value& v, std::string* out) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      *out += GoNumber(v.number_value());
      return;
    case google::protobuf::Value::kStringValue:
      *out += GoQuoted(v.string_value());
      return;
    case google::protobuf::Value::kBoolValue:
      *out += v.bool_value() ? "true" : "false";
      return;
    case google::protobuf::Value::kStructValue: {
      const auto& fields = v.struct_value().fields();
      std::vector<const std::string*> keys;
      keys.reserve(fields.size());
      for (const auto& [key, value] : fields) keys.push_back(&key);
      std::sort(keys.begin(), keys.end(),
                [](const std::string* a, const std::string* b) { return *a < *b; });
      *out += '{';
      for (const std::string* key : keys) {
        if (out->back() != '{') *out += ',';
        absl::StrAppend(out, GoQuoted(*key), ":");
        AppendGo(fields.at(*key), out);
      }
      *out += '}';
      return;
    }
    case google::protobuf::Value::kListValue:
      *out += '[';
      for (const google::protobuf::Value& item : v.list_value().values()) {
        if (out->back() != '[') *out += ',';
        AppendGo(item, out);
      }
      *out += ']';
      return;
    default:  // null, or nothing set
      *out += "null";
  }
}

}  // namespace

std::string GoJsonIndented(absl::string_view json, absl::string_view indent) {
  std::string out;
  out.reserve(json.size() * 2);
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  // After { or [: the next element opens a line, unless the brace closes.
  bool need_indent = false;
  auto newline = [&] {
    out += '\n';
    for (int i = 0; i < depth; ++i) out.append(indent.data(), indent.size());
  };
  for (char c : json) {
    if (in_string) {
      out += c;
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (need_indent && c != '}' && c != ']') {
      need_indent = false;
      ++depth;
      newline();
    }
    switch (c) {
      case '"':
        in_string = true;
        out += c;
        break;
      case '{':
      case '[':
        out += c;
        need_indent = true;
        break;
      case ',':
        out += c;
        newline();
        break;
      case ':':
        out += ": ";
        break;
      case '}':
      case ']':
        if (need_indent) {
          need_indent = false;  // empty: {} or []
        } else {
          --depth;
          newline();
        }
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::optional<std::string> GoJsonRewritten(absl::string_view json) {
  // protobuf's JSON reader for google.protobuf.Value reads any one JSON
  // value, numbers as doubles, as Go's Unmarshal into an interface{} does.
  google::protobuf::Value value;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &value).ok()) {
    return std::nullopt;
  }
  std::string out;
  AppendGo(value, &out);
  return out;
}

}  // namespace handoff::load
