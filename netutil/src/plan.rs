//! From a [`Discovery`] to EAL arguments for one app: lcores, memory, one port per usable device.
//!
//! This follows the original entrypoint (vdpa-deployment `dpdk-app-centos/dpdk-args.c`) argument
//! by argument; where it differs, the crate documentation says why.

use std::fmt;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;

use crate::classify::{Interface, InterfaceType};
use crate::cpus;
use crate::devargs;
use crate::device_info::{Device, MemifMode, MemifRole, VdpaDriver, VhostMode};
use crate::discover::Discovery;
use crate::error::Error;
use crate::hugepages::Hugepages;
use crate::log::Log;

/// `-m` when the pod gives no hugepage budget, and always with `--no-huge` (as the original).
pub const DEFAULT_MEMORY_MB: u64 = 1024;
/// `-n`: memory channels, as the original.
const MEMORY_CHANNELS: &str = "4";
/// The most ports a plan may have: port ids run below `RTE_MAX_ETHPORTS`, 32 in Debian's DPDK
/// builds, and the apps' port masks and tables cover as many (`dpdk-app` tests that the three
/// agree). A pod with more usable devices gets an error rather than a port mask the app refuses.
pub const MAX_PORTS: usize = 32;
/// Lcore ids run below `RTE_MAX_LCORE`, 128 in Debian's DPDK builds (`dpdk-app` tests that they
/// agree): a plan has at most this many lcores, and maps them to CPUs when a CPU id is this or
/// more ([`Lcores`]).
pub const MAX_LCORES: u32 = 128;
/// Longest `--file-prefix`: EAL puts it in socket paths, which are limited to 108 bytes.
const MAX_FILE_PREFIX: usize = 64;

/// The apps `dpdk-app` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum App {
    /// testpmd.
    Testpmd,
    /// l2fwd.
    L2fwd,
    /// l3fwd.
    L3fwd,
    /// The RFC 2544 throughput search (`dpdk-app rfc2544`), a generator that finishes.
    Rfc2544,
}

impl App {
    /// Every app, in the order the original listed them.
    pub const ALL: [App; 4] = [App::Testpmd, App::L2fwd, App::L3fwd, App::Rfc2544];

    /// The app's name, as `DPDK_SAMPLE_APP` spells it.
    pub fn name(self) -> &'static str {
        match self {
            App::Testpmd => "testpmd",
            App::L2fwd => "l2fwd",
            App::L3fwd => "l3fwd",
            App::Rfc2544 => "rfc2544",
        }
    }
}

impl fmt::Display for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for App {
    type Err = Error;

    /// ```
    /// use netutil::App;
    /// assert_eq!("l3fwd".parse::<App>().unwrap(), App::L3fwd);
    /// let err = "pktgen".parse::<App>().unwrap_err();
    /// assert!(err.to_string().contains("testpmd, l2fwd, l3fwd"));
    /// ```
    fn from_str(s: &str) -> Result<Self, Error> {
        App::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| Error::UnknownApp {
                given: s.to_owned(),
            })
    }
}

/// Descriptors per virtio-user queue (`queue_size=`): a power of two from 64 to 32768.
///
/// virtio-user's default is 256, which covers 5 ms at 50 kpps. Larger rings absorb longer
/// pauses of the other side (a vhost-user peer that shares CPUs, as in the demo); a vhost-vdpa
/// device must support the size asked for, or the port does not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QueueSize(u16);

impl QueueSize {
    /// The number of descriptors.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl FromStr for QueueSize {
    type Err = String;

    /// ```
    /// use netutil::QueueSize;
    /// assert_eq!("1024".parse::<QueueSize>().unwrap().get(), 1024);
    /// assert!("1000".parse::<QueueSize>().unwrap_err().contains("power of two"));
    /// ```
    fn from_str(s: &str) -> Result<Self, String> {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|n| n.is_power_of_two() && (64..=32768).contains(n))
            .map(QueueSize)
            .ok_or_else(|| "expected a power of two from 64 to 32768".to_owned())
    }
}

