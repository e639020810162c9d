#!/usr/bin/env bash
# Build the dpdk-app release binary and prove that the runtime image's package list runs it.
#
# One script for three places, so CI proves what the image build does even without a container
# engine:
#   - CI, on the host (`make validate-image`, part of `make validate` and `make test`): `all`
#   - CI, in the Debian 13 root of `make test-dpdk24`: `check` of the DPDK 24.11 variant
#   - images/Containerfile, builder stage: `all --install /out`
#   - images/Containerfile, runtime stage: `runtime-check /usr/bin/dpdk-app`
#
# Two image variants, named after their Debian release (images/Containerfile's DEBIAN_RELEASE):
#   trixie    Debian 13, DPDK 24.11 (the default image)   images/runtime-packages.trixie.txt
#   bookworm  Debian 12, DPDK 22.11                        images/runtime-packages.bookworm.txt
# The variant checked is the release of the machine this runs on (/etc/os-release), because the
# packages are checked against its dpkg database; IMAGE_VARIANT overrides it.
#
# Usage:
#   images/build.sh [all] [--install DIR]  release build, then `check`; --install copies the
#                                          binary (debug info stripped) to DIR/usr/bin/dpdk-app
#   images/build.sh binary                 cargo build --release --locked -p dpdk-app
#                                          --no-default-features (no demo in the image)
#   images/build.sh check [BINARY]         check images/runtime-packages.<variant>.txt (default BINARY:
#                                          <target dir>/release/dpdk-app), see check() below
#   images/build.sh runtime-check BINARY   in the runtime image: the packages are installed,
#                                          DPDK is the variant's, every library and PMD resolves
#   images/build.sh packages               print the package list exactly as the image installs it
#
# Needs: cargo (binary/all), dpkg, dpkg-shlibdeps (dpkg-dev), apt-cache (check/all). RUNTIME_PACKAGES and
# CONTAINERFILE override the paths of images/runtime-packages.<variant>.txt and images/Containerfile.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
CONTAINERFILE=${CONTAINERFILE:-$here/Containerfile}
IGNOREFILE=${IGNOREFILE:-$here/Containerfile.dockerignore}
CARGO=${CARGO:-cargo}
PACKAGE=dpdk-app

# The poll-mode drivers dpdk-app relies on (librte_<name>.so in DPDK's PMD directory); each must
# be shipped by a package listed in runtime-packages.<variant>.txt.
REQUIRED_PMDS=(bus_pci bus_vdev mempool_ring net_virtio net_vhost net_memif net_ring net_null net_pcap)
# The same expression images/Containerfile applies to runtime-packages.<variant>.txt.
PACKAGE_FILTER=(sed -e 's/#.*//' -e '/^[[:space:]]*$/d')

errors=0
log() { printf 'build.sh: %s\n' "$*" >&2; }
fail() { printf 'build.sh: ERROR: %s\n' "$*" >&2; errors=$((errors + 1)); }
die() { printf 'build.sh: ERROR: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found in PATH; $2"; }

# The variant: the Debian release, which decides the DPDK series and the package names.
os_codename() { (. /etc/os-release 2>/dev/null && printf '%s\n' "${VERSION_CODENAME:-unknown}") || echo unknown; }
VARIANT=${IMAGE_VARIANT:-$(os_codename)}
case $VARIANT in
  bookworm) DPDK_SERIES=22.11 ;;
  trixie) DPDK_SERIES=24.11 ;;
  *) die "image variant '$VARIANT' (the Debian release here, or IMAGE_VARIANT) is not one of: bookworm (DPDK 22.11), trixie (DPDK 24.11)" ;;
esac
RUNTIME_PACKAGES=${RUNTIME_PACKAGES:-$here/runtime-packages.$VARIANT.txt}

packages() {
  [ -f "$RUNTIME_PACKAGES" ] || die "$RUNTIME_PACKAGES does not exist"
  "${PACKAGE_FILTER[@]}" "$RUNTIME_PACKAGES" | tr -d '[:blank:]'
}

target_dir() { printf '%s\n' "${CARGO_TARGET_DIR:-$root/target}"; }

build_binary() {
  need "$CARGO" "install Rust (https://rustup.rs) or set CARGO"
  # Without the default `demo` feature: the pod's binary carries no pod simulator or YAML parser.
  log "cargo build --release --locked -p $PACKAGE --no-default-features"
  (cd "$root" && "$CARGO" build --release --locked -p "$PACKAGE" --no-default-features)
}

