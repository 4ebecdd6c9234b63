#!/bin/sh
# Load-test handoffd with ghz when it is installed, else with the bundled
# ghz-compatible `handoff load`, from the same config file.
#
#   deploy/ghz/run.sh CONFIG [HOST:PORT] [more ghz flags...]
#   deploy/ghz/run.sh deploy/ghz/echo.json
#   deploy/ghz/run.sh deploy/ghz/work.json 127.0.0.1:50051 -O json
#
# Both tools read the config (keys: ghz's long flag names and "host"),
# use server reflection (no .proto needed), and print ghz's report.
# HANDOFF=/path/to/handoff picks the binary (default: `handoff` on PATH,
# else build/client/handoff). GHZ=0 forces `handoff load` even if ghz is
# installed. Only point this at loopback or a server you own: every run is
# bounded by the config's total or duration.
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 CONFIG [HOST:PORT] [flags...]" >&2
  exit 2
fi
config=$1
shift
if [ ! -r "$config" ]; then
  echo "$0: cannot read $config" >&2
  exit 2
fi

if [ "${GHZ:-1}" != 0 ] && command -v ghz >/dev/null 2>&1; then
  exec ghz --config "$config" "$@"
fi

handoff=${HANDOFF:-}
if [ -z "$handoff" ]; then
  if command -v handoff >/dev/null 2>&1; then
    handoff=handoff
  else
    here=$(cd "$(dirname "$0")/../.." && pwd)
    handoff=$here/build/client/handoff
  fi
fi
exec "$handoff" load --config "$config" "$@"
