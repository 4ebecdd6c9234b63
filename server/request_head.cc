// Copyright 2026 The handoff Authors.

#include "server/request_head.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace handoff {
namespace {

// An absolute-form target's scheme and "://" (RFC 3986 §3.1: a letter, then
// letters, digits, '+', '-' or '.').
bool HasScheme(absl::string_view target) {
  const size_t end = target.find("://");
  if (end == absl::string_view::npos || end == 0 || !absl::ascii_isalpha(target[0])) {
    return false;
  }
  return std::all_of(target.begin(), target.begin() + end, [](char c) {
    return absl::ascii_isalnum(c) || c == '+' || c == '-' || c == '.';
  });
}

// Whether `s` is an RFC 9110 §5.6.2 token, as a method and a field name must
// be: one or more of the letters, digits and !#$%&'*+-.^_`|~.
bool IsToken(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(c) ||
           absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
  });
}

// Whether `c` may appear in RFC 3986's reg-name outside a percent-escape:
// unreserved (§2.3) or sub-delims (§2.2).
bool IsRegNameChar(char c) {
  return absl::ascii_isalnum(c) ||
         absl::string_view("-._~!$&'()*+,;=").find(c) != absl::string_view::npos;
}

// Whether `value` (OWS already trimmed) is a Host field value: RFC 9112
// §3.2's uri-host [":" port], from RFC 3986 §3.2.2 and §3.2.3. The host is
// an IP-literal ("[" IPv6address or IPvFuture "]") or a reg-name (which an
// IPv4 address is too), possibly empty; the port is digits, possibly none,
// and, being a TCP port, at most 65535.
bool IsHostAndPort(absl::string_view value) {
  absl::string_view host = value;
  absl::string_view port;
  bool has_port = false;
  if (absl::StartsWith(value, "[")) {
    const size_t close = value.find(']');
    if (close == absl::string_view::npos) return false;
    host = value.substr(0, close + 1);
    absl::string_view rest = value.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return false;
      port = rest.substr(1);
      has_port = true;
    }
    const absl::string_view literal = host.substr(1, host.size() - 2);
    if (!literal.empty() && (literal[0] == 'v' || literal[0] == 'V')) {
      // IPvFuture: "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
      const size_t dot = literal.find('.');
      if (dot == absl::string_view::npos || dot < 2 || dot + 1 == literal.size()) {
        return false;
      }
      for (size_t i = 1; i < dot; ++i) {
        if (!absl::ascii_isxdigit(literal[i])) return false;
      }
      for (char c : literal.substr(dot + 1)) {
        if (!IsRegNameChar(c) && c != ':') return false;
      }
    } else {
      in6_addr ignored;
      if (inet_pton(AF_INET6, std::string(literal).c_str(), &ignored) != 1) return false;
    }
  } else {
    if (const size_t colon = value.find(':'); colon != absl::string_view::npos) {
      host = value.substr(0, colon);
      port = value.substr(colon + 1);
      has_port = true;
    }
    for (size_t i = 0; i < host.size(); ++i) {
      if (host[i] == '%') {
        if (i + 2 >= host.size() || !absl::ascii_isxdigit(host[i + 1]) ||
            !absl::ascii_isxdigit(host[i + 2])) {
          return false;
        }
        i += 2;
      } else if (!IsRegNameChar(host[i])) {
        return false;
      }
    }
  }
  if (!has_port || port.empty()) return true;
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), absl::ascii_isdigit)) {
    return false;
  }
  int number = 0;
  return absl::SimpleAtoi(port, &number) && number <= 65535;
}

}  // namespace

absl::string_view TargetPath(absl::string_view target) {
  if (size_t scheme_end = target.find("://");
      !absl::StartsWith(target, "/") && scheme_end != absl::string_view::npos) {
    absl::string_view rest = target.substr(scheme_end + 3);
    target = rest.substr(std::min(rest.find_first_of("/?"), rest.size()));
    if (target.empty() || target[0] == '?') return "/";
  }
  return target.substr(0, target.find('?'));
}

