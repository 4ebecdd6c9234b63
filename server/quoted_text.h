// Copyright 2026 The handoff Authors.
//
// QuotedPart: how much of a client's text (a handler's name, a method's
// path) a status message quotes. A status message travels in a trailer, and
// one over the client's limit on headers (8 KiB in gRPC's C core and in
// Java; percent-encoding can triple a byte) fails the call with another
// status than the one meant: RESOURCE_EXHAUSTED or INTERNAL.

#ifndef HANDOFF_SERVER_QUOTED_TEXT_H_
#define HANDOFF_SERVER_QUOTED_TEXT_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace handoff {

// The most of a client's text a status message quotes, in bytes.
inline constexpr size_t kQuotedBytes = 64;

// `text`, or its first `max_bytes` cut back to a UTF-8 character's start:
// a client that decodes the message as UTF-8 (Java, grpc-js) would show a
// character cut in two as a replacement character.
inline absl::string_view CutAtCharacter(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

// `text`, or its first kQuotedBytes cut at a character; whoever quotes it
// says it was cut when it is shorter than `text`.
inline absl::string_view QuotedPart(absl::string_view text) {
  return CutAtCharacter(text, kQuotedBytes);
}

}  // namespace handoff

#endif  // HANDOFF_SERVER_QUOTED_TEXT_H_
