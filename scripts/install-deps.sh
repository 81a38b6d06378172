#!/usr/bin/env bash
# Install every Debian 12 package the build, the tests and the demo need.
# Idempotent: does nothing (and touches no network) when all are present.
# Usage: scripts/install-deps.sh            (as root, or with sudo available)
set -euo pipefail

PKGS=(
  # toolchain
  g++ cmake make pkg-config
  # libraries (headers)
  libboost-dev libboost-test-dev libboost-system-dev rapidjson-dev
  libvirt-dev libpci-dev libxml2-dev libssl-dev
  # runtime data and tools: pci.ids names, lspci for the benchmark,
  # libvirt's client library carries the test:/// driver the tests use
  pci.ids pciutils libvirt0
  # the real OpenStack services the integration tests start on 127.0.0.1:
  # Placement, Keystone (token auth), stunnel (a TLS front), openssl (test CA)
  python3-placement python3-keystone stunnel4 openssl curl jq
  # nova's own [pci] parsers, the oracle for `gpu-agent nova-config` (tests/nova);
  # also nova-api (osapi_compute) for flavors, scripts/nova-api-server.sh
  python3-nova
  # OSC's placement commands (openstack trait create/list, resource provider ...)
  python3-osc-placement
  # RabbitMQ for the whole nova of scripts/nova-stack.sh (run without systemd)
  rabbitmq-server
  # ansible-playbook --syntax-check and ansible-lint for the playbooks
  # (Debian 12 ansible 7.7 ships the openstack.cloud 1.10 collection)
  ansible ansible-lint
  # the Debian package and its rollout (tests/ansible): dpkg-shlibdeps for
  # CPack's Depends, python3-apt for Ansible's apt module, systemd-analyze
  # for the unit's security score (PID 1 need not be systemd)
  dpkg-dev python3-apt systemd
  # repository habits (scripts/lint.sh): shellcheck for every shell script,
  # clang-format to check the C++ against the top-level .clang-format
  shellcheck clang-format
  # reliability (tests/reliability, tests/fuzz): strace (fsync order), setpriv
  # (util-linux: a non-root run), clang and its libFuzzer/sanitizer runtimes
  strace util-linux clang-14 libclang-rt-14-dev
  # sd_notify (READY=1, WATCHDOG=1, STATUS=) through the reference implementation
  # (headers; libsystemd0 is dlopen()ed by the daemon under systemd)
  libsystemd-dev
  # promtool (check metrics, test rules) and a real node_exporter whose textfile
  # collector serves the agent's metrics file (tests/daemon, tests/prometheus)
  prometheus prometheus-node-exporter
  # the rollout under a real systemd (tests/systemd): Debian roots built with
  # mmdebstrap (scripts/debian-root.sh), booted with systemd-nspawn
  mmdebstrap systemd-container
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root (missing: ${missing[*]})" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
  -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
