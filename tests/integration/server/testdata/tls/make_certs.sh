#!/usr/bin/env bash
# Copyright 2026 The handoff Authors.
#
# Regenerates the TLS test files in this directory (tls_test.cc): two CAs,
# a server certificate for localhost and 127.0.0.1 signed by the first, and
# a client certificate signed by it, for mutual TLS; and a second server
# certificate and key for the same names, signed by the same CA, that a test
# rotates the first to (--tls_reload_interval); and a self-signed server
# certificate for handoff.test alone (named), which a client reaching it at
# 127.0.0.1 accepts only with ClientOptions::cname. P-256 keys, valid for a
# hundred years. These keys protect nothing: they are test data.
#
# Usage: tests/integration/server/testdata/tls/make_certs.sh   (needs openssl)
set -euo pipefail
cd "$(dirname "$0")"
DAYS=36500
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

for ca in ca other_ca; do
  key "$ca.key"
  openssl req -x509 -new -key "$ca.key" -sha256 -days $DAYS \
    -subj "/CN=handoff test $ca" -out "$ca.pem"
done

# leaf NAME CN EXTENSIONS: a certificate for NAME.key signed by ca.
leaf() {
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$TMP/$1.csr"
  printf '%s\n' "$3" >"$TMP/$1.ext"
  openssl x509 -req -in "$TMP/$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -sha256 -days $DAYS -extfile "$TMP/$1.ext" -out "$1.pem"
}
leaf server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf server_rotated localhost "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf client "handoff test client" "extendedKeyUsage=clientAuth"
key named.key
openssl req -x509 -new -key named.key -sha256 -days $DAYS -subj "/CN=handoff.test" \
  -addext "subjectAltName=DNS:handoff.test" -addext "extendedKeyUsage=serverAuth" \
  -out named.pem
rm -f ca.srl ca.key other_ca.key
