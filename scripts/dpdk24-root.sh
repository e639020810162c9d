#!/usr/bin/env bash
# A Debian 13 (trixie) root with DPDK 24.11 LTS, made from Debian's packages with mmdebstrap and
# cached, in which this checkout is built and tested against 24.11 with the host's Rust toolchain.
#
# Usage (as root):
#   scripts/dpdk24-root.sh create          make the root unless the cached one is current; print its path
#   scripts/dpdk24-root.sh run CMD [ARG..] run CMD in the root, in this checkout (same path)
#   scripts/dpdk24-root.sh shell           an interactive shell there
#   scripts/dpdk24-root.sh path            print the root's path (creating it if needed)
#   scripts/dpdk24-root.sh clean           remove every cached root
#
# The cache: $DPDK24_ROOT_CACHE (default /var/cache/vdpa-dpdk-rs), one directory per root named
# after a hash of everything that decides its contents (suite, mirror, package list, this
# script's format version), so editing the package list below makes a new root and nothing else
# does. Creation is atomic: mmdebstrap writes into a temporary directory that is renamed into
# place only after it succeeded; an interrupted run leaves a temporary directory that the next
# run removes, never a half root under the final name. Concurrent runs wait on a lock.
#
# Entering the root (run/shell): a private mount namespace (unshare --mount) holds every mount,
# so they all vanish when the command ends, however it ends (the EXIT trap unmounts them too,
# for a namespace kept alive by a stray child). Mounted there:
#   /proc (new procfs), /sys and /dev (rbind: /dev/hugepages, /dev/shm come along), /run (tmpfs:
#   EAL runtime dirs stay out of the cache), /tmp (the host's: the DPDK test lock
#   /tmp/dpdk-rs-tests.lock is shared with the host's tests, and Unix sockets live there),
#   /etc/resolv.conf (read-only, for cargo), this checkout (read-write, same path), the Rust
#   toolchain: RUSTUP_HOME read-only, CARGO_HOME read-write (its registry cache and lock are
#   shared with the host's cargo).
# The command runs with a clean environment: PATH, HOME, CARGO_HOME, RUSTUP_HOME, TERM, and
# CARGO_TARGET_DIR=<checkout>/target/dpdk24 so host (22.11) and root (24.11) builds never mix;
# the variables listed in PASS_ENV below are passed through when set.
set -euo pipefail

