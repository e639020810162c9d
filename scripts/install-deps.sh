#!/usr/bin/env bash
# Install what a fresh Debian 12 (DPDK 22.11) or Debian 13 (DPDK 24.11) machine needs to build,
# test and benchmark this workspace, and to make the Debian 13 root of `make test-dpdk24`
# (scripts/dpdk24-root.sh) on a Debian 12 host.
#
# Idempotent: packages already present are skipped by apt, hugepages already reserved are kept.
# Hugepages are optional; everything also works with `--no-huge`. Set NO_HUGEPAGES=1 to skip them,
# HUGEPAGES=N to choose how many 2 MiB pages to reserve (default 1024 = 2 GiB).
set -euo pipefail

PACKAGES=(
  # DPDK (22.11 LTS on Debian 12, 24.11 LTS on Debian 13): headers + pkg-config file, runtime
  # libraries, the C example sources (l2fwd, l3fwd; dpdk-doc) and dpdk-testpmd (dpdk-dev),
  # which our tests and benchmarks use as peers and references, and every PMD (net_vhost,
  # net_virtio, net_null, net_pcap, net_ring, net_memif: librte-meta-allpmds; on Debian 13 only
  # the dpdk package's Recommends would bring them, which this script does not install).
  libdpdk-dev dpdk dpdk-doc dpdk-dev librte-meta-allpmds
  # dpdk-sys build: pkg-config finds libdpdk, bindgen needs libclang.
  pkg-config clang libclang-dev
  # Building the C reference examples with `make` against the installed libdpdk.
  make gcc
  # images/build.sh check: dpkg-shlibdeps maps dpdk-app's and the PMDs' libraries to packages.
  dpkg-dev
  # Python for manifest validation (kubernetes-validate from PyPI, pinned in scripts/).
  python3 python3-venv python3-pip
  # Process and socket inspection used by tests and the demo; flock serialises DPDK runs.
  procps iproute2 util-linux
  # make test-loaded: one busy process per core beside the DPDK tests.
  stress-ng
  # Lint for the shell scripts (make test-scripts: scripts/*.sh and scripts/tests/).
  shellcheck
  # apps/tests/observability.rs: promtool checks /metrics and a real Prometheus server scrapes
  # it (both from the prometheus package).
  prometheus
  # make test-dpdk24: the Debian 13 root with DPDK 24.11 (scripts/dpdk24-root.sh; as root, so
  # neither uidmap nor arch-test is needed).
  mmdebstrap debian-archive-keyring
)

log() { printf 'install-deps: %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    log "not root and no sudo: cannot install packages"; exit 1
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log "all packages present"
fi

# The series dpdk-sys supports (dpdk-sys/build.rs, SUPPORTED_SERIES); CI tests 22.11 on the
# host and 24.11 in the Debian 13 root.
version=$(pkg-config --modversion libdpdk)
case "$version" in
  22.11.* | 23.11.* | 24.11.*) log "libdpdk $version" ;;
  *) log "libdpdk $version found, but this workspace supports DPDK 22.11.x, 23.11.x and 24.11.x"; exit 1 ;;
esac

# Hugepages: reserve and mount when we are root and the kernel lets us. Failure is not fatal.
reserve_hugepages() {
  [ "${NO_HUGEPAGES:-0}" = 1 ] && { log "NO_HUGEPAGES=1: skipping hugepages"; return 0; }
  [ "$(id -u)" -eq 0 ] || { log "not root: skipping hugepages (tests use --no-huge)"; return 0; }
  local want=${HUGEPAGES:-1024} nr=/proc/sys/vm/nr_hugepages have
  have=$(cat "$nr" 2>/dev/null || echo 0)
  if [ "$have" -lt "$want" ]; then
    echo "$want" > "$nr" 2>/dev/null || { log "cannot write $nr: skipping hugepages"; return 0; }
    have=$(cat "$nr")
  fi
  if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
    mkdir -p /dev/hugepages
    mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || { log "cannot mount hugetlbfs: skipping"; return 0; }
  fi
  log "hugepages: $have x 2 MiB reserved, hugetlbfs at /dev/hugepages"
}
reserve_hugepages
