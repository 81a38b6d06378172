#!/usr/bin/env bash
# Build the gpu-agent Debian package with CPack in its own build directory
# and print the .deb's path (the last line of stdout).
#
# Usage: scripts/package.sh [CMAKE_ARGS...]
#        scripts/package.sh --from-build BUILD_DIR --out DIR [--version VERSION]
#   --from-build packs what BUILD_DIR already built (its install rules and CPack
#   config; nothing is compiled), for the tests; --version overrides VERSION
#   (e.g. a newer package of the same binary for an upgrade test).
# Environment:
#   GPU_AGENT_PKG_BUILD_DIR   build directory (default: build-pkg in the repository)
#   GPU_AGENT_PKG_JOBS        make -j (default 2)
# The package: /usr/bin/gpu-agent, the sample config /usr/share/gpu-agent/gpu-agent.conf
# (postinst copies it to /etc/gpu-agent/gpu-agent.conf, root:gpu-agent 0640, when
# that is missing; not a conffile), /lib/systemd/system/gpu-agent.service; postinst
# creates the gpu-agent system user and /var/lib/gpu-agent.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --from-build ]; then
  from='' out='' version=''
  while [ $# -gt 0 ]; do
    case $1 in
      --from-build) from=$2; shift 2 ;;
      --out) out=$2; shift 2 ;;
      --version) version=$2; shift 2 ;;
      *) echo "package.sh: unknown option $1 (--from-build DIR --out DIR [--version V])" >&2; exit 2 ;;
    esac
  done
  [ -f "$from/CPackConfig.cmake" ] || { echo "package.sh: $from has no CPackConfig.cmake (configure and build it first)" >&2; exit 2; }
  [ -n "$out" ] || { echo "package.sh: --out DIR is required with --from-build" >&2; exit 2; }
  from=$(cd "$from" && pwd)
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  stage=$(mktemp -d "$out/stage.XXXXXX")
  # Stage the install rules, then CPack (this build's config: Depends, the
  # maintainer scripts) packs the staged tree. Plain `cpack` would first build
  # `all` in a build dir other people may be using.
  DESTDIR=$stage cmake --install "$from" --prefix /usr --strip > "$out/cpack.log" 2>&1 ||
    { tail -n 30 "$out/cpack.log" >&2; rm -rf "$stage"; echo "package.sh: cmake --install $from failed (is gpu-agent built?)" >&2; exit 1; }
  (cd "$out" && cpack -G DEB --config "$from/CPackConfig.cmake" -B "$out/cpack" \
     -D CPACK_INSTALL_CMAKE_PROJECTS= -D "CPACK_INSTALLED_DIRECTORIES=$stage;/" \
     -D CPACK_PACKAGING_INSTALL_PREFIX=/ ${version:+-D CPACK_PACKAGE_VERSION=$version} >> "$out/cpack.log" 2>&1) ||
    { tail -n 30 "$out/cpack.log" >&2; rm -rf "$stage"; echo "package.sh: cpack failed" >&2; exit 1; }
  rm -rf "$stage"
  deb=$(ls "$out"/cpack/gpu-agent_*.deb)
  mv "$deb" "$out/"
  rm -rf "$out/cpack"
  echo "$out/$(basename "$deb")"
  exit 0
fi
BUILD=${GPU_AGENT_PKG_BUILD_DIR:-$ROOT/build-pkg}
JOBS=${GPU_AGENT_PKG_JOBS:-2}

mkdir -p "$BUILD"
# Release, no test suites: only the binary goes into the package.
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGPU_AGENT_TESTS=OFF "$@" > "$BUILD/package-cmake.log" ||
  { cat "$BUILD/package-cmake.log" >&2; exit 1; }
cmake --build "$BUILD" --target gpu-agent -j "$JOBS" > "$BUILD/package-build.log" 2>&1 ||
  { tail -n 40 "$BUILD/package-build.log" >&2; exit 1; }
rm -f "$BUILD"/gpu-agent_*.deb
(cd "$BUILD" && cpack -G DEB > package-cpack.log 2>&1) ||
  { tail -n 40 "$BUILD/package-cpack.log" >&2; exit 1; }
deb=$(ls "$BUILD"/gpu-agent_*.deb)
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Architecture\|Depends\|Recommends\):/package: &/p' >&2
echo "$deb"
