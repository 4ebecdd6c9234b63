// Copyright 2026 The handoff Authors.
//
// request_head.h's rules, each function called directly on a table of
// inputs named for the RFC 9112 (or RFC 3986, RFC 9110) rule they check.
// AdminHttpTest checks the same rules end to end, over a socket; these
// tables are where a new input for a rule goes.

#include "server/request_head.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace handoff {
namespace {

// A request line as the admin port hands it to RefuseMalformed: split at
// each space.
std::optional<HttpResponse> RefuseLine(absl::string_view line) {
  return RefuseMalformed(absl::StrSplit(line, ' '));
}

// What a head gets from RefuseBadFields, for the version its request line
// names.
std::optional<HttpResponse> RefuseHead(absl::string_view head) {
  const absl::string_view line = head.substr(0, head.find_first_of("\r\n"));
  const std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  return RefuseBadFields(head, parts.back());
}

// A refusal: the status, and a word of the body that names the rule.
struct Refusal {
  int status;
  const char* says;
};

void ExpectRefused(const std::optional<HttpResponse>& got, const Refusal& want,
                   absl::string_view input) {
  ASSERT_TRUE(got.has_value()) << absl::CHexEscape(input) << " was not refused";
  EXPECT_EQ(got->status, want.status) << absl::CHexEscape(input) << "\n" << got->body;
  EXPECT_TRUE(absl::StrContains(got->body, want.says))
      << absl::CHexEscape(input) << " does not say \"" << want.says << "\":\n"
      << got->body;
}

void ExpectServed(const std::optional<HttpResponse>& got, absl::string_view input) {
  EXPECT_FALSE(got.has_value()) << absl::CHexEscape(input) << " was refused " << got->status << ": "
                                << got->body;
}

// RFC 9112 §2.2: a server should ignore at least one empty line (CRLF, or a
// bare LF, which it may take for a line's end) before the request line.
TEST(RequestHeadTest, FromRequestLineSkipsTheEmptyLinesBeforeIt) {
  const struct {
    const char* rule;
    const char* head;
    const char* from;
  } kCases[] = {
      {"no empty line", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"one CRLF", "\r\nGET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\n"},
      {"a bare LF", "\nGET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\n"},
      {"several, mixed", "\r\n\n\r\nGET / HTTP/1.1\n", "GET / HTTP/1.1\n"},
      {"nothing but empty lines", "\r\n\r\n", ""},
      {"a line of a space is not empty", " \r\nGET / HTTP/1.1\r\n", " \r\nGET / HTTP/1.1\r\n"},
      {"a bare CR is not a line end", "\rGET / HTTP/1.1\r\n", "\rGET / HTTP/1.1\r\n"},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(FromRequestLine(c.head), c.from) << c.rule << ": " << absl::CHexEscape(c.head);
  }
}

// RFC 9112 §3.2.1 origin-form is a path and an optional query; §3.2.2
// absolute-form an absolute URI, whose path is what is routed, "/" if it has
// none. The query is never the path's.
TEST(RequestHeadTest, TargetPathIsTheTargetsPathWithoutItsQuery) {
  const struct {
    const char* rule;
    const char* target;
    const char* path;
  } kCases[] = {
      {"origin-form", "/healthz", "/healthz"},
      {"origin-form root", "/", "/"},
      {"origin-form with a query", "/healthz?verbose", "/healthz"},
      {"an empty query", "/healthz?", "/healthz"},
      {"a query that looks like a URL", "/healthz?u=http://x/y", "/healthz"},
      {"a path holding :// is origin-form", "/a://b", "/a://b"},
      {"absolute-form", "http://x/healthz", "/healthz"},
      {"absolute-form with a port and query", "http://127.0.0.1:9090/healthz?v", "/healthz"},
      {"absolute-form, IPv6 authority", "http://[::1]:9090/metrics", "/metrics"},
      {"absolute-form without a path is /", "http://x:1", "/"},
      {"absolute-form with a query, no path, is /", "http://x?y=/z", "/"},
      {"absolute-form, path /", "http://x/", "/"},
      {"asterisk-form is left as it is", "*", "*"},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(TargetPath(c.target), c.path) << c.rule << ": " << c.target;
  }
}

// RFC 3986 §6.2.2.2: an escape of an unreserved character (§2.3) is that
// character; §6.2.2.1: the others stay escapes, their hex upper case; §2.1:
// '%' not followed by two hex digits is no URI.
TEST(RequestHeadTest, NormalizeEscapesDecodesUnreservedAndUppercasesTheRest) {
  const struct {
    const char* rule;
    const char* path;
    const char* normal;
  } kCases[] = {
      {"no escapes", "/metrics", "/metrics"},
      {"an escaped letter is the letter", "/%6Detrics", "/metrics"},
      {"lower-case hex is the same escape", "/%6detrics", "/metrics"},
      {"every unreserved class", "/%41%7a%30%2D%2E%5F%7E", "/Az0-._~"},
      {"an escaped '/' is data, not a separator", "/a%2fb", "/a%2Fb"},
      {"an escaped '?' does not start a query", "/healthz%3f", "/healthz%3F"},
      {"an escaped '%' stays one", "/%25zz", "/%25zz"},
      {"space and NUL stay escaped", "/a%20b%00", "/a%20b%00"},
      {"a byte over 0x7f stays escaped", "/%c3%a9", "/%C3%A9"},
      {"an escape at the very end", "/healthz%2e", "/healthz."},
      {"empty", "", ""},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(NormalizeEscapes(c.path), std::optional<std::string>(c.normal))
        << c.rule << ": " << c.path;
  }
  const struct {
    const char* rule;
    const char* path;
  } kMalformed[] = {
      {"not hex", "/%zz"},
      {"a '%' at the end", "/healthz%"},
      {"one hex digit at the end", "/healthz%4"},
      {"the first digit not hex", "/%g0"},
      {"the second digit not hex", "/%0g"},
      {"a '%' escaping nothing before an escape", "/%%41"},
      {"a lone '%'", "%"},
  };
  for (const auto& c : kMalformed) {
    EXPECT_EQ(NormalizeEscapes(c.path), std::nullopt) << c.rule << ": " << c.path;
  }
}

// RFC 9112 §3: request-line = method SP request-target SP HTTP-version,
// with one space each, the method a token (RFC 9110 §9.1), §2.3's version
// "HTTP/" DIGIT "." DIGIT, and §3.2's four target forms.
TEST(RequestHeadTest, RefuseMalformedServesAWellFormedRequestLine) {
  const struct {
    const char* rule;
    const char* line;
  } kCases[] = {
      {"origin-form, HTTP/1.1", "GET /metrics HTTP/1.1"},
      {"HTTP/1.0", "HEAD /healthz HTTP/1.0"},
      {"any 1.x minor version", "GET /healthz HTTP/1.9"},
      {"absolute-form", "GET http://x:9090/healthz?v HTTP/1.1"},
      {"absolute-form, the scheme in upper case", "GET HTTP://x/healthz HTTP/1.1"},
      {"absolute-form, the scheme in mixed case", "GET hTtP://x/healthz HTTP/1.1"},
      {"asterisk-form for OPTIONS (refused 405 after)", "OPTIONS * HTTP/1.1"},
      {"a token this port does not serve (405 after)", "PATCH /healthz HTTP/1.1"},
      {"every tchar is a method's", "X!#$%&'*+.^_`|~9 / HTTP/1.1"},
      {"every pchar and '/' is a path's", "GET /a-._~!$&'()*+,;=:@/b HTTP/1.1"},
      {"a '%' is NormalizeEscapes's to judge", "GET /%zz HTTP/1.1"},
      {"the query may hold what no path may",
       "GET /federate?match[]={job=\"x\"}&a<b>|^`\\#\x80 HTTP/1.1"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.rule);
    ExpectServed(RefuseLine(c.line), c.line);
  }
}

TEST(RequestHeadTest, RefuseMalformedRefusesALineThatIsNotMethodTargetVersion) {
  const Refusal k400{400, "request line"};
  const Refusal k505{505, "HTTP/1.1"};
  const struct {
    const char* rule;
    const char* line;
    Refusal want;
  } kCases[] = {
      // §3: three parts, one space apart.
      {"no version", "GET /healthz", k400},
      {"a word after the version", "GET /healthz HTTP/1.1 extra", k400},
      {"two spaces", "GET  /healthz HTTP/1.1", k400},
      {"a space before the method", " GET /healthz HTTP/1.1", k400},
      {"a trailing space", "GET /healthz HTTP/1.1 ", k400},
      {"one word", "nonsense", k400},
      {"nothing", "", k400},
      // RFC 9110 §9.1: the method is a token.
      {"a method with '('", "G(T /healthz HTTP/1.1", k400},
      {"a method with '\"'", "GE\"T /healthz HTTP/1.1", k400},
      {"a method with '@'", "G@T /healthz HTTP/1.1", k400},
      {"a method with ':'", "GET: /healthz HTTP/1.1", k400},
      {"a method with a byte over 0x7f", "G\xc3\x89T /healthz HTTP/1.1", k400},
      // §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive.
      {"another protocol's name", "GET /healthz FOO/1.1", k400},
      {"the name in lower case", "GET /healthz http/1.1", k400},
      {"two minor digits", "GET /healthz HTTP/1.10", k400},
      {"no dot", "GET /healthz HTTP/11", k400},
      {"a comma for the dot", "GET /healthz HTTP/1,1", k400},
      {"a minor that is not a digit", "GET /healthz HTTP/1.x", k400},
      {"a major that is not a digit", "GET /healthz HTTP/x.1", k400},
      // §2.3: another major version is 505.
      {"HTTP/2.0", "GET /healthz HTTP/2.0", k505},
      {"the HTTP/2 preface", "PRI * HTTP/2.0", k505},
      {"HTTP/0.9", "GET /healthz HTTP/0.9", k505},
      {"HTTP/3.0", "GET /healthz HTTP/3.0", k505},
      // §3.2: a target is a path, an absolute URI, or OPTIONS's '*'.
      {"a relative path", "GET healthz HTTP/1.1", k400},
      {"'*' for GET", "GET * HTTP/1.1", k400},
      {"'*' for HEAD", "HEAD * HTTP/1.1", k400},
      {"no scheme before ://", "GET ://x/healthz HTTP/1.1", k400},
      {"a scheme starting with a digit", "GET 1http://x/ HTTP/1.1", k400},
      {"a scheme with '_'", "GET ht_tp://x/ HTTP/1.1", k400},
      {"a scheme without //", "GET http:/healthz HTTP/1.1", k400},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.rule);
    ExpectRefused(RefuseLine(c.line), c.want, c.line);
  }
}

