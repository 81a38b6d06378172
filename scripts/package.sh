#!/usr/bin/env bash
# Build the gpu-agent Debian package with CPack in its own build directory
# and print the .deb's path (the last line of stdout).
#
# Usage: scripts/package.sh [CMAKE_ARGS...]
# Environment:
#   GPU_AGENT_PKG_BUILD_DIR   build directory (default: build-pkg in the repository)
#   GPU_AGENT_PKG_JOBS        make -j (default 2)
# The package: /usr/bin/gpu-agent, /etc/gpu-agent/gpu-agent.conf (conffile,
# root:gpu-agent 0640), /lib/systemd/system/gpu-agent.service; postinst
# creates the gpu-agent system user and /var/lib/gpu-agent.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
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
