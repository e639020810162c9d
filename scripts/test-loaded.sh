#!/usr/bin/env bash
# Run the DPDK integration tests with one busy process per core beside them (`make test-loaded`).
#
# The tests assert what the code guarantees whatever the scheduler does (exact accounting,
# events instead of sleeps); this is the check that they do. stress-ng's CPU hogs run at the
# tests' own priority, so every DPDK process shares its core with one of them; the hogs are
# always stopped, also when the tests fail or the run is interrupted.
#
#   scripts/test-loaded.sh [extra cargo test arguments]
#   STRESS_CPUS=N   hogs to start (default: one per core, `nproc`)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'test-loaded: %s\n' "$*" >&2; }

command -v stress-ng >/dev/null 2>&1 || {
  log "stress-ng is not installed: run scripts/install-deps.sh (or apt-get install stress-ng)"
  exit 1
}
hogs=${STRESS_CPUS:-$(nproc)}
case "$hogs" in
  ''|*[!0-9]*) log "STRESS_CPUS must be a number of processes, got '$hogs'"; exit 2 ;;
esac

# Build first, unloaded: the load is for the tests, not for the compiler.
cargo test --locked -p dpdk -p dpdk-app --tests --no-run

stress-ng --cpu "$hogs" --cpu-method int64 --timeout 0 --quiet &
stress=$!
stop_stress() {
  kill -TERM "$stress" 2>/dev/null || true
  wait "$stress" 2>/dev/null || true
}
trap stop_stress EXIT
trap 'exit 130' INT TERM
log "stress-ng --cpu $hogs running (pid $stress); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# Integration tests only (`--test '*'`): the ones that start DPDK processes.
cargo test --locked -p dpdk -p dpdk-app --test '*' "$@"
log "passed with $hogs busy processes beside the tests; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
