// Copyright 2026 The handoff Authors.
//
// WithTlsHint: a connection failure that reads as a TLS mismatch, with a
// hint saying so.
//
// gRPC reports a client speaking plaintext to a TLS server as "Socket
// closed" (the server hangs up at the first bytes, which are no TLS
// record), and one speaking TLS to a plaintext server as OpenSSL's "wrong
// version number" (the server's answer is no TLS record): neither names
// the likely cause. A server that requires a client certificate (mutual
// TLS) closes the connection of a TLS client that showed none, and gRPC
// 1.51 reports that as "Socket closed" too. The hint is added only where
// the evidence is one of these: UNAVAILABLE, because the channel could
// not connect ("failed to connect to all addresses"; a call broken on a
// live connection is not it), with the reason that matches how the client
// connected (plaintext, TLS, TLS without a client certificate). A refused
// connection, a timeout, a failed certificate check or a TLS client with a
// certificate whose connection is closed get none. The text
// matched is gRPC's (1.51); should it change, the hint is left out, never
// put wrong.
#ifndef HANDOFF_CLIENT_CLI_TLS_HINT_H_
#define HANDOFF_CLIENT_CLI_TLS_HINT_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace handoff::cli {

// The command's own words for what to try, each after "try ".
struct TlsHintFlags {
  absl::string_view try_tls;          // "--tls (or --cacert with its CA)"
  absl::string_view try_plaintext;    // "plaintext (no --tls, ...)"
  absl::string_view try_client_cert;  // "--cert and --key"
};

// `status`, of a connection made with TLS if `tls`, showing a client
// certificate if `client_cert`, with "; the server may expect TLS: try
// <try_tls>", "; the server may not speak TLS: try <try_plaintext>" or
// "; the server may require a client certificate: try <try_client_cert>"
// after its message when it reads so (above); else `status` as it is. The
// code and any payloads are kept.
absl::Status WithTlsHint(bool tls, bool client_cert, const absl::Status& status,
                         const TlsHintFlags& flags);

}  // namespace handoff::cli

#endif  // HANDOFF_CLIENT_CLI_TLS_HINT_H_
