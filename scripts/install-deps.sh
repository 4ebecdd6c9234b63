#!/usr/bin/env bash
# Installs everything handoff needs to build, run and test, on Debian 12:
# Debian packages only (gRPC 1.51, Protobuf 3.21, Abseil, Asio, GoogleTest,
# Google Benchmark, gperftools' tcmalloc, ...). The Node interop test's npm
# packages are installed by that test itself, into the build tree, from
# tests/interop's lockfile; the Go interop test is built from the Debian Go
# packages below (GOPATH mode, offline), also by the test itself.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
PACKAGES=(
  build-essential cmake ccache pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev libprotoc-dev protobuf-compiler
  libssl-dev  # client/cli: a --cert and --key checked as a pair (common/key_pair.h)
  libabsl-dev libasio-dev libgtest-dev libgmock-dev libbenchmark-dev
  libgoogle-perftools-dev
  nghttp2-client libnghttp2-dev python3 python3-grpcio python3-protobuf python3-yaml
  nginx-light systemd curl procps dpkg-dev file
  time bc  # deploy/ghz/compare_h2load.sh: /usr/bin/time, bc
  # interop_go: go, grpc-go, protoc-gen-go with plugins=grpc (golang/protobuf 1.3)
  golang-go golang-google-grpc-dev golang-goprotobuf-dev
)
# Node.js for the interop test: Debian's, unless a node with npm is already on
# PATH (some images ship their own build, which Debian's npm would conflict with).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  PACKAGES+=(nodejs npm)
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  # Through env: sudo resets the environment, DEBIAN_FRONTEND with it.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
fi