# The directory EAL loads drivers from (RTE_EAL_PMD_PATH of Debian's build).
pmd_dir() {
  local dirs=(/usr/lib/*/dpdk/pmds-*)
  [ "${#dirs[@]}" -eq 1 ] && [ -d "${dirs[0]}" ] ||
    die "expected exactly one DPDK PMD directory /usr/lib/<triplet>/dpdk/pmds-*, found: ${dirs[*]}"
  printf '%s\n' "${dirs[0]}"
}

pmd_file() { # DIR NAME -> its versioned shared object (the unversioned .so is libdpdk-dev's)
  local f
  for f in "$1"/librte_"$2".so.[0-9]*; do [ -e "$f" ] && { printf '%s\n' "$f"; return 0; }; done
  return 1
}

# --- what Debian says ----------------------------------------------------------------------------
# No dependency resolution of our own: dpkg-shlibdeps maps an ELF file's libraries to the packages
# (and versions) that provide them, from the packages' shlibs/symbols files, exactly as Debian's
# own builds compute Depends; apt-cache computes what apt installs with a package.

# Packages an ELF file's libraries come from, one per line (dpkg-shlibdeps, which wants a
# debian/control in its working directory; any will do).
shlib_packages() { # FILE
  local work out
  work=$(mktemp -d)
  mkdir "$work/debian"
  printf 'Source: dpdk-app\n\nPackage: dpdk-app\nArchitecture: any\n' >"$work/debian/control"
  if ! out=$(cd "$work" && dpkg-shlibdeps -O -e "$1" 2>&1); then
    rm -rf "$work"
    fail "dpkg-shlibdeps $1 failed: $(grep -m1 error <<<"$out")"
    return 0
  fi
  rm -rf "$work"
  sed -n 's/^shlibs:Depends=//p' <<<"$out" | tr ',' '\n' | sed -e 's/(.*)//' -e 's/|.*//' -e 's/[[:space:]]//g' | sed '/^$/d'
}

# PKGS and everything apt installs with them (Pre-Depends and Depends, recursively, as resolved
# on this machine; no Recommends, as the Containerfile installs with --no-install-recommends).
apt_closure() {
  apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "$@" 2>/dev/null | grep -v '^[[:space:]<]' | sort -u
}

# The package that ships FILE (dpkg knows the merged-/usr spelling it was packaged with).
owner_of() { # FILE
  local f=$1 line
  for f in "$1" "$(readlink -f "$1")"; do
    line=$(dpkg -S "$f" 2>/dev/null | grep -v '^diversion' | head -n1) && [ -n "$line" ] && {
      line=${line%%: /*}; printf '%s\n' "${line%%:*}"; return 0
    }
  done
  return 1
}

in_set() { # NAME SETNAME
  local -n set=$2
  [ -n "${set[$1]:-}" ]
}

# --- checks -------------------------------------------------------------------------------------

# The Containerfile must install exactly runtime-packages.<DEBIAN_RELEASE>.txt in its runtime
# stage, with the same filter as this script, and build with this script; both variants' lists
# must exist.
check_containerfile() {
  [ -f "$CONTAINERFILE" ] || { fail "$CONTAINERFILE does not exist"; return; }
  local runtime builder filter
  runtime=$(awk 'toupper($1) == "FROM" { stage = tolower($0) ~ / as runtime *$/ } stage' "$CONTAINERFILE")
  builder=$(awk 'toupper($1) == "FROM" { stage = tolower($0) ~ / as builder *$/ } stage' "$CONTAINERFILE")
  [ -n "$runtime" ] || fail "$CONTAINERFILE: no 'FROM ... AS runtime' stage"
  [ -n "$builder" ] || fail "$CONTAINERFILE: no 'FROM ... AS builder' stage"
  filter="sed -e 's/#.*//' -e '/^[[:space:]]*\$/d' /tmp/images/runtime-packages.\${DEBIAN_RELEASE}.txt"
  grep -qF 'source=images,target=/tmp/images' <<<"$runtime" ||
    fail "$CONTAINERFILE: runtime stage does not bind-mount images/ at /tmp/images"
  grep -qE '^ARG DEBIAN_RELEASE=trixie$' "$CONTAINERFILE" ||
    fail "$CONTAINERFILE: the default variant must be 'ARG DEBIAN_RELEASE=trixie' (Debian 13, DPDK 24.11)"
  local v
  for v in bookworm trixie; do
    [ -f "$here/runtime-packages.$v.txt" ] || fail "$here/runtime-packages.$v.txt (image variant $v) does not exist"
  done
  grep -qF "$filter" <<<"$runtime" ||
    fail "$CONTAINERFILE: runtime stage does not install the packages with: $filter | xargs ..."
  local installs
  installs=$(grep -c 'apt-get install' <<<"$runtime" || true)
  [ "$installs" -eq 1 ] ||
    fail "$CONTAINERFILE: runtime stage has $installs 'apt-get install' commands; it must have exactly one, fed by runtime-packages.<variant>.txt, so the list checked here is the list installed there"
  grep -qE 'images/build\.sh (all|"\$@"|.*--install)' <<<"$builder" ||
    fail "$CONTAINERFILE: builder stage does not build with images/build.sh all (the script CI runs)"
  grep -qE 'IMAGE_VARIANT=\$\{DEBIAN_RELEASE\} bash /tmp/images/build\.sh runtime-check' <<<"$runtime" ||
    fail "$CONTAINERFILE: runtime stage does not run IMAGE_VARIANT=\${DEBIAN_RELEASE} bash /tmp/images/build.sh runtime-check"
  grep -qE '^ENTRYPOINT \["/usr/bin/dpdk-app"\]' <<<"$runtime" ||
    fail "$CONTAINERFILE: runtime stage must end with ENTRYPOINT [\"/usr/bin/dpdk-app\"]"
}

# The build context is filtered by Containerfile.dockerignore (an allow-list); every workspace
# member must be allowed or `cargo build --locked` in the builder fails to load the workspace.
check_ignorefile() {
  [ -f "$IGNOREFILE" ] || { fail "$IGNOREFILE does not exist"; return; }
  local members m
  members=$(sed -n '/^members *=/,/]/p' "$root/Cargo.toml" | grep -o '"[^"]*"' | tr -d '"')
  for m in $members Cargo.toml Cargo.lock images; do
    grep -qxF "!$m" "$IGNOREFILE" || grep -qxF "!$m/" "$IGNOREFILE" ||
      fail "$IGNOREFILE: workspace path '$m' is not allowed into the build context (add a line '!$m')"
  done
}

check_dpdk_version() {
  local pkg version
  for pkg in "$@"; do
    case $pkg in librte-*) ;; *) continue ;; esac
    version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
    case $version in
      "$DPDK_SERIES".*) ;;
      *) fail "$pkg is version '${version:-not installed}', expected DPDK $DPDK_SERIES.x" ;;
    esac
  done
}

