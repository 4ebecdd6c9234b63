// Copyright 2026 The handoff Authors.

#include "common/key_pair.h"

#include <memory>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/cleanup/cleanup.h"

namespace handoff {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioFree> ReadOnlyBio(absl::string_view pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// OpenSSL's default asks for a passphrase on the terminal.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

}  // namespace

KeyPair CheckKeyPair(absl::string_view cert_pem, absl::string_view key_pem) {
  // Left in the queue, an error of ours would be read by gRPC's next TLS
  // call on this thread as its own.
  absl::Cleanup clear_errors = [] { ERR_clear_error(); };
  auto cert_bio = ReadOnlyBio(cert_pem);
  std::unique_ptr<X509, X509Free> cert(
      cert_bio == nullptr ? nullptr
                          : PEM_read_bio_X509(cert_bio.get(), nullptr, NoPassphrase, nullptr));
  if (cert == nullptr) return KeyPair::kNoCertificate;
  auto key_bio = ReadOnlyBio(key_pem);
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      key_bio == nullptr
          ? nullptr
          : PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) return KeyPair::kNoKey;
  return X509_check_private_key(cert.get(), key.get()) == 1 ? KeyPair::kPair
                                                             : KeyPair::kNotAPair;
}

}  // namespace handoff