/// Choices the caller (usually from command-line flags) makes about the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// `--file-prefix`; by default `<app>-<hostname>-<pid>`, unique per process so that several
    /// DPDK processes on a node (or in a test run) never share hugepage files.
    pub file_prefix: Option<String>,
    /// Queue pairs per virtio-user port (`queues=`); default 1, as the original.
    pub queues: u16,
    /// Ring size per virtio-user queue (`queue_size=`); default: virtio-user's own (256).
    pub queue_size: Option<QueueSize>,
    /// Whether a device path that must exist but does not is an error (default) or only a
    /// warning, to plan from fixtures naming `/dev/vhost-vdpa-N` on a machine without them.
    pub require_device_paths: bool,
    /// The MAC each interface's device owns, by interface name, when it is known to differ
    /// from network-status (the pod simulation's `SIMULATED_DEVICE_MACS`): that one becomes
    /// `mac=`, as virtio_user would keep the device's anyway; [`PlannedPort::mac`] stays
    /// network-status's.
    pub device_macs: std::collections::BTreeMap<String, String>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            file_prefix: None,
            queues: 1,
            queue_size: None,
            require_device_paths: true,
            device_macs: Default::default(),
        }
    }
}

/// What kind of DPDK port a planned port is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortKind {
    /// virtio-user over `/dev/vhost-vdpa-N` (or a vhost-user socket standing in for it).
    Vdpa,
    /// virtio-user over a vhost-user socket.
    VhostUser,
    /// net_memif.
    Memif,
    /// A PCI function on the EAL allow list.
    Pci,
}

impl fmt::Display for PortKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PortKind::Vdpa => "vdpa",
            PortKind::VhostUser => "vhost-user",
            PortKind::Memif => "memif",
            PortKind::Pci => "pci",
        })
    }
}

/// One port of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedPort {
    /// The port id DPDK is expected to give it: EAL probes the PCI bus (in address order)
    /// before virtual devices (in argument order). Prefer looking ports up by `name`.
    pub index: u16,
    /// The DPDK device name (`virtio_user0`, `net_memif1`, `0000:18:02.2`), for
    /// `rte_eth_dev_get_port_by_name`.
    pub name: String,
    /// The network-status name, if any.
    pub network: Option<String>,
    /// The pod interface name, if any.
    pub interface: Option<String>,
    /// What kind of port.
    pub kind: PortKind,
    /// The device argument: what follows `--vdev=`, or the PCI address after `-a`.
    pub devarg: String,
    /// The MAC the port was given (`mac=`), from network-status.
    pub mac: Option<String>,
}

/// An interface that got no port, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedInterface {
    /// The interface, as `net1 (default/vdpa-net)`.
    pub interface: String,
    /// Why it is not a DPDK port.
    pub reason: String,
}

/// The lcores: EAL's main lcore, the workers, and the CPU each runs on.
///
/// EAL takes lcore ids below `RTE_MAX_LCORE` ([`MAX_LCORES`]). When every CPU the plan uses is
/// below that, the lcore ids are the CPU ids and EAL gets the original's
/// `-l <cpus> --main-lcore <first>`; otherwise the lcores are numbered from 0 and mapped to
/// their CPUs, `--lcores 0@130,1@131 --main-lcore 0`. The apps only ever see lcore ids (l3fwd's
/// `--config` included), so both forms run the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lcores {
    /// `--main-lcore`.
    pub main: u32,
    /// The other lcores, ascending.
    pub workers: Vec<u32>,
    /// The CPU of each lcore, in the order of [`Lcores::all`].
    pub cpus: Vec<u32>,
}

impl Lcores {
    /// Every lcore, main first.
    pub fn all(&self) -> Vec<u32> {
        std::iter::once(self.main)
            .chain(self.workers.iter().copied())
            .collect()
    }

    /// Whether each lcore id is the id of the CPU it runs on.
    pub fn are_cpus(&self) -> bool {
        self.all() == self.cpus
    }

    /// The EAL arguments that set them up.
    ///
    /// ```
    /// use netutil::Lcores;
    /// let same = Lcores { main: 2, workers: vec![3, 4], cpus: vec![2, 3, 4] };
    /// assert_eq!(same.eal_args(), ["-l", "2-4", "--main-lcore", "2"]);
    /// let mapped = Lcores { main: 0, workers: vec![1], cpus: vec![130, 131] };
    /// assert_eq!(mapped.eal_args(), ["--lcores", "0@130,1@131", "--main-lcore", "0"]);
    /// ```
    pub fn eal_args(&self) -> Vec<String> {
        let lcores = if self.are_cpus() {
            ["-l".to_owned(), cpus::format_list(&self.cpus)]
        } else {
            let map: Vec<String> = self
                .all()
                .iter()
                .zip(&self.cpus)
                .map(|(lcore, cpu)| format!("{lcore}@{cpu}"))
                .collect();
            ["--lcores".to_owned(), map.join(",")]
        };
        let mut args = lcores.to_vec();
        args.extend(["--main-lcore".to_owned(), self.main.to_string()]);
        args
    }
}

