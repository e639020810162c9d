#!/usr/bin/env bash
# Prepare a Kubernetes node for the vDPA traffic test: VFs on one ConnectX PF, its eswitch mode,
# one vDPA device per VF bound to vhost_vdpa (/dev/vhost-vdpa-N), 1 GiB hugepages and, in
# switchdev mode, OVS hardware offload. `prepare-node.sh --help` documents everything;
# docs/node-preparation.md explains each step and its upstream source.
set -euo pipefail

PROG=prepare-node

usage() {
  cat <<'EOF'
Usage: prepare-node.sh --pf PF --num-vfs N --mode switchdev|legacy [options]
       prepare-node.sh --pf PF --undo [--dry-run] [--root DIR] [--state-dir DIR]

Prepares this node for the vDPA traffic test, in 8 steps:
  1. check the node     root, IOMMU, kernel modules available, the PF exists and is driven by
                        mlx5_core with SR-IOV enabled in its firmware, N <= sriov_totalvfs,
                        the eswitch mode is readable (devlink), the vdpa/devlink tools exist
  2. load kernel modules  vdpa, vhost_vdpa, mlx5_vdpa (modprobe)
  3. create VFs         sriov_numvfs = N (to 0 first when another count is set); in switchdev
                        mode the PF goes to legacy first, as sriov-network-operator does
  4. set eswitch mode   unbind the VFs from mlx5_core, devlink dev eswitch set, bind them back
  5. add vDPA devices   vdpa dev add name <prefix><i> mgmtdev pci/<VF i> mac <MAC i>
  6. bind to vhost_vdpa   unbinding from virtio_vdpa (or any other driver) first
  7. reserve 1 GiB hugepages   only with --hugepages-1g
  8. OVS hardware offload      only with --ovs-hw-offload (switchdev mode)
Then it prints what a pod will see: each /dev/vhost-vdpa-N with its vDPA device, VF and MAC,
and the SR-IOV network device plugin selectors that match the VFs.

Every command that changes the node is printed before it runs, one per line, in a form that
can be pasted into a shell; everything else is printed as a '#' comment. A second run with the
same options changes nothing and says so.

Required:
  --pf PF               the PF: a netdev (ens1f0) or a PCI address (0000:65:00.0 or 65:00.0)
  --num-vfs N           how many VFs to create (1 .. sriov_totalvfs); one vDPA device each
  --mode MODE           eswitch mode: switchdev (what upstream supports for vDPA:
                        sriov-network-operator, ovs-cni, OVN-Kubernetes) or legacy (what the
                        SR-IOV CNI NADs in deployment/ need: VLAN, trust and spoofchk via the PF)

Options:
  --mac-base MAC        MAC of VF 0's vDPA device; VF i gets MAC+i. Default: the locally
                        administered 02:<last four bytes of the PF's MAC>:00, so that two PFs
                        or two nodes do not get the same MACs
  --name-prefix P       vDPA device names are P0, P1, ... (default: vdpa). Use another prefix
                        for a second PF on the same node
  --hugepages-1g N      make sure at least N 1 GiB hugepages are reserved (default: leave them)
  --ovs-hw-offload      ovs-vsctl set Open_vSwitch . other_config:hw-offload=true
                        (switchdev only; restart ovs-vswitchd yourself afterwards)
  --undo                reverse what earlier runs did on this PF: delete its vDPA devices,
                        set its VFs back to the recorded count (0 when none was recorded),
                        restore the eswitch mode, the hugepage count and the OVS setting when
                        a run changed them. Kernel modules stay loaded
  --dry-run             print the commands a real run would run, change nothing
  --root DIR            read and write sysfs, /proc, /dev, /lib/modules and the state dir
                        under DIR instead of / (for tests against a fake node; default: /)
  --state-dir DIR       where the original values a run changed are recorded, one file per
                        PF, for --undo (default: /var/lib/prepare-node, under --root)
  --timeout SECONDS     how long to wait for VFs, vDPA management devices and /dev nodes to
                        appear (default: 60)
  --skip-iommu-check    do not fail when no IOMMU is enabled
  -h, --help            this text

Environment:
  PREPARE_NODE_BIN_DIR     take vdpa, devlink, modprobe, ovs-vsctl and id from this directory
                           only (never from PATH): stubs for tests
  PREPARE_NODE_SYSFS_HOOK  after every write to a file under --root, run
                           "$PREPARE_NODE_SYSFS_HOOK PATH VALUE"; a non-zero exit fails the
                           write with its stderr as the reason. Tests use it to play the kernel

Examples:
  prepare-node.sh --pf ens1f0 --num-vfs 4 --mode switchdev --hugepages-1g 8 --ovs-hw-offload
  prepare-node.sh --pf 0000:65:00.0 --num-vfs 2 --mode legacy --mac-base 0c:fe:c0:ff:ee:00
  prepare-node.sh --pf ens1f0 --num-vfs 4 --mode switchdev --dry-run > plan.sh
  prepare-node.sh --pf ens1f0 --undo

Exit status: 0 done (or nothing to do), 1 a step failed (the message names the step and why),
2 bad usage.
EOF
}

# ---- options ------------------------------------------------------------------------------

PF_ARG=""
NUM_VFS=""
MODE=""
MAC_BASE=""
NAME_PREFIX="vdpa"
HUGEPAGES_1G=""
OVS_HW_OFFLOAD=0
UNDO=0
DRY_RUN=0
ROOT=""
STATE_DIR="/var/lib/prepare-node"
TIMEOUT=60
SKIP_IOMMU_CHECK=0

usage_error() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  printf 'Run %s --help for the options.\n' "$0" >&2
  exit 2
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