// The admin port speaks http only: an absolute-form target's scheme is http
// or https, in any case (RFC 3986 §3.1). Any scheme was served:
// `GET foo://x/healthz` got 200.
TEST(RequestHeadTest, RefuseMalformedRefusesAnAbsoluteFormTargetWhoseSchemeIsNotHttp) {
  const struct {
    const char* rule;
    const char* target;
  } kCases[] = {
      {"another scheme", "foo://x/healthz"},
      {"ftp", "ftp://x/healthz"},
      {"ws", "ws://x/healthz"},
      {"a scheme of letters, digits, + - .", "a1+b-c.d://x/"},
      {"http with a suffix", "httpx://x/healthz"},
      {"http with a prefix", "xhttp://x/healthz"},
      {"a prefix of http", "htt://x/healthz"},
      {"http with a '+'", "http+unix://x/healthz"},
      {"another scheme, an authority with an empty host", "foo:///healthz"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.rule);
    const std::string line = absl::StrCat("GET ", c.target, " HTTP/1.1");
    ExpectRefused(RefuseLine(line), {400, "scheme"}, line);
  }
}

// RFC 9110 §4.2.2 and §7.4: a request for an https resource must be
// rejected unless it came over a secured connection, and the admin port is
// plain http; §15.5.20: 421 Misdirected Request is for a target the server
// will not answer for. `GET https://x/healthz` was served as if it were http.
// A malformed one is still 400, for what is malformed.
TEST(RequestHeadTest, RefuseMalformedAnswersAnHttpsTarget421) {
  const struct {
    const char* rule;
    const char* target;
  } kCases[] = {
      {"https", "https://x/healthz"},
      {"the scheme in upper case", "HTTPS://x/healthz"},
      {"the scheme in mixed case", "hTtPs://x/healthz"},
      {"a port and a query", "https://127.0.0.1:9090/metrics?x"},
      {"no path", "https://x"},
      {"an IPv6 literal", "https://[::1]:9090/readyz"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.rule);
    const std::string line = absl::StrCat("GET ", c.target, " HTTP/1.1");
    ExpectRefused(RefuseLine(line), {421, "https"}, line);
  }
  ExpectRefused(RefuseLine("GET https://a<b/healthz HTTP/1.1"), {400, "authority"},
                "a malformed https authority");
  ExpectRefused(RefuseLine("GET https://x/a<b HTTP/1.1"), {400, "target"},
                "a malformed https path");
  ExpectRefused(RefuseLine("GET https://x/healthz HTTP/2.0"), {505, "HTTP/1.1"},
                "an https target over another version");
}

