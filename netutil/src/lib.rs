//! Pod network discovery and EAL planning for DPDK apps in Kubernetes vDPA traffic tests.
//!
//! A pod learns what it was given from files and variables: the downward-API `annotations` file
//! (Multus's network-status with each network's device-info), device-plugin files under
//! `devinfo/dp`, the device plugin's `PCIDEVICE_*` variables, the process affinity and the
//! hugepage state. [`discover()`] reads all of them into a [`Discovery`]; [`plan()`] turns that into
//! an [`EalPlan`]: EAL arguments as plain strings, which the `dpdk-app` crate passes to EAL
//! followed by `--` and the app's own arguments. Nothing here knows DPDK types, and nothing is
//! `unsafe`; every input error is an [`Error`] naming the file or variable and the field.
//!
//! This replaces app-netutil (Go, via a C shim) and the `dpdk-args.c` entrypoint of
//! redhat-nfvpe/vdpa-deployment's `dpdk-app-centos` image.
//!
//! # Example
//!
//! A pod like the traffic test's generator, with two vDPA networks:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::collections::BTreeMap;
//! use netutil::{App, Config, PlanOptions};
//!
//! let pod = tempfile::tempdir()?;
//! let status = r#"[{"name":"cbr0","interface":"eth0","default":true},
//!   {"name":"default/vdpa-mlx-vhost-net-1000","interface":"net1","mac":"0c:fe:c0:ff:ee:00",
//!    "device-info":{"type":"vdpa","version":"1.0.0","vdpa":{"parent-device":"vdpa0",
//!    "driver":"vhost","path":"/dev/vhost-vdpa-0","pci-address":"0000:65:00.2"}}}]"#;
//! let annotations = BTreeMap::from([("k8s.v1.cni.cncf.io/network-status".to_string(), status.to_string())]);
//! std::fs::write(pod.path().join("annotations"), netutil::downward::format(&annotations))?;
//!
//! let mut cfg = Config::from_vars([
//!     ("PODNETINFO_DIR", pod.path().to_str().unwrap()),
//!     ("PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST", "0000:65:00.2"),
//! ])?;
//! cfg.cpus = Some(vec![1, 2, 3]);
//! cfg.proc_mounts = pod.path().join("no-mounts"); // no hugetlbfs here
//! std::fs::write(&cfg.proc_mounts, "")?;
//!
//! let found = netutil::discover(&cfg)?;
//! let opts = PlanOptions {
//!     file_prefix: Some("gen".into()),
//!     require_device_paths: false, // no /dev/vhost-vdpa-0 on this machine
//!     ..PlanOptions::default()
//! };
//! let plan = netutil::plan(&found, App::Testpmd, &opts)?;
//! assert_eq!(plan.eal_args.join(" "),
//!     "--no-huge -m 1024 -n 4 -l 1-3 --main-lcore 1 --iova-mode=va \
//!      --vdev=virtio_user0,path=/dev/vhost-vdpa-0,queues=1,mac=0c:fe:c0:ff:ee:00 \
//!      --no-pci --file-prefix=gen");
//! assert_eq!(plan.port_mask(), 0x1);
//! # Ok(()) }
//! ```
//!
//! # What the plan contains, and where it differs from the original
//!
//! For the traffic-test pods the plan is the original command line argument by argument, with
//! these deliberate changes:
//!
//! - **`--main-lcore`** instead of `--master-lcore`, deprecated since DPDK 20.11, for all apps
//!   (the original gave none for l2fwd, whose default main lcore is the first of `-l` anyway).
//! - **Lcores from the usable CPUs** (`Cpus_allowed_list`, which honours cgroup v1 and v2
//!   cpusets) instead of a hard-coded `1-3`: the first is the main lcore. testpmd and l2fwd get
//!   all of them; l3fwd one per queue, since every l3fwd lcore needs its own TX queue on every
//!   port (the original's `-l 1` with one queue). On CPUs 1, 2, 3 this is exactly the original.
//!   DPDK takes lcore ids below `RTE_MAX_LCORE` (128 in Debian's builds): when a CPU to use is
//!   128 or above, the lcores are numbered from 0 and mapped to their CPUs,
//!   `--lcores 0@130,1@131 --main-lcore 0`, and l3fwd's `--config` names those lcore ids
//!   ([`Lcores`]); at most 128 CPUs are used.
//! - **`-a <pci>` as two argv elements** instead of the single element `"-w <pci>"`: `-w` was
//!   removed in DPDK 21.11, and one element with a space handed getopt an argument starting with
//!   a space.
//! - **Memory**: `-m` is the container's whole hugepage budget (first non-zero of the 1G limit,
//!   2M limit, limit, 1G request, 2M request, request); the original halved it "for two NUMA
//!   sockets", but `-m` already is the total. Without a budget, `-m 1024` as the original. When
//!   no hugetlbfs is mounted or the mounted sizes lack free pages, `--no-huge -m 1024` with the
//!   reason in [`Memory::NoHuge`]. `--single-file-segments` is added when hugepages back a
//!   vhost-user connection (vhost-user takes at most 8 memory regions); vhost-vdpa maps memory
//!   through its IOTLB and needs no such flag.
//! - **`--file-prefix`**, unique per process (`<app>-<hostname>-<pid>` unless overridden), so
//!   pods or test runs on one node never share hugepage files; the original set none.
//! - **`queues=`** on every virtio-user port (also vhost-user server mode), `cq=1` when more
//!   than one queue pair is asked for (virtio-user needs a control queue for that), and `mac=`
//!   from network-status on every virtual port that has a valid one.
//! - **memif roles** are passed as `server`/`client`, the names DPDK 22.11 uses (it warns about
//!   `master`/`slave`); memif interfaces in `ip` or `inject-punt` mode are skipped with the
//!   reason, as net_memif only supports Ethernet.
//! - **vDPA devices bound to `virtio_vdpa`** are reported as skipped with a message that says
//!   why, and if no usable port remains, [`plan()`] fails listing what was found and where it
//!   looked.
//!
//! # Untrusted input
//!
//! Everything a pod is given (annotations, device-info files, `PCIDEVICE_*`, the other
//! variables) may be wrong or hostile. Parsers return errors naming the file or variable and
//! the field, never panic (fuzz-style property tests, seeded with `tests/fixtures`, hold them
//! to it), and bound what they read (CPU numbers, wait times). What reaches DPDK is checked
//! against a fixed rule when the plan is made:
//!
//! - **device arguments** ([`devargs`]): every value (device paths, MACs, numbers, roles) uses
//!   only `A-Z a-z 0-9 . _ / + @ : -`; a device path is also absolute, has no `..` component and
//!   is at most 107 bytes (a Unix socket address). DPDK's `rte_kvargs` would otherwise read
//!   `path=/x=path=/tmp/evil.sock` as `path=/tmp/evil.sock`. A refused path is an error naming
//!   the network and the character;
//! - **ports and lcores**: at most 32 ports (`RTE_MAX_ETHPORTS`) and 128 lcores
//!   (`RTE_MAX_LCORE`), CPU ids from 128 on mapped to lcore ids from 0;
//! - **`--file-prefix`**: 1 to 64 of `A-Z a-z 0-9 - _ .`, starting with a letter or digit;
//! - **text**: names, paths and values quoted in messages, decisions and warnings are
//!   [`escape::printable`], so no input can start a second log line; variables discovery reads
//!   must be UTF-8 ([`Error::NotUnicode`]).
//!
//! Discovery follows app-netutil's classification ([`classify`] module) with its bugs fixed:
//! annotation values are Go-unquoted in full (app-netutil deleted every backslash and space),
//! `PCIDEVICE_*_INFO` is parsed as JSON (app-netutil split it on commas into bogus PCI
//! addresses), the deprecated `networks-status` key is accepted, CPUs come from the affinity
//! rather than the cgroup-v1 cpuset file, and a bounded poll replaces the fixed `sleep(2)`.
#![forbid(unsafe_code)]

pub mod classify;
pub mod config;
pub mod cpus;
pub mod devargs;
pub mod device_info;
pub mod discover;
pub mod downward;
mod dp_files;
pub mod error;
pub mod escape;
pub mod gostr;
pub mod hugepages;
mod json;
mod log;
pub mod network_status;
pub mod pci;
pub mod pcidevice;
pub mod plan;

pub use classify::{Interface, InterfaceType, Origin};
pub use config::Config;
pub use device_info::DeviceInfo;
pub use discover::{discover, Discovery, Resources, Sources};
pub use error::{Error, FieldError, Problem};
pub use hugepages::Hugepages;
pub use plan::{
    plan, App, EalPlan, Lcores, Memory, PlanOptions, PlannedPort, PortKind, QueueSize,
    SkippedInterface,
};