/// How EAL gets its memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Memory {
    /// `-m <mb>` from hugepages.
    Hugepages {
        /// MiB.
        mb: u64,
    },
    /// `--no-huge -m <mb>`: ordinary memory.
    NoHuge {
        /// MiB.
        mb: u64,
        /// Why hugepages are not used.
        reason: String,
    },
}

impl Memory {
    /// The `-m` value.
    pub fn mb(&self) -> u64 {
        match self {
            Memory::Hugepages { mb } | Memory::NoHuge { mb, .. } => *mb,
        }
    }
}

/// EAL arguments and what they mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EalPlan {
    /// The app planned for.
    pub app: App,
    /// The EAL arguments, one argv element each, without the program name and without `--`.
    pub eal_args: Vec<String>,
    /// The ports, in argument order.
    pub ports: Vec<PlannedPort>,
    /// Interfaces that got no port.
    pub skipped: Vec<SkippedInterface>,
    /// The lcores of `-l`.
    pub lcores: Lcores,
    /// The memory mode.
    pub memory: Memory,
    /// The `--file-prefix`.
    pub file_prefix: String,
    /// Each decision, in order (also logged).
    pub decisions: Vec<String>,
    /// Things that may make the app fail.
    pub warnings: Vec<String>,
}

impl EalPlan {
    /// The port mask for `-p`: bit `index` set for every planned port.
    pub fn port_mask(&self) -> u64 {
        self.ports.iter().fold(0, |mask, p| mask | 1u64 << p.index)
    }
}

/// Plans the EAL arguments for `app` on the pod `discovery` describes.
///
/// # Errors
///
/// No usable port (the message lists every interface with the reason it is not usable, and where
/// discovery looked), too few CPUs, a device path that is absent (unless
/// [`PlanOptions::require_device_paths`] is off) or of the wrong kind, or a bad option.
pub fn plan(discovery: &Discovery, app: App, opts: &PlanOptions) -> Result<EalPlan, Error> {
    let mut log = Log::default();
    if opts.queues == 0 {
        return Err(Error::PlanOption {
            option: "queues",
            reason: "must be at least 1".into(),
        });
    }
    let file_prefix = file_prefix(app, &discovery.hostname, opts.file_prefix.as_deref())?;
    let lcores = lcores(
        app,
        &discovery.resources.cpus,
        &discovery.resources.cpus_from,
        opts.queues,
        &mut log,
    )?;

    let mut ports: Vec<Pending> = Vec::new();
    let mut skipped = Vec::new();
    let mut counters = Counters {
        virtio_user: 0,
        memif: 1,
    };
    for iface in &discovery.interfaces {
        match port_for(iface, opts, &mut counters, &mut log)? {
            Ok(port) => {
                // Every value was checked on the way in; this keeps it so for the whole string.
                devargs::validate(&port.port.devarg).map_err(|problem| Error::Devarg {
                    interface: iface.label(),
                    devarg: port.port.devarg.clone(),
                    problem,
                })?;
                log.note(format!(
                    "{}: {} port {}",
                    iface.label(),
                    port.port.kind,
                    port.port.name
                ));
                ports.push(port);
            }
            Err(reason) => {
                log.note(format!("{}: not a DPDK port: {reason}", iface.label()));
                skipped.push(SkippedInterface {
                    interface: iface.label(),
                    reason,
                });
            }
        }
    }
    if ports.is_empty() {
        let found = if skipped.is_empty() {
            "no interfaces".to_owned()
        } else {
            skipped
                .iter()
                .map(|s| format!("{}: {}", s.interface, s.reason))
                .collect::<Vec<_>>()
                .join("; ")
        };
        return Err(Error::NoUsableDevice {
            app: app.to_string(),
            found,
            looked: discovery.sources.describe(),
        });
    }
    if ports.len() > MAX_PORTS {
        return Err(Error::PlanOption {
            option: "ports",
            reason: format!(
                "{} usable devices, but DPDK and the apps take at most {MAX_PORTS} ports \
                 (RTE_MAX_ETHPORTS)",
                ports.len()
            ),
        });
    }

    let vhost_user = ports.iter().any(|p| p.vhost_user_backend);
    let memory = memory(&discovery.resources.hugepages, &mut log);
    let mut args: Vec<String> = Vec::new();
    if let Memory::NoHuge { .. } = memory {
        args.push("--no-huge".into());
        if vhost_user {
            log.warn(
                "vhost-user backends map the app's memory through file descriptors, \
                 which --no-huge does not provide; mount hugetlbfs for them",
            );
        }
    }
    args.extend([
        "-m".into(),
        memory.mb().to_string(),
        "-n".into(),
        MEMORY_CHANNELS.into(),
    ]);
    if matches!(memory, Memory::Hugepages { .. }) && vhost_user {
        log.note("--single-file-segments: vhost-user accepts at most 8 memory regions");
        args.push("--single-file-segments".into());
    }
    args.extend(lcores.eal_args());
    if app == App::Testpmd {
        args.push("--iova-mode=va".into());
    }
    let mut has_pci = false;
    for p in &ports {
        if p.port.kind == PortKind::Pci {
            has_pci = true;
            args.extend(["-a".into(), p.port.devarg.clone()]);
        } else {
            args.push(format!("--vdev={}", p.port.devarg));
        }
    }
    if !has_pci {
        args.push("--no-pci".into());
    }
    args.push(format!("--file-prefix={file_prefix}"));

    let ports = number_ports(ports);
    Ok(EalPlan {
        app,
        eal_args: args,
        ports,
        skipped,
        lcores,
        memory,
        file_prefix,
        decisions: log.notes,
        warnings: log.warnings,
    })
}

