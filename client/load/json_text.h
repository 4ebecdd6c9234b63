// JSON text for the load generator's outputs: a string as a JSON literal.
#ifndef HANDOFF_CLIENT_LOAD_JSON_TEXT_H_
#define HANDOFF_CLIENT_LOAD_JSON_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace handoff::load {

// `s` as a JSON string literal, quotes included: '"' and '\' escaped, and
// control characters as \n, \r, \t or \u00XX. Well-formed UTF-8 passes as
// it is; each byte of anything else is written \ufffd, as Go's
// encoding/json (and so ghz) writes it, so that the text is always JSON.
std::string JsonQuoted(absl::string_view s);

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_JSON_TEXT_H_
