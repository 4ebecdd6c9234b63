// Copyright 2026 The handoff Authors.
//
// KeyMatchesCertificate: whether a private key is the one a certificate was
// issued for. gRPC, given a client certificate and a key that are not a
// pair, makes no connection and says only "empty address list"; a tool that
// takes both from its flags checks them first, and names the two files.
//
// OpenSSL (which Debian's gRPC is built on) reads both, as gRPC would. A key
// protected by a passphrase is not readable: no prompt is ever shown, since
// gRPC would not prompt either.
#ifndef HANDOFF_COMMON_KEY_PAIR_H_
#define HANDOFF_COMMON_KEY_PAIR_H_

#include "absl/strings/string_view.h"

namespace handoff {

enum class KeyPair {
  kPair,           // the key is the certificate's
  kNotAPair,       // the key is another certificate's
  kNoCertificate,  // OpenSSL can read no certificate from the certificate's PEM
  kNoKey,          // nor a private key from the key's (one with a passphrase, say)
};

// Whether the private key in `key_pem` is the one whose public half the
// first certificate in `cert_pem` carries. Leaves OpenSSL's error queue of
// the calling thread empty.
KeyPair CheckKeyPair(absl::string_view cert_pem, absl::string_view key_pem);

}  // namespace handoff

#endif  // HANDOFF_COMMON_KEY_PAIR_H_
