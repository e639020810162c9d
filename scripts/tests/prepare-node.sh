#!/usr/bin/env bash
# Tests for scripts/prepare-node.sh against fake nodes: each test builds a sysfs/proc/dev tree in
# a mktemp -d directory (scripts/tests/fake-node/lib.sh), points the script at it with --root,
# at the stub commands in fake-node/bin with PREPARE_NODE_BIN_DIR and at the fake kernel's sysfs
# side with PREPARE_NODE_SYSFS_HOOK. No hardware, no root, nothing on this machine is touched.
#
# Usage: scripts/tests/prepare-node.sh [TEST...]   (default: every test, then the self-test)
# Exit status 0 when every test passed, 1 otherwise.
#
# The self-test at the end runs some tests again against broken copies of the script (the seed
# script's ignored VF count, a dry run that writes, ...) and fails unless each breakage is caught.
# PREPARE_NODE_SCRIPT picks the script under test (the self-test uses it).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SCRIPT=${PREPARE_NODE_SCRIPT:-$HERE/../prepare-node.sh}
FAKE=$HERE/fake-node
WORK=$(mktemp -d "${TMPDIR:-/tmp}/prepare-node-test.XXXXXX")
WORK=$(cd "$WORK" && pwd -P)
trap 'rm -rf "$WORK"' EXIT

PF=0000:65:00.0
VF0=0000:65:00.2
VF1=0000:65:00.3
VF2=0000:65:00.4
VF3=0000:65:00.5
MAC0=02:f6:1a:2b:3c:00
MAC1=02:f6:1a:2b:3c:01
MAC2=02:f6:1a:2b:3c:02
MAC3=02:f6:1a:2b:3c:03

# ---- helpers -----------------------------------------------------------------------------

TESTS=0
FAILED=0
TEST=""
TEST_FAILED=0