check() {
  local binary=${1:-$(target_dir)/release/$PACKAGE}
  need dpkg-query "this check needs a Debian system"
  need dpkg-shlibdeps "install dpkg-dev"
  need apt-cache "install apt"
  [ -x "$binary" ] || die "$binary does not exist or is not executable; run '$0 binary' first"

  check_containerfile
  check_ignorefile

  mapfile -t listed < <(packages)
  [ "${#listed[@]}" -gt 0 ] || die "$RUNTIME_PACKAGES lists no package"
  declare -A LISTED=() CLOSURE=() BASE=() USED=()
  local pkg
  for pkg in "${listed[@]}"; do
    [[ $pkg =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || { fail "$RUNTIME_PACKAGES: '$pkg' is not a Debian package name"; continue; }
    [ -z "${LISTED[$pkg]:-}" ] || fail "$RUNTIME_PACKAGES: $pkg is listed twice"
    LISTED[$pkg]=1
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      fail "$RUNTIME_PACKAGES: $pkg is not installed on this machine, so its files and dependencies cannot be checked (misspelt? apt-cache policy $pkg; on CI it comes with libdpdk-dev)"
  done
  [ "$errors" -eq 0 ] || die "$errors error(s)"
  check_dpdk_version "${listed[@]}"

  while read -r pkg; do CLOSURE[$pkg]=1; done < <(apt_closure "${listed[@]}")
  # What every Debian image has: the Essential packages and what they depend on (libc6, libgcc-s1).
  mapfile -t essential < <(dpkg-query -W -f='${Package}\t${Essential}\t${Status}\n' |
    awk -F'\t' '$2 == "yes" && $3 == "install ok installed" { print $1 }')
  while read -r pkg; do BASE[$pkg]=1; done < <(apt_closure "${essential[@]}")

  # 1. The packages dpkg-shlibdeps says dpdk-app needs: listed, or in the base image.
  log "dpdk-app ($binary) needs (dpkg-shlibdeps):"
  while read -r pkg; do
    if in_set "$pkg" LISTED; then
      USED[$pkg]=1; log "  $pkg (listed)"
    elif in_set "$pkg" BASE; then
      log "  $pkg (base image)"
    else
      fail "dpdk-app links a library of package $pkg, which is not listed in $RUNTIME_PACKAGES (add '$pkg' there)"
    fi
  done < <(shlib_packages "$binary")

  # 2. Required PMDs: shipped by a listed package, and what they load comes with apt's closure
  #    of the listed packages or the base image.
  local dir name file owner
  dir=$(pmd_dir)
  log "PMDs ($dir):"
  for name in "${REQUIRED_PMDS[@]}"; do
    if ! file=$(pmd_file "$dir" "$name"); then
      fail "PMD $name: no $dir/librte_$name.so* here; install the package that ships it (apt-file search librte_$name) and list it in $RUNTIME_PACKAGES"
      continue
    fi
    owner=$(owner_of "$file") || owner=""
    if [ -n "$owner" ] && in_set "$owner" LISTED; then
      USED[$owner]=1; log "  $(basename "$file")  <- $owner (listed)"
    else
      fail "$(basename "$file") is shipped by '${owner:-no package}', which is not listed in $RUNTIME_PACKAGES (add it there)"
    fi
    while read -r pkg; do
      in_set "$pkg" CLOSURE || in_set "$pkg" BASE ||
        fail "$(basename "$file") needs package $pkg, which neither a listed package nor the base image brings in (list '$pkg' in $RUNTIME_PACKAGES)"
    done < <(shlib_packages "$file")
  done

  for pkg in "${listed[@]}"; do
    [ -n "${USED[$pkg]:-}" ] ||
      log "note: $pkg is listed but dpdk-app does not link it and it ships no required PMD (drop it if that stays so)"
  done
  [ "$errors" -eq 0 ] || die "$errors error(s): the runtime image would not run dpdk-app"
  log "ok ($VARIANT, DPDK $DPDK_SERIES): ${#listed[@]} runtime packages cover dpdk-app and ${#REQUIRED_PMDS[@]} PMDs"
}

# Inside the runtime image (no readelf, no dpkg -S needed): what EAL will do at start works.
runtime_check() {
  local binary=${1:?usage: $0 runtime-check BINARY}
  local pkg dir name file line
  mapfile -t listed < <(packages)
  for pkg in "${listed[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      fail "$pkg (from $(basename "$RUNTIME_PACKAGES")) is not installed in the image"
  done
  check_dpdk_version "${listed[@]}"
  dir=$(pmd_dir)
  for name in "${REQUIRED_PMDS[@]}"; do
    pmd_file "$dir" "$name" >/dev/null || fail "PMD $name missing from $dir"
  done
  # EAL dlopen()s every driver in the directory: each one must resolve, not just ours.
  for file in "$binary" "$dir"/*.so*; do
    [ -e "$file" ] || continue
    while IFS= read -r line; do
      fail "$file: $line"
    done < <(ldd "$file" 2>&1 | grep -E 'not found|not a dynamic' || true)
  done
  [ "$errors" -eq 0 ] || die "$errors error(s) in the runtime image"
  log "ok: runtime image ($VARIANT) has ${#listed[@]} packages, DPDK $DPDK_SERIES, all libraries and PMDs resolve"
}

install_binary() { # DIR
  local src dest
  src=$(target_dir)/release/$PACKAGE
  dest=$1/usr/bin/$PACKAGE
  install -D -m 0755 "$src" "$dest"
  # Keep the symbol table (backtraces), drop DWARF (profile.release has debug = 1).
  if command -v objcopy >/dev/null 2>&1; then objcopy --strip-debug "$dest"; fi
  log "installed $dest ($(du -h "$dest" | cut -f1))"
}

main() {
  local cmd=${1:-all}
  [ $# -eq 0 ] || shift
  case $cmd in
    all)
      local install_dir=""
      while [ $# -gt 0 ]; do
        case $1 in
          --install) [ $# -ge 2 ] || die "--install needs a directory"; install_dir=$2; shift 2 ;;
          *) die "unknown argument to 'all': $1" ;;
        esac
      done
      build_binary
      check
      [ -z "$install_dir" ] || install_binary "$install_dir"
      ;;
    binary) build_binary ;;
    check) check "$@" ;;
    runtime-check) runtime_check "$@" ;;
    packages) packages ;;
    -h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
    *) die "unknown command '$cmd' (all, binary, check, runtime-check, packages; --help)" ;;
  esac
}

main "$@"