std::optional<std::string> NormalizeEscapes(absl::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out += path[i];
      continue;
    }
    if (i + 2 >= path.size() || !absl::ascii_isxdigit(path[i + 1]) ||
        !absl::ascii_isxdigit(path[i + 2])) {
      return std::nullopt;
    }
    const auto hex = [](char c) {
      return absl::ascii_isdigit(c) ? c - '0' : absl::ascii_tolower(c) - 'a' + 10;
    };
    const char c = static_cast<char>(hex(path[i + 1]) * 16 + hex(path[i + 2]));
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += absl::ascii_toupper(path[i + 1]);
      out += absl::ascii_toupper(path[i + 2]);
    }
    i += 2;
  }
  return out;
}

absl::string_view FromRequestLine(absl::string_view head) {
  while (absl::ConsumePrefix(&head, "\n") || absl::ConsumePrefix(&head, "\r\n")) {
  }
  return head;
}

std::optional<HttpResponse> RefuseMalformed(const std::vector<absl::string_view>& parts) {
  static constexpr char kWant[] =
      "bad request line: want METHOD, a space, a path or absolute URL, a "
      "space and HTTP/1.1, as in GET /metrics HTTP/1.1\n";
  // A method that is not a token (`G(T`) was answered 405, as if it were a
  // method this server does not serve.
  if (parts.size() != 3 || !IsToken(parts[0]) || parts[1].empty()) {
    return HttpResponse{400, "text/plain", kWant};
  }
  // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (§2.3).
  const absl::string_view version = parts[2];
  if (version.size() != 8 || !absl::StartsWith(version, "HTTP/") ||
      !absl::ascii_isdigit(version[5]) || version[6] != '.' || !absl::ascii_isdigit(version[7])) {
    return HttpResponse{400, "text/plain", kWant};
  }
  if (version[5] != '1') {
    return HttpResponse{505, "text/plain", "this port speaks HTTP/1.1 (and 1.0) only\n"};
  }
  // "*" is OPTIONS's alone, and OPTIONS is refused 405 after this.
  const absl::string_view target = parts[1];
  if (target[0] != '/' && !HasScheme(target) &&
      !(target == "*" && parts[0] != "GET" && parts[0] != "HEAD")) {
    return HttpResponse{400, "text/plain", kWant};
  }
  // The port speaks http only: an absolute-form target's scheme, which is
  // case-insensitive (RFC 3986 §3.1), is http or https. Any well-formed
  // scheme was served: `GET foo://x/healthz` got 200.
  if (target[0] != '/' && target != "*") {
    const absl::string_view scheme = target.substr(0, target.find("://"));
    if (!absl::EqualsIgnoreCase(scheme, "http") && !absl::EqualsIgnoreCase(scheme, "https")) {
      return HttpResponse{400, "text/plain",
                          "bad request: the request target's scheme is not http "
                          "(this port speaks http only)\n"};
    }
  }
  // An absolute-form target's authority is uri-host [":" port] (§3.2.2), as
  // Host's value is; userinfo is not (RFC 9110 §4.2.4 says to treat it as an
  // error). Only the path was read: `GET http://a<b/healthz` was served.
  // Unlike Host's, its host may not be empty: RFC 9110 §4.2.1 says a
  // recipient must reject an http URI with an empty host as invalid, and
  // `GET http:///healthz` and `GET http://:80/healthz` were served.
  if (target[0] != '/' && target != "*") {
    const absl::string_view rest = target.substr(target.find("://") + 3);
    const absl::string_view authority = rest.substr(0, rest.find_first_of("/?"));
    if (authority.empty() || authority[0] == ':' || !IsHostAndPort(authority)) {
      return HttpResponse{400, "text/plain",
                          "bad request: the request target's authority is not "
                          "host[:port] with a host (RFC 9112 section 3.2.2, RFC "
                          "9110 section 4.2.1)\n"};
    }
  }
  // The path is RFC 3986 §3.3's segments: pchar and '/' (a '%' is judged
  // with its escape later, NormalizeEscapes). `GET /a<b` was served.
  // The query is never read, and Prometheus federation sends its
  // `?match[]=` brackets raw: it is refused only a control character, a
  // CR or a tab (RFC 9112 §2.2, §3), which no request line holds.
  if (target != "*") {
    const absl::string_view path = TargetPath(target);
    const bool path_ok = std::all_of(path.begin(), path.end(), [](char c) {
      return absl::ascii_isalnum(c) ||
             absl::string_view("-._~!$&'()*+,;=:@/%").find(c) != absl::string_view::npos;
    });
    const bool query_ok = std::none_of(target.begin(), target.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u < 0x20 || u == 0x7f;
    });
    if (!path_ok || !query_ok) {
      return HttpResponse{400, "text/plain",
                          "bad request: a character no request target may hold (a path is "
                          "letters, digits, -._~!$&'()*+,;=:@/ and %-escapes, RFC 3986 "
                          "section 3.3; no control character anywhere)\n"};
    }
  }
  // RFC 9110 §4.2.2 and §7.4: a request for an https resource must be
  // rejected unless it came over a secured connection, and this port is
  // plain http; 421 (§15.5.20) says the server will not answer for that
  // target. It was served as if http: a client that asked for TLS got a
  // 200 over plaintext. Last, so that a malformed one is 400 for its fault.
  if (target != "*" && target[0] != '/' &&
      absl::EqualsIgnoreCase(target.substr(0, target.find("://")), "https")) {
    return HttpResponse{421, "text/plain",
                        "misdirected request: an https target, and this port is "
                        "plain http, not TLS (RFC 9110 section 7.4)\n"};
  }
  return std::nullopt;
}

