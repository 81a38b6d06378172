#!/usr/bin/env bash
# Debian root file systems for other releases, built once with mmdebstrap and cached,
# and a way to run commands inside one. The release matrix (Debian 13's and unstable's
# nova and Placement) and the systemd rollout test (a booted container) use them.
#
# Usage:
#   scripts/debian-root.sh ensure NAME SUITE [PACKAGE...]   build NAME once; prints its path
#   scripts/debian-root.sh ensure bookworm|trixie|sid        the project's shared roots (below)
#   scripts/debian-root.sh path NAME                         print the path (built or not)
#   scripts/debian-root.sh run NAME [--bind DIR]... -- CMD... run CMD inside NAME (chroot, private mounts)
#   scripts/debian-root.sh remove NAME                       delete NAME
#
# Roots live under $GPU_AGENT_ROOTS (default /var/cache/gpu-agent/roots) so they survive
# a fresh clone; a root is rebuilt only when its suite changes or it lacks a package asked
# for. A build goes to NAME.partial and is renamed when complete: an interrupted build leaves
# nothing that looks usable. The mirror is the one this machine's apt sources use (override with
# GPU_AGENT_MIRROR); Debian unstable's Release files may be older than their Valid-Until,
# so that check is off inside these roots. Needs root (mmdebstrap's root mode, chroot, mounts).
# A cold build takes 2.5-4 minutes and about 900 MB per root. Builds of one NAME are
# serialised with a lock (NAME.lock), so tests running side by side share one build.
#
# Shared roots: every test that needs another release uses one of these, so a cold CI run
# builds each suite once. Each is bootable (systemd) and has nova and Placement:
#   bookworm  Debian 12: systemd, the agent's run-time libraries (the rollout test)
#   trixie    Debian 13: the same plus nova 31 (2025.1) and Placement 13
#   sid       unstable:  the same plus the newest nova and Placement, PyMySQL, and what the
#             whole nova of scripts/nova-stack.sh needs (the nova boot end to end):
#             rabbitmq-server, curl, the openstack CLI with osc-placement
set -euo pipefail

ROOTS=${GPU_AGENT_ROOTS:-/var/cache/gpu-agent/roots}

die() { echo "debian-root: $*" >&2; exit 2; }

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

# The first Debian mirror in this machine's apt sources (deb822 or one-line format),
# skipping the security archive, whose layout differs.
mirror() {
  if [ -n "${GPU_AGENT_MIRROR:-}" ]; then echo "$GPU_AGENT_MIRROR"; return; fi
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}' |
    grep -v -- '-security' | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' |
      grep -v -- '-security' | head -n1 || true)
  fi
  [ -n "$uri" ] || die "no Debian mirror in /etc/apt/sources.list{,.d}; set GPU_AGENT_MIRROR=URL"
  echo "$uri"
}

# The shared roots' suites and packages (see the header).
RUNTIME_PKGS="dbus libpci3 libsystemd0 libvirt0 libxml2 passwd pci.ids python3 python3-apt systemd systemd-sysv"
# scripts/nova-stack.sh and the flavors script the nova boot end to end runs
NOVA_STACK_PKGS="curl python3-openstackclient python3-osc-placement rabbitmq-server"
preset() {
  case $1 in
    bookworm) echo "bookworm $RUNTIME_PKGS libssl3" ;;
    trixie) echo "trixie $RUNTIME_PKGS libssl3t64 python3-nova python3-placement $NOVA_STACK_PKGS" ;;
    sid) echo "sid $RUNTIME_PKGS libssl3t64 python3-nova python3-placement python3-pymysql $NOVA_STACK_PKGS" ;;
    *) return 1 ;;
  esac
}

check_name() {
  [[ $1 =~ ^[a-z0-9][a-z0-9._-]*$ ]] || die "root name '$1': use lower-case letters, digits, '.', '_' or '-'"
}

