# shellcheck shell=bash
# A fake node for the tests of scripts/prepare-node.sh: a sysfs/proc/dev tree under FAKE_ROOT
# laid out like the kernel's, and the kernel's reactions to the commands and sysfs writes the
# script makes. Sourced by the stub commands in bin/, by the sysfs hook `kernel` and by the test.
#
# FAKE_ROOT   the fake / (what the script gets as --root)
# FAKE_STATE  what the kernel and tools keep outside sysfs: eswitch mode, vDPA MACs, OVS
#             settings, the uid `id -u` reports, knobs for error paths, and `calls`, the log of
#             every command and sysfs write that changed something (one line each, shell form)
#
# What it models (kernel source in brackets):
# - sriov_numvfs [drivers/pci/iov.c sriov_numvfs_store]: > sriov_totalvfs is ERANGE; a new
#   non-zero count while VFs exist is EBUSY; N creates VFs at PF + sriov_offset + i *
#   sriov_stride with virtfn<i>/physfn links, probed by mlx5_core; 0 removes them.
# - a VF leaving mlx5_core takes its vDPA device with it (mlx5_vdpa's auxiliary device goes).
# - vDPA devices sit under their VF [govdpa pkg/kvdpa/device.go] and are probed by the first
#   loaded vDPA bus driver; vhost_vdpa gives each the lowest free vhost-vdpa-N [drivers/vhost/
#   vdpa.c: ida + dev_set_name("vhost-vdpa-%u")], with /dev/vhost-vdpa-N (a plain file here).
# - nr_hugepages is capped by FAKE_STATE/hugepages_max (a fragmented machine).

: "${FAKE_ROOT:?FAKE_ROOT is not set}" "${FAKE_STATE:?FAKE_STATE is not set}"

FAKE_PCI_PARENT="/sys/devices/pci0000:64/0000:64:00.0"
FAKE_KERNEL_RELEASE="6.1.0-fake"

fake_path() { printf '%s%s' "$FAKE_ROOT" "$1"; }

fake_words() {
  local out="" w
  for w in "$@"; do out+="${out:+ }$(printf '%q' "$w")"; done
  printf '%s' "$out"
}

# fake_log WORDS...: one line in FAKE_STATE/calls.
fake_log() { fake_words "$@" >>"$FAKE_STATE/calls"; printf '\n' >>"$FAKE_STATE/calls"; }

fake_knob() { [[ -e $FAKE_STATE/$1 ]] && cat "$FAKE_STATE/$1"; }

fake_link() { ln -sfn --relative "$1" "$2"; }

fake_dev_dir() { printf '%s' "$(fake_path "$FAKE_PCI_PARENT")/$1"; }

# fake_make_pf BDF NETDEV MAC TOTALVFS DRIVER: a PF with SR-IOV, driven by DRIVER.
fake_make_pf() {
  local bdf=$1 netdev=$2 mac=$3 total=$4 driver=$5 dir
  dir=$(fake_dev_dir "$bdf")
  mkdir -p "$dir/net/$netdev" "$(fake_path /sys/bus/pci/devices)" "$(fake_path /sys/class/net)"
  printf '0x15b3\n' >"$dir/vendor"
  printf '0x101d\n' >"$dir/device"
  printf '%s\n' "$total" >"$dir/sriov_totalvfs"
  printf '0\n' >"$dir/sriov_numvfs"
  printf '2\n' >"$dir/sriov_offset"
  printf '1\n' >"$dir/sriov_stride"
  printf '101e\n' >"$dir/sriov_vf_device"
  printf '%s\n' "$mac" >"$dir/net/$netdev/address"
  fake_link "$dir" "$(fake_path "/sys/bus/pci/devices/$bdf")"
  fake_link "$dir/net/$netdev" "$(fake_path "/sys/class/net/$netdev")"
  fake_link "$dir" "$dir/net/$netdev/device"
  fake_pci_bind "$bdf" "$driver"
}