std::optional<HttpResponse> RefuseBadFields(absl::string_view head, absl::string_view version) {
  int hosts = 0;
  std::vector<absl::string_view> lines = absl::StrSplit(head, '\n');
  for (size_t i = 1; i < lines.size(); ++i) {  // after the request line
    absl::string_view line = lines[i];
    absl::ConsumeSuffix(&line, "\r");
    if (line.empty()) break;  // the end of the head
    // §2.2: a bare CR must be taken as invalid or replaced with a space; it
    // was stripped off a Host value as if it were whitespace around it.
    if (line.find('\r') != absl::string_view::npos) {
      return HttpResponse{400, "text/plain",
                          "bad request: a bare CR (not followed by LF) in a header "
                          "line (RFC 9112 section 2.2)\n"};
    }
    // obs-fold (§5.2): a server must reject it or unfold it, and rejecting
    // spares a second meaning for `Host: x` folded onto ` y`. A line right
    // after the request line that starts so is refused too (§2.2).
    if (line[0] == ' ' || line[0] == '\t') {
      return HttpResponse{400, "text/plain",
                          "bad request: a header line that starts with whitespace "
                          "(obs-fold, a field folded onto the next line; RFC "
                          "9112 section 5.2)\n"};
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) {
      return HttpResponse{400, "text/plain",
                          "bad request: a header line with no colon (want name: "
                          "value, RFC 9112 section 5)\n"};
    }
    const absl::string_view name = line.substr(0, colon);
    if (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
      return HttpResponse{400, "text/plain",
                          "bad request: whitespace before the colon of a header "
                          "field (RFC 9112 section 5.1)\n"};
    }
    if (!IsToken(name)) {
      return HttpResponse{400, "text/plain",
                          "bad request: a header field name that is not a token "
                          "(letters, digits and !#$%&'*+-.^_`|~; RFC 9110 "
                          "section 5.1)\n"};
    }
    if (!absl::EqualsIgnoreCase(name, "host")) continue;
    ++hosts;
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (!IsHostAndPort(value)) {
      return HttpResponse{400, "text/plain",
                          "bad request: the Host header field is not host[:port] "
                          "(RFC 9112 section 3.2)\n"};
    }
  }
  if (hosts > 1) {
    return HttpResponse{400, "text/plain", "bad request: more than one Host header field\n"};
  }
  if (hosts == 0 && version != "HTTP/1.0") {
    return HttpResponse{400, "text/plain",
                        "bad request: an HTTP/1.1 request needs a Host header "
                        "field (RFC 9112 section 3.2)\n"};
  }
  return std::nullopt;
}

}  // namespace handoff
