// Copyright 2026 The handoff Authors.
//
// WithTlsHint: a connection failure that reads as a TLS mismatch, with a
// hint saying so.
//
// gRPC reports a client speaking plaintext to a TLS server as "Socket
// closed" (the server hangs up at the first bytes, which are no TLS
// record), and one speaking TLS to a plaintext server as OpenSSL's "wrong
// version number" (the server's answer is no TLS record): neither names
// the likely cause. The hint is added only where the evidence is that
// pair: UNAVAILABLE, because the channel could not connect ("failed to
// connect to all addresses"; a call broken on a live connection is not
// it), with the reason that matches how the client connected. A refused
// connection, a timeout or a failed certificate check get none. The text
// matched is gRPC's (1.51); should it change, the hint is left out, never
// put wrong.
#ifndef HANDOFF_CLIENT_CLI_TLS_HINT_H_
#define HANDOFF_CLIENT_CLI_TLS_HINT_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace handoff::cli {

// `status`, of a connection made with TLS if `tls`, with "; the server may
// expect TLS: try <try_tls>" or "; the server may not speak TLS: try
// <try_plaintext>" after its message when it reads so (above); else
// `status` as it is. The code and any payloads are kept.
absl::Status WithTlsHint(bool tls, const absl::Status& status, absl::string_view try_tls,
                         absl::string_view try_plaintext);

}  // namespace handoff::cli

#endif  // HANDOFF_CLIENT_CLI_TLS_HINT_H_
