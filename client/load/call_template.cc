#include "client/load/call_template.h"

#include <utility>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace handoff::load {
namespace {

enum class Field {
  kWorkerId,
  kRequestNumber,
  kFullyQualifiedName,
  kMethodName,
  kServiceName,
  kInputName,
  kOutputName,
  kIsClientStreaming,
  kIsServerStreaming,
  kTimestamp,
  kTimestampUnix,
  kTimestampUnixMilli,
  kTimestampUnixNano,
  kUuid,
};

struct FieldName {
  absl::string_view name;
  Field field;
};

constexpr FieldName kFields[] = {
    {"WorkerID", Field::kWorkerId},
    {"RequestNumber", Field::kRequestNumber},
    {"FullyQualifiedName", Field::kFullyQualifiedName},
    {"MethodName", Field::kMethodName},
    {"ServiceName", Field::kServiceName},
    {"InputName", Field::kInputName},
    {"OutputName", Field::kOutputName},
    {"IsClientStreaming", Field::kIsClientStreaming},
    {"IsServerStreaming", Field::kIsServerStreaming},
    {"Timestamp", Field::kTimestamp},
    {"TimestampUnix", Field::kTimestampUnix},
    {"TimestampUnixMilli", Field::kTimestampUnixMilli},
    {"TimestampUnixNano", Field::kTimestampUnixNano},
    {"UUID", Field::kUuid},
};

struct NewUuid {};
struct RandomString {
  int64_t length;  // <= 0: a random length from 2 to 16, as ghz's
};
struct RandomInt {
  int64_t min;  // the range is [min, max)
  int64_t max;
};

// Go's text/template white space, which its trim markers remove.
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::string RandomUuid(absl::BitGen& random) {
  uint8_t bytes[16];
  for (uint8_t& b : bytes) b = absl::Uniform<uint8_t>(random);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4: random
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122's variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xf]);
  }
  return out;
}

namespace {

std::string Letters(int64_t length, absl::BitGen& random) {
  static constexpr absl::string_view kLetters =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  if (length <= 0) length = absl::Uniform<int64_t>(absl::IntervalClosed, random, 2, 16);
  std::string out(static_cast<size_t>(length), '\0');
  for (char& c : out) c = kLetters[absl::Uniform<size_t>(random, 0, kLetters.size())];
  return out;
}

// Go's time.RFC3339 in the local zone: "Z" for UTC, else "+hh:mm".
std::string Rfc3339(absl::Time t) {
  const absl::TimeZone zone = absl::LocalTimeZone();
  const bool utc = zone.At(t).offset == 0;
  return absl::FormatTime(utc ? "%Y-%m-%d%ET%H:%M:%SZ" : "%Y-%m-%d%ET%H:%M:%S%Ez", t, zone);
}

std::string FieldNames() {
  return absl::StrJoin(kFields, ", ", [](std::string* out, const FieldName& f) {
    absl::StrAppend(out, ".", f.name);
  });
}

// Integer literal arguments, as many as `want`.
absl::StatusOr<std::vector<int64_t>> IntArgs(absl::string_view action,
                                             const std::vector<absl::string_view>& words,
                                             size_t want, absl::string_view usage) {
  std::vector<int64_t> out;
  if (words.size() != want + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("{{", action, "}}: ", words[0], " takes ", usage));
  }
  for (size_t i = 1; i < words.size(); ++i) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(words[i], &v)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "{{", action, "}}: ", words[0], " takes ", usage, ", and '", words[i],
          "' is not an integer"));
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace

struct CallTemplate::Part {
  std::variant<std::string, Field, NewUuid, RandomString, RandomInt> what;
};

CallTemplate::CallTemplate() = default;
CallTemplate::CallTemplate(CallTemplate&&) noexcept = default;
CallTemplate& CallTemplate::operator=(CallTemplate&&) noexcept = default;
CallTemplate::~CallTemplate() = default;

std::string GhzWorkerId(absl::string_view name, int slot, int connection) {
  std::string id = absl::StrCat("g", slot, "c", connection);
  return name.empty() ? id : absl::StrCat(name, ":", id);
}

bool CallTemplate::HasActions(absl::string_view text) { return absl::StrContains(text, "{{"); }

