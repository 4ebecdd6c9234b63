// JSON text for the load generator's outputs: a string as a JSON literal.
#ifndef HANDOFF_CLIENT_LOAD_JSON_TEXT_H_
#define HANDOFF_CLIENT_LOAD_JSON_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace handoff::load {

// `s` as a JSON string literal, quotes included: '"' and '\' escaped, and
// control characters as \n, \r, \t or \u00XX. Other bytes, UTF-8 included,
// pass as they are.
std::string JsonQuoted(absl::string_view s);

}  // namespace handoff::load

#endif  // HANDOFF_CLIENT_LOAD_JSON_TEXT_H_
