// JSON as ghz's Go writes it back: what encoding/json's Marshal makes of a
// value its Unmarshal read into an interface{}. ghz's InfluxDB tags carry
// the request JSON so (data=...), and a reader matching on that tag sees
// the same text for the same request only if it is written the same way.
#ifndef HANDOFF_CLIENT_LOAD_GO_JSON_H_
#define HANDOFF_CLIENT_LOAD_GO_JSON_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace handoff::load {

// `json` (one JSON value, with whitespace around it or not) written as Go
// writes it back: no whitespace; an object's keys sorted bytewise; every
// number as a float64 in Go's shortest form (1.50 is 1.5, 1e2 is 100, 1e21
// is 1e+21, 1e-7 stays 1e-7, a 21-digit integer loses what a double cannot
// hold); strings as GoQuoted writes them. nullopt if `json` is not one JSON
// value, or a number is past a double's range, as Go's Unmarshal fails;
// and, unlike Go, if an object gives a key twice or a string holds a lone
// surrogate (read by protobuf's reader of google.protobuf.Value, which
// refuses both; protobuf refuses the latter in a request too). A bare -0 is
// read as 0, where Go keeps the sign.
std::optional<std::string> GoJsonRewritten(absl::string_view json);

// A string as Go's json.Marshal writes it: JsonQuoted (common/json_text.h)
// with HtmlSafe::kAsGo.
std::string GoQuoted(absl::string_view s);

// A float64 as Go's encoding/json writes it: strconv's shortest digits that
// read back to `v`, in 'f' form (0.000026093, 200), or in 'e' form below
// 1e-6 and from 1e21, a one-digit negative exponent unpadded (1e-7, not
// 1e-07; 1e+21). `v` finite: Go refuses NaN and infinities.
std::string GoNumber(double v);

// Compact JSON `json` laid out as Go's json.Indent lays it out with no
// prefix and `indent` per level: each element and key on a line of its
// own, ": " after a key, an empty object or array kept as {} or [].
std::string GoJsonIndented(absl::string_view json, absl::string_view indent);

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_GO_JSON_H_