failure() {
  TEST_FAILED=1
  printf 'FAIL %s: %s\n' "$TEST" "$1"
  [[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/    /'
}

expect_eq() {
  [[ $2 == "$3" ]] && return 0
  failure "$1" "$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -n 60 || true)"
}

expect_contains() {
  [[ $3 == *"$2"* ]] && return 0
  failure "$1: no '$2' in" "$3"
}

expect_rc() {
  [[ $RC == "$1" ]] && return 0
  failure "exit status $RC, expected $1" "stdout:
$OUT
stderr:
$ERR"
}

# new_node NAME: a fresh fake node (fake_make_node) in R (root) and S (stub state).
new_node() {
  NODE=$WORK/$TEST-$1
  R=$NODE/root
  S=$NODE/state
  BIN=$FAKE/bin
  mkdir -p "$R" "$S"
  fake fake_make_node
}

# fake FUNCTION ARGS...: a fake-node/lib.sh function on the current node.
fake() {
  (
    export FAKE_ROOT=$R FAKE_STATE=$S
    # shellcheck source=SCRIPTDIR/fake-node/lib.sh
    . "$FAKE/lib.sh"
    "$@"
  )
}

# run ARGS...: the script on the current node; sets OUT, ERR, RC.
run() {
  RC=0
  FAKE_ROOT=$R FAKE_STATE=$S PREPARE_NODE_BIN_DIR=$BIN PREPARE_NODE_SYSFS_HOOK=$FAKE/kernel \
    "$SCRIPT" --root "$R" "$@" >"$NODE/out" 2>"$NODE/err" || RC=$?
  OUT=$(<"$NODE/out")
  ERR=$(<"$NODE/err")
}

# names DIR: the entries of DIR, on one line.
names() {
  local entry out=""
  for entry in "$1"/*; do
    [[ -e $entry || -L $entry ]] && out+="${out:+ }${entry##*/}"
  done
  printf '%s' "$out"
}

# The lines of a run's output that are commands (not # comments).
commands() { grep -v '^#' <<<"$1" || true; }

# The commands that changed the fake node: from its log of stub calls and sysfs writes.
calls() { cat "$S/calls"; }

# What the script printed that the fake node logs (all but its own state-file bookkeeping).
node_commands() { commands "$1" | grep -Ev '^(mkdir -p |rmdir |rm -f |echo [^ ]+ >> )' || true; }

# snapshot: the whole node (every path with its type and link target, every line of every
# file, and the stub state but its call log), to compare before and after.
snapshot() {
  (
    cd "$R"
    find . -mindepth 1 -printf '%p %y %l\n' | LC_ALL=C sort
    grep -r '' . | LC_ALL=C sort || true
    cd "$S"
    grep -r '' . | grep -v '^\./calls:' | LC_ALL=C sort | sed 's/^/state /' || true
  )
}

# What --undo cannot take back: the kernel modules prepare-node loaded.
without_modules() {
  grep -Ev '^\./sys/module/(vdpa|vhost_vdpa|mlx5_vdpa|virtio_vdpa)[/ ]|^\./sys/bus/vdpa[/ ]|^state \./module_order:' || true
}

PREPARE=(--pf ens1f0 --num-vfs 4 --mode switchdev --hugepages-1g 4 --ovs-hw-offload)

# ---- the happy path ----------------------------------------------------------------------

expected_dry_run() {
  cat <<EOF
# dry run: nothing is changed; the commands below are those a real run would run, in order
# step 1/8 (check the node)
# IOMMU: enabled ($R/sys/kernel/iommu_groups has groups)
# PF ens1f0 = $PF (mlx5_core, 15b3:101d, firmware 22.39.1002): 0 of 8 VFs, eswitch legacy
# vdpa: vdpa utility, iproute2-6.1.0
# MACs: $MAC0 .. $MAC3 (locally administered, from ens1f0's MAC b8:ce:f6:1a:2b:3c)
# step 2/8 (load kernel modules)
modprobe -a vdpa vhost_vdpa mlx5_vdpa
# step 3/8 (create VFs)
mkdir -p $R/var/lib/prepare-node
echo orig_numvfs=0 >> $R/var/lib/prepare-node/$PF.state
echo 4 > $R/sys/bus/pci/devices/$PF/sriov_numvfs
# VFs: $VF0 $VF1 $VF2 $VF3
# step 4/8 (set eswitch mode switchdev)
echo orig_mode=legacy >> $R/var/lib/prepare-node/$PF.state
echo $VF0 > $R/sys/bus/pci/drivers/mlx5_core/unbind
echo $VF1 > $R/sys/bus/pci/drivers/mlx5_core/unbind
echo $VF2 > $R/sys/bus/pci/drivers/mlx5_core/unbind
echo $VF3 > $R/sys/bus/pci/drivers/mlx5_core/unbind
devlink dev eswitch set pci/$PF mode switchdev
echo $VF0 > $R/sys/bus/pci/drivers/mlx5_core/bind
echo $VF1 > $R/sys/bus/pci/drivers/mlx5_core/bind
echo $VF2 > $R/sys/bus/pci/drivers/mlx5_core/bind
echo $VF3 > $R/sys/bus/pci/drivers/mlx5_core/bind
# step 5/8 (add vDPA devices)
vdpa dev add name vdpa0 mgmtdev pci/$VF0 mac $MAC0
vdpa dev add name vdpa1 mgmtdev pci/$VF1 mac $MAC1
vdpa dev add name vdpa2 mgmtdev pci/$VF2 mac $MAC2
vdpa dev add name vdpa3 mgmtdev pci/$VF3 mac $MAC3
# step 6/8 (bind to vhost_vdpa)
# vdpa0: binds to vhost_vdpa at creation (virtio_vdpa is not loaded)
# vdpa1: binds to vhost_vdpa at creation (virtio_vdpa is not loaded)
# vdpa2: binds to vhost_vdpa at creation (virtio_vdpa is not loaded)
# vdpa3: binds to vhost_vdpa at creation (virtio_vdpa is not loaded)
# step 7/8 (reserve 1 GiB hugepages)
echo orig_hugepages_1g=0 >> $R/var/lib/prepare-node/$PF.state
echo 4 > $R/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
# restart the kubelet so that the node reports hugepages-1Gi: 4Gi
# step 8/8 (OVS hardware offload)
echo orig_ovs_hw_offload=unset >> $R/var/lib/prepare-node/$PF.state
ovs-vsctl set Open_vSwitch . other_config:hw-offload=true
# restart ovs-vswitchd for it to take effect (vswitchd/vswitch.xml: changing hw-offload requires restarting the daemon)
#
# What a pod on this node will see (PF ens1f0, eswitch switchdev):
#   /dev/vhost-vdpa-?    vdpa0      VF $VF0   MAC $MAC0
#   /dev/vhost-vdpa-?    vdpa1      VF $VF1   MAC $MAC1
#   /dev/vhost-vdpa-?    vdpa2      VF $VF2   MAC $MAC2
#   /dev/vhost-vdpa-?    vdpa3      VF $VF3   MAC $MAC3
#   (vhost_vdpa numbers its char devices when they are bound; the dry run cannot know them)
# SR-IOV network device plugin selector for these VFs (deployment/configMap-vdpa.yaml, vdpa_mlx_vhost):
#   {"vendors": ["15b3"], "devices": ["101e"], "drivers": ["mlx5_core"], "vdpaType": "vhost"}
# Check: vdpa dev show; ls -l /dev/vhost-vdpa-*; devlink dev eswitch show pci/$PF
# dry run: 22 change(s) listed above, none made
EOF
}

test_dry_run_fresh_node() {
  new_node a
  local before
  before=$(snapshot)
  run "${PREPARE[@]}" --dry-run
  expect_rc 0
  expect_eq "dry-run output" "$(expected_dry_run)" "$OUT"
  expect_eq "dry-run stderr" "" "$ERR"
  expect_eq "the dry run changed the node" "$before" "$(snapshot)"
  expect_eq "the dry run ran commands" "" "$(calls)"
}

# The node after a real run of PREPARE, checked file by file.
check_prepared_node() {
  local i vf mac dev
  local vfs=("$VF0" "$VF1" "$VF2" "$VF3") macs=("$MAC0" "$MAC1" "$MAC2" "$MAC3")
  expect_eq "sriov_numvfs" 4 "$(<"$R/sys/bus/pci/devices/$PF/sriov_numvfs")"
  expect_eq "eswitch mode" switchdev "$(<"$S/eswitch_mode")"
  for ((i = 0; i < 4; i++)); do
    vf=${vfs[i]}
    mac=${macs[i]}
    dev=$R/sys/bus/vdpa/devices/vdpa$i
    expect_eq "virtfn$i" "$vf" "$(basename "$(readlink -f "$R/sys/bus/pci/devices/$PF/virtfn$i")")"
    expect_eq "VF $vf driver" mlx5_core "$(basename "$(readlink -f "$R/sys/bus/pci/devices/$vf/driver")")"
    expect_eq "vdpa$i parent" "$vf" "$(basename "$(dirname "$(readlink -f "$dev")")")"
    expect_eq "vdpa$i driver" vhost_vdpa "$(basename "$(readlink -f "$dev/driver")")"
    expect_eq "vdpa$i MAC" "$mac" "$(<"$S/vdpa/vdpa$i.mac")"
    [[ -d $dev/vhost-vdpa-$i && -e $R/dev/vhost-vdpa-$i ]] || failure "vdpa$i has no vhost-vdpa-$i"
  done
  expect_eq "vDPA devices" "vdpa0 vdpa1 vdpa2 vdpa3" "$(names "$R/sys/bus/vdpa/devices")"
  expect_eq "/dev nodes" "vhost-vdpa-0 vhost-vdpa-1 vhost-vdpa-2 vhost-vdpa-3" "$(names "$R/dev")"
  expect_eq "nr_hugepages" 4 "$(<"$R/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages")"
  expect_eq "OVS hw-offload" true "$(<"$S/ovs_hw_offload")"
  expect_eq "state file" "orig_numvfs=0
orig_mode=legacy
orig_hugepages_1g=0
orig_ovs_hw_offload=unset" "$(<"$R/var/lib/prepare-node/$PF.state")"
}

expected_summary() {
  cat <<EOF
# What a pod on this node will see (PF ens1f0, eswitch switchdev):
#   /dev/vhost-vdpa-0    vdpa0      VF $VF0   MAC $MAC0
#   /dev/vhost-vdpa-1    vdpa1      VF $VF1   MAC $MAC1
#   /dev/vhost-vdpa-2    vdpa2      VF $VF2   MAC $MAC2
#   /dev/vhost-vdpa-3    vdpa3      VF $VF3   MAC $MAC3
# SR-IOV network device plugin selector for these VFs (deployment/configMap-vdpa.yaml, vdpa_mlx_vhost):
#   {"vendors": ["15b3"], "devices": ["101e"], "drivers": ["mlx5_core"], "vdpaType": "vhost"}
# Check: vdpa dev show; ls -l /dev/vhost-vdpa-*; devlink dev eswitch show pci/$PF
EOF
}

test_real_run_prepares_node() {
  new_node a
  run "${PREPARE[@]}"
  expect_rc 0
  check_prepared_node
  expect_eq "a real run runs what the dry run lists" "$(commands "$(expected_dry_run)")" "$(commands "$OUT")"
  expect_eq "the commands printed are those run" "$(node_commands "$OUT")" "$(calls)"
  expect_eq "summary" "$(expected_summary)" "$(sed -n '/^# What a pod/,/^# Check:/p' <<<"$OUT")"
  expect_eq "last line" "# done: 22 change(s)" "$(tail -n 1 <<<"$OUT")"
  expect_eq "stderr" "" "$ERR"
}

test_second_run_is_noop() {
  new_node a
  run "${PREPARE[@]}"
  expect_rc 0
  local before calls_before
  before=$(snapshot)
  calls_before=$(calls)
  run "${PREPARE[@]}"
  expect_rc 0
  expect_eq "second run commands" "" "$(commands "$OUT")"
  expect_eq "second run last line" "# nothing to change: the node is already prepared" "$(tail -n 1 <<<"$OUT")"
  expect_contains "second run step 3" "# 4 VFs already exist: $VF0 $VF1 $VF2 $VF3" "$OUT"
  expect_contains "second run step 5" "# vdpa3 already exists on VF $VF3 with MAC $MAC3" "$OUT"
  expect_contains "second run step 6" "# vdpa3: vhost_vdpa, /dev/vhost-vdpa-3" "$OUT"
  expect_eq "second run summary" "$(expected_summary)" "$(sed -n '/^# What a pod/,/^# Check:/p' <<<"$OUT")"
  expect_eq "second run changed the node" "$before" "$(snapshot)"
  expect_eq "second run ran commands" "$calls_before" "$(calls)"
  run "${PREPARE[@]}" --dry-run
  expect_rc 0
  expect_eq "dry run on a prepared node" "" "$(commands "$OUT")"
  expect_eq "dry run on a prepared node, last line" "# nothing to change: the node is already prepared" "$(tail -n 1 <<<"$OUT")"
}

expected_undo_dry_run() {
  cat <<EOF
# dry run: nothing is changed; the commands below are those a real run would run, in order
# step 1/7 (check the node)
# PF ens1f0 = $PF (mlx5_core, 15b3:101d, firmware 22.39.1002): 4 of 8 VFs, eswitch switchdev
# vdpa: vdpa utility, iproute2-6.1.0
# step 2/7 (OVS hardware offload)
ovs-vsctl remove Open_vSwitch . other_config hw-offload
# restart ovs-vswitchd for it to take effect
# step 3/7 (release 1 GiB hugepages)
echo 0 > $R/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
# restart the kubelet so that the node reports the new hugepages-1Gi capacity
# step 4/7 (remove vDPA devices)
vdpa dev del vdpa0
vdpa dev del vdpa1
vdpa dev del vdpa2
vdpa dev del vdpa3
# step 5/7 (remove VFs)
echo 0 > $R/sys/bus/pci/devices/$PF/sriov_numvfs
# step 6/7 (restore eswitch mode)
devlink dev eswitch set pci/$PF mode legacy
# step 7/7 (forget the recorded state)
rm -f $R/var/lib/prepare-node/$PF.state
rmdir $R/var/lib/prepare-node
# dry run: 10 change(s) listed above, none made
EOF
}

test_undo_restores_node() {
  new_node a
  local pristine prepared calls_before
  pristine=$(snapshot)
  run "${PREPARE[@]}"
  expect_rc 0
  prepared=$(snapshot)
  calls_before=$(calls)
  run --pf ens1f0 --undo --dry-run
  expect_rc 0
  expect_eq "undo dry-run output" "$(expected_undo_dry_run)" "$OUT"
  expect_eq "the undo dry run changed the node" "$prepared" "$(snapshot)"
  expect_eq "the undo dry run ran commands" "$calls_before" "$(calls)"
  : >"$S/calls"
  run --pf ens1f0 --undo
  expect_rc 0
  expect_eq "undo runs what its dry run lists" "$(commands "$(expected_undo_dry_run)")" "$(commands "$OUT")"
  expect_eq "undo: the commands printed are those run" "$(node_commands "$OUT")" "$(calls)"
  expect_eq "undo last line" "# undone: 10 change(s); the kernel modules vdpa vhost_vdpa mlx5_vdpa stay loaded" "$(tail -n 1 <<<"$OUT")"
  expect_eq "node after undo (but the loaded modules)" "$(without_modules <<<"$pristine")" "$(snapshot | without_modules)"
  : >"$S/calls"
  run --pf ens1f0 --undo
  expect_rc 0
  expect_eq "second undo commands" "" "$(commands "$OUT")"
  expect_eq "second undo last line" "# nothing to undo" "$(tail -n 1 <<<"$OUT")"
  expect_eq "second undo ran commands" "" "$(calls)"
}

# --num-vfs is honoured (the seed script always wrote 4), legacy mode leaves the eswitch alone,
# --mac-base sets the MACs, a PCI address works as --pf.
test_legacy_two_vfs() {
  new_node a
  run --pf 65:00.0 --num-vfs 2 --mode legacy --mac-base 0C:FE:C0:FF:EE:10
  expect_rc 0
  expect_eq "legacy commands" "modprobe -a vdpa vhost_vdpa mlx5_vdpa
mkdir -p $R/var/lib/prepare-node
echo orig_numvfs=0 >> $R/var/lib/prepare-node/$PF.state
echo 2 > $R/sys/bus/pci/devices/$PF/sriov_numvfs
vdpa dev add name vdpa0 mgmtdev pci/$VF0 mac 0c:fe:c0:ff:ee:10
vdpa dev add name vdpa1 mgmtdev pci/$VF1 mac 0c:fe:c0:ff:ee:11" "$(commands "$OUT")"
  expect_eq "VFs" "2 $VF0 $VF1" "$(<"$R/sys/bus/pci/devices/$PF/sriov_numvfs") $(basename "$(readlink -f "$R/sys/bus/pci/devices/$PF/virtfn0")") $(basename "$(readlink -f "$R/sys/bus/pci/devices/$PF/virtfn1")")"
  [[ ! -e $R/sys/bus/pci/devices/$PF/virtfn2 ]] || failure "a third VF exists"
  expect_eq "eswitch" legacy "$(<"$S/eswitch_mode")"
  expect_contains "summary" "#   /dev/vhost-vdpa-1    vdpa1      VF $VF1   MAC 0c:fe:c0:ff:ee:11" "$OUT"
  expect_contains "steps 7, 8 skipped" "# step 7/8 (reserve 1 GiB hugepages)
# not asked for (--hugepages-1g)
# step 8/8 (OVS hardware offload)
# not asked for (--ovs-hw-offload)" "$OUT"
}

# legacy -> switchdev on a prepared node, then a VF count change in switchdev mode, then undo.
test_mode_and_count_changes() {
  new_node a
  local pristine st=$R/var/lib/prepare-node/$PF.state
  pristine=$(snapshot)
  run --pf ens1f0 --num-vfs 2 --mode legacy
  expect_rc 0
  run --pf ens1f0 --num-vfs 2 --mode switchdev
  expect_rc 0
  expect_eq "legacy -> switchdev" "echo orig_mode=legacy >> $st
vdpa dev del vdpa0
vdpa dev del vdpa1
echo $VF0 > $R/sys/bus/pci/drivers/mlx5_core/unbind
echo $VF1 > $R/sys/bus/pci/drivers/mlx5_core/unbind
devlink dev eswitch set pci/$PF mode switchdev
echo $VF0 > $R/sys/bus/pci/drivers/mlx5_core/bind
echo $VF1 > $R/sys/bus/pci/drivers/mlx5_core/bind
vdpa dev add name vdpa0 mgmtdev pci/$VF0 mac $MAC0
vdpa dev add name vdpa1 mgmtdev pci/$VF1 mac $MAC1" "$(commands "$OUT")"
  expect_contains "vhost numbers are reused" "#   /dev/vhost-vdpa-1    vdpa1      VF $VF1   MAC $MAC1" "$OUT"
  run --pf ens1f0 --num-vfs 3 --mode switchdev
  expect_rc 0
  expect_eq "2 -> 3 VFs in switchdev mode" "vdpa dev del vdpa0
vdpa dev del vdpa1
echo $VF0 > $R/sys/bus/pci/drivers/mlx5_core/unbind
echo $VF1 > $R/sys/bus/pci/drivers/mlx5_core/unbind
devlink dev eswitch set pci/$PF mode legacy
echo 0 > $R/sys/bus/pci/devices/$PF/sriov_numvfs
echo 3 > $R/sys/bus/pci/devices/$PF/sriov_numvfs
echo $VF0 > $R/sys/bus/pci/drivers/mlx5_core/unbind
echo $VF1 > $R/sys/bus/pci/drivers/mlx5_core/unbind
echo $VF2 > $R/sys/bus/pci/drivers/mlx5_core/unbind
devlink dev eswitch set pci/$PF mode switchdev
echo $VF0 > $R/sys/bus/pci/drivers/mlx5_core/bind
echo $VF1 > $R/sys/bus/pci/drivers/mlx5_core/bind
echo $VF2 > $R/sys/bus/pci/drivers/mlx5_core/bind
vdpa dev add name vdpa0 mgmtdev pci/$VF0 mac $MAC0
vdpa dev add name vdpa1 mgmtdev pci/$VF1 mac $MAC1
vdpa dev add name vdpa2 mgmtdev pci/$VF2 mac $MAC2" "$(commands "$OUT")"
  expect_eq "state keeps the first originals" "orig_numvfs=0
orig_mode=legacy" "$(<"$st")"
  expect_eq "three vDPA devices" "vdpa0 vdpa1 vdpa2" "$(names "$R/sys/bus/vdpa/devices")"
  run --pf ens1f0 --undo
  expect_rc 0
  expect_eq "node after undo (but the loaded modules)" "$(without_modules <<<"$pristine")" "$(snapshot | without_modules)"
}

# vDPA devices created while virtio_vdpa is the first vDPA bus driver bind to it; the script
# moves them to vhost_vdpa.
test_virtio_vdpa_loaded_first() {
  new_node a
  FAKE_ROOT=$R FAKE_STATE=$S "$BIN/modprobe" virtio_vdpa
  : >"$S/calls"
  run --pf ens1f0 --num-vfs 2 --mode legacy --dry-run
  expect_rc 0
  expect_contains "dry run warns" "# vdpa1: binds at creation to vhost_vdpa or virtio_vdpa (both loaded); a real run moves it to vhost_vdpa if needed" "$OUT"
  run --pf ens1f0 --num-vfs 2 --mode legacy
  expect_rc 0
  expect_eq "step 6 commands" "echo vdpa0 > $R/sys/bus/vdpa/drivers/virtio_vdpa/unbind
echo vdpa0 > $R/sys/bus/vdpa/drivers/vhost_vdpa/bind
echo vdpa1 > $R/sys/bus/vdpa/drivers/virtio_vdpa/unbind
echo vdpa1 > $R/sys/bus/vdpa/drivers/vhost_vdpa/bind" "$(sed -n '/^# step 6/,/^# step 7/p' <<<"$OUT" | grep -v '^#')"
  expect_eq "drivers" "vhost_vdpa vhost_vdpa" "$(basename "$(readlink -f "$R/sys/bus/vdpa/devices/vdpa0/driver")") $(basename "$(readlink -f "$R/sys/bus/vdpa/devices/vdpa1/driver")")"
  expect_eq "/dev nodes" "vhost-vdpa-0 vhost-vdpa-1" "$(names "$R/dev")"
  run --pf ens1f0 --num-vfs 2 --mode legacy
  expect_eq "then nothing to change" "# nothing to change: the node is already prepared" "$(tail -n 1 <<<"$OUT")"
}

test_help() {
  new_node a
  run --help
  expect_rc 0
  local opt
  for opt in --pf --num-vfs --mode --mac-base --name-prefix --hugepages-1g --ovs-hw-offload \
    --undo --dry-run --root --state-dir --timeout --skip-iommu-check PREPARE_NODE_BIN_DIR \
    PREPARE_NODE_SYSFS_HOOK "Exit status"; do
    expect_contains "--help documents $opt" "$opt" "$OUT"
  done
}

# ---- errors ------------------------------------------------------------------------------

# expect_failure STDERR ARGS...: the run fails with exactly this message and changes nothing.
expect_failure() {
  local message=$1 before
  shift
  before=$(snapshot)
  run "$@"
  expect_rc 1
  expect_eq "stderr" "$message" "$ERR"
  expect_eq "calls before the failure" "${EXPECT_CALLS:-}" "$(calls)"
  [[ -n ${EXPECT_CALLS:-} ]] || expect_eq "the failed run changed the node" "$before" "$(snapshot)"
}

test_usage_errors() {
  new_node a
  local args
  for args in "--pf ens1f0 --num-vfs 2" "--pf ens1f0 --num-vfs 0 --mode legacy" \
    "--pf ens1f0 --num-vfs 2 --mode legacy --ovs-hw-offload" "--pf ens1f0 --num-vfs 2 --mode bogus" \
    "--pf ens1f0 --undo --num-vfs 2" "--num-vfs 2 --mode legacy" "--pf ens1f0 --num-vfs 2 --mode legacy --frob"; do
    # shellcheck disable=SC2086 # the words of $args are the arguments
    run $args
    [[ $RC == 2 ]] || failure "'$args': exit status $RC, expected 2" "$ERR"
  done
  run --pf ens1f0 --num-vfs 2
  expect_eq "missing --mode" "prepare-node: --mode is required: switchdev (upstream's vDPA path) or legacy (the SR-IOV CNI NADs)
Run $SCRIPT --help for the options." "$ERR"
}

test_error_not_root() {
  new_node a
  printf '1000\n' >"$S/uid"
  expect_failure "prepare-node: step 1/8 (check the node): must run as root (uid is 1000): it writes sysfs and runs modprobe, devlink and vdpa" "${PREPARE[@]}"
  run "${PREPARE[@]}" --dry-run
  expect_rc 0
  expect_eq "dry run as non-root" "prepare-node: warning: not root (uid 1000): a real run needs root" "$ERR"
}

test_error_missing_pf() {
  new_node a
  expect_failure "prepare-node: step 1/8 (check the node): no network interface ens9f9: $R/sys/class/net/ens9f9 does not exist" \
    --pf ens9f9 --num-vfs 2 --mode legacy
  expect_failure "prepare-node: step 1/8 (check the node): no PCI device 0000:af:00.0: $R/sys/bus/pci/devices/0000:af:00.0 does not exist" \
    --pf 0000:af:00.0 --num-vfs 2 --mode legacy
  mkdir -p "$R/sys/devices/virtual/net/veth0" "$R/sys/devices/virtio2/net/eth0"
  ln -s ../../devices/virtual/net/veth0 "$R/sys/class/net/veth0"
  ln -s ../../devices/virtio2/net/eth0 "$R/sys/class/net/eth0"
  ln -s ../../../virtio2 "$R/sys/devices/virtio2/net/eth0/device"
  expect_failure "prepare-node: step 1/8 (check the node): veth0 is not a PCI function (no $R/sys/class/net/veth0/device)" \
    --pf veth0 --num-vfs 2 --mode legacy
  expect_failure "prepare-node: step 1/8 (check the node): eth0 is not on a PCI function: its device is virtio2, not in $R/sys/bus/pci/devices" \
    --pf eth0 --num-vfs 2 --mode legacy
  fake fake_vfs_create "$PF" 2
  expect_failure "prepare-node: step 1/8 (check the node): $VF0 is a VF (of $PF); give its PF" \
    --pf "$VF0" --num-vfs 2 --mode legacy
}

test_error_no_iommu() {
  new_node a
  rm -r "$R/sys/kernel/iommu_groups"/*
  printf 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro\n' >"$R/proc/cmdline"
  expect_failure "prepare-node: step 1/8 (check the node): no IOMMU: $R/sys/kernel/iommu_groups is empty and $R/proc/cmdline has no intel_iommu=on: add intel_iommu=on iommu=pt (Intel) or check AMD-Vi in the firmware, and reboot (or --skip-iommu-check)" \
    "${PREPARE[@]}"
  printf 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro intel_iommu=on\n' >"$R/proc/cmdline"
  expect_failure "prepare-node: step 1/8 (check the node): no IOMMU groups in $R/sys/kernel/iommu_groups although the kernel command line has intel_iommu=on: enable VT-d / AMD-Vi in the firmware setup" \
    "${PREPARE[@]}"
}

test_error_module_missing() {
  new_node a
  sed -i '/mlx5_vdpa/d' "$R/lib/modules/6.1.0-fake/modules.dep"
  expect_failure "prepare-node: step 1/8 (check the node): kernel module(s) mlx5_vdpa not available for kernel 6.1.0-fake (not loaded, not in $R/lib/modules/6.1.0-fake/modules.dep or modules.builtin): install the kernel's extra modules package or build with CONFIG_VDPA, CONFIG_VHOST_VDPA, CONFIG_MLX5_VDPA_NET" \
    "${PREPARE[@]}"
}

test_error_too_many_vfs() {
  new_node a
  expect_failure "prepare-node: step 1/8 (check the node): --num-vfs 9 is more than the 8 VFs $PF offers ($R/sys/bus/pci/devices/$PF/sriov_totalvfs)" \
    --pf ens1f0 --num-vfs 9 --mode switchdev
}

test_error_pf_not_mlx5() {
  new_node a
  fake fake_pci_unbind "$PF"
  fake fake_pci_bind "$PF" ice
  expect_failure "prepare-node: step 1/8 (check the node): $PF is driven by ice, not mlx5_core: this script prepares NVIDIA ConnectX PFs" \
    "${PREPARE[@]}"
}

test_error_sriov_off_in_firmware() {
  new_node a
  printf '0\n' >"$R/sys/bus/pci/devices/$PF/sriov_totalvfs"
  expect_failure "prepare-node: step 1/8 (check the node): $PF offers 0 VFs (sriov_totalvfs): SR-IOV is disabled in the adapter's firmware configuration" \
    "${PREPARE[@]}"
}

test_error_no_eswitch() {
  new_node a
  : >"$S/no-eswitch"
  expect_failure "prepare-node: step 1/8 (check the node): cannot read the eswitch mode of pci/$PF (devlink dev eswitch show): kernel answers: Operation not supported" \
    "${PREPARE[@]}"
}

test_error_missing_tool() {
  new_node a
  BIN=$NODE/bin
  mkdir -p "$BIN"
  ln -s "$FAKE"/bin/{id,modprobe,devlink,vdpa} "$BIN/"
  expect_failure "prepare-node: step 1/8 (check the node): missing command(s) in PREPARE_NODE_BIN_DIR=$BIN: ovs-vsctl (Open vSwitch)" \
    "${PREPARE[@]}"
  rm "$BIN/vdpa" "$BIN/devlink"
  expect_failure "prepare-node: step 1/8 (check the node): missing command(s) in PREPARE_NODE_BIN_DIR=$BIN: devlink (iproute2 >= 5.14), vdpa (iproute2 >= 5.14), ovs-vsctl (Open vSwitch)" \
    "${PREPARE[@]}"
}

test_error_no_1g_hugepages() {
  new_node a
  rm -r "$R/sys/kernel/mm/hugepages/hugepages-1048576kB"
  expect_failure "prepare-node: step 1/8 (check the node): this kernel or CPU has no 1 GiB hugepages ($R/sys/kernel/mm/hugepages/hugepages-1048576kB is missing)" \
    "${PREPARE[@]}"
}

test_error_multicast_mac_base() {
  new_node a
  expect_failure "prepare-node: step 1/8 (check the node): --mac-base 01:00:5e:00:00:00 is a multicast address (the first byte is odd)" \
    --pf ens1f0 --num-vfs 2 --mode legacy --mac-base 01:00:5E:00:00:00
}

test_error_sriov_numvfs_write() {
  new_node a
  printf '/sriov_numvfs|Cannot allocate memory\n' >"$S/fail-write"
  EXPECT_CALLS="modprobe -a vdpa vhost_vdpa mlx5_vdpa
echo 4 > $R/sys/bus/pci/devices/$PF/sriov_numvfs" \
    expect_failure "prepare-node: step 3/8 (create VFs): writing 4 to $R/sys/bus/pci/devices/$PF/sriov_numvfs failed: Cannot allocate memory" \
    "${PREPARE[@]}"
}

test_error_no_mgmtdev() {
  new_node a
  printf '%s\n' "$VF0" >"$S/no-vnet"
  EXPECT_CALLS="modprobe -a vdpa vhost_vdpa mlx5_vdpa
echo 2 > $R/sys/bus/pci/devices/$PF/sriov_numvfs" \
    expect_failure "prepare-node: step 5/8 (add vDPA devices): no vDPA management device pci/$VF0 after 1s (vdpa mgmtdev show pci/$VF0: kernel answers: No such device): is mlx5_vdpa loaded and does the firmware offer virtio-net emulation on this VF?" \
    --pf ens1f0 --num-vfs 2 --mode legacy --timeout 1
}

test_error_hugepages_short() {
  new_node a
  printf '2\n' >"$S/hugepages_max"
  run --pf ens1f0 --num-vfs 1 --mode legacy --hugepages-1g 4
  expect_rc 1
  expect_eq "stderr" "prepare-node: step 7/8 (reserve 1 GiB hugepages): asked for 4 1 GiB pages, the kernel reserved 2 (memory is fragmented): reserve them at boot with default_hugepagesz=1G hugepagesz=1G hugepages=4" "$ERR"
}

test_error_mac_mismatch() {
  new_node a
  run --pf ens1f0 --num-vfs 2 --mode legacy
  expect_rc 0
  : >"$S/calls"
  expect_failure "prepare-node: step 5/8 (add vDPA devices): vdpa0 on VF $VF0 has MAC $MAC0, not 0c:fe:c0:ff:ee:00: delete it (vdpa dev del vdpa0) once no pod uses it, or pass --mac-base to match" \
    --pf ens1f0 --num-vfs 2 --mode legacy --mac-base 0c:fe:c0:ff:ee:00
}

test_error_other_vdpa_on_vf() {
  new_node a
  run --pf ens1f0 --num-vfs 2 --mode legacy --name-prefix foo
  expect_rc 0
  : >"$S/calls"
  expect_failure "prepare-node: step 5/8 (add vDPA devices): VF $VF0 already has vDPA device(s) foo0 and the device plugin uses exactly one per VF: delete them (vdpa dev del NAME) or reuse their names with --name-prefix" \
    --pf ens1f0 --num-vfs 2 --mode legacy
}

test_error_undo_device_in_use() {
  new_node a
  run --pf ens1f0 --num-vfs 2 --mode legacy
  expect_rc 0
  : >"$S/calls"
  mkdir -p "$R/proc/4242/fd"
  ln -s /dev/vhost-vdpa-1 "$R/proc/4242/fd/7"
  printf 'dpdk-testpmd\n' >"$R/proc/4242/comm"
  expect_failure "prepare-node: step 1/7 (check the node): vdpa1 (/dev/vhost-vdpa-1) is open by pid 4242 (dpdk-testpmd): stop the pods that use it first" \
    --pf ens1f0 --undo
}

# ---- the self-test: broken scripts must fail ------------------------------------------------

# mutant NAME SED-SCRIPT TEST...: a copy of the script changed by SED-SCRIPT must fail TESTs.
mutant() {
  local name=$1 edit=$2 copy
  shift 2
  TESTS=$((TESTS + 1))
  TEST="self-test: $name"
  copy=$WORK/mutant-$name.sh
  sed "$edit" "$SCRIPT" >"$copy"
  chmod +x "$copy"
  if cmp -s "$SCRIPT" "$copy"; then
    failure "the edit '$edit' no longer applies to $SCRIPT: update the self-test"
  elif PREPARE_NODE_SCRIPT=$copy "$HERE/prepare-node.sh" "$@" >"$WORK/mutant-$name.log" 2>&1; then
    failure "$* passed against the broken script" "$(cat "$WORK/mutant-$name.log")"
  fi
  ((TEST_FAILED)) && FAILED=$((FAILED + 1))
  TEST_FAILED=0
  return 0
}

# The sed scripts are literal: nothing in them is meant to expand.
# shellcheck disable=SC2016
self_test() {
  mutant seed-ignores-num-vfs 's/write_sysfs "\$n" "\$numvfs_file"/write_sysfs 4 "$numvfs_file"/' test_legacy_two_vfs
  mutant dry-run-writes '/^write_sysfs() {/,/^}/{/DRY_RUN/d}' test_dry_run_fresh_node
  mutant always-recreates-vfs 's/if ((CUR_NUMVFS == NUM_VFS)); then/if false; then/' test_second_run_is_noop
  mutant keeps-virtio-vdpa '/drivers\/\$driver\/unbind")"$/d' test_virtio_vdpa_loaded_first
  mutant undo-keeps-mode 's/set_eswitch_mode "\$orig_mode"/:/' test_undo_restores_node
  mutant no-in-use-check 's/^  \[\[ -z \$users \]\] || fail/  true || fail/' test_error_undo_device_in_use
}

# ---- main ----------------------------------------------------------------------------------

main() {
  local tests=("$@") t
  if ((${#tests[@]} == 0)); then
    mapfile -t tests < <(declare -F | awk '{print $3}' | grep '^test_')
    tests+=(self_test)
  fi
  for t in "${tests[@]}"; do
    if [[ $t == self_test ]]; then
      self_test
      continue
    fi
    declare -F "$t" >/dev/null || { echo "no test $t" >&2; exit 2; }
    TEST=$t
    TEST_FAILED=0
    TESTS=$((TESTS + 1))
    EXPECT_CALLS=""
    "$t"
    ((TEST_FAILED)) && FAILED=$((FAILED + 1))
  done
  if ((FAILED)); then
    printf '%d of %d tests failed\n' "$FAILED" "$TESTS"
    exit 1
  fi
  printf 'all %d tests passed\n' "$TESTS"
}

main "$@"