/// A port before its index is known.
struct Pending {
    port: PlannedPort,
    /// Whether virtio-user will speak vhost-user on it (a socket), which limits memory regions.
    vhost_user_backend: bool,
}

/// The next `virtio_user<k>` (shared by vDPA and vhost-user, from 0) and `net_memif<j>` (from 1,
/// as the original) numbers.
struct Counters {
    virtio_user: u32,
    memif: u32,
}

/// The port for one interface, or why there is none. Errors are bad device paths.
fn port_for(
    iface: &Interface,
    opts: &PlanOptions,
    counters: &mut Counters,
    log: &mut Log,
) -> Result<Result<Pending, String>, Error> {
    let Some(info) = &iface.device_info else {
        return Ok(Err(match iface.kind {
            InterfaceType::Host if iface.default => {
                "kernel interface of the cluster default network"
            }
            InterfaceType::Host => "kernel interface without device-info",
            _ => "no device-info",
        }
        .into()));
    };
    let mac = iface.mac.clone().filter(|mac| {
        let ok = is_ethernet_mac(mac);
        if !ok {
            log.warn(format!(
                "{}: network-status mac {mac:?} is not an Ethernet MAC; not passed to DPDK",
                iface.label()
            ));
        }
        ok
    });
    let new = NewPort { iface, mac, opts };
    Ok(match (&info.device, iface.kind) {
        (Device::Pci(pci), InterfaceType::SrIov) => Ok(new.pci(&pci.pci_address)),
        (Device::Pci(pci), _) => Err(format!(
            "PCI device {} is in device-info but in no PCIDEVICE_* variable, \
             so it was not allocated to this container",
            pci.pci_address
        )),
        (Device::Vdpa(vdpa), _) => match (vdpa.driver, vdpa.path.as_deref()) {
            (VdpaDriver::Virtio, _) => Err(format!(
                "vDPA device {} is bound to virtio_vdpa: the kernel drives it as a netdev, \
                 which DPDK cannot use (bind it to vhost_vdpa, SR-IOV device plugin vdpaType \
                 \"vhost\", to use it with DPDK)",
                vdpa.parent_device
                    .as_deref()
                    .or(vdpa.pci_address.as_deref())
                    .unwrap_or("(unnamed)")
            )),
            (VdpaDriver::Vhost, None) => Err("vhost vDPA device without a path".into()),
            (VdpaDriver::Vhost, Some(path)) => {
                let accept = [PathKind::CharDevice, PathKind::Socket];
                let found = check_path(iface, path, &accept, true, opts, log)?;
                // A socket standing in for /dev/vhost-vdpa-N makes virtio-user speak vhost-user.
                let vhost_user = found == Some(PathKind::Socket);
                let k = &mut counters.virtio_user;
                Ok(new.virtio_user(PortKind::Vdpa, path, false, vhost_user, k))
            }
        },
        (Device::VhostUser(vu), _) => {
            let server = vu.mode == VhostMode::Server;
            // In server mode the app creates the socket, so it need not exist yet.
            check_path(iface, &vu.path, &[PathKind::Socket], !server, opts, log)?;
            let k = &mut counters.virtio_user;
            Ok(new.virtio_user(PortKind::VhostUser, &vu.path, server, true, k))
        }
        (Device::Memif(m), _) if m.mode != MemifMode::Ethernet => Err(format!(
            "memif mode {} carries no Ethernet frames; net_memif supports only ethernet",
            if m.mode == MemifMode::Ip {
                "ip"
            } else {
                "inject-punt"
            }
        )),
        (Device::Memif(m), _) => {
            // In the master role the app creates the socket.
            check_path(
                iface,
                &m.path,
                &[PathKind::Socket],
                m.role == MemifRole::Slave,
                opts,
                log,
            )?;
            Ok(new.memif(&m.path, m.role, &mut counters.memif))
        }
    })
}

