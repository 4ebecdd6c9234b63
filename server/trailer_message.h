// Copyright 2026 The handoff Authors.
//
// TrailerMessage: a status message as it can go to a client. gRPC sends it
// in the grpc-message trailer, percent-encoded (every byte outside
// printable ASCII, and '%', takes three), and a client refuses trailers over
// its limit on headers (8 KiB in gRPC's C core and in Java) with a status of
// its own: RESOURCE_EXHAUSTED "received initial metadata size exceeds
// limit", in place of the code the server meant. Messages handoffd writes
// are short, and quote a client's text cut short (quoted_text.h); a
// handler's, or its exception's, may be anything.

#ifndef HANDOFF_SERVER_TRAILER_MESSAGE_H_
#define HANDOFF_SERVER_TRAILER_MESSAGE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace handoff {

// The most a message takes in a trailer, percent-encoded: half the client's
// limit, leaving room for the other trailers (grpc-status,
// grpc-retry-pushback-ms) and for what a proxy adds.
inline constexpr size_t kTrailerMessageBytes = 4096;

// `message` if it takes at most kTrailerMessageBytes encoded; else as much
// of it as does, cut back to a UTF-8 character's start, followed by
// "... (N bytes, cut to fit a trailer)", N being the whole message's size.
std::string TrailerMessage(absl::string_view message);

}  // namespace handoff

#endif  // HANDOFF_SERVER_TRAILER_MESSAGE_H_