# covers BUILT WANT: the root described by BUILT (its .gpu-agent-root line) has WANT's suite
# and every package WANT lists. A root built with more packages serves a caller that asks for
# fewer (a branch that predates a preset's new package does not rebuild it back).
covers() {
  local built=$1 want=$2 p
  [ "${built%% *}" = "${want%% *}" ] || return 1
  for p in ${want#*packages=}; do
    case " ${built#*packages=} " in *" $p "*) ;; *) return 1 ;; esac
  done
}

ensure() {
  if [ $# -eq 1 ]; then
    local spec
    spec=$(preset "$1") || die "ensure $1: not a shared root (bookworm, trixie, sid); give NAME SUITE [PACKAGE...]"
    # shellcheck disable=SC2086 # the preset is a word list
    set -- "$1" $spec
  fi
  [ $# -ge 2 ] || die "ensure needs NAME SUITE [PACKAGE...]"
  check_name "$1"
  mkdir -p "$ROOTS"
  # One build per name at a time; a second caller waits and then finds it built.
  exec 9>"$ROOTS/$1.lock"
  flock 9
  local name=$1 suite=$2
  shift 2
  check_name "$name"
  local dir="$ROOTS/$name" want
  want="suite=$suite packages=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')"
  if [ -f "$dir/.gpu-agent-root" ] && covers "$(cat "$dir/.gpu-agent-root")" "$want"; then
    echo "$dir"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "building a root needs root (mmdebstrap root mode)"
  command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: apt-get install mmdebstrap"
  mkdir -p "$ROOTS"
  rm -rf "$dir.partial"
  local include
  include=$(IFS=,; echo "$*")
  echo "debian-root: building $name ($suite${include:+ with $include}) from $(mirror); 2.5-4 minutes" >&2
  local start=$SECONDS
  mmdebstrap --quiet --variant=apt --mode=root \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    ${include:+--include="$include"} \
    "$suite" "$dir.partial" "$(mirror)" >&2 ||
    { rm -rf "$dir.partial"; die "mmdebstrap $suite failed (network to the mirror? a package name wrong for $suite?)"; }
  printf '%s\n' "$want" > "$dir.partial/.gpu-agent-root"
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
  echo "debian-root: $name built in $((SECONDS - start)) s" >&2
  echo "$dir"
}

# run NAME [--bind DIR]... -- CMD...: a private mount namespace, so the mounts go away with
# the last process in it (a server started in the background keeps them while it runs).
run() {
  [ $# -ge 1 ] || die "run needs NAME -- CMD..."
  local name=$1
  shift
  check_name "$name"
  local dir="$ROOTS/$name" binds=()
  [ -f "$dir/.gpu-agent-root" ] || die "root $name is not built: scripts/debian-root.sh ensure $name SUITE ..."
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    case $1 in
      --bind) [ $# -ge 2 ] || die "--bind needs a directory"; binds+=("$(realpath "$2")"); shift 2 ;;
      *) die "run: unknown option $1 (want --bind DIR or --)" ;;
    esac
  done
  [ "${1:-}" = -- ] || die "run needs -- before the command"
  shift
  [ $# -ge 1 ] || die "run needs a command after --"
  local setup="mount -t proc proc '$dir/proc' && mount --rbind /sys '$dir/sys' && mount --rbind /dev '$dir/dev'"
  for b in "${binds[@]}"; do
    mkdir -p "$dir$b"
    setup+=" && mount --bind '$b' '$dir$b'"
  done
  # shellcheck disable=SC2016 # $0/$@ expand in the inner shell
  exec unshare --mount --propagation private -- sh -c "$setup && exec chroot '$dir' \"\$@\"" debian-root "$@"
}

case ${1:-} in
  ensure) shift; ensure "$@" ;;
  path) [ $# -eq 2 ] || die "path needs NAME"; check_name "$2"; echo "$ROOTS/$2" ;;
  run) shift; run "$@" ;;
  remove) [ $# -eq 2 ] || die "remove needs NAME"; check_name "$2"; rm -rf "${ROOTS:?}/$2" "${ROOTS:?}/$2.partial" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