// RFC 3986 §3.3: a path is segments of pchar and '/'; RFC 9112 §2.2 and §3:
// no request line holds a control character, query or not.
TEST(RequestHeadTest, RefuseMalformedRefusesATargetWithACharacterNoUriHolds) {
  const struct {
    const char* rule;
    const char* target;
  } kCases[] = {
      {"'<' in the path", "/a<b"},
      {"'>' in the path", "/a>b"},
      {"'\"' in the path", "/a\"b"},
      {"braces in the path", "/a{b}"},
      {"'|' in the path", "/a|b"},
      {"'\\' in the path", "/a\\b"},
      {"'^' in the path", "/a^b"},
      {"'`' in the path", "/a`b"},
      {"brackets in the path", "/a[0]"},
      {"a fragment", "/a#b"},
      {"a byte over 0x7f in the path", "/healthz\x80"},
      {"an absolute-form path's character", "http://x/a<b"},
      {"a tab in the path", "/a\tb"},
      {"a CR in the query", "/healthz?a\rb"},
      {"a tab in the query", "/healthz?a\tb"},
      {"DEL in the query", "/healthz?a\x7f"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.rule);
    const std::string line = absl::StrCat("GET ", c.target, " HTTP/1.1");
    ExpectRefused(RefuseLine(line), {400, "target"}, line);
  }
}

