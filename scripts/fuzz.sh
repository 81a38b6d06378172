#!/usr/bin/env bash
# libFuzzer targets (tests/fuzz) under ASan and UBSan, built with clang-14 in a
# build directory of their own (default build-fuzz; GPU_AGENT_FUZZ_BUILD_DIR).
#
# Usage: scripts/fuzz.sh smoke [SECONDS]        each target SECONDS (default 6)
#                                               from the seed corpus; CI's fuzz_smoke
#        scripts/fuzz.sh run TARGET [SECONDS]   a long run (default 3600 s) of one
#                                               target; new inputs kept in
#                                               BUILD/corpus/TARGET, crashes in BUILD/crashes
#        scripts/fuzz.sh build                  only build
# Targets: fixture ini placement_responses mdev_description.
# A crash prints the input's path: add the input to tests/fuzz/corpus/TARGET and
# a regression test to the parser's unit suite, then fix the parser.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${GPU_AGENT_FUZZ_BUILD_DIR:-build-fuzz}
TARGETS=(fixture ini placement_responses mdev_description)
CXX_FUZZ=${GPU_AGENT_FUZZ_CXX:-clang++-14}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$ROOT/tests/fuzz/ubsan.supp}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

die() { echo "fuzz: $*" >&2; exit 1; }

build() {
  command -v "$CXX_FUZZ" >/dev/null || die "$CXX_FUZZ not found (scripts/install-deps.sh installs clang-14 and libclang-rt-14-dev)"
  cmake -S . -B "$BUILD" -DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGPU_AGENT_FUZZ=ON -DGPU_AGENT_TESTS=OFF -DGPU_AGENT_WERROR=OFF >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target fuzzers
}

# run TARGET SECONDS NEW_INPUTS_DIR
fuzz_one() {
  local t=$1 secs=$2 out=$3
  mkdir -p "$out" "$BUILD/crashes"
  echo "fuzz: $t for ${secs} s"
  local log="$BUILD/fuzz-$t.log" rc=0
  "$BUILD/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$BUILD/crashes/$t-" "$out" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|ERROR|SUMMARY|Test unit written|runtime error" "$log" || true
  [ "$rc" -eq 0 ] || echo "fuzz: $t failed (exit $rc); full output in $log"
  return "$rc"
}

case ${1:-} in
  build) build ;;
  smoke)
    secs=${2:-6}
    build
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    failed=()
    for t in "${TARGETS[@]}"; do
      fuzz_one "$t" "$secs" "$tmp/$t" || failed+=("$t")
    done
    [ ${#failed[@]} -eq 0 ] || die "crash or sanitizer report in: ${failed[*]} (inputs in $BUILD/crashes)"
    echo "fuzz: smoke passed (${#TARGETS[@]} targets, ${secs} s each)"
    ;;
  run)
    t=${2:-}
    [[ " ${TARGETS[*]} " == *" $t "* ]] || die "run needs a target: ${TARGETS[*]}"
    build
    fuzz_one "$t" "${3:-3600}" "$BUILD/corpus/$t"
    ;;
  *) die "usage: $0 smoke [SECONDS] | run TARGET [SECONDS] | build" ;;
esac
