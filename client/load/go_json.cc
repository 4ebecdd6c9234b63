#include "client/load/go_json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/json_text.h"

namespace handoff::load {
namespace {

// The length of the UTF-8 sequence `s` starts with if it is well formed,
// else 0 (the lead byte alone is then one bad byte, as Go's DecodeRune has
// it).
size_t WellFormedLength(absl::string_view s) {
  const unsigned char lead = static_cast<unsigned char>(s[0]);
  size_t n = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4;
  }
  if (n == 0 || s.size() < n || !IsUtf8(s.substr(0, n))) return 0;
  return n;
}

void AppendUtf8(std::string* out, uint32_t c) {
  if (c < 0x80) {
    *out += static_cast<char>(c);
  } else if (c < 0x800) {
    *out += static_cast<char>(0xc0 | (c >> 6));
    *out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    *out += static_cast<char>(0xe0 | (c >> 12));
    *out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    *out += static_cast<char>(0xf0 | (c >> 18));
    *out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    *out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (c & 0x3f));
  }
}

constexpr uint32_t kReplacement = 0xfffd;

// A float64 as Go's encoding/json writes it: strconv's shortest digits, in
// 'f' form, or 'e' form below 1e-6 and from 1e21 with a one-digit negative
// exponent unpadded (1e-7, not 1e-07).
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

// A recursive-descent reader of RFC 8259 JSON that writes Go's form as it
// goes; an object's members are gathered and sorted before it is written.
class Rewriter {
 public:
  explicit Rewriter(absl::string_view in) : in_(in) {}

  std::optional<std::string> Run() {
    std::string out;
    SkipSpace();
    if (!Value(&out, 0)) return std::nullopt;
    SkipSpace();
    if (pos_ != in_.size()) return std::nullopt;
    return out;
  }

 private:
  // Go's decoder refuses nesting past 10000; far less is plenty here, and
  // keeps the recursion's stack small.
  static constexpr int kMaxDepth = 1000;

  void SkipSpace() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Literal(absl::string_view word, std::string* out) {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    out->append(word.data(), word.size());
    return true;
  }

  bool Value(std::string* out, int depth) {
    if (pos_ >= in_.size() || depth > kMaxDepth) return false;
    switch (in_[pos_]) {
      case '{': return Object(out, depth);
      case '[': return Array(out, depth);
      case '"': {
        std::string s;
        if (!String(&s)) return false;
        *out += GoJsonString(s);
        return true;
      }
      case 't': return Literal("true", out);
      case 'f': return Literal("false", out);
      case 'n': return Literal("null", out);
      default: return Number(out);
    }
  }

  bool Object(std::string* out, int depth) {
    ++pos_;  // '{'
    std::map<std::string, std::string> members;  // bytewise order, as Go sorts
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == '}') {
      ++pos_;
      *out += "{}";
      return true;
    }
    while (true) {
      SkipSpace();
      if (pos_ >= in_.size() || in_[pos_] != '"') return false;
      std::string key;
      if (!String(&key)) return false;
      SkipSpace();
      if (pos_ >= in_.size() || in_[pos_] != ':') return false;
      ++pos_;
      SkipSpace();
      std::string value;
      if (!Value(&value, depth + 1)) return false;
      members[std::move(key)] = std::move(value);  // the last one given
      SkipSpace();
      if (pos_ >= in_.size()) return false;
      if (in_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (in_[pos_] != '}') return false;
      ++pos_;
      break;
    }
    *out += '{';
    *out += absl::StrJoin(members, ",", [](std::string* o, const auto& kv) {
      absl::StrAppend(o, GoJsonString(kv.first), ":", kv.second);
    });
    *out += '}';
    return true;
  }

  bool Array(std::string* out, int depth) {
    ++pos_;  // '['
    *out += '[';
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == ']') {
      ++pos_;
      *out += ']';
      return true;
    }
    while (true) {
      SkipSpace();
      if (!Value(out, depth + 1)) return false;
      SkipSpace();
      if (pos_ >= in_.size()) return false;
      if (in_[pos_] == ',') {
        ++pos_;
        *out += ',';
        continue;
      }
      if (in_[pos_] != ']') return false;
      ++pos_;
      *out += ']';
      return true;
    }
  }

  bool Number(std::string* out) {
    const size_t start = pos_;
    auto digit = [&] { return pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9'; };
    if (pos_ < in_.size() && in_[pos_] == '-') ++pos_;
    if (!digit()) return false;
    if (in_[pos_] == '0') {
      ++pos_;
    } else {
      while (digit()) ++pos_;
    }
    if (pos_ < in_.size() && in_[pos_] == '.') {
      ++pos_;
      if (!digit()) return false;
      while (digit()) ++pos_;
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
      if (!digit()) return false;
      while (digit()) ++pos_;
    }
    double v = 0;
    const char* first = in_.data() + start;
    const char* last = in_.data() + pos_;
    auto [ptr, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || ptr != last) return false;
    *out += GoNumber(v);
    return true;
  }

  bool Hex4(uint32_t* c) {
    if (pos_ + 4 > in_.size()) return false;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = in_[pos_ + k];
      v <<= 4;
      if (h >= '0' && h <= '9') {
        v |= static_cast<uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        v |= static_cast<uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        v |= static_cast<uint32_t>(h - 'A' + 10);
      } else {
        return false;
      }
    }
    pos_ += 4;
    *c = v;
    return true;
  }

  // A string's value, unescaped as Go's decoder does: a lone surrogate
  // or a byte that is not well-formed UTF-8 becomes U+FFFD.
  bool String(std::string* out) {
    ++pos_;  // '"'
    while (pos_ < in_.size()) {
      const unsigned char c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        const size_t n = WellFormedLength(in_.substr(pos_));
        if (n == 0) {
          AppendUtf8(out, kReplacement);
          ++pos_;
        } else {
          out->append(in_.data() + pos_, n);
          pos_ += n;
        }
        continue;
      }
      if (c != '\\') {
        *out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      if (++pos_ >= in_.size()) return false;
      const char e = in_[pos_++];
      switch (e) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          uint32_t u = 0;
          if (!Hex4(&u)) return false;
          if (u >= 0xd800 && u < 0xdc00) {
            // A high surrogate: with a low one after it, one character.
            uint32_t low = 0;
            const size_t save = pos_;
            if (in_.substr(pos_, 2) == "\\u" && (pos_ += 2, Hex4(&low)) && low >= 0xdc00 &&
                low < 0xe000) {
              u = 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00);
            } else {
              pos_ = save;
              u = kReplacement;
            }
          } else if (u >= 0xdc00 && u < 0xe000) {
            u = kReplacement;
          }
          AppendUtf8(out, u);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  absl::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<std::string> GoJsonRewritten(absl::string_view json) {
  return Rewriter(json).Run();
}

std::string GoJsonString(absl::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = WellFormedLength(s.substr(i));
      if (n == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      const absl::string_view seq = s.substr(i, n);
      if (seq == "\xe2\x80\xa8") {
        out += "\\u2028";
      } else if (seq == "\xe2\x80\xa9") {
        out += "\\u2029";
      } else {
        out.append(seq.data(), seq.size());
      }
      i += n;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '<':
      case '>':
      case '&': absl::StrAppendFormat(&out, "\\u%04x", c); break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

}  // namespace handoff::load