// RFC 9112 §3.2.2: an absolute-form target's authority is uri-host
// [":" port], as a Host value is (RFC 9110 §4.2.1 and §4.2.4: no userinfo).
// Only the path was read: `GET http://a<b/healthz` was served. Its host may
// not be empty (RFC 9110 §4.2.1), as a Host value's may: `GET http:///healthz`
// and `GET http://:80/healthz` were served.
TEST(RequestHeadTest, RefuseMalformedRefusesAnAbsoluteFormAuthorityThatIsNotAHostAndPort) {
  const struct {
    const char* rule;
    const char* target;
  } kBad[] = {
      {"'<' in the host", "http://a<b/healthz"},
      {"'\"' in the host", "http://a\"b/healthz"},
      {"userinfo", "http://user@x/healthz"},
      {"userinfo and password", "http://user:pw@x/healthz"},
      {"a port that is not digits", "http://x:abc/healthz"},
      {"a port over 65535", "http://x:99999/healthz"},
      {"two ports", "http://x:1:2/healthz"},
      {"an unclosed IP-literal", "http://[::1/healthz"},
      {"an IP-literal that is no IPv6 address", "http://[zz]:80/healthz"},
      {"an unbracketed IPv6 address", "http://::1/healthz"},
      {"a malformed escape", "http://%zz/healthz"},
      {"a fragment in the authority", "http://x#y/healthz"},
      {"a bad authority without a path", "http://a<b"},
      {"a bad authority before a query", "http://a<b?x"},
      // RFC 9110 §4.2.1: an http URI with an empty host is invalid, and a
      // recipient must reject it; a Host value may be empty, an authority not.
      {"an empty authority", "http:///healthz"},
      {"an empty host and a port", "http://:80/healthz"},
      {"an empty host and an empty port", "http://:/healthz"},
      {"an empty authority without a path", "http://"},
      {"an empty authority before a query", "http://?x"},
      {"an https URI with an empty host", "https:///healthz"},
  };
  for (const auto& c : kBad) {
    SCOPED_TRACE(c.rule);
    const std::string line = absl::StrCat("GET ", c.target, " HTTP/1.1");
    ExpectRefused(RefuseLine(line), {400, "authority"}, line);
  }
  const struct {
    const char* rule;
    const char* target;
  } kGood[] = {
      {"a name", "http://x/healthz"},
      {"a name and port", "http://localhost:9090/healthz"},
      {"an empty port", "http://x:/healthz"},
      {"an IPv4 address and port", "http://127.0.0.1:9090/metrics"},
      {"an IPv6 literal and port", "http://[::1]:9090/metrics"},
      {"no path", "http://x:1"},
      {"a query and no path", "http://x?a<b"},
  };
  for (const auto& c : kGood) {
    SCOPED_TRACE(c.rule);
    const std::string line = absl::StrCat("GET ", c.target, " HTTP/1.1");
    ExpectServed(RefuseLine(line), line);
  }
}

