// Copyright 2026 The handoff Authors.

#include "server/trailer_message.h"

#include "absl/strings/str_cat.h"
#include "server/quoted_text.h"

namespace handoff {
namespace {

// What gRPC's percent-encoding of grpc-message makes of a byte.
size_t EncodedSize(unsigned char c) {
  return c >= 0x20 && c <= 0x7e && c != '%' ? 1 : 3;
}

}  // namespace

std::string TrailerMessage(absl::string_view message) {
  size_t encoded = 0;
  for (unsigned char c : message) {
    encoded += EncodedSize(c);
    if (encoded > kTrailerMessageBytes) break;
  }
  if (encoded <= kTrailerMessageBytes) return std::string(message);
  // The note is ASCII: its size is what it takes encoded.
  const std::string note =
      absl::StrCat("... (", message.size(), " bytes, cut to fit a trailer)");
  size_t fits = 0;  // bytes of message that fit with the note after them
  for (encoded = note.size(); fits < message.size(); ++fits) {
    encoded += EncodedSize(static_cast<unsigned char>(message[fits]));
    if (encoded > kTrailerMessageBytes) break;
  }
  return absl::StrCat(CutAtCharacter(message, fits), note);
}

}  // namespace handoff
