// Copyright 2026 The handoff Authors.

#include "common/key_pair.h"

#include <string>

#include <gtest/gtest.h>

#include "common/read_file.h"

namespace handoff {
namespace {

// The TLS test certificates (tests/integration/server/testdata/tls).
std::string Pem(const std::string& name) {
  absl::StatusOr<std::string> text = ReadFile(std::string(HANDOFF_TLS_TESTDATA) + "/" + name);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

TEST(KeyPairTest, ACertificatesOwnKeyIsItsPair) {
  EXPECT_EQ(CheckKeyPair(Pem("client.pem"), Pem("client.key")), KeyPair::kPair);
  EXPECT_EQ(CheckKeyPair(Pem("server.pem"), Pem("server.key")), KeyPair::kPair);
}

TEST(KeyPairTest, AnotherCertificatesKeyIsNotAPair) {
  EXPECT_EQ(CheckKeyPair(Pem("client.pem"), Pem("server.key")), KeyPair::kNotAPair);
  EXPECT_EQ(CheckKeyPair(Pem("server_rotated.pem"), Pem("server.key")), KeyPair::kNotAPair);
}

TEST(KeyPairTest, TextThatIsNoCertificateOrNoKeyIsSaidToBe) {
  // Headers alone: what the PEM check before this one lets through.
  const std::string no_cert = "-----BEGIN CERTIFICATE-----\nbm8=\n-----END CERTIFICATE-----\n";
  const std::string no_key = "-----BEGIN PRIVATE KEY-----\nbm8=\n-----END PRIVATE KEY-----\n";
  EXPECT_EQ(CheckKeyPair(no_cert, Pem("client.key")), KeyPair::kNoCertificate);
  EXPECT_EQ(CheckKeyPair(Pem("client.pem"), no_key), KeyPair::kNoKey);
  EXPECT_EQ(CheckKeyPair(Pem("client.pem"), Pem("client.pem")), KeyPair::kNoKey);
}

}  // namespace
}  // namespace handoff