# fake_make_node: an x86 node with an IOMMU, the vDPA modules installed (not loaded), a
# ConnectX-6 Dx PF ens1f0 = 0000:65:00.0 with 8 VFs possible, 0 enabled, eswitch legacy.
fake_make_node() {
  local dir
  mkdir -p "$FAKE_STATE" "$(fake_path /proc/sys/kernel)" "$(fake_path /dev)" "$(fake_path /var/lib)" \
    "$(fake_path /sys/kernel/iommu_groups/0)" "$(fake_path /sys/kernel/iommu_groups/1)" \
    "$(fake_path /sys/module/mlx5_core)" \
    "$(fake_path /sys/kernel/mm/hugepages/hugepages-1048576kB)" \
    "$(fake_path "/lib/modules/$FAKE_KERNEL_RELEASE")"
  : >"$FAKE_STATE/calls"
  printf 'BOOT_IMAGE=/vmlinuz-%s root=/dev/sda1 ro intel_iommu=on iommu=pt\n' "$FAKE_KERNEL_RELEASE" \
    >"$(fake_path /proc/cmdline)"
  printf '%s\n' "$FAKE_KERNEL_RELEASE" >"$(fake_path /proc/sys/kernel/osrelease)"
  dir=$(fake_path "/lib/modules/$FAKE_KERNEL_RELEASE")
  cat >"$dir/modules.dep" <<'EOF'
kernel/drivers/vdpa/vdpa.ko.xz:
kernel/drivers/vhost/vhost_vdpa.ko.xz: kernel/drivers/vhost/vhost.ko.xz kernel/drivers/vhost/vhost_iotlb.ko.xz kernel/drivers/vdpa/vdpa.ko.xz
kernel/drivers/vdpa/mlx5/mlx5_vdpa.ko.xz: kernel/drivers/vdpa/vdpa.ko.xz kernel/drivers/vhost/vhost_iotlb.ko.xz
kernel/drivers/virtio/virtio_vdpa.ko.xz: kernel/drivers/vdpa/vdpa.ko.xz
kernel/drivers/net/ethernet/mellanox/mlx5/core/mlx5_core.ko.xz:
EOF
  : >"$dir/modules.builtin"
  printf '0\n' >"$(fake_path /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages)"
  mkdir -p "$(fake_path /sys/bus/pci/drivers/mlx5_core)"
  : >"$(fake_path /sys/bus/pci/drivers/mlx5_core/bind)"
  : >"$(fake_path /sys/bus/pci/drivers/mlx5_core/unbind)"
  fake_make_pf 0000:65:00.0 ens1f0 b8:ce:f6:1a:2b:3c 8 mlx5_core
  printf '0\n' >"$FAKE_STATE/numvfs.0000:65:00.0"
  printf 'legacy\n' >"$FAKE_STATE/eswitch_mode"
  printf '0\n' >"$FAKE_STATE/uid"
  mkdir -p "$FAKE_STATE/vdpa"
}

fake_pci_bind() {
  local bdf=$1 driver=$2 drvdir
  drvdir=$(fake_path "/sys/bus/pci/drivers/$driver")
  mkdir -p "$drvdir"
  fake_link "$(fake_dev_dir "$bdf")" "$drvdir/$bdf"
  fake_link "$drvdir" "$(fake_dev_dir "$bdf")/driver"
}

fake_pci_unbind() {
  local bdf=$1 dir driver
  dir=$(fake_dev_dir "$bdf")
  [[ -L $dir/driver ]] || return 0
  driver=$(basename "$(readlink -f "$dir/driver")")
  # mlx5_core leaving the VF removes its auxiliary devices, so its vDPA devices go too.
  [[ $driver == mlx5_core ]] && fake_vdpa_remove_on "$bdf"
  rm -f "$dir/driver" "$(fake_path "/sys/bus/pci/drivers/$driver/$bdf")"
}