parse_args() {
  local opt value
  while (($# > 0)); do
    opt=$1
    value=""
    case $opt in
      --*=*) value=${opt#*=}; opt=${opt%%=*} ;;
    esac
    case $opt in
      --pf | --num-vfs | --mode | --mac-base | --name-prefix | --hugepages-1g | --root | \
        --state-dir | --timeout)
        if [[ $1 != *=* ]]; then
          (($# >= 2)) || usage_error "$opt needs a value"
          value=$2
          shift
        fi
        ;;
    esac
    case $opt in
      --pf) PF_ARG=$value ;;
      --num-vfs) NUM_VFS=$value ;;
      --mode) MODE=$value ;;
      --mac-base) MAC_BASE=$value ;;
      --name-prefix) NAME_PREFIX=$value ;;
      --hugepages-1g) HUGEPAGES_1G=$value ;;
      --root) ROOT=$value ;;
      --state-dir) STATE_DIR=$value ;;
      --timeout) TIMEOUT=$value ;;
      --ovs-hw-offload) OVS_HW_OFFLOAD=1 ;;
      --undo) UNDO=1 ;;
      --dry-run) DRY_RUN=1 ;;
      --skip-iommu-check) SKIP_IOMMU_CHECK=1 ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "unknown argument: $1" ;;
    esac
    shift
  done

  [[ -n $PF_ARG ]] || usage_error "--pf is required"
  if ((UNDO)); then
    if [[ -n $NUM_VFS$MODE$MAC_BASE$HUGEPAGES_1G ]] || ((OVS_HW_OFFLOAD)); then
      usage_error "--undo takes only --pf, --dry-run, --root, --state-dir and --timeout"
    fi
  else
    [[ -n $NUM_VFS ]] || usage_error "--num-vfs is required"
    if ! is_uint "$NUM_VFS" || ((10#$NUM_VFS < 1)); then
      usage_error "--num-vfs must be a number >= 1, not '$NUM_VFS'"
    fi
    NUM_VFS=$((10#$NUM_VFS))
    case $MODE in
      switchdev | legacy) ;;
      "") usage_error "--mode is required: switchdev (upstream's vDPA path) or legacy (the SR-IOV CNI NADs)" ;;
      *) usage_error "--mode must be switchdev or legacy, not '$MODE'" ;;
    esac
    if [[ -n $HUGEPAGES_1G ]]; then
      is_uint "$HUGEPAGES_1G" || usage_error "--hugepages-1g must be a number, not '$HUGEPAGES_1G'"
      HUGEPAGES_1G=$((10#$HUGEPAGES_1G))
    fi
    if ((OVS_HW_OFFLOAD)) && [[ $MODE != switchdev ]]; then
      usage_error "--ovs-hw-offload needs --mode switchdev (OVS offloads flows to the eswitch through the VF representors)"
    fi
    [[ $NAME_PREFIX =~ ^[A-Za-z0-9_.:-]+$ ]] || usage_error "--name-prefix may only use letters, digits and _ . : -"
  fi
  is_uint "$TIMEOUT" || usage_error "--timeout must be a number of seconds, not '$TIMEOUT'"
  TIMEOUT=$((10#$TIMEOUT))
  [[ $STATE_DIR == /* ]] || usage_error "--state-dir must be an absolute path"
  if [[ -n $ROOT ]]; then
    [[ -d $ROOT ]] || usage_error "--root $ROOT is not a directory"
    ROOT=$(cd "$ROOT" && pwd -P)
    [[ $ROOT == / ]] && ROOT=""
  fi
  return 0
}

# ---- output -------------------------------------------------------------------------------

STEP_NO=0
STEP_TOTAL=0
STEP_NAME=""
CHANGES=0

say() { printf '#%s\n' "${*:+ $*}"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }

# fail MESSAGE: the current step failed; name the step and why.
fail() {
  if ((STEP_NO > 0)); then
    printf '%s: step %d/%d (%s): %s\n' "$PROG" "$STEP_NO" "$STEP_TOTAL" "$STEP_NAME" "$*" >&2
  else
    printf '%s: %s\n' "$PROG" "$*" >&2
  fi
  exit 1
}

begin_step() {
  STEP_NO=$1
  STEP_NAME=$2
  say "step $STEP_NO/$STEP_TOTAL ($STEP_NAME)"
}

# The shell form of a command: each word quoted only when it needs it.
shell_words() {
  local out="" word
  for word in "$@"; do
    out+="${out:+ }$(printf '%q' "$word")"
  done
  printf '%s' "$out"
}

# Every change goes through show_change: it prints the command (the dry run's whole output).
show_change() {
  printf '%s\n' "$1"
  CHANGES=$((CHANGES + 1))
}

# ---- the filesystem, always under --root --------------------------------------------------

# path /sys/...: the same path under --root.
path() { printf '%s%s' "$ROOT" "$1"; }

# read_value FILE: its first line without surrounding blanks; fails when unreadable.
read_value() {
  local line
  [[ -r $1 ]] || return 1
  IFS= read -r line <"$1" || [[ -n $line ]] || return 1
  line=${line#"${line%%[![:space:]]*}"}
  printf '%s' "${line%"${line##*[![:space:]]}"}"
}

# The name of the directory a symlink resolves to (a driver, a PCI device), or nothing.
link_name() {
  local target
  [[ -e $1 ]] || return 0
  target=$(readlink -f -- "$1") || return 0
  printf '%s' "${target##*/}"
}

# write_sysfs VALUE FILE: echo VALUE > FILE, printed first; the failure names the file and why.
write_sysfs() {
  local value=$1 file=$2 err
  show_change "echo $(shell_words "$value") > $(shell_words "$file")"
  ((DRY_RUN)) && return 0
  if ! err=$({ printf '%s\n' "$value" >"$file"; } 2>&1); then
    err=${err##*$'\n'}
    fail "writing $value to $file failed: ${err##*: }"
  fi
  if [[ -n ${PREPARE_NODE_SYSFS_HOOK:-} ]]; then
    if ! err=$("$PREPARE_NODE_SYSFS_HOOK" "$file" "$value" 2>&1 >/dev/null); then
      fail "writing $value to $file failed: ${err:-rejected}"
    fi
  fi
}

PLANNED_DIRS=" "  # directories the dry run has created

make_dir() {
  [[ -d $1 || $PLANNED_DIRS == *" $1 "* ]] && return 0
  show_change "mkdir -p $(shell_words "$1")"
  PLANNED_DIRS+="$1 "
  ((DRY_RUN)) && return 0
  mkdir -p -- "$1" 2>/dev/null || fail "cannot create $1"
}

remove_file() {
  [[ -e $1 ]] || return 0
  show_change "rm -f $(shell_words "$1")"
  ((DRY_RUN)) && return 0
  rm -f -- "$1" || fail "cannot remove $1"
}

# wait_for SECONDS COMMAND...: poll COMMAND until it succeeds; fails after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# ---- external commands ---------------------------------------------------------------------

ERR_FILE=""
cleanup() { [[ -z $ERR_FILE ]] || rm -f -- "$ERR_FILE"; }
trap cleanup EXIT

# tool_path NAME: the program to run for NAME (from PREPARE_NODE_BIN_DIR only, when it is set).
tool_path() {
  if [[ -n ${PREPARE_NODE_BIN_DIR:-} ]]; then
    [[ -x $PREPARE_NODE_BIN_DIR/$1 ]] || return 1
    printf '%s' "$PREPARE_NODE_BIN_DIR/$1"
  else
    command -v -- "$1"
  fi
}

have_tool() { tool_path "$1" >/dev/null; }

# query TOOL ARGS...: a command that only reads; stdout in QUERY_OUT, the reason in QUERY_ERR.
QUERY_OUT=""
QUERY_ERR=""
query() {
  local bin status=0
  QUERY_OUT=""
  QUERY_ERR=""
  if ! bin=$(tool_path "$1"); then
    QUERY_ERR="$1: command not found"
    return 127
  fi
  QUERY_OUT=$("$bin" "${@:2}" 2>"$ERR_FILE") || status=$?
  QUERY_ERR=$(<"$ERR_FILE")
  QUERY_ERR=${QUERY_ERR##*$'\n'}
  [[ -n $QUERY_ERR ]] || QUERY_ERR="exit status $status"
  return "$status"
}

# run_change TOOL ARGS...: a command that changes the node: printed, then run unless --dry-run.
run_change() {
  local bin err
  show_change "$(shell_words "$@")"
  ((DRY_RUN)) && return 0
  bin=$(tool_path "$1") || fail "$1: command not found"
  if ! "$bin" "${@:2}" >/dev/null 2>"$ERR_FILE"; then
    err=$(<"$ERR_FILE")
    err=${err##*$'\n'}
    fail "$(shell_words "$@") failed: ${err:-no message}"
  fi
}

# ---- the PF and its VFs ----------------------------------------------------------------------

PF_PCI=""
PF_DIR=""
PF_NETDEV=""
CUR_NUMVFS=0
CUR_MODE=""
VFS=()           # VF PCI addresses, VF i at index i
PREDICTED_VFS=0  # 1 when VFS is the dry run's prediction (the VFs do not exist yet)

resolve_pf() {
  local pci
  if [[ $PF_ARG =~ ^(([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])$ ]]; then
    pci="${BASH_REMATCH[2]:-0000}:${BASH_REMATCH[3]}"
    PF_PCI=${pci,,}
    [[ -e $(path "/sys/bus/pci/devices/$PF_PCI") ]] ||
      fail "no PCI device $PF_PCI: $(path "/sys/bus/pci/devices/$PF_PCI") does not exist"
    local net
    for net in "$(path "/sys/bus/pci/devices/$PF_PCI/net")"/*; do
      [[ -e $net ]] && { PF_NETDEV=${net##*/}; break; }
    done
  else
    [[ -e $(path "/sys/class/net/$PF_ARG") ]] ||
      fail "no network interface $PF_ARG: $(path "/sys/class/net/$PF_ARG") does not exist"
    [[ -e $(path "/sys/class/net/$PF_ARG/device") ]] ||
      fail "$PF_ARG is not a PCI function (no $(path "/sys/class/net/$PF_ARG/device"))"
    PF_PCI=$(link_name "$(path "/sys/class/net/$PF_ARG/device")")
    PF_NETDEV=$PF_ARG
  fi
  PF_DIR=$(path "/sys/bus/pci/devices/$PF_PCI")
  [[ -e $PF_DIR ]] || fail "$PF_ARG is not on a PCI function: its device is $PF_PCI, not in $(path /sys/bus/pci/devices)"
  if [[ -e $PF_DIR/physfn ]]; then
    fail "$PF_PCI is a VF (of $(link_name "$PF_DIR/physfn")); give its PF"
  fi
}

pci_driver() { link_name "$(path "/sys/bus/pci/devices/$1/driver")"; }

# The VFs that exist now, from the PF's virtfn<i> links (VF i at index i).
read_vfs() {
  local i link
  VFS=()
  PREDICTED_VFS=0
  for ((i = 0; i < CUR_NUMVFS; i++)); do
    link="$PF_DIR/virtfn$i"
    [[ -e $link ]] || return 1
    VFS[i]=$(link_name "$link")
  done
}

all_vfs_present() {
  local i
  for ((i = 0; i < $1; i++)); do
    [[ -e $PF_DIR/virtfn$i ]] || return 1
  done
}

# The VF addresses the kernel will give N new VFs: routing ID of the PF + First VF Offset +
# i * VF Stride (drivers/pci/iov.c, pci_iov_virtfn_bus/devfn). For the dry run only; a real
# run reads the virtfn links.
predict_vfs() {
  local n=$1 offset stride domain bus dev fn rid r i
  VFS=()
  PREDICTED_VFS=1
  if offset=$(read_value "$PF_DIR/sriov_offset") && stride=$(read_value "$PF_DIR/sriov_stride") &&
    [[ $PF_PCI =~ ^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$ ]]; then
    domain=${BASH_REMATCH[1]}
    bus=$((16#${BASH_REMATCH[2]}))
    dev=$((16#${BASH_REMATCH[3]}))
    fn=${BASH_REMATCH[4]}
    rid=$(((bus << 8) | (dev << 3) | fn))
    for ((i = 0; i < n; i++)); do
      r=$((rid + offset + i * stride))
      VFS[i]=$(printf '%s:%02x:%02x.%x' "$domain" $(((r >> 8) & 0xff)) $(((r >> 3) & 0x1f)) $((r & 7)))
    done
  else
    warn "cannot read $PF_DIR/sriov_offset and sriov_stride: the dry run cannot predict the VF addresses"
    for ((i = 0; i < n; i++)); do
      VFS[i]="<VF$i>"
    done
  fi
}

# read_eswitch_mode: the PF's eswitch mode into ESWITCH_MODE (devlink dev eswitch show).
ESWITCH_MODE=""
read_eswitch_mode() {
  ESWITCH_MODE=""
  query devlink dev eswitch show "pci/$PF_PCI" || return 1
  if [[ $QUERY_OUT =~ (^|[[:space:]])mode[[:space:]]+([a-z_-]+) ]]; then
    ESWITCH_MODE=${BASH_REMATCH[2]}
    return 0
  fi
  QUERY_ERR="no mode in its output: $QUERY_OUT"
  return 1
}

# ---- vDPA devices ----------------------------------------------------------------------------

DELETED_VDPA=" "  # names the dry run has deleted
ADDED_VDPA=" "    # names the dry run has added

vdpa_exists() {
  local name=$1
  if ((DRY_RUN)); then
    [[ $DELETED_VDPA == *" $name "* ]] && return 1
    [[ $ADDED_VDPA == *" $name "* ]] && return 0
  fi
  [[ -e $(path "/sys/bus/vdpa/devices/$name") ]]
}

# The VF a vDPA device sits on: its parent device (mlx5_vdpa registers it under the VF).
vdpa_parent() {
  local target
  target=$(readlink -f -- "$(path "/sys/bus/vdpa/devices/$1")") || return 0
  target=${target%/*}
  printf '%s' "${target##*/}"
}

# The vDPA devices that sit on VF $1 (names, one a line).
vdpa_devices_on() {
  local dev name
  for dev in "$(path /sys/bus/vdpa/devices)"/*; do
    [[ -e $dev ]] || continue
    name=${dev##*/}
    vdpa_exists "$name" || continue
    [[ $(vdpa_parent "$name") == "$1" ]] && printf '%s\n' "$name"
  done
  return 0
}

vdpa_driver() { link_name "$(path "/sys/bus/vdpa/devices/$1/driver")"; }

# The vhost-vdpa char device of a vDPA device bound to vhost_vdpa (vhost-vdpa-N), or nothing.
vhost_name() {
  local d
  for d in "$(path "/sys/bus/vdpa/devices/$1")"/vhost-vdpa-*; do
    [[ -e $d ]] && { printf '%s' "${d##*/}"; return 0; }
  done
  return 0
}

vhost_node_ready() {
  local vhost
  vhost=$(vhost_name "$1")
  [[ -n $vhost && -e $(path "/dev/$vhost") ]]
}

# Refuse to remove a vDPA device that a process (a pod's DPDK) still holds open: the kernel's
# vhost_vdpa_remove waits until every user closes it, so `vdpa dev del` would hang.
check_not_in_use() {
  local name=$1 vhost fd pid comm users=""
  vhost=$(vhost_name "$name")
  [[ -n $vhost ]] || return 0
  while IFS= read -r fd; do
    pid=${fd#"$(path /proc)/"}
    pid=${pid%%/*}
    comm=$(read_value "$(path "/proc/$pid/comm")") || comm="?"
    users+="${users:+, }pid $pid ($comm)"
  done < <(find "$(path /proc)"/[0-9]*/fd -maxdepth 1 -lname "/dev/$vhost" 2>/dev/null || true)
  [[ -z $users ]] || fail "$name (/dev/$vhost) is open by $users: stop the pods that use it first"
}

delete_vdpa() {
  check_not_in_use "$1"
  run_change vdpa dev del "$1"
  ((DRY_RUN)) && DELETED_VDPA+="$1 "
  return 0
}

# Delete every vDPA device on the current VFs (before the VFs go away or lose their driver).
delete_vdpa_on_vfs() {
  local vf name
  ((PREDICTED_VFS)) && return 0
  for vf in "${VFS[@]}"; do
    while IFS= read -r name; do
      [[ -n $name ]] && delete_vdpa "$name"
    done < <(vdpa_devices_on "$vf")
  done
  return 0
}

# read_vdpa_mac NAME: the MAC of a vDPA device into VDPA_MAC (vdpa dev config show).
VDPA_MAC=""
read_vdpa_mac() {
  VDPA_MAC=""
  query vdpa dev config show "$1" || return 1
  if [[ $QUERY_OUT =~ (^|[[:space:]])mac[[:space:]]+([0-9a-fA-F:]{17}) ]]; then
    VDPA_MAC=${BASH_REMATCH[2],,}
    return 0
  fi
  QUERY_ERR="no mac in its output: $QUERY_OUT"
  return 1
}

mgmtdev_ready() { query vdpa mgmtdev show "pci/$1"; }

# ---- MACs ------------------------------------------------------------------------------------

mac_to_int() { local hex=${1//:/}; printf '%d' "$((16#$hex))"; }

int_to_mac() {
  local v=$1
  printf '%02x:%02x:%02x:%02x:%02x:%02x' $(((v >> 40) & 255)) $(((v >> 32) & 255)) \
    $(((v >> 24) & 255)) $(((v >> 16) & 255)) $(((v >> 8) & 255)) $((v & 255))
}

MACS=()
NAMES=()

plan_macs() {
  local base source i pf_mac b
  if [[ -n $MAC_BASE ]]; then
    base=${MAC_BASE,,}
    source="--mac-base"
  else
    [[ -n $PF_NETDEV ]] || fail "the PF has no netdev to derive a default MAC from: pass --mac-base"
    pf_mac=$(read_value "$(path "/sys/class/net/$PF_NETDEV/address")") ||
      fail "cannot read the MAC of $PF_NETDEV to derive a default: pass --mac-base"
    [[ $pf_mac =~ ^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}:(([0-9a-fA-F]{2}:){3}[0-9a-fA-F]{2})$ ]] ||
      fail "unexpected MAC '$pf_mac' on $PF_NETDEV: pass --mac-base"
    base="02:${BASH_REMATCH[1],,}:00"
    source="locally administered, from $PF_NETDEV's MAC $pf_mac"
  fi
  [[ $base =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || fail "--mac-base '$MAC_BASE' is not a MAC address (xx:xx:xx:xx:xx:xx)"
  b=$(mac_to_int "$base")
  (((b >> 40) & 1)) && fail "--mac-base $base is a multicast address (the first byte is odd)"
  ((b + NUM_VFS - 1 <= 0xffffffffffff)) || fail "--mac-base $base + $((NUM_VFS - 1)) overflows"
  for ((i = 0; i < NUM_VFS; i++)); do
    MACS[i]=$(int_to_mac $((b + i)))
    NAMES[i]="$NAME_PREFIX$i"
  done
  say "MACs: ${MACS[0]} .. ${MACS[NUM_VFS - 1]} ($source)"
}

# ---- the record of what a run changed, for --undo ---------------------------------------------

STATE_FILE=""
STATE_PLANNED=" "  # keys the dry run has recorded

state_get() {
  local line
  [[ -r $STATE_FILE ]] || return 1
  while IFS= read -r line; do
    [[ $line == "$1="* ]] && { printf '%s' "${line#*=}"; return 0; }
  done <"$STATE_FILE"
  return 1
}

state_has() {
  [[ $STATE_PLANNED == *" $1 "* ]] || state_get "$1" >/dev/null
}

# record_original KEY VALUE: remember the value a change is about to replace, unless an earlier
# run already did (then that one is the original).
record_original() {
  state_has "$1" && return 0
  make_dir "${STATE_FILE%/*}"
  show_change "echo $(shell_words "$1=$2") >> $(shell_words "$STATE_FILE")"
  STATE_PLANNED+="$1 "
  ((DRY_RUN)) && return 0
  printf '%s=%s\n' "$1" "$2" >>"$STATE_FILE" || fail "cannot write $STATE_FILE"
}

# ---- step 1: checks ------------------------------------------------------------------------

check_root() {
  local uid
  if ! query id -u; then
    fail "cannot tell whether we run as root: id -u: $QUERY_ERR"
  fi
  uid=$QUERY_OUT
  if [[ $uid != 0 ]]; then
    ((DRY_RUN)) && { warn "not root (uid $uid): a real run needs root"; return 0; }
    fail "must run as root (uid is $uid): it writes sysfs and runs modprobe, devlink and vdpa"
  fi
}

check_iommu() {
  local group cmdline
  for group in "$(path /sys/kernel/iommu_groups)"/*; do
    [[ -e $group ]] && { say "IOMMU: enabled ($(path /sys/kernel/iommu_groups) has groups)"; return 0; }
  done
  ((SKIP_IOMMU_CHECK)) && { warn "no IOMMU groups; going on (--skip-iommu-check)"; return 0; }
  cmdline=$(read_value "$(path /proc/cmdline)") || cmdline=""
  if [[ " $cmdline " =~ [[:space:]](intel_iommu=on|amd_iommu=on)[[:space:]] ]]; then
    fail "no IOMMU groups in $(path /sys/kernel/iommu_groups) although the kernel command line has ${BASH_REMATCH[1]}: enable VT-d / AMD-Vi in the firmware setup"
  fi
  fail "no IOMMU: $(path /sys/kernel/iommu_groups) is empty and $(path /proc/cmdline) has no intel_iommu=on: add intel_iommu=on iommu=pt (Intel) or check AMD-Vi in the firmware, and reboot (or --skip-iommu-check)"
}

KERNEL_RELEASE=""

module_builtin_or_listed() {
  local m=$1 dir pattern
  dir=$(path "/lib/modules/$KERNEL_RELEASE")
  pattern="(^|/)${m//_/[-_]}\\.ko(\\.(xz|zst|gz))?"
  grep -Eq "$pattern:" "$dir/modules.dep" 2>/dev/null && return 0
  grep -Eq "$pattern\$" "$dir/modules.builtin" 2>/dev/null
}

module_loaded() {
  [[ -d $(path "/sys/module/$1") ]] && return 0
  # Built-in modules count as loaded; /sys/module/<m> exists for them only when they have
  # parameters.
  grep -Eq "(^|/)${1//_/[-_]}\\.ko\$" "$(path "/lib/modules/$KERNEL_RELEASE/modules.builtin")" 2>/dev/null
}

readonly MODULES=(vdpa vhost_vdpa mlx5_vdpa)

check_modules() {
  local m missing=()
  KERNEL_RELEASE=$(read_value "$(path /proc/sys/kernel/osrelease)") ||
    fail "cannot read the kernel release from $(path /proc/sys/kernel/osrelease)"
  for m in "${MODULES[@]}"; do
    module_loaded "$m" || module_builtin_or_listed "$m" || missing+=("$m")
  done
  ((${#missing[@]} == 0)) ||
    fail "kernel module(s) ${missing[*]} not available for kernel $KERNEL_RELEASE (not loaded, not in $(path "/lib/modules/$KERNEL_RELEASE")/modules.dep or modules.builtin): install the kernel's extra modules package or build with CONFIG_VDPA, CONFIG_VHOST_VDPA, CONFIG_MLX5_VDPA_NET"
}

check_tools() {
  local t missing=()
  local needed=(id devlink vdpa)
  ((UNDO)) || needed+=(modprobe)
  ((OVS_HW_OFFLOAD)) && needed+=(ovs-vsctl)
  local -A package=([id]=coreutils [modprobe]=kmod [devlink]="iproute2 >= 5.14" [vdpa]="iproute2 >= 5.14"
    [ovs-vsctl]="Open vSwitch")
  for t in "${needed[@]}"; do
    have_tool "$t" || missing+=("$t (${package[$t]})")
  done
  if ((${#missing[@]} > 0)); then
    local list
    printf -v list '%s, ' "${missing[@]}"
    fail "missing command(s)${PREPARE_NODE_BIN_DIR:+ in PREPARE_NODE_BIN_DIR=$PREPARE_NODE_BIN_DIR}: ${list%, }"
  fi
}

check_pf() {
  local driver vendor device total fw=""
  resolve_pf
  driver=$(pci_driver "$PF_PCI")
  [[ $driver == mlx5_core ]] || fail "$PF_PCI is driven by ${driver:-no driver}, not mlx5_core: this script prepares NVIDIA ConnectX PFs"
  vendor=$(read_value "$PF_DIR/vendor") || vendor="?"
  device=$(read_value "$PF_DIR/device") || device="?"
  total=$(read_value "$PF_DIR/sriov_totalvfs") ||
    fail "$PF_PCI has no SR-IOV capability ($PF_DIR/sriov_totalvfs is missing)"
  ((total > 0)) || fail "$PF_PCI offers 0 VFs (sriov_totalvfs): SR-IOV is disabled in the adapter's firmware configuration"
  if ((!UNDO)) && ((NUM_VFS > total)); then
    fail "--num-vfs $NUM_VFS is more than the $total VFs $PF_PCI offers ($PF_DIR/sriov_totalvfs)"
  fi
  CUR_NUMVFS=$(read_value "$PF_DIR/sriov_numvfs") || fail "cannot read $PF_DIR/sriov_numvfs"
  read_vfs || fail "sriov_numvfs is $CUR_NUMVFS but $PF_DIR has fewer virtfn links"
  read_eswitch_mode ||
    fail "cannot read the eswitch mode of pci/$PF_PCI (devlink dev eswitch show): $QUERY_ERR"
  CUR_MODE=$ESWITCH_MODE
  if query devlink dev info "pci/$PF_PCI" && [[ $QUERY_OUT =~ fw\.version[[:space:]]+([^[:space:]]+) ]]; then
    fw=", firmware ${BASH_REMATCH[1]}"
  fi
  say "PF ${PF_NETDEV:-(no netdev)} = $PF_PCI (mlx5_core, ${vendor#0x}:${device#0x}$fw): $CUR_NUMVFS of $total VFs, eswitch $CUR_MODE"
}

check_hugepages_supported() {
  [[ -n $HUGEPAGES_1G ]] || return 0
  [[ -e $(path /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages) ]] ||
    fail "this kernel or CPU has no 1 GiB hugepages ($(path /sys/kernel/mm/hugepages/hugepages-1048576kB) is missing)"
}

check_node() {
  begin_step 1 "check the node"
  check_root
  ((UNDO)) || check_iommu
  check_tools
  ((UNDO)) || check_modules
  check_pf
  check_hugepages_supported
  if query vdpa -V; then say "vdpa: $QUERY_OUT"; fi
  STATE_FILE=$(path "$STATE_DIR/$PF_PCI.state")
  if ((UNDO)); then
    check_vdpa_not_in_use
  else
    plan_macs
  fi
}

# --undo deletes every vDPA device on the PF's VFs: refuse before changing anything when a
# process still holds one open.
check_vdpa_not_in_use() {
  local vf name
  for vf in "${VFS[@]}"; do
    while IFS= read -r name; do
      [[ -z $name ]] || check_not_in_use "$name"
    done < <(vdpa_devices_on "$vf")
  done
}

# ---- steps 2-8 -------------------------------------------------------------------------------

load_modules() {
  begin_step 2 "load kernel modules"
  local m missing=()
  for m in "${MODULES[@]}"; do
    module_loaded "$m" || missing+=("$m")
  done
  if ((${#missing[@]} == 0)); then
    say "${MODULES[*]} already loaded"
    return 0
  fi
  run_change modprobe -a "${missing[@]}"
  ((DRY_RUN)) && return 0
  for m in "${missing[@]}"; do
    module_loaded "$m" || fail "modprobe -a ${missing[*]} succeeded but $(path "/sys/module/$m") does not exist"
  done
}

# unbind_vfs / bind_vfs: around an eswitch mode change, as sriov-network-operator does
# (pkg/host/internal/sriov/sriov.go, setEswitchModeAndNumVFsMlx).
unbind_vfs() {
  local vf driver
  for vf in "${VFS[@]}"; do
    if ((PREDICTED_VFS)); then driver=mlx5_core; else driver=$(pci_driver "$vf"); fi
    [[ -n $driver ]] || continue
    write_sysfs "$vf" "$(path "/sys/bus/pci/drivers/$driver/unbind")"
  done
}

bind_vfs() {
  local vf
  for vf in "${VFS[@]}"; do
    write_sysfs "$vf" "$(path /sys/bus/pci/drivers/mlx5_core/bind)"
  done
}

set_eswitch_mode() {
  local want=$1
  run_change devlink dev eswitch set "pci/$PF_PCI" mode "$want"
  CUR_MODE=$want
  ((DRY_RUN)) && return 0
  read_eswitch_mode || fail "devlink dev eswitch show pci/$PF_PCI failed after the change: $QUERY_ERR"
  [[ $ESWITCH_MODE == "$want" ]] || fail "the eswitch of pci/$PF_PCI is in $ESWITCH_MODE mode after setting $want"
}

# set_num_vfs N: sriov_numvfs = N. The kernel refuses a new non-zero count while VFs exist
# (drivers/pci/iov.c sriov_numvfs_store: EBUSY), so go through 0.
set_num_vfs() {
  local n=$1 numvfs_file="$PF_DIR/sriov_numvfs"
  if ((CUR_NUMVFS > 0)); then
    write_sysfs 0 "$numvfs_file"
    CUR_NUMVFS=0
    VFS=()
  fi
  ((n > 0)) || return 0
  write_sysfs "$n" "$numvfs_file"
  CUR_NUMVFS=$n
  if ((DRY_RUN)); then
    predict_vfs "$n"
    return 0
  fi
  wait_for "$TIMEOUT" all_vfs_present "$n" ||
    fail "wrote $n to $numvfs_file but the VFs did not appear within ${TIMEOUT}s"
  read_vfs || fail "the virtfn links of $PF_PCI vanished"
}

create_vfs() {
  begin_step 3 "create VFs"
  if ((CUR_NUMVFS == NUM_VFS)); then
    say "$NUM_VFS VFs already exist: ${VFS[*]}"
    return 0
  fi
  record_original orig_numvfs "$CUR_NUMVFS"
  # Removing VFs removes their vDPA devices: delete them explicitly, refusing if in use.
  delete_vdpa_on_vfs
  # sriov-network-operator switches an mlx5 PF to legacy before changing its VF count ("some
  # drivers may not support VF creation in the switchdev mode"); step 4 sets the mode asked for.
  if [[ $CUR_MODE != legacy ]]; then
    record_original orig_mode "$CUR_MODE"
    unbind_vfs
    set_eswitch_mode legacy
  fi
  set_num_vfs "$NUM_VFS"
  say "VFs: ${VFS[*]}"
}

set_mode() {
  begin_step 4 "set eswitch mode $MODE"
  if [[ $CUR_MODE == "$MODE" ]]; then
    say "pci/$PF_PCI is already in $MODE mode"
    return 0
  fi
  record_original orig_mode "$CUR_MODE"
  delete_vdpa_on_vfs
  unbind_vfs
  set_eswitch_mode "$MODE"
  bind_vfs
}

vf_ready() {
  [[ $(pci_driver "$1") == mlx5_core ]] && mgmtdev_ready "$1"
}

add_vdpa_devices() {
  begin_step 5 "add vDPA devices"
  local i vf name mac existing driver
  for ((i = 0; i < NUM_VFS; i++)); do
    vf=${VFS[i]}
    name=${NAMES[i]}
    mac=${MACS[i]}
    existing=""
    if ((!PREDICTED_VFS)); then
      existing=$(vdpa_devices_on "$vf")
      existing=${existing//$'\n'/ }
    fi
    if [[ $existing == "$name" ]]; then
      if read_vdpa_mac "$name"; then
        [[ $VDPA_MAC == "$mac" ]] ||
          fail "$name on VF $vf has MAC $VDPA_MAC, not $mac: delete it (vdpa dev del $name) once no pod uses it, or pass --mac-base to match"
        say "$name already exists on VF $vf with MAC $mac"
      else
        warn "cannot read the MAC of $name (vdpa dev config show: $QUERY_ERR); keeping it"
        say "$name already exists on VF $vf"
      fi
      continue
    fi
    [[ -z $existing ]] ||
      fail "VF $vf already has vDPA device(s) $existing and the device plugin uses exactly one per VF: delete them (vdpa dev del NAME) or reuse their names with --name-prefix"
    if vdpa_exists "$name"; then
      fail "a vDPA device named $name already exists on $(vdpa_parent "$name"), not on VF $vf: pass another --name-prefix for this PF"
    fi
    if ((!DRY_RUN)); then
      driver=$(pci_driver "$vf")
      [[ -z $driver || $driver == mlx5_core ]] ||
        fail "VF $vf is bound to $driver; mlx5_vdpa needs it on mlx5_core"
      [[ -n $driver ]] || write_sysfs "$vf" "$(path /sys/bus/pci/drivers/mlx5_core/bind)"
      wait_for "$TIMEOUT" vf_ready "$vf" ||
        fail "no vDPA management device pci/$vf after ${TIMEOUT}s (vdpa mgmtdev show pci/$vf: $QUERY_ERR): is mlx5_vdpa loaded and does the firmware offer virtio-net emulation on this VF?"
    fi
    run_change vdpa dev add name "$name" mgmtdev "pci/$vf" mac "$mac"
    if ((DRY_RUN)); then
      ADDED_VDPA+="$name "
    else
      wait_for "$TIMEOUT" vdpa_exists "$name" ||
        fail "vdpa dev add $name succeeded but $(path "/sys/bus/vdpa/devices/$name") did not appear"
    fi
  done
}

bind_vhost_vdpa() {
  begin_step 6 "bind to vhost_vdpa"
  local name driver vhost
  for name in "${NAMES[@]}"; do
    if ((DRY_RUN)) && [[ $ADDED_VDPA == *" $name "* ]]; then
      if [[ -d $(path /sys/bus/vdpa/drivers/virtio_vdpa) ]]; then
        say "$name: binds at creation to vhost_vdpa or virtio_vdpa (both loaded); a real run moves it to vhost_vdpa if needed"
      else
        say "$name: binds to vhost_vdpa at creation (virtio_vdpa is not loaded)"
      fi
      continue
    fi
    driver=$(vdpa_driver "$name")
    if [[ $driver != vhost_vdpa ]]; then
      [[ -z $driver ]] || write_sysfs "$name" "$(path "/sys/bus/vdpa/drivers/$driver/unbind")"
      write_sysfs "$name" "$(path /sys/bus/vdpa/drivers/vhost_vdpa/bind)"
    fi
    ((DRY_RUN)) && continue
    wait_for "$TIMEOUT" vhost_node_ready "$name" ||
      fail "$name is bound to $(vdpa_driver "$name") but no /dev/vhost-vdpa-N appeared within ${TIMEOUT}s"
    vhost=$(vhost_name "$name")
    say "$name: vhost_vdpa, /dev/$vhost"
  done
}

reserve_hugepages() {
  begin_step 7 "reserve 1 GiB hugepages"
  if [[ -z $HUGEPAGES_1G ]]; then
    say "not asked for (--hugepages-1g)"
    return 0
  fi
  local file have got
  file=$(path /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages)
  have=$(read_value "$file") || fail "cannot read $file"
  if ((have >= HUGEPAGES_1G)); then
    say "$have 1 GiB pages reserved (at least $HUGEPAGES_1G)"
    return 0
  fi
  record_original orig_hugepages_1g "$have"
  write_sysfs "$HUGEPAGES_1G" "$file"
  say "restart the kubelet so that the node reports hugepages-1Gi: ${HUGEPAGES_1G}Gi"
  ((DRY_RUN)) && return 0
  got=$(read_value "$file") || fail "cannot read $file"
  ((got >= HUGEPAGES_1G)) ||
    fail "asked for $HUGEPAGES_1G 1 GiB pages, the kernel reserved $got (memory is fragmented): reserve them at boot with default_hugepagesz=1G hugepagesz=1G hugepages=$HUGEPAGES_1G"
}

# read_ovs_hw_offload: other_config:hw-offload into OVS_HW_OFFLOAD_NOW ("" when unset).
OVS_HW_OFFLOAD_NOW=""
read_ovs_hw_offload() {
  query ovs-vsctl --if-exists get Open_vSwitch . other_config:hw-offload ||
    fail "ovs-vsctl --if-exists get Open_vSwitch . other_config:hw-offload failed: $QUERY_ERR (is ovsdb-server running?)"
  OVS_HW_OFFLOAD_NOW=${QUERY_OUT//\"/}
  if [[ $OVS_HW_OFFLOAD_NOW == "[]" ]]; then OVS_HW_OFFLOAD_NOW=""; fi
}

enable_ovs_hw_offload() {
  begin_step 8 "OVS hardware offload"
  if ((!OVS_HW_OFFLOAD)); then
    say "not asked for (--ovs-hw-offload)"
    return 0
  fi
  read_ovs_hw_offload
  if [[ $OVS_HW_OFFLOAD_NOW == true ]]; then
    say "other_config:hw-offload is already true"
    return 0
  fi
  record_original orig_ovs_hw_offload "${OVS_HW_OFFLOAD_NOW:-unset}"
  run_change ovs-vsctl set Open_vSwitch . other_config:hw-offload=true
  say "restart ovs-vswitchd for it to take effect (vswitchd/vswitch.xml: changing hw-offload requires restarting the daemon)"
}

# ---- what the pod will see -------------------------------------------------------------------

print_summary() {
  local i vf name vhost dev vendor device
  say ""
  say "What a pod on this node will see (PF ${PF_NETDEV:-$PF_PCI}, eswitch $CUR_MODE):"
  for ((i = 0; i < NUM_VFS; i++)); do
    vf=${VFS[i]}
    name=${NAMES[i]}
    vhost=""
    if ((!DRY_RUN)) || [[ $ADDED_VDPA != *" $name "* ]]; then
      vhost=$(vhost_name "$name")
    fi
    dev="/dev/${vhost:-vhost-vdpa-?}"
    say "  $(printf '%-20s %-10s VF %-14s MAC %s' "$dev" "$name" "$vf" "${MACS[i]}")"
  done
  ((DRY_RUN)) && say "  (vhost_vdpa numbers its char devices when they are bound; the dry run cannot know them)"
  if ((PREDICTED_VFS)); then
    vendor=$(read_value "$PF_DIR/vendor") || vendor="?"
    device=$(read_value "$PF_DIR/sriov_vf_device") || device="?"
  else
    vendor=$(read_value "$(path "/sys/bus/pci/devices/${VFS[0]}/vendor")") || vendor="?"
    device=$(read_value "$(path "/sys/bus/pci/devices/${VFS[0]}/device")") || device="?"
  fi
  vendor=${vendor#0x}
  device=${device#0x}
  say "SR-IOV network device plugin selector for these VFs (deployment/configMap-vdpa.yaml, vdpa_mlx_vhost):"
  say "  {\"vendors\": [\"$vendor\"], \"devices\": [\"$device\"], \"drivers\": [\"mlx5_core\"], \"vdpaType\": \"vhost\"}"
  if [[ $vendor != 15b3 || $device != 101e ]]; then
    warn "the VFs are $vendor:$device, deployment/configMap-vdpa.yaml selects 15b3:101e: edit its vendors/devices"
  fi
  say "Check: vdpa dev show; ls -l /dev/vhost-vdpa-*; devlink dev eswitch show pci/$PF_PCI"
}

prepare_node() {
  STEP_TOTAL=8
  ((DRY_RUN)) && say "dry run: nothing is changed; the commands below are those a real run would run, in order"
  check_node
  load_modules
  create_vfs
  set_mode
  add_vdpa_devices
  bind_vhost_vdpa
  reserve_hugepages
  enable_ovs_hw_offload
  STEP_NO=0
  print_summary
  if ((CHANGES == 0)); then
    say "nothing to change: the node is already prepared"
  elif ((DRY_RUN)); then
    say "dry run: $CHANGES change(s) listed above, none made"
  else
    say "done: $CHANGES change(s)"
  fi
}

# ---- --undo ----------------------------------------------------------------------------------

undo_ovs_hw_offload() {
  begin_step 2 "OVS hardware offload"
  local orig now
  if ! orig=$(state_get orig_ovs_hw_offload); then
    say "no run changed it"
    return 0
  fi
  have_tool ovs-vsctl || fail "ovs-vsctl: command not found (needed to restore other_config:hw-offload=$orig)"
  read_ovs_hw_offload
  now=$OVS_HW_OFFLOAD_NOW
  if [[ $orig == unset && -n $now ]]; then
    run_change ovs-vsctl remove Open_vSwitch . other_config hw-offload
    say "restart ovs-vswitchd for it to take effect"
  elif [[ $orig != unset && $now != "$orig" ]]; then
    run_change ovs-vsctl set Open_vSwitch . "other_config:hw-offload=$orig"
    say "restart ovs-vswitchd for it to take effect"
  else
    say "other_config:hw-offload is already ${now:-unset}"
  fi
}

undo_hugepages() {
  begin_step 3 "release 1 GiB hugepages"
  local orig file now got
  if ! orig=$(state_get orig_hugepages_1g); then
    say "no run changed them"
    return 0
  fi
  is_uint "$orig" || fail "bad orig_hugepages_1g '$orig' in $STATE_FILE"
  file=$(path /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages)
  now=$(read_value "$file") || fail "cannot read $file"
  if ((now == orig)); then
    say "$now 1 GiB pages reserved, as before"
    return 0
  fi
  write_sysfs "$orig" "$file"
  say "restart the kubelet so that the node reports the new hugepages-1Gi capacity"
  ((DRY_RUN)) && return 0
  got=$(read_value "$file") || fail "cannot read $file"
  ((got == orig)) || warn "$got 1 GiB pages are still reserved, not $orig: pages in use are freed when their users exit"
}

undo_vdpa_devices() {
  begin_step 4 "remove vDPA devices"
  local before=$CHANGES
  delete_vdpa_on_vfs
  ((CHANGES > before)) || say "no vDPA devices on the VFs of $PF_PCI"
}

undo_vfs() {
  begin_step 5 "remove VFs"
  if ((CUR_NUMVFS == 0)); then
    say "$PF_PCI has no VFs"
    return 0
  fi
  set_num_vfs 0
}

undo_mode() {
  begin_step 6 "restore eswitch mode"
  local orig_mode orig_numvfs
  orig_numvfs=$(state_get orig_numvfs) || orig_numvfs=0
  is_uint "$orig_numvfs" || fail "bad orig_numvfs '$orig_numvfs' in $STATE_FILE"
  if orig_mode=$(state_get orig_mode) && [[ $orig_mode != "$CUR_MODE" ]]; then
    [[ $orig_mode == legacy || $orig_mode == switchdev ]] || fail "bad orig_mode '$orig_mode' in $STATE_FILE"
    set_eswitch_mode "$orig_mode"
  else
    say "pci/$PF_PCI stays in $CUR_MODE mode${orig_mode:+ (as before)}"
  fi
  if ((orig_numvfs > 0 && CUR_NUMVFS != orig_numvfs)); then
    say "the PF had $orig_numvfs VFs before: recreating them (their old settings are gone)"
    set_num_vfs "$orig_numvfs"
  fi
}

undo_forget() {
  begin_step 7 "forget the recorded state"
  local dir=${STATE_FILE%/*} entry
  if [[ ! -e $STATE_FILE ]]; then
    say "no record in $STATE_FILE"
    return 0
  fi
  remove_file "$STATE_FILE"
  for entry in "$dir"/*; do
    [[ -e $entry && $entry != "$STATE_FILE" ]] && return 0
  done
  show_change "rmdir $(shell_words "$dir")"
  ((DRY_RUN)) && return 0
  rmdir -- "$dir" 2>/dev/null || warn "cannot remove $dir"
}

undo_node() {
  STEP_TOTAL=7
  ((DRY_RUN)) && say "dry run: nothing is changed; the commands below are those a real run would run, in order"
  check_node
  undo_ovs_hw_offload
  undo_hugepages
  undo_vdpa_devices
  undo_vfs
  undo_mode
  undo_forget
  STEP_NO=0
  if ((CHANGES == 0)); then
    say "nothing to undo"
  elif ((DRY_RUN)); then
    say "dry run: $CHANGES change(s) listed above, none made"
  else
    say "undone: $CHANGES change(s); the kernel modules ${MODULES[*]} stay loaded"
  fi
}

main() {
  parse_args "$@"
  ERR_FILE=$(mktemp "${TMPDIR:-/tmp}/prepare-node.XXXXXX")
  if ((UNDO)); then
    undo_node
  else
    prepare_node
  fi
}

main "$@"