SUITE=trixie
MIRROR=${DPDK24_MIRROR:-http://deb.debian.org/debian}
CACHE=${DPDK24_ROOT_CACHE:-/var/cache/vdpa-dpdk-rs}
# Bump when the way the root is made changes (mmdebstrap options, hooks), not the package list.
FORMAT=1

# Everything `cargo test --workspace`, the C references, the benchmarks and images/build.sh
# need. In Debian 13, dpdk-testpmd, dpdk-dumpcap, dpdk-pdump and dpdk-proc-info are in dpdk-dev;
# the PMDs (net_vhost, net_virtio, net_null, net_pcap, net_ring, net_memif) come with
# librte-meta-allpmds (a Recommends of dpdk, which mmdebstrap does not install).
PACKAGES=(
  libdpdk-dev dpdk dpdk-dev dpdk-doc librte-meta-allpmds
  pkg-config clang libclang-dev
  make gcc libc6-dev
  procps iproute2 util-linux binutils dpkg-dev ca-certificates
  # apps/tests/observability.rs: promtool and a Prometheus server scraping the apps.
  prometheus
)

# Passed from the caller's environment into the root when set.
PASS_ENV=(CI DPDK_TEST_MEMORY DPDK_BENCH_QUICK DPDK_BENCH_RUNS RUST_LOG RUST_BACKTRACE
  RUST_TEST_THREADS RUSTUP_TOOLCHAIN RUSTFLAGS CARGO_INCREMENTAL CARGO_TERM_COLOR CARGO_BUILD_JOBS
  TERM)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
checkout=$(cd "$here/.." && pwd)

log() { printf 'dpdk24-root: %s\n' "$*" >&2; }
die() { printf 'dpdk24-root: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap --mode=root, chroot, mounts)"

key() {
  { printf 'format=%s suite=%s mirror=%s\n' "$FORMAT" "$SUITE" "$MIRROR"
    printf '%s\n' "${PACKAGES[@]}" | sort -u
  } | sha256sum | cut -c1-16
}
ROOT="$CACHE/debian13-dpdk24-$(key)"

create() {
  [ -x "$ROOT/usr/bin/dpdk-testpmd" ] && return 0
  command -v mmdebstrap >/dev/null 2>&1 ||
    die "mmdebstrap is not installed (apt-get install mmdebstrap, or scripts/install-deps.sh)"
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  # Another run may have made it while we waited.
  if [ -x "$ROOT/usr/bin/dpdk-testpmd" ]; then exec 9>&-; return 0; fi
  local tmp="$ROOT.tmp.$$" start=$SECONDS stale
  for stale in "$CACHE"/debian13-dpdk24-*.tmp.*; do
    [ -e "$stale" ] || continue
    log "removing $stale (left by an interrupted run)"
    rm -rf --one-file-system "$stale"
  done
  log "creating $ROOT (Debian 13 + DPDK 24.11, ${#PACKAGES[@]} packages) with mmdebstrap"
  local IFS=,
  # In a private mount namespace: the /proc, /sys and /dev mmdebstrap mounts into the new root
  # while installing vanish with it even if it is killed, so removing a stale temporary root
  # (rm --one-file-system) never meets them.
  if ! unshare --mount --propagation private mmdebstrap --variant=apt --mode=root --format=directory --quiet \
      --include="${PACKAGES[*]}" "$SUITE" "$tmp" "$MIRROR" >&2; then
    rm -rf --one-file-system "$tmp"
    die "mmdebstrap failed"
  fi
  unset IFS
  [ -x "$tmp/usr/bin/dpdk-testpmd" ] || { rm -rf --one-file-system "$tmp"; die "the new root has no dpdk-testpmd"; }
  mv -T "$tmp" "$ROOT"
  log "created $ROOT in $((SECONDS - start)) s ($(du -sh "$ROOT" | cut -f1), DPDK $(chroot "$ROOT" pkg-config --modversion libdpdk))"
  # Older roots (another package list) are not used any more.
  local old
  for old in "$CACHE"/debian13-dpdk24-*; do
    [ "$old" = "$ROOT" ] || [ ! -d "$old" ] || remove_unused "$old"
  done
  exec 9>&-
}

# Removes a superseded root unless a run (another checkout, another branch) is inside it: runs
# hold a shared lock on ROOT.inuse (see `enter`).
remove_unused() {
  local old=$1
  exec 7>"$old.inuse"
  if flock -n -x 7; then
    log "removing the superseded $old"
    rm -rf --one-file-system "$old"
    rm -f "$old.inuse"
  else
    log "keeping the superseded $old: a run is using it"
  fi
  exec 7>&-
}

rustup_home() {
  if [ -n "${RUSTUP_HOME:-}" ]; then printf '%s\n' "$RUSTUP_HOME"
  elif command -v rustup >/dev/null 2>&1; then rustup show home
  else printf '%s\n' "$HOME/.rustup"; fi
}

# Runs inside the private mount namespace (see `enter`): mounts, then chroot.
inside() {
  local cargo_home=$1 rustup_home=$2; shift 2
  MOUNTS=()
  cleanup() {
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
      umount -R "${MOUNTS[$i]}" 2>/dev/null || umount -Rl "${MOUNTS[$i]}" 2>/dev/null || true
    done
  }
  trap cleanup EXIT
  mnt() { # DEST MOUNT-ARGS... (DEST inside the root; a file stays a file)
    local dest=$ROOT$1; shift
    [ -e "$dest" ] || mkdir -p "$dest"
    mount "$@" "$dest"
    MOUNTS+=("$dest")
  }
  # Nothing mounted here may propagate back to the host.
  mount --make-rprivate /
  mnt /proc -t proc proc
  mnt /sys --rbind /sys
  mnt /dev --rbind /dev
  mnt /run -t tmpfs -o mode=0755 tmpfs
  mnt /tmp --bind /tmp
  if [ -f /etc/resolv.conf ]; then
    touch "$ROOT/etc/resolv.conf"
    mnt /etc/resolv.conf --bind -o ro "$(readlink -f /etc/resolv.conf)"
  fi
  mnt "$checkout" --bind "$checkout"
  mnt "$rustup_home" --bind "$rustup_home"
  mount -o remount,bind,ro "$ROOT$rustup_home"
  mnt "$cargo_home" --bind "$cargo_home"

  local env=(PATH="$cargo_home/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    HOME=/root CARGO_HOME="$cargo_home" RUSTUP_HOME="$rustup_home"
    CARGO_TARGET_DIR="$checkout/target/dpdk24" DPDK24_ROOT=1)
  local var
  for var in "${PASS_ENV[@]}"; do
    [ -z "${!var+x}" ] || env+=("$var=${!var}")
  done
  local status=0
  # The single quotes are meant: $1 and $@ are the inner shell's arguments.
  # shellcheck disable=SC2016
  chroot "$ROOT" /usr/bin/env -i "${env[@]}" /bin/bash -c 'cd "$1" && shift && "$@"' \
    dpdk24-root "$PWD" "$@" || status=$?
  return "$status"
}

enter() {
  create
  local cargo_home=${CARGO_HOME:-$HOME/.cargo} rh
  rh=$(rustup_home)
  [ -d "$cargo_home/bin" ] || die "CARGO_HOME $cargo_home has no bin/: install Rust with rustup"
  [ -d "$rh" ] || die "RUSTUP_HOME $rh does not exist"
  case $PWD/ in "$checkout"/*) ;; *) cd "$checkout" ;; esac
  # Held (inherited through exec) for the whole run, so no other checkout removes this root.
  exec 8>"$ROOT.inuse"
  flock -s 8
  # A private mount namespace: its mounts die with it, even if this script is killed.
  exec unshare --mount --propagation private -- "$here/dpdk24-root.sh" __inside \
    "$cargo_home" "$rh" "$@"
}

cmd=${1:-}
[ $# -eq 0 ] || shift
case $cmd in
  create) create; printf '%s\n' "$ROOT" ;;
  path) create; printf '%s\n' "$ROOT" ;;
  run) [ $# -gt 0 ] || die "run needs a command"; enter "$@" ;;
  shell) enter bash -l ;;
  __inside) inside "$@" ;;
  clean) rm -rf --one-file-system "$CACHE"/debian13-dpdk24-* ;;
  -h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
  *) die "unknown command '${cmd}' (create, run, shell, path, clean; --help)" ;;
esac
