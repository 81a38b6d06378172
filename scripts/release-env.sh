#!/usr/bin/env bash
# The OpenStack releases the project is tested against, each with its own nova and
# Placement from Debian: Zed on this machine (Debian 12), 2025.1 in a Debian 13 root,
# the newest (2026.2 today) in a Debian unstable root (scripts/debian-root.sh).
#
# Usage:
#   scripts/release-env.sh list                        the environments: RELEASE ROOT NOVA PLACEMENT
#   scripts/release-env.sh root RELEASE                the root's name ("host" for Zed)
#   scripts/release-env.sh ensure RELEASE              build its root once (cached); a no-op for Zed
#   scripts/release-env.sh run RELEASE [--bind DIR]... -- CMD...
#                                                      CMD with that release's nova and Placement:
#                                                      inside its root with this repository (and
#                                                      each DIR) at the same path; on the host for Zed
# RELEASE: zed (or 26, host), 2025.1 (epoxy, 31, trixie), newest (sid, or the release it
# has today: 2026.2, hibiscus, 34).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")

die() { echo "release-env: $*" >&2; exit 2; }
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

root_of() {
  case ${1,,} in
    zed | 26 | host | bookworm) echo host ;;
    2025.1 | epoxy | 31 | trixie) echo trixie ;;
    newest | sid | unstable | 2026.2 | hibiscus | 34) echo sid ;;
    *) die "unknown release '$1': zed, 2025.1 or newest (scripts/release-env.sh list)" ;;
  esac
}

# The version of a Python package in a root ("" when missing), from its egg-info/dist-info.
version_in() {
  local dir=$1 pkg=$2 f
  for f in "$dir"/usr/lib/python3/dist-packages/"$pkg"-[0-9]*.{egg,dist}-info; do
    [ -e "$f" ] || continue
    f=${f##*/"$pkg"-}
    echo "${f%.*-info}"
    return
  done
}

list() {
  local r root dir
  printf '%-8s %-8s %-8s %s\n' RELEASE ROOT NOVA PLACEMENT
  for r in zed 2025.1 newest; do
    root=$(root_of "$r")
    dir=/
    [ "$root" = host ] || dir=$("$HERE/debian-root.sh" path "$root")
    printf '%-8s %-8s %-8s %s\n' "$r" "$root" "$(version_in "$dir" nova || true)" \
      "$(version_in "$dir" openstack_placement || true)"
  done
}

ensure() {
  local root
  root=$(root_of "$1")
  [ "$root" = host ] || "$HERE/debian-root.sh" ensure "$root" > /dev/null
}

run() {
  [ $# -ge 1 ] || die "run needs RELEASE -- CMD..."
  local root binds=(--bind "$REPO")
  root=$(root_of "$1")
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    case $1 in
      --bind) [ $# -ge 2 ] || die "--bind needs a directory"; binds+=(--bind "$2"); shift 2 ;;
      *) die "run: unknown option $1 (want --bind DIR or --)" ;;
    esac
  done
  [ "${1:-}" = -- ] || die "run needs -- before the command"
  shift
  [ $# -ge 1 ] || die "run needs a command after --"
  if [ "$root" = host ]; then exec "$@"; fi
  "$HERE/debian-root.sh" ensure "$root" > /dev/null
  exec "$HERE/debian-root.sh" run "$root" "${binds[@]}" -- "$@"
}

case ${1:-} in
  list) list ;;
  root) [ $# -eq 2 ] || die "root needs RELEASE"; root_of "$2" ;;
  ensure) [ $# -eq 2 ] || die "ensure needs RELEASE"; ensure "$2" ;;
  run) shift; run "$@" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
