// A string as a JSON literal, for what handoff writes as JSON by hand: the
// load generator's reports and handoffd's access log.
#ifndef HANDOFF_COMMON_JSON_TEXT_H_
#define HANDOFF_COMMON_JSON_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace handoff {

// Whether JsonQuoted escapes what HTML would read: '<', '>', '&', U+2028 and
// U+2029 as \u escapes, as Go's json.Marshal does by default. A reader
// that matches text Go wrote (ghz's InfluxDB tags) needs them; a person
// reading a log does not.
enum class HtmlSafe { kNo, kAsGo };

// `s` as a JSON string literal, quotes included: '"' and '\' escaped, and
// control characters as \b, \f, \n, \r, \t or \u00XX. Well-formed UTF-8
// passes as it is; each byte of anything else is written \ufffd, as Go's
// encoding/json (and so ghz) writes it, so that the text is always JSON.
std::string JsonQuoted(absl::string_view s, HtmlSafe html = HtmlSafe::kNo);

// Whether `s` is well-formed UTF-8 throughout (RFC 3629: no overlong forms,
// no surrogates, nothing past U+10FFFF): what JsonQuoted passes unchanged,
// and what protobuf accepts in a proto3 string field.
bool IsUtf8(absl::string_view s);

}  // namespace handoff

#endif  // HANDOFF_COMMON_JSON_TEXT_H_
