#!/usr/bin/env bash
# Repository habits, checked on the tracked files (git ls-files):
#   shell scripts  ShellCheck on every *.sh and every file whose shebang names
#                  sh or bash (.ci/run, packaging/debian/*), with the settings
#                  of the top-level .shellcheckrc. tests/data/ is left out: it
#                  holds fixtures and golden output of gpu-agent.
#   C++            when the top-level .clang-format exists: every *.cpp and *.h
#                  must already be formatted (clang-format --dry-run --Werror);
#                  `clang-format -i FILE` fixes one.
# Prints what it checked and every finding; exits 1 on any finding, 2 when a
# tool is missing (scripts/install-deps.sh installs both).
#
# Usage: scripts/lint.sh [--shell | --cpp]     (default: both)
set -euo pipefail

ME=lint
cd "$(dirname "$0")/.."

shell=1 cpp=1
case ${1:-} in
  "") ;;
  --shell) cpp=0 ;;
  --cpp) shell=0 ;;
  -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  *) echo "usage: $0 [--shell | --cpp]" >&2; exit 2 ;;
esac

need() {
  command -v "$1" >/dev/null || { echo "$ME: $1 missing: run scripts/install-deps.sh" >&2; exit 2; }
}

# a shell script by its first line: #!/bin/sh, #!/bin/bash -e, #!/usr/bin/env bash ...
shell_shebang() {
  local line
  IFS= read -r line < "$1" 2>/dev/null || return 1
  [[ $line =~ ^#![[:space:]]*[^[:space:]]*/(env[[:space:]]+)?(ba|da)?sh([[:space:]]|$) ]]
}

failed=0

if [ "$shell" = 1 ]; then
  need shellcheck
  scripts=()
  while IFS= read -r -d '' f; do
    case $f in tests/data/*) continue ;; esac
    [ -f "$f" ] || continue  # deleted in the work tree, not yet in the index
    if [[ $f == *.sh ]] || shell_shebang "$f"; then scripts+=("$f"); fi
  done < <(git ls-files -z)
  echo "$ME: shellcheck $(shellcheck --version | sed -n 's/^version: //p') on ${#scripts[@]} scripts: ${scripts[*]}"
  if [ ${#scripts[@]} -gt 0 ] && ! shellcheck "${scripts[@]}"; then
    echo "$ME: shellcheck: findings above"
    failed=1
  else
    echo "$ME: shellcheck: clean"
  fi
fi

if [ "$cpp" = 1 ]; then
  if [ ! -f .clang-format ]; then
    echo "$ME: no .clang-format at the top: C++ formatting not checked"
  else
    need clang-format
    sources=()
    while IFS= read -r -d '' f; do
      [ -f "$f" ] && sources+=("$f")
    done < <(git ls-files -z -- '*.cpp' '*.h')
    echo "$ME: $(clang-format --version | sed 's/ *(.*//') on ${#sources[@]} C++ files"
    bad=0
    for f in "${sources[@]}"; do
      if ! out=$(clang-format --style=file --dry-run --Werror "$f" 2>&1); then
        printf '%s\n' "$out"
        bad=$((bad + 1))
      fi
    done
    if [ "$bad" -gt 0 ]; then
      echo "$ME: clang-format: $bad of ${#sources[@]} files are not formatted (clang-format -i FILE)"
      failed=1
    else
      echo "$ME: clang-format: clean"
    fi
  fi
fi

exit "$failed"
