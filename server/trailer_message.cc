// Copyright 2026 The handoff Authors.

#include "server/trailer_message.h"

#include "absl/strings/str_cat.h"

namespace handoff {
namespace {

// What gRPC's percent-encoding of grpc-message makes of a byte.
size_t EncodedSize(unsigned char c) {
  return c >= 0x20 && c <= 0x7e && c != '%' ? 1 : 3;
}

}  // namespace

std::string TrailerMessage(absl::string_view message) {
  size_t encoded = 0;
  size_t fits = 0;  // bytes of message that fit with the note after them
  // The note is ASCII: its size is what it takes encoded.
  const std::string note =
      absl::StrCat("... (", message.size(), " bytes, cut to fit a trailer)");
  for (size_t i = 0; i < message.size(); ++i) {
    encoded += EncodedSize(static_cast<unsigned char>(message[i]));
    if (encoded + note.size() <= kTrailerMessageBytes) fits = i + 1;
    if (encoded > kTrailerMessageBytes) break;
  }
  if (encoded <= kTrailerMessageBytes) return std::string(message);
  // Not inside a character: a client decoding the message as UTF-8 (Java,
  // grpc-js) would show the broken one as a replacement character.
  while (fits > 0 &&
         (static_cast<unsigned char>(message[fits]) & 0xC0) == 0x80) {
    --fits;
  }
  return absl::StrCat(message.substr(0, fits), note);
}

}  // namespace handoff