absl::StatusOr<CallTemplate> CallTemplate::Parse(absl::string_view text, bool functions) {
  CallTemplate out;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) out.parts_.push_back(Part{std::move(literal)});
    literal.clear();
  };
  bool trim_next = false;  // the last action ended with " -}}"
  while (!text.empty()) {
    const size_t open = text.find("{{");
    absl::string_view before = text.substr(0, open);
    if (trim_next) {
      while (!before.empty() && IsSpace(before.front())) before.remove_prefix(1);
      trim_next = false;
    }
    if (open == absl::string_view::npos) {
      literal.append(before.data(), before.size());
      break;
    }
    text.remove_prefix(open + 2);
    const size_t close = text.find("}}");
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("{{", text.substr(0, 20), ": unclosed action (no }})"));
    }
    absl::string_view action = text.substr(0, close);
    text.remove_prefix(close + 2);
    const absl::string_view whole = action;
    // Go's markers are "{{- " and " -}}", the space required: "{{-3}}" is -3.
    if (action.size() >= 2 && action[0] == '-' && IsSpace(action[1])) {
      while (!before.empty() && IsSpace(before.back())) before.remove_suffix(1);
      action.remove_prefix(2);
    }
    if (action.size() >= 2 && action.back() == '-' && IsSpace(action[action.size() - 2])) {
      trim_next = true;
      action.remove_suffix(2);
    }
    literal.append(before.data(), before.size());
    if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(action), "/*")) {
      const absl::string_view comment = absl::StripAsciiWhitespace(action);
      if (!absl::EndsWith(comment, "*/")) {
        return absl::InvalidArgumentError(
            absl::StrCat("{{", whole, "}}: unclosed comment (no */)"));
      }
      continue;
    }
    const std::vector<absl::string_view> words =
        absl::StrSplit(absl::StripAsciiWhitespace(action), absl::ByAnyChar(" \t\r\n"),
                       absl::SkipEmpty());
    if (words.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("{{", whole, "}}: empty action"));
    }
    const absl::string_view head = words[0];
    if (head.front() == '.') {
      if (words.size() != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "{{", whole, "}}: a field is an action of its own; pipelines and "
            "arguments are not supported"));
      }
      const absl::string_view name = head.substr(1);
      const FieldName* found = nullptr;
      for (const FieldName& f : kFields) {
        if (f.name == name) found = &f;
      }
      if (found == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "{{", whole, "}}: no call data field '", name, "'; the fields are ",
            FieldNames()));
      }
      flush();
      out.uses_uuid_ |= found->field == Field::kUuid;
      out.parts_.push_back(Part{found->field});
      continue;
    }
    const bool known = head == "newUUID" || head == "randomString" || head == "randomInt";
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "{{", whole, "}}: not a template handoff load can render; it has the call "
          "data fields (", FieldNames(), ") and the functions newUUID, randomString N and "
          "randomInt MIN MAX, and no sprig functions, pipelines, variables or control "
          "actions"));
    }
    if (!functions) {
      return absl::InvalidArgumentError(absl::StrCat(
          "{{", whole, "}}: template functions are off (--disable-template-functions)"));
    }
    flush();
    if (head == "newUUID") {
      auto args = IntArgs(whole, words, 0, "no arguments");
      if (!args.ok()) return args.status();
      out.parts_.push_back(Part{NewUuid{}});
    } else if (head == "randomString") {
      auto args = IntArgs(whole, words, 1, "one integer, the length");
      if (!args.ok()) return args.status();
      // Every call renders it afresh: a mistyped length would have each
      // in-flight call hold that much memory.
      constexpr int64_t kMaxLength = int64_t{1} << 24;
      if ((*args)[0] > kMaxLength) {
        return absl::InvalidArgumentError(absl::StrCat(
            "{{", whole, "}}: randomString makes at most ", kMaxLength, " characters"));
      }
      out.parts_.push_back(Part{RandomString{(*args)[0]}});
    } else {
      auto args = IntArgs(whole, words, 2, "two integers, MIN and MAX");
      if (!args.ok()) return args.status();
      if ((*args)[0] >= (*args)[1]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "{{", whole, "}}: randomInt draws from [MIN, MAX), which is empty"));
      }
      out.parts_.push_back(Part{RandomInt{(*args)[0], (*args)[1]}});
    }
  }
  flush();
  return out;
}

std::string CallTemplate::Render(const CallData& call, absl::BitGen& random) const {
  static const MethodNames kNoMethod;
  const MethodNames& m = call.method != nullptr ? *call.method : kNoMethod;
  std::string out;
  for (const Part& part : parts_) {
    if (const auto* text = std::get_if<std::string>(&part.what)) {
      out += *text;
    } else if (const auto* field = std::get_if<Field>(&part.what)) {
      switch (*field) {
        case Field::kWorkerId: absl::StrAppend(&out, call.worker_id); break;
        case Field::kRequestNumber: absl::StrAppend(&out, call.request_number); break;
        case Field::kFullyQualifiedName: out += m.fully_qualified_name; break;
        case Field::kMethodName: out += m.method_name; break;
        case Field::kServiceName: out += m.service_name; break;
        case Field::kInputName: out += m.input_name; break;
        case Field::kOutputName: out += m.output_name; break;
        case Field::kIsClientStreaming: out += m.client_streaming ? "true" : "false"; break;
        case Field::kIsServerStreaming: out += m.server_streaming ? "true" : "false"; break;
        case Field::kTimestamp: out += Rfc3339(call.timestamp); break;
        case Field::kTimestampUnix: absl::StrAppend(&out, absl::ToUnixSeconds(call.timestamp)); break;
        case Field::kTimestampUnixMilli:
          absl::StrAppend(&out, absl::ToUnixMillis(call.timestamp));
          break;
        case Field::kTimestampUnixNano:
          absl::StrAppend(&out, absl::ToUnixNanos(call.timestamp));
          break;
        case Field::kUuid: absl::StrAppend(&out, call.uuid); break;
      }
    } else if (std::holds_alternative<NewUuid>(part.what)) {
      out += RandomUuid(random);
    } else if (const auto* s = std::get_if<RandomString>(&part.what)) {
      out += Letters(s->length, random);
    } else if (const auto* r = std::get_if<RandomInt>(&part.what)) {
      // [min, max) may be wider than int64_t holds: draw the offset unsigned.
      const uint64_t span = static_cast<uint64_t>(r->max) - static_cast<uint64_t>(r->min);
      const uint64_t offset = absl::Uniform<uint64_t>(random, 0, span);
      absl::StrAppend(&out, static_cast<int64_t>(static_cast<uint64_t>(r->min) + offset));
    }
  }
  return out;
}

}  // namespace handoff::load