/// Builds the ports of one interface.
struct NewPort<'a> {
    iface: &'a Interface,
    /// The network-status MAC, if it is a valid one.
    mac: Option<String>,
    opts: &'a PlanOptions,
}

impl NewPort<'_> {
    fn port(
        &self,
        kind: PortKind,
        name: String,
        devarg: String,
        vhost_user_backend: bool,
    ) -> Pending {
        let device_mac = self
            .iface
            .interface
            .as_ref()
            .and_then(|i| self.opts.device_macs.get(i));
        let devarg = match (device_mac.or(self.mac.as_ref()), kind) {
            (Some(mac), PortKind::Vdpa | PortKind::VhostUser | PortKind::Memif) => {
                format!("{devarg},mac={mac}")
            }
            _ => devarg,
        };
        Pending {
            port: PlannedPort {
                index: 0,
                name,
                network: self.iface.network.clone(),
                interface: self.iface.interface.clone(),
                kind,
                devarg,
                mac: self.mac.clone().filter(|_| kind != PortKind::Pci),
            },
            vhost_user_backend,
        }
    }

    /// `-a <pci>`: the device name is the canonical address.
    fn pci(&self, address: &str) -> Pending {
        self.port(PortKind::Pci, address.to_owned(), address.to_owned(), false)
    }

    /// `virtio_user<k>,path=<path>[,server=1],queues=<n>[,cq=1][,queue_size=<q>][,mac=<mac>]`.
    fn virtio_user(
        &self,
        kind: PortKind,
        path: &str,
        server: bool,
        vhost_user: bool,
        k: &mut u32,
    ) -> Pending {
        let name = format!("virtio_user{k}");
        *k += 1;
        let mut devarg = format!("{name},path={path}");
        if server {
            devarg.push_str(",server=1");
        }
        devarg.push_str(&format!(",queues={}", self.opts.queues));
        if self.opts.queues > 1 {
            // virtio-user refuses several queue pairs without a control queue.
            devarg.push_str(",cq=1");
        }
        if let Some(q) = self.opts.queue_size {
            devarg.push_str(&format!(",queue_size={}", q.get()));
        }
        self.port(kind, name, devarg, vhost_user)
    }

    /// `net_memif<j>,socket=<path>,role=<server|client>[,mac=<mac>]`, with the role names of
    /// DPDK 22.11, which deprecates `master` and `slave`.
    fn memif(&self, path: &str, role: MemifRole, j: &mut u32) -> Pending {
        let name = format!("net_memif{j}");
        *j += 1;
        let role = match role {
            MemifRole::Master => "server",
            MemifRole::Slave => "client",
        };
        let devarg = format!("{name},socket={path},role={role}");
        self.port(PortKind::Memif, name, devarg, false)
    }
}

/// File types a device path may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathKind {
    CharDevice,
    Socket,
}