// RFC 9112 §2.2, §3.2 and §5, RFC 9110 §5.1 and §5.6: what a head's field
// lines may be.
TEST(RequestHeadTest, RefuseBadFieldsServesWellFormedFields) {
  const struct {
    const char* rule;
    const char* head;
  } kCases[] = {
      {"one Host", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"lines ended by a bare LF (§2.2)", "GET / HTTP/1.1\nHost: x\n\n"},
      {"Host's name in any case, no space after the colon",
       "GET / HTTP/1.1\r\nhOsT:x:9090\r\n\r\n"},
      {"an empty Host (RFC 9110 §7.2)", "GET / HTTP/1.1\r\nAccept: */*\r\nHost:\r\n\r\n"},
      {"OWS around the value (RFC 9110 §5.6.3)", "GET / HTTP/1.1\r\nHost: \t x \t\r\n\r\n"},
      {"HTTP/1.0 may leave Host out", "GET / HTTP/1.0\r\n\r\n"},
      {"HTTP/1.0 with a Host", "GET / HTTP/1.0\r\nHost: x\r\n\r\n"},
      {"every tchar is a name's", "GET / HTTP/1.1\r\nHost: x\r\nX-a_b.c!#$%&'*+^`|~9: x\r\n\r\n"},
      {"a value may hold a colon", "GET / HTTP/1.1\r\nHost: x\r\nReferer: http://y:1/\r\n\r\n"},
      {"a value may hold what a name may not",
       "GET / HTTP/1.1\r\nHost: x\r\nX: (a@b) \"c\"\r\n\r\n"},
      {"a field like Host is not Host", "GET / HTTP/1.1\r\nHost: x\r\nX-Host: a b\r\n\r\n"},
      {"the head ends at its empty line", "GET / HTTP/1.1\r\nHost: x\r\n\r\nGarbage\r\n Host: y"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.rule);
    ExpectServed(RefuseHead(c.head), c.head);
  }
}

