#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs to run all tests: packages, lint, build, ctest.
# The integration tests start their own Placement on 127.0.0.1 and stop it after.
# Usage: scripts/test.sh [ctest args...]   e.g. scripts/test.sh -L unit   or   -R host_tests   or   -L integration
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Repository habits first (seconds): shellcheck on the scripts, clang-format on the C++.
scripts/lint.sh
scripts/build.sh
cd "${GPU_AGENT_BUILD_DIR:-build}"
ctest --output-on-failure --timeout 900 "$@"