/// Checks a device path: it must pass [`devargs::check_path`], and if it exists it must be one of
/// `accept`.
/// A path that `must_exist` but does not is an error, or a warning when the options allow.
/// Returns what was found.
fn check_path(
    iface: &Interface,
    path: &str,
    accept: &[PathKind],
    must_exist: bool,
    opts: &PlanOptions,
    log: &mut Log,
) -> Result<Option<PathKind>, Error> {
    let fail = |reason: String| Error::DevicePath {
        interface: iface.label(),
        path: path.into(),
        reason,
    };
    // Before anything touches the file system: the path goes into a device argument.
    devargs::check_path(path).map_err(|e| fail(e.to_string()))?;
    let wanted = accept
        .iter()
        .map(|k| match k {
            PathKind::CharDevice => "a character device",
            PathKind::Socket => "a Unix socket",
        })
        .collect::<Vec<_>>()
        .join(" or ");
    match fs::metadata(Path::new(path)) {
        Ok(meta) => {
            let ft = meta.file_type();
            let kind = [
                (PathKind::CharDevice, ft.is_char_device()),
                (PathKind::Socket, ft.is_socket()),
            ]
            .into_iter()
            .find_map(|(k, is)| is.then_some(k))
            .filter(|k| accept.contains(k));
            kind.map(Some)
                .ok_or_else(|| fail(format!("exists but is not {wanted}")))
        }
        Err(e) if e.kind() == ErrorKind::NotFound && !must_exist => Ok(None),
        Err(e) if e.kind() == ErrorKind::NotFound && !opts.require_device_paths => {
            log.warn(format!(
                "{}: {path} does not exist (planned anyway: device paths not required)",
                iface.label()
            ));
            Ok(None)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Err(fail(format!(
            "does not exist; it should be {wanted} mapped into the container"
        ))),
        Err(e) => Err(fail(e.to_string())),
    }
}

/// Six two-digit hex octets separated by colons: what DPDK's `mac=` takes and what sriov-cni
/// reports.
pub(crate) fn is_ethernet_mac(mac: &str) -> bool {
    let octets: Vec<&str> = mac.split(':').collect();
    octets.len() == 6
        && octets
            .iter()
            .all(|o| o.len() == 2 && o.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The default `--file-prefix` or the validated override.
///
/// EAL makes the prefix a directory under its runtime directory (`/var/run/dpdk/<prefix>`) and
/// the start of hugepage file names, so it is one path component: letters, digits, `-`, `_` and
/// `.`, starting with a letter or digit (so never `.`, `..` or a hidden name).
fn file_prefix(app: App, hostname: &str, requested: Option<&str>) -> Result<String, Error> {
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let starts_well = |p: &str| p.starts_with(|c: char| c.is_ascii_alphanumeric());
    match requested {
        Some(p) if !starts_well(p) || p.len() > MAX_FILE_PREFIX || !p.chars().all(valid) => {
            Err(Error::PlanOption {
                option: "file-prefix",
                reason: format!(
                    "{p:?} must be 1 to {MAX_FILE_PREFIX} of A-Z a-z 0-9 - _ . \
                     starting with a letter or digit"
                ),
            })
        }
        Some(p) => Ok(p.to_owned()),
        None => {
            let host: String = hostname
                .chars()
                .map(|c| if valid(c) { c } else { '-' })
                .take(40)
                .collect();
            Ok(format!("{app}-{host}-{}", std::process::id()))
        }
    }
}

/// Main lcore and workers from the usable CPUs.
///
/// One CPU is enough for every app: unlike DPDK's testpmd, ours forwards on the main lcore when
/// it has no other (a pod with one dedicated CPU is common). l3fwd gives every lcore its own TX
/// queue on every port, so it gets one lcore per queue (one, with the default single queue: the
/// original's `-l 1`). testpmd and l2fwd use them all, up to [`MAX_LCORES`]. The lcore ids are
/// the CPU ids unless one of those CPUs is [`MAX_LCORES`] or above; then they count from 0.
fn lcores(
    app: App,
    cpus: &[u32],
    cpus_from: &str,
    queues: u16,
    log: &mut Log,
) -> Result<Lcores, Error> {
    if cpus.is_empty() {
        return Err(Error::TooFewCpus {
            app: app.to_string(),
            needed: 1,
            source_name: cpus_from.to_owned(),
            cpus: cpus.to_vec(),
        });
    }
    let most = usize::try_from(MAX_LCORES).unwrap_or(usize::MAX);
    if cpus.len() > most {
        log.warn(format!(
            "{} usable CPUs, but DPDK takes at most {most} lcores (RTE_MAX_LCORE): \
             using the first {most}",
            cpus.len()
        ));
    }
    let count = match app {
        App::L3fwd => usize::from(queues),
        // One loop on the main lcore sends and receives.
        App::Rfc2544 => 1,
        App::Testpmd | App::L2fwd => cpus.len(),
    }
    .min(cpus.len())
    .min(most);
    let chosen = &cpus[..count];
    let ids: Vec<u32> = if chosen.iter().all(|&cpu| cpu < MAX_LCORES) {
        chosen.to_vec()
    } else {
        (0..MAX_LCORES).take(count).collect()
    };
    let lcores = Lcores {
        main: ids[0],
        workers: ids[1..].to_vec(),
        cpus: chosen.to_vec(),
    };
    if lcores.are_cpus() {
        log.note(format!(
            "lcores {} (main {}) from usable CPUs {}",
            cpus::format_list(&ids),
            lcores.main,
            cpus::format_list(cpus)
        ));
    } else {
        log.note(format!(
            "lcores {} (main {}) on CPUs {} of usable CPUs {}: CPU ids from {MAX_LCORES} on are \
             not lcore ids in DPDK (RTE_MAX_LCORE), so EAL maps them with --lcores",
            cpus::format_list(&ids),
            lcores.main,
            cpus::format_list(chosen),
            cpus::format_list(cpus)
        ));
    }
    Ok(lcores)
}

/// `-m` and whether hugepages can back it.
///
/// The budget is the container's whole hugepage allowance: `-m` is the total over all NUMA
/// nodes, so the original's halving "for two sockets" only left half the allowance unused.
/// Without a budget, 1024 MiB as the original. Hugepages are used only if hugetlbfs is mounted
/// and the mounted sizes have that much free; otherwise `--no-huge -m 1024`.
fn memory(hp: &Hugepages, log: &mut Log) -> Memory {
    let (mb, why) = match hp.budget.as_ref().and_then(|b| b.mib()) {
        Some(mib) => (mib, "the container's hugepage budget"),
        None => (
            DEFAULT_MEMORY_MB,
            "no hugepage budget in the downward API, the original's default",
        ),
    };
    let free = hp.free_mounted_mib();
    let no_huge = if hp.mounts.is_empty() {
        Some("no hugetlbfs is mounted".to_owned())
    } else if free < mb {
        Some(format!(
            "{mb} MiB needed but only {free} MiB of mounted hugepage sizes are free"
        ))
    } else {
        None
    };
    match no_huge {
        None => {
            log.note(format!("-m {mb}: {why}, from hugepages ({free} MiB free)"));
            Memory::Hugepages { mb }
        }
        Some(reason) => {
            log.warn(format!("--no-huge -m {DEFAULT_MEMORY_MB}: {reason}"));
            Memory::NoHuge {
                mb: DEFAULT_MEMORY_MB,
                reason,
            }
        }
    }
}

/// Gives each port the id DPDK will: PCI devices first in address order, then virtual devices in
/// argument order.
fn number_ports(pending: Vec<Pending>) -> Vec<PlannedPort> {
    let mut ports: Vec<PlannedPort> = pending.into_iter().map(|p| p.port).collect();
    let mut order: Vec<usize> = (0..ports.len()).collect();
    order.sort_by_key(|&i| {
        let p = &ports[i];
        let pci = p.kind == PortKind::Pci;
        (!pci, if pci { p.name.clone() } else { String::new() }, i)
    });
    for (id, i) in order.into_iter().enumerate() {
        // At most MAX_PORTS ports, checked by the caller.
        ports[i].index = u16::try_from(id).unwrap_or(u16::MAX);
    }
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs() {
        assert!(is_ethernet_mac("0c:fe:c0:ff:ee:00"));
        assert!(is_ethernet_mac("0C:FE:C0:FF:EE:00"));
        for bad in [
            "",
            "0c:fe:c0:ff:ee",
            "0c:fe:c0:ff:ee:00:11",
            "0c-fe-c0-ff-ee-00",
            "0c:fe:c0:ff:ee:0g",
            "0c:fe:c0:ff:ee:00,path=x",
        ] {
            assert!(!is_ethernet_mac(bad), "{bad}");
        }
    }

    #[test]
    fn file_prefixes() {
        let p = file_prefix(App::Testpmd, "vdpa-pod-gen", None).unwrap();
        assert_eq!(p, format!("testpmd-vdpa-pod-gen-{}", std::process::id()));
        assert!(file_prefix(App::L2fwd, "a/b c", None)
            .unwrap()
            .starts_with("l2fwd-a-b-c-"));
        assert_eq!(file_prefix(App::L3fwd, "h", Some("mine")).unwrap(), "mine");
        assert_eq!(
            file_prefix(App::L3fwd, "h", Some("pod-1.a_b")).unwrap(),
            "pod-1.a_b"
        );
        for bad in [
            "",
            "a/b",
            "a b",
            &"x".repeat(65),
            "..",
            ".",
            ".hidden",
            "-x",
            "a\n",
        ] {
            assert!(file_prefix(App::L3fwd, "h", Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn lcores_per_app() {
        let mut log = Log::default();
        let l = |app, cpus: &[u32], q| lcores(app, cpus, "test", q, &mut Log::default());
        assert_eq!(
            l(App::Testpmd, &[1, 2, 3], 1).unwrap(),
            Lcores {
                main: 1,
                workers: vec![2, 3],
                cpus: vec![1, 2, 3]
            }
        );
        assert_eq!(l(App::L2fwd, &[1, 2, 3], 1).unwrap().all(), [1, 2, 3]);
        assert_eq!(
            l(App::L3fwd, &[1, 2, 3], 1).unwrap(),
            Lcores {
                main: 1,
                workers: vec![],
                cpus: vec![1]
            }
        );
        assert_eq!(l(App::L3fwd, &[1, 2, 3], 2).unwrap().all(), [1, 2]);
        assert_eq!(l(App::L3fwd, &[4], 8).unwrap().all(), [4]);
        assert_eq!(l(App::Testpmd, &[0], 1).unwrap().all(), [0]);
        assert!(lcores(App::L2fwd, &[], "test", 1, &mut log).is_err());
    }

    #[test]
    fn cpus_from_128_on_are_mapped_to_lcores_from_0() {
        let l = |app, cpus: &[u32], q| lcores(app, cpus, "test", q, &mut Log::default());
        let mapped = l(App::Testpmd, &[130, 131], 1).unwrap();
        assert_eq!(
            mapped,
            Lcores {
                main: 0,
                workers: vec![1],
                cpus: vec![130, 131]
            }
        );
        assert_eq!(
            mapped.eal_args(),
            ["--lcores", "0@130,1@131", "--main-lcore", "0"]
        );
        // One CPU above the limit maps them all; l3fwd maps only the lcores it uses.
        assert_eq!(l(App::L2fwd, &[5, 200], 1).unwrap().all(), [0, 1]);
        assert_eq!(
            l(App::L3fwd, &[5, 200], 1).unwrap().eal_args()[..2],
            ["-l", "5"]
        );
        assert_eq!(
            l(App::L3fwd, &[5, 200], 2).unwrap().eal_args()[..2],
            ["--lcores", "0@5,1@200"]
        );
        // More CPUs than lcore ids: the first 128.
        let many: Vec<u32> = (0..300).collect();
        let mut log = Log::default();
        let capped = lcores(App::L2fwd, &many, "test", 1, &mut log).unwrap();
        assert_eq!(capped.all(), (0..128).collect::<Vec<u32>>());
        assert!(capped.are_cpus() && log.warnings[0].contains("at most 128 lcores"));
        let high: Vec<u32> = (200..500).collect();
        let capped = lcores(App::L2fwd, &high, "test", 1, &mut log).unwrap();
        assert_eq!(capped.all().last(), Some(&127));
        assert_eq!(capped.cpus.last(), Some(&327));
    }

    #[test]
    fn pci_ports_are_numbered_first() {
        let pending = |kind, name: &str| Pending {
            port: PlannedPort {
                index: 0,
                name: name.into(),
                network: None,
                interface: None,
                kind,
                devarg: name.into(),
                mac: None,
            },
            vhost_user_backend: false,
        };
        let ports = number_ports(vec![
            pending(PortKind::Vdpa, "virtio_user0"),
            pending(PortKind::Pci, "0000:18:02.3"),
            pending(PortKind::Memif, "net_memif1"),
            pending(PortKind::Pci, "0000:18:02.2"),
        ]);
        let ids: Vec<(&str, u16)> = ports.iter().map(|p| (p.name.as_str(), p.index)).collect();
        assert_eq!(
            ids,
            [
                ("virtio_user0", 2),
                ("0000:18:02.3", 1),
                ("net_memif1", 3),
                ("0000:18:02.2", 0)
            ]
        );
    }
}