TEST(RequestHeadTest, RefuseBadFieldsRefusesAFieldLineThatBreaksARule) {
  const struct {
    const char* rule;
    const char* head;
    Refusal want;
  } kCases[] = {
      // §2.2: a CR not followed by LF is invalid.
      {"a bare CR in a value",
       "GET / HTTP/1.1\r\nHost: x\r\nX-Trace: a\rb\r\n\r\n",
       {400, "bare CR"}},
      {"a bare CR ending a value", "GET / HTTP/1.1\r\nHost: x\r\r\n\r\n", {400, "bare CR"}},
      {"a bare CR starting a Host", "GET / HTTP/1.1\r\nHost: \rx\r\n\r\n", {400, "bare CR"}},
      {"a bare CR on LF lines", "GET / HTTP/1.0\nX-Trace: a\r\r\n\n", {400, "bare CR"}},
      // §5.2 obs-fold, and §2.2 whitespace after the request line.
      {"a space-folded line", "GET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n", {400, "folded"}},
      {"a tab-folded line", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n", {400, "folded"}},
      {"a folded line that looks like a field",
       "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b: c\r\n\r\n",
       {400, "folded"}},
      {"whitespace right after the request line",
       "GET / HTTP/1.0\r\n Host: x\r\n\r\n",
       {400, "folded"}},
      // §5: a field line is name ':' value.
      {"a line with no colon", "GET / HTTP/1.1\r\nHost: x\r\nGarbage\r\n\r\n", {400, "no colon"}},
      {"a line with no colon before Host",
       "GET / HTTP/1.1\r\nGarbage\r\nHost: x\r\n\r\n",
       {400, "no colon"}},
      {"Host with a space for its colon", "GET / HTTP/1.0\r\nHost x\r\n\r\n", {400, "no colon"}},
      // §5.1: no whitespace between a name and its colon.
      {"a space before the colon",
       "GET / HTTP/1.0\r\nHost : x\r\n\r\n",
       {400, "whitespace before the colon"}},
      {"a tab before the colon",
       "GET / HTTP/1.1\r\nHost: x\r\nAccept\t: */*\r\n\r\n",
       {400, "whitespace before the colon"}},
      {"two spaces before the colon",
       "GET / HTTP/1.0\r\nX-Trace  :1\r\n\r\n",
       {400, "whitespace before the colon"}},
      // RFC 9110 §5.1: a name is a token.
      {"'(' in a name", "GET / HTTP/1.1\r\nHost: x\r\nHo(st: x\r\n\r\n", {400, "field name"}},
      {"'\"' in a name", "GET / HTTP/1.1\r\nHost: x\r\nX\"y: x\r\n\r\n", {400, "field name"}},
      {"'@' in a name", "GET / HTTP/1.1\r\nHost: x\r\nX@y: x\r\n\r\n", {400, "field name"}},
      {"'/' in a name", "GET / HTTP/1.1\r\nHost: x\r\nX/y: x\r\n\r\n", {400, "field name"}},
      {"brackets in a name", "GET / HTTP/1.1\r\nHost: x\r\nX[y]: x\r\n\r\n", {400, "field name"}},
      {"',' in a name", "GET / HTTP/1.1\r\nHost: x\r\nX,y: x\r\n\r\n", {400, "field name"}},
      {"a byte over 0x7f in a name",
       "GET / HTTP/1.1\r\nHost: x\r\nH\xc3\xb6: x\r\n\r\n",
       {400, "field name"}},
      {"an empty name", "GET / HTTP/1.1\r\nHost: x\r\n: x\r\n\r\n", {400, "field name"}},
      // §3.2: an HTTP/1.1 request has exactly one Host; any request at most one.
      {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", {400, "needs a Host"}},
      {"HTTP/1.1 without Host, LF lines", "HEAD / HTTP/1.1\n\n", {400, "needs a Host"}},
      {"X-Host is not Host", "GET / HTTP/1.1\r\nX-Host: x\r\n\r\n", {400, "needs a Host"}},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", {400, "more than one Host"}},
      {"two Hosts, the same value, another case",
       "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
       {400, "more than one Host"}},
      {"two Hosts on HTTP/1.0",
       "GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n",
       {400, "more than one Host"}},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.rule);
    ExpectRefused(RefuseHead(c.head), c.want, c.head);
  }
}

// RFC 9112 §3.2: Host = uri-host [ ":" port ], RFC 3986 §3.2.2 and §3.2.3:
// a reg-name (an IPv4 address is one) or a bracketed IP-literal, possibly
// empty, and a port of digits, possibly none; a TCP port is at most 65535.
TEST(RequestHeadTest, RefuseBadFieldsRefusesAHostThatIsNotAHostAndPort) {
  const struct {
    const char* rule;
    const char* host;
  } kGood[] = {
      {"a name", "x"},
      {"a name and port", "x:9090"},
      {"an empty port", "x:"},
      {"the highest port", "x:65535"},
      {"port 0", "x:0"},
      {"a dotted name", "my-host.example"},
      {"an IPv4 address and port", "127.0.0.1:9090"},
      {"an IPv6 literal", "[::1]"},
      {"an IPv6 literal and port", "[::1]:9090"},
      {"an IPv6 literal, empty port", "[::1]:"},
      {"an IPvFuture literal", "[v1.fe80::a+en1]"},
      {"a percent-escape in a name", "%41bc"},
      {"every sub-delim and unreserved", "a!$&'()*+,;=~_"},
      {"an empty host with a port", ":80"},
  };
  for (const auto& c : kGood) {
    SCOPED_TRACE(c.rule);
    for (const char* version : {"HTTP/1.1", "HTTP/1.0"}) {
      const std::string head = absl::StrCat("GET / ", version, "\r\nHost: ", c.host, "\r\n\r\n");
      ExpectServed(RefuseHead(head), head);
    }
  }
  const struct {
    const char* rule;
    const char* host;
  } kBad[] = {
      {"a space in the host", "a b"},
      {"userinfo", "user@x"},
      {"a port that is not digits", "x:abc"},
      {"a port over 65535", "x:99999"},
      {"a port of six digits", "x:000080"},
      {"a negative port", "x:-1"},
      {"a signed port", "x:+80"},
      {"two ports", "x:1:2"},
      {"an unclosed IP-literal", "[::1"},
      {"something after an IP-literal", "[::1]x"},
      {"an IP-literal that is no IPv6 address", "[zz]:80"},
      {"an empty IP-literal", "[]"},
      {"an IPvFuture without hex", "[v.x]"},
      {"an IPvFuture without a dot", "[v1]"},
      {"an IPvFuture with nothing after its dot", "[v1.]"},
      {"a path", "x/y"},
      {"a query", "x?"},
      {"a malformed escape", "%zz"},
      {"an escape cut short", "x%4"},
      {"an unbracketed IPv6 address", "::1"},
      {"a byte over 0x7f", "h\xc3\xb6st"},
  };
  for (const auto& c : kBad) {
    SCOPED_TRACE(c.rule);
    for (const char* version : {"HTTP/1.1", "HTTP/1.0"}) {
      const std::string head = absl::StrCat("GET / ", version, "\r\nHost: ", c.host, "\r\n\r\n");
      ExpectRefused(RefuseHead(head), {400, "not host[:port]"}, head);
    }
  }
}

}  // namespace
}  // namespace handoff