# The BDF of VF i of PF $1: PF routing ID + offset + i * stride.
fake_vf_bdf() {
  local pf=$1 i=$2 dir offset stride bus dev fn r
  dir=$(fake_dev_dir "$pf")
  offset=$(<"$dir/sriov_offset")
  stride=$(<"$dir/sriov_stride")
  [[ $pf =~ ^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$ ]]
  bus=$((16#${BASH_REMATCH[2]}))
  dev=$((16#${BASH_REMATCH[3]}))
  fn=${BASH_REMATCH[4]}
  r=$(((bus << 8 | dev << 3 | fn) + offset + i * stride))
  printf '%s:%02x:%02x.%x' "${BASH_REMATCH[1]}" $((r >> 8)) $(((r >> 3) & 31)) $((r & 7))
}

fake_vfs_create() {
  local pf=$1 n=$2 i vf pfdir vfdir
  pfdir=$(fake_dev_dir "$pf")
  for ((i = 0; i < n; i++)); do
    vf=$(fake_vf_bdf "$pf" "$i")
    vfdir=$(fake_dev_dir "$vf")
    mkdir -p "$vfdir"
    printf '0x15b3\n' >"$vfdir/vendor"
    printf '0x%s\n' "$(<"$pfdir/sriov_vf_device")" >"$vfdir/device"
    fake_link "$vfdir" "$(fake_path "/sys/bus/pci/devices/$vf")"
    fake_link "$pfdir" "$vfdir/physfn"
    fake_link "$vfdir" "$pfdir/virtfn$i"
    fake_pci_bind "$vf" mlx5_core
  done
}

fake_vfs_remove() {
  local pf=$1 pfdir link vf
  pfdir=$(fake_dev_dir "$pf")
  for link in "$pfdir"/virtfn*; do
    [[ -L $link ]] || continue
    vf=$(basename "$(readlink -f "$link")")
    fake_pci_unbind "$vf"
    rm -rf "$(fake_dev_dir "$vf")"
    rm -f "$link" "$(fake_path "/sys/bus/pci/devices/$vf")"
  done
}

fake_module_loaded() { [[ -d $(fake_path "/sys/module/$1") ]]; }

# The vDPA bus driver that probes a new device: the first one loaded.
fake_vdpa_default_driver() {
  local m
  [[ -e $FAKE_STATE/module_order ]] || return 0
  while read -r m; do
    case $m in vhost_vdpa | virtio_vdpa) printf '%s' "$m"; return 0 ;; esac
  done <"$FAKE_STATE/module_order"
}

fake_vdpa_bind() {
  local name=$1 driver=$2 devdir i
  devdir=$(readlink -f "$(fake_path "/sys/bus/vdpa/devices/$name")")
  fake_link "$(fake_path "/sys/bus/vdpa/drivers/$driver")" "$devdir/driver"
  if [[ $driver == vhost_vdpa ]]; then
    for ((i = 0; ; i++)); do
      [[ -e $(fake_path "/dev/vhost-vdpa-$i") ]] || break
    done
    mkdir -p "$devdir/vhost-vdpa-$i"
    printf 'fake char device %s\n' "$name" >"$(fake_path "/dev/vhost-vdpa-$i")"
  fi
}

fake_vdpa_unbind() {
  local name=$1 devdir d
  devdir=$(readlink -f "$(fake_path "/sys/bus/vdpa/devices/$name")")
  for d in "$devdir"/vhost-vdpa-*; do
    [[ -d $d ]] || continue
    rm -f "$(fake_path "/dev/${d##*/}")"
    rmdir "$d"
  done
  rm -f "$devdir/driver"
}

fake_vdpa_add() {
  local name=$1 vf=$2 mac=$3 devdir driver
  devdir=$(fake_dev_dir "$vf")/$name
  mkdir -p "$devdir" "$(fake_path /sys/bus/vdpa/devices)"
  fake_link "$devdir" "$(fake_path "/sys/bus/vdpa/devices/$name")"
  printf '%s\n' "$mac" >"$FAKE_STATE/vdpa/$name.mac"
  driver=$(fake_vdpa_default_driver)
  [[ -z $driver ]] || fake_vdpa_bind "$name" "$driver"
}

fake_vdpa_del() {
  local name=$1 devdir
  devdir=$(readlink -f "$(fake_path "/sys/bus/vdpa/devices/$name")")
  fake_vdpa_unbind "$name"
  rm -rf "$devdir"
  rm -f "$(fake_path "/sys/bus/vdpa/devices/$name")" "$FAKE_STATE/vdpa/$name.mac"
}

fake_vdpa_remove_on() {
  local vf=$1 dev
  for dev in "$(fake_path /sys/bus/vdpa/devices)"/*; do
    [[ -L $dev ]] || continue
    [[ $(basename "$(dirname "$(readlink -f "$dev")")") == "$vf" ]] && fake_vdpa_del "${dev##*/}"
  done
  return 0
}
