#!/bin/bash
# Builds the Debian package with CPack and checks what is in it.
# Usage: check_deb.sh BUILD_DIR WORKDIR
set -euo pipefail
build=$1 work=$2
config=$build/CPackConfig.cmake
[[ -f $config ]] || {
  echo "FAIL: $config missing: the top-level CMakeLists.txt must include(cmake/Packaging.cmake)"
  exit 1; }
rm -rf "$work" && mkdir -p "$work"
cpack -G DEB --config "$config" -B "$work" > "$work/cpack.log" 2>&1 || {
  cat "$work/cpack.log"; echo "FAIL: cpack -G DEB"; exit 1; }
shopt -s nullglob
debs=("$work"/handoff_*.deb)
[[ ${#debs[@]} -eq 1 ]] || { echo "FAIL: expected one handoff_*.deb in $work"; exit 1; }
deb=${debs[0]}
echo "== $deb"
dpkg-deb --info "$deb"
dpkg-deb --contents "$deb" | tee "$work/contents.txt"

fail=0
want() { if ! "$@" >/dev/null; then echo "FAIL: $*"; fail=1; else echo "ok: $*"; fi; }
for path in ./usr/bin/handoffd ./usr/bin/handoff \
            ./usr/lib/systemd/system/handoffd.service ./etc/handoff/handoffd.conf; do
  want grep -Eq " ${path//./\\.}\$" "$work/contents.txt"
done
want grep -Eq '^-rwxr-xr-x root/root .* \./usr/bin/handoffd$' "$work/contents.txt"
[[ $(dpkg-deb --field "$deb" Package) == handoff ]] || { echo "FAIL: Package: handoff"; fail=1; }
depends=$(dpkg-deb --field "$deb" Depends)
echo "Depends: $depends"
# dpkg-shlibdeps found the Debian runtime libraries the binaries link.
for lib in 'libgrpc\+\+1\.51' 'libprotobuf32' 'libc6'; do
  want grep -Eq "(^|, )$lib( |,|$)" <<<"$depends"
done
mkdir -p "$work/control" "$work/root"
dpkg-deb --control "$deb" "$work/control"
want grep -qx '/etc/handoff/handoffd.conf' "$work/control/conffiles"
# Maintainer scripts, executable and well-formed: an upgrade restarts a
# running handoffd on the new binary, a removal stops it, a purge drops the
# links that enabled it.
for script in postinst prerm postrm; do
  want test -x "$work/control/$script"
  want sh -n "$work/control/$script"
done
want grep -q 'systemctl try-restart handoffd.service' "$work/control/postinst"
want grep -q 'systemctl stop handoffd.service' "$work/control/prerm"
want grep -q 'abort-remove' "$work/control/postinst"
want grep -q 'multi-user.target.wants/handoffd.service' "$work/control/postrm"
want grep -q 'systemctl daemon-reload' "$work/control/postrm"
dpkg-deb --extract "$deb" "$work/root"
want grep -qx 'ExecStart=/usr/bin/handoffd' "$work/root/usr/lib/systemd/system/handoffd.service"
want grep -qx 'EnvironmentFile=/etc/handoff/handoffd.conf' "$work/root/usr/lib/systemd/system/handoffd.service"
want cmp -s "$work/root/etc/handoff/handoffd.conf" "$(dirname "$0")/../../deploy/config/handoffd.conf"
# The packaged programs run (their libraries are the Depends above), the way
# the container image runs them: handoffd from the HANDOFF_* environment, and
# the Dockerfile's HEALTHCHECK command, `handoff health --addr ...`, against
# it. Loopback, and ports handoffd picks and names in its start-up line,
# instead of the image's 0.0.0.0:50051/9090.
want "$work/root/usr/bin/handoffd" --version
# A handoffd on tcmalloc (cmake/Malloc.cmake) needs tcmalloc's runtime package.
if "$work/root/usr/bin/handoffd" --version | grep -q '^malloc: tcmalloc'; then
  want grep -Eq "(^|, )libtcmalloc-minimal4( |,|$)" <<<"$depends"
fi
HANDOFF_LISTEN=127.0.0.1:0 HANDOFF_ADMIN_LISTEN=127.0.0.1:0 \
HANDOFF_DRAIN_TIMEOUT=10s "$work/root/usr/bin/handoffd" > "$work/handoffd.log" 2>&1 &
pid=$!
grpc_port=
for _ in $(seq 200); do   # up to 20 s for the start-up line
  grpc_port=$(sed -n 's/.*serving gRPC on port \([0-9]*\) .*/\1/p' "$work/handoffd.log")
  [[ -n $grpc_port ]] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
healthy=0
[[ -n $grpc_port ]] || echo "FAIL: packaged handoffd did not name its port"
for _ in $(seq 200); do   # up to 20 s for SERVING
  [[ -n $grpc_port ]] || break
  if "$work/root/usr/bin/handoff" health --addr "127.0.0.1:$grpc_port" >/dev/null 2>&1; then
    healthy=1; break
  fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
if [[ $healthy -eq 1 ]]; then
  echo "ok: the packaged handoff health says the packaged handoffd is SERVING"
else
  echo "FAIL: packaged handoffd not SERVING within 20 s"; cat "$work/handoffd.log"; fail=1
fi
kill -TERM $pid 2>/dev/null || true
rc=0; wait $pid || rc=$?
if [[ $rc -eq 0 ]]; then echo "ok: packaged handoffd exited 0 on SIGTERM"
else echo "FAIL: packaged handoffd exited $rc on SIGTERM"; cat "$work/handoffd.log"; fail=1; fi
[[ $fail -eq 0 ]] && echo PASS
exit $fail
