// Copyright 2026 The handoff Authors.
//
// What RFC 9112 lets an HTTP/1.x request head hold, as the admin port
// (admin_http.h) reads it: the request line, the header fields, and the
// request target's path. A Refuse* function returns the response a head
// that breaks a rule gets (400, 505 for another major version, or 421 for
// an https target on this plain-http port), naming
// the rule, or nullopt; the port checks the request line first, then the
// fields, then routes the target's path with its escapes normalised.
#ifndef HANDOFF_SERVER_REQUEST_HEAD_H_
#define HANDOFF_SERVER_REQUEST_HEAD_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/admin_http.h"

namespace handoff {

// The path of a request target, without its query. An absolute-form target
// ("http://host:port/healthz?x"), which RFC 9112 §3.2.2 says a server must
// accept, is reduced to its path ("/healthz"), or to "/" if it has none.
absl::string_view TargetPath(absl::string_view target);

// `path` with its percent-escapes normalised as RFC 3986 §6.2.2 says, or
// nullopt if one is malformed ('%' not followed by two hex digits, §2.1).
// An escape of an unreserved character (letter, digit, '-', '.', '_', '~')
// is the same URI as the character (§2.3), so `/%6Detrics` is `/metrics`;
// any other stays an escape, its hex in upper case: `%2F` is data, not the
// '/' that separates segments, and `%3F` not the '?' that starts the query.
// Escapes were passed on as they came: `/%6Detrics` was 404, and `/%zz`,
// no URI at all, reached the routes as a path.
std::optional<std::string> NormalizeEscapes(absl::string_view path);

// A head from its request line on: RFC 9112 §2.2 says to ignore empty lines
// before it (left over from a client's previous request).
absl::string_view FromRequestLine(absl::string_view head);

// The refusal of a request line that is not RFC 9112 §3's
// "method SP request-target SP HTTP-version", or nullopt. Such a line was
// served as if it were well formed: "GET /metrics FOO/1.1", a word after
// the version, or none, all got 200, and a client that sent one learnt
// nothing of its mistake. An absolute-form target's authority must be
// uri-host [":" port] (§3.2.2), as a Host value must: `GET http://a<b/healthz`
// and `GET http://user@x/healthz` were served, their authority unread.
// Unlike a Host value's, its host may not be empty (RFC 9110 §4.2.1):
// `GET http:///healthz` and `GET http://:80/healthz` were served. Its scheme
// is http or https, in any case (RFC 3986 §3.1): this port speaks http only,
// and `GET foo://x/healthz` was served. A well-formed https target is 421
// Misdirected Request (RFC 9110 §4.2.2, §7.4, §15.5.20: an https resource
// is not served over an unsecured connection); it was served as if http.
// `parts` is the line split at each space.
std::optional<HttpResponse> RefuseMalformed(const std::vector<absl::string_view>& parts);

// The refusal of a request whose header fields break RFC 9112's rules, or
// nullopt. `head` runs from the request line to the empty line that ends
// the head; field names are case-insensitive. It is refused 400 if:
// - a line holds a CR not followed by LF (§2.2): `X: a\rb` was served, and
//   `Host: \rx` as Host x;
// - a line starts with a space or a tab: obs-fold (§5.2), or whitespace
//   after the request line (§2.2); `Host: x` then ` y`, skipped, was
//   served as Host x, where a reader that unfolds sees "x y";
// - a line is not a field, name ':' value (§5): `Garbage`, skipped, was
//   served;
// - a field name is not a token (RFC 9110 §5.1), or is empty: `Ho(st: x`
//   and `: x` were served, where another reader might take them for a
//   field this one did not see;
// - a field name is followed by whitespace before its colon (§5.1: a
//   server must reject it, since one reader would take "Host " for Host
//   and another not); `Host : x` on HTTP/1.0 was served, its Host unseen;
// - it is HTTP/1.1 and has no Host field, or has more than one (§3.2);
//   such requests were served; HTTP/1.0 may leave Host out;
// - its Host is not uri-host [":" port] (§3.2: an invalid field value is
//   400 too); `Host: a b`, `Host: user@x` and `Host: x:99999` were served.
std::optional<HttpResponse> RefuseBadFields(absl::string_view head, absl::string_view version);

}  // namespace handoff

#endif  // HANDOFF_SERVER_REQUEST_HEAD_H_
