//! Ethernet ports (ethdev): configuration, start/stop, queues, link and statistics.

use std::cell::Cell;
use std::ffi::CStr;
use std::fmt;
use std::marker::PhantomData;
#[cfg(debug_assertions)]
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::batch::Batch;
use crate::eal::Eal;
use crate::error::PortError;
use crate::mempool::Mempool;
use crate::resources::Registration;
use crate::MacAddr;

/// Offload and RSS flags (`RTE_ETH_*`), widened to the `u64` the configuration uses.
///
/// `RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE` is not among them: it is requested for one pool with
/// [`PortBuilder::tx_fast_free`](crate::PortBuilder::tx_fast_free), never as a bare flag.
///
/// ```compile_fail
/// let flags = dpdk::offload::TX_MBUF_FAST_FREE; // error: no such flag
/// ```
///
/// ```
/// let flags = dpdk::offload::TX_MULTI_SEGS;
/// # let _ = flags;
/// ```
pub mod offload {
    macro_rules! flags {
        ($($(#[$doc:meta])* $name:ident = $sys:ident;)*) => {
            $(#[doc = concat!("`", stringify!($sys), "`")] $(#[$doc])* pub const $name: u64 = dpdk_sys::$sys as u64;)*
        };
    }
    flags! {
        RX_VLAN_STRIP = RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
        RX_IPV4_CKSUM = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
        RX_UDP_CKSUM = RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
        RX_TCP_CKSUM = RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
        /// IPv4 + UDP + TCP checksum validation (what C l3fwd requests unconditionally).
        RX_CHECKSUM = RTE_ETH_RX_OFFLOAD_CHECKSUM;
        RX_SCATTER = RTE_ETH_RX_OFFLOAD_SCATTER;
        RX_RSS_HASH = RTE_ETH_RX_OFFLOAD_RSS_HASH;
        TX_IPV4_CKSUM = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
        TX_UDP_CKSUM = RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
        TX_MULTI_SEGS = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
        RSS_IP = RTE_ETH_RSS_IP;
        RSS_UDP = RTE_ETH_RSS_UDP;
        RSS_TCP = RTE_ETH_RSS_TCP;
    }
}

/// One lock per port id for DPDK's ethdev control functions (configuration, start and stop,
/// link, MAC, modes, statistics, device information), which are not thread-safe. Every control
/// call of this crate holds its port's lock; the fast path (RX/TX bursts) never takes it.
static CONTROL: [Mutex<()>; dpdk_sys::RTE_MAX_ETHPORTS as usize] =
    [const { Mutex::new(()) }; dpdk_sys::RTE_MAX_ETHPORTS as usize];

/// Set while a control call on the port runs: debug builds check that calls never overlap.
#[cfg(debug_assertions)]
static IN_CONTROL: [AtomicBool; dpdk_sys::RTE_MAX_ETHPORTS as usize] =
    [const { AtomicBool::new(false) }; dpdk_sys::RTE_MAX_ETHPORTS as usize];

/// The right to make control calls on one port, until dropped.
struct Control {
    #[cfg(debug_assertions)]
    port: u16,
    _guard: MutexGuard<'static, ()>,
}

impl Control {
    fn lock(port: u16) -> Control {
        // A panic while holding the lock cannot leave DPDK's state half-changed by us (the
        // C calls do not unwind), so a poisoned lock is still good.
        let guard = CONTROL[usize::from(port)]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        #[cfg(debug_assertions)]
        assert!(
            !IN_CONTROL[usize::from(port)].swap(true, Ordering::AcqRel),
            "port {port}: two ethdev control calls at once"
        );
        Control {
            #[cfg(debug_assertions)]
            port,
            _guard: guard,
        }
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        #[cfg(debug_assertions)]
        IN_CONTROL[usize::from(self.port)].store(false, Ordering::Release);
    }
}

/// What a port can do (`rte_eth_dev_info`), as far as configuration needs.
#[derive(Debug, Clone)]
pub struct PortInfo {
    /// The port id.
    pub port: u16,
    /// The device name (`net_virtio_user0`, a PCI address, ...).
    pub name: String,
    /// The PMD (`net_virtio_user`, `net_mlx5`, ...).
    pub driver: String,
    /// Most RX queues the device can have.
    pub max_rx_queues: u16,
    /// Most TX queues the device can have.
    pub max_tx_queues: u16,
    /// RX offloads the device offers (`offload::RX_*`).
    pub rx_offload_capa: u64,
    /// TX offloads the device offers (`offload::TX_*`).
    pub tx_offload_capa: u64,
    /// RSS hash types the device offers (`offload::RSS_*`).
    pub rss_offloads: u64,
    /// Smallest MTU.
    pub min_mtu: u16,
    /// Largest MTU.
    pub max_mtu: u16,
    /// Largest frame the device receives, in bytes.
    pub max_rx_pktlen: u32,
}

impl PortInfo {
    /// Whether the device offers fast mbuf freeing on TX (see
    /// [`PortBuilder::tx_fast_free`]).
    pub fn offers_tx_fast_free(&self) -> bool {
        self.tx_offload_capa & FAST_FREE != 0
    }

    fn query(port: u16) -> Result<Self, PortError> {
        let _control = Control::lock(port);
        // SAFETY: rte_eth_dev_info is plain old data; all-zero is a valid initial value that
        // rte_eth_dev_info_get overwrites.
        let mut info: dpdk_sys::rte_eth_dev_info = unsafe { std::mem::zeroed() };
        // SAFETY: valid port (checked by callers) and a writable info struct.
        let ret = unsafe { dpdk_sys::rte_eth_dev_info_get(port, &mut info) };
        if ret != 0 {
            return Err(PortError::call(port, "rte_eth_dev_info_get", ret));
        }
        let driver = if info.driver_name.is_null() {
            String::new()
        } else {
            // SAFETY: the driver name is a static NUL-terminated string of the PMD.
            unsafe { CStr::from_ptr(info.driver_name) }
                .to_string_lossy()
                .into_owned()
        };
        let mut name = [0 as std::ffi::c_char; dpdk_sys::RTE_ETH_NAME_MAX_LEN as usize];
        // SAFETY: buffer of RTE_ETH_NAME_MAX_LEN bytes as the API requires.
        let ret = unsafe { dpdk_sys::rte_eth_dev_get_name_by_port(port, name.as_mut_ptr()) };
        let name = if ret == 0 {
            // SAFETY: on success the buffer holds a NUL-terminated name.
            unsafe { CStr::from_ptr(name.as_ptr()) }
                .to_string_lossy()
                .into_owned()
        } else {
            format!("port{port}")
        };
        Ok(PortInfo {
            port,
            name,
            driver,
            max_rx_queues: info.max_rx_queues,
            max_tx_queues: info.max_tx_queues,
            rx_offload_capa: info.rx_offload_capa,
            tx_offload_capa: info.tx_offload_capa,
            rss_offloads: info.flow_type_rss_offloads,
            min_mtu: info.min_mtu,
            max_mtu: info.max_mtu,
            max_rx_pktlen: info.max_rx_pktlen,
        })
    }
}

/// Configures a port and starts it, handing out each of its queues once.
///
/// Offloads and RSS hash types are requested only where the device advertises them; what was
/// dropped is logged and visible in [`StartedPort`], so applications can fall back to software
/// (virtio ports, for instance, validate no IPv4 checksums).
#[derive(Debug, Clone)]
pub struct PortBuilder {
    info: PortInfo,
    rx_queues: u16,
    tx_queues: u16,
    rx_desc: u16,
    tx_desc: u16,
    rss_hf: u64,
    rx_offloads: u64,
    tx_offloads: u64,
    mtu: Option<u16>,
    /// The one pool every mbuf sent on this port comes from, with fast freeing.
    fast_free: Option<Mempool>,
}

/// `RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE`: only through [`PortBuilder::tx_fast_free`].
const FAST_FREE: u64 = dpdk_sys::RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE as u64;

impl PortBuilder {
    /// Starts configuring `port` (one RX and one TX queue, PMD-default ring sizes, no offloads).
    pub fn new(eal: &Eal, port: u16) -> Result<Self, PortError> {
        let ports = eal.port_ids();
        if !ports.contains(&port) {
            return Err(PortError::NoSuchPort {
                port,
                available: ports.len() as u16,
            });
        }
        Ok(PortBuilder {
            info: PortInfo::query(port)?,
            rx_queues: 1,
            tx_queues: 1,
            rx_desc: 0,
            tx_desc: 0,
            rss_hf: 0,
            rx_offloads: 0,
            tx_offloads: 0,
            mtu: None,
            fast_free: None,
        })
    }

    /// What the device can do.
    pub fn info(&self) -> &PortInfo {
        &self.info
    }

    /// Number of RX and TX queues.
    pub fn queues(mut self, rx: u16, tx: u16) -> Self {
        self.rx_queues = rx;
        self.tx_queues = tx;
        self
    }

    /// Ring sizes; 0 keeps the PMD's default.
    pub fn descriptors(mut self, rx: u16, tx: u16) -> Self {
        self.rx_desc = rx;
        self.tx_desc = tx;
        self
    }

    /// RSS hash types to spread packets over several RX queues (`offload::RSS_*`).
    pub fn rss(mut self, hash_types: u64) -> Self {
        self.rss_hf = hash_types;
        self
    }

    /// RX offloads wanted (`offload::RX_*`).
    pub fn rx_offloads(mut self, flags: u64) -> Self {
        self.rx_offloads = flags;
        self
    }

    /// TX offloads wanted (`offload::TX_*`). Fast mbuf freeing is not one of them: see
    /// [`tx_fast_free`](Self::tx_fast_free) (the bare flag makes [`start`](Self::start) fail).
    pub fn tx_offloads(mut self, flags: u64) -> Self {
        self.tx_offloads = flags;
        self
    }

    /// Fast mbuf freeing on every TX queue (`RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE`, where the
    /// device offers it) for mbufs that all come from `pool`.
    ///
    /// With it, PMDs such as i40e, ice or mlx5 return sent mbufs in bulk to the pool of the
    /// first one, without looking at them: an mbuf of another pool would go back to the wrong
    /// pool, a shared one (reference count above 1, indirect, or with an external buffer) would
    /// be recycled while still in use. So every segment of every packet sent on this port must
    /// come from `pool` and own its data. (Reference counts are 1 by construction: this crate
    /// makes no clones and PMDs receive into fresh mbufs.) The TX queues check the pool and
    /// the flags of each segment whether or not the device has the offload, before anything
    /// is handed to the PMD, and panic on an mbuf that breaks the rule: it is a program error,
    /// like an index out of bounds, and the check keeps it from becoming memory corruption.
    ///
    /// Safe when one pool serves every port the packets come from (l2fwd); not with a pool
    /// per port (l3fwd `--per-port-pool` forwards packets of several pools to one queue).
    pub fn tx_fast_free(mut self, pool: &Mempool) -> Self {
        self.fast_free = Some(pool.clone());
        self
    }

    /// MTU to configure.
    pub fn mtu(mut self, mtu: u16) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// Configures the device and its queues (RX buffers from `pool`), starts it, and returns
    /// the port handle with one handle per queue.
    pub fn start(self, pool: &Mempool) -> Result<StartedPort, PortError> {
        let port = self.info.port;
        let invalid = |what: String| PortError::Invalid { port, what };
        if self.rx_queues > self.info.max_rx_queues || self.tx_queues > self.info.max_tx_queues {
            return Err(invalid(format!(
                "{} RX / {} TX queues requested, device supports at most {} / {}",
                self.rx_queues, self.tx_queues, self.info.max_rx_queues, self.info.max_tx_queues
            )));
        }
        if self.tx_offloads & FAST_FREE != 0 {
            return Err(invalid(
                "TX offload MBUF_FAST_FREE is only requested for one pool, with \
                 PortBuilder::tx_fast_free"
                    .into(),
            ));
        }
        let tx_wanted = if self.fast_free.is_some() {
            self.tx_offloads | FAST_FREE
        } else {
            self.tx_offloads
        };
        let rx_offloads = self.rx_offloads & self.info.rx_offload_capa;
        let tx_offloads = tx_wanted & self.info.tx_offload_capa;
        let rss_hf = if self.rx_queues > 1 {
            self.rss_hf & self.info.rss_offloads
        } else {
            0
        };
        if rx_offloads != self.rx_offloads
            || tx_offloads != tx_wanted
            || (self.rx_queues > 1 && rss_hf != self.rss_hf)
        {
            tracing::info!(
                port,
                driver = %self.info.driver,
                rx_dropped = format_args!("{:#x}", self.rx_offloads & !rx_offloads),
                tx_dropped = format_args!("{:#x}", tx_wanted & !tx_offloads),
                rss_dropped = format_args!("{:#x}", self.rss_hf & !rss_hf),
                "device lacks some requested offloads; not requesting them"
            );
        }

        // SAFETY: rte_eth_conf is plain old data and all-zero is its documented default.
        let mut conf: dpdk_sys::rte_eth_conf = unsafe { std::mem::zeroed() };
        conf.rxmode.offloads = rx_offloads;
        conf.txmode.offloads = tx_offloads;
        if rss_hf != 0 {
            conf.rxmode.mq_mode = dpdk_sys::rte_eth_rx_mq_mode::RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
        }
        if let Some(mtu) = self.mtu {
            conf.rxmode.mtu = u32::from(mtu);
        }
        // The whole sequence holds the port's control lock: a second builder of the same port
        // (on another thread) finds it started and fails, instead of configuring it twice.
        let control = Control::lock(port);
        // SAFETY: valid port, conf fully initialised and only read during the call.
        let ret =
            unsafe { dpdk_sys::rte_eth_dev_configure(port, self.rx_queues, self.tx_queues, &conf) };
        if ret != 0 {
            return Err(PortError::call(port, "rte_eth_dev_configure", ret));
        }
        let (rx_desc, tx_desc) = match self.setup_and_start(pool) {
            Ok(descriptors) => descriptors,
            Err(e) => {
                // SAFETY: the device is configured (maybe with queues), not started or started
                // without any handle to it: stop and close release what was set up.
                unsafe {
                    dpdk_sys::rte_eth_dev_stop(port);
                    dpdk_sys::rte_eth_dev_close(port);
                }
                return Err(e);
            }
        };
        drop(control);
        let fast_free = self.fast_free;
        let shared = Arc::new(Shared {
            port,
            _rx_pool: pool.clone(),
            _fast_free_pool: fast_free.clone(),
            _registration: Registration::new(),
        });
        let not_sync = PhantomData;
        Ok(StartedPort {
            rx: (0..self.rx_queues)
                .map(|id| RxQueue {
                    shared: shared.clone(),
                    id,
                    _not_sync: not_sync,
                })
                .collect(),
            tx: (0..self.tx_queues)
                .map(|id| TxQueue {
                    shared: shared.clone(),
                    id,
                    fast_free: fast_free.clone(),
                    _not_sync: not_sync,
                })
                .collect(),
            port: Port {
                shared,
                info: self.info,
            },
            rx_offloads,
            tx_offloads,
            rss_hf,
            rx_desc,
            tx_desc,
        })
    }

    /// The part of `start` after `rte_eth_dev_configure`: ring sizes, queues, device start.
    /// Returns the ring sizes requested. The caller holds the control lock.
    fn setup_and_start(&self, pool: &Mempool) -> Result<(u16, u16), PortError> {
        let port = self.info.port;
        let (mut rx_desc, mut tx_desc) = (self.rx_desc, self.tx_desc);
        if rx_desc != 0 && tx_desc != 0 {
            // SAFETY: valid configured port, writable u16s.
            let ret = unsafe {
                dpdk_sys::rte_eth_dev_adjust_nb_rx_tx_desc(port, &mut rx_desc, &mut tx_desc)
            };
            if ret != 0 {
                return Err(PortError::call(
                    port,
                    "rte_eth_dev_adjust_nb_rx_tx_desc",
                    ret,
                ));
            }
        }
        // SAFETY: valid port.
        let socket = unsafe { dpdk_sys::rte_eth_dev_socket_id(port) } as u32; // -1 = any socket
        for q in 0..self.rx_queues {
            // SAFETY: configured port, queue id below the configured count, NULL conf = device
            // defaults, and a pool that outlives the port (Shared holds a handle, or the port
            // is closed before `start` returns an error).
            let ret = unsafe {
                dpdk_sys::rte_eth_rx_queue_setup(
                    port,
                    q,
                    rx_desc,
                    socket,
                    std::ptr::null(),
                    pool.as_raw(),
                )
            };
            if ret != 0 {
                return Err(PortError::call(port, "rte_eth_rx_queue_setup", ret));
            }
        }
        for q in 0..self.tx_queues {
            // SAFETY: as above for TX.
            let ret = unsafe {
                dpdk_sys::rte_eth_tx_queue_setup(port, q, tx_desc, socket, std::ptr::null())
            };
            if ret != 0 {
                return Err(PortError::call(port, "rte_eth_tx_queue_setup", ret));
            }
        }
        // SAFETY: configured port with all queues set up.
        let ret = unsafe { dpdk_sys::rte_eth_dev_start(port) };
        if ret != 0 {
            return Err(PortError::call(port, "rte_eth_dev_start", ret));
        }
        Ok((rx_desc, tx_desc))
    }
}

/// A started port, its queues (index = queue id) and the configuration actually applied.
#[derive(Debug)]
pub struct StartedPort {
    /// The control handle.
    pub port: Port,
    /// One handle per RX queue, index = queue id.
    pub rx: Vec<RxQueue>,
    /// One handle per TX queue, index = queue id.
    pub tx: Vec<TxQueue>,
    /// RX offloads in effect (requested ∩ supported).
    pub rx_offloads: u64,
    /// TX offloads in effect.
    pub tx_offloads: u64,
    /// RSS hash types in effect.
    pub rss_hf: u64,
    /// RX ring size requested after adjustment (0 = PMD default).
    pub rx_desc: u16,
    /// TX ring size requested after adjustment (0 = PMD default).
    pub tx_desc: u16,
}

/// Stops and closes the device when the last handle (port or queue) goes away, then releases
/// its RX pool handle: the close returns the mbufs still in the rings.
struct Shared {
    port: u16,
    /// Keeps the RX pool alive until the rings holding its mbufs are released.
    _rx_pool: Mempool,
    /// The pool of every mbuf sent, with fast freeing (kept, like the RX pool, until the
    /// rings are released).
    _fast_free_pool: Option<Mempool>,
    _registration: Registration,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _control = Control::lock(self.port);
        // SAFETY: no queue handle remains, so no lcore is polling this port; stop and close
        // release the rings (and their mbufs) before `_rx_pool` is dropped after this function.
        unsafe {
            dpdk_sys::rte_eth_dev_stop(self.port);
            dpdk_sys::rte_eth_dev_close(self.port);
        }
    }
}

/// Control-path handle of a started port: identity, link, MAC, promiscuous mode, statistics.
///
/// Clone it freely and move the clones to other threads: a `Port` is `Clone + Send + Sync`
/// because every control call holds the port's control lock. DPDK's ethdev control functions
/// are not thread-safe (reading statistics beside the fast path is allowed, beside another
/// control call on the same port is not), so calls through all the clones, and the
/// [`PortBuilder`] of the same port, are serialised per port, process-wide. Two clones racing
/// on two threads is therefore allowed, and safe:
///
/// ```no_run
/// # let (eal, _) = dpdk::Eal::init(["app", "--vdev=net_ring0"]).unwrap();
/// # let pool = dpdk::Mempool::new_pktmbuf(&eal, "pool", 1023, 0, 2176).unwrap();
/// let port = dpdk::PortBuilder::new(&eal, 0)?.start(&pool)?.port;
/// let monitor = port.clone();
/// std::thread::scope(|s| {
///     s.spawn(|| monitor.stats()); // serialised with ...
///     port.reset_stats() // ... this
/// })?;
/// # Ok::<(), dpdk::PortError>(())
/// ```
///
/// A lock rather than a `!Sync` control handle, because the monitor needs statistics while
/// the main thread changes modes: with a single-thread handle the monitor would need a second,
/// statistics-only handle, and that one would still race the control calls. The lock costs
/// nothing on the fast path, which runs on the queue handles: each exists once, and is neither
/// `Clone` nor `Sync` (see [`RxQueue`]).
///
/// The device is stopped and closed when the port handles and all queue handles are gone.
#[derive(Clone)]
pub struct Port {
    shared: Arc<Shared>,
    info: PortInfo,
}

/// Link state (`rte_eth_link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// Whether the link is up.
    pub up: bool,
    /// Mbit/s; 0 when none, `u32::MAX` when the PMD cannot tell (virtio).
    pub speed_mbps: u32,
    /// Full duplex (rather than half).
    pub full_duplex: bool,
    /// Whether the link negotiated its speed (`RTE_ETH_LINK_AUTONEG`).
    pub autoneg: bool,
}

/// Basic counters of a port (`rte_eth_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortStats {
    /// Packets received.
    pub ipackets: u64,
    /// Packets sent.
    pub opackets: u64,
    /// Bytes received.
    pub ibytes: u64,
    /// Bytes sent.
    pub obytes: u64,
    /// Packets the hardware dropped because RX rings were full.
    pub imissed: u64,
    /// Erroneous packets received.
    pub ierrors: u64,
    /// Packets the device failed to send.
    pub oerrors: u64,
    /// RX mbuf allocation failures.
    pub rx_nombuf: u64,
}

impl Port {
    /// The port id.
    pub fn id(&self) -> u16 {
        self.shared.port
    }

    /// What the device can do (as queried before it was configured).
    pub fn info(&self) -> &PortInfo {
        &self.info
    }

    /// The port's MAC address.
    pub fn mac_addr(&self) -> Result<MacAddr, PortError> {
        let _control = Control::lock(self.id());
        let mut addr = dpdk_sys::rte_ether_addr::default();
        // SAFETY: valid port, writable address.
        let ret = unsafe { dpdk_sys::rte_eth_macaddr_get(self.id(), &mut addr) };
        if ret != 0 {
            return Err(PortError::call(self.id(), "rte_eth_macaddr_get", ret));
        }
        Ok(MacAddr(addr.addr_bytes))
    }

    /// Link state, without waiting.
    pub fn link(&self) -> Result<Link, PortError> {
        let _control = Control::lock(self.id());
        let mut link = dpdk_sys::rte_eth_link::default();
        // SAFETY: valid port, writable link struct.
        let ret = unsafe { dpdk_sys::rte_eth_link_get_nowait(self.id(), &mut link) };
        if ret != 0 {
            return Err(PortError::call(self.id(), "rte_eth_link_get_nowait", ret));
        }
        Ok(Link {
            up: link.link_status() != 0,
            speed_mbps: link.link_speed(),
            full_duplex: link.link_duplex() != 0,
            autoneg: link.link_autoneg() != 0,
        })
    }

    /// The link, without waiting, in DPDK's words (`rte_eth_link_to_str`): `Link down` or
    /// `Link up at 10 Gbps FDX Autoneg`, as testpmd prints it.
    pub fn link_text(&self) -> Result<String, PortError> {
        let _control = Control::lock(self.id());
        let mut link = dpdk_sys::rte_eth_link::default();
        // SAFETY: valid port, writable link struct.
        let ret = unsafe { dpdk_sys::rte_eth_link_get_nowait(self.id(), &mut link) };
        if ret != 0 {
            return Err(PortError::call(self.id(), "rte_eth_link_get_nowait", ret));
        }
        let mut buf = [0 as std::ffi::c_char; dpdk_sys::RTE_ETH_LINK_MAX_STR_LEN as usize];
        // SAFETY: a writable buffer of the announced size and an initialised link struct.
        let ret = unsafe { dpdk_sys::rte_eth_link_to_str(buf.as_mut_ptr(), buf.len(), &link) };
        if ret < 0 {
            return Err(PortError::call(self.id(), "rte_eth_link_to_str", ret));
        }
        // SAFETY: on success the buffer holds a NUL-terminated string (snprintf semantics).
        Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned())
    }

    /// Enables or disables promiscuous mode. `Ok(false)` when the device does not support it
    /// (virtio-user without a control queue answers ENOTSUP; that is not an error).
    pub fn set_promiscuous(&self, on: bool) -> Result<bool, PortError> {
        let _control = Control::lock(self.id());
        // SAFETY: valid port.
        let ret = unsafe {
            if on {
                dpdk_sys::rte_eth_promiscuous_enable(self.id())
            } else {
                dpdk_sys::rte_eth_promiscuous_disable(self.id())
            }
        };
        match ret {
            0 => Ok(true),
            r if r == -libc::ENOTSUP => Ok(false),
            r => Err(PortError::call(
                self.id(),
                "rte_eth_promiscuous_enable/disable",
                r,
            )),
        }
    }

    /// The packet types among `mask` (`dpdk::ptype::*`) the PMD reports it can classify, as
    /// `rte_eth_dev_get_supported_ptypes` lists them. Empty when the PMD does not parse at all.
    pub fn supported_ptypes(&self, mask: u32) -> Vec<u32> {
        let _control = Control::lock(self.id());
        // SAFETY: valid port; with a NULL array and size 0 the call only counts.
        let n = unsafe {
            dpdk_sys::rte_eth_dev_get_supported_ptypes(self.id(), mask, std::ptr::null_mut(), 0)
        };
        if n <= 0 {
            return Vec::new();
        }
        let mut ptypes = vec![0u32; n as usize];
        // SAFETY: valid port and an array of exactly `n` writable entries, as announced.
        let got = unsafe {
            dpdk_sys::rte_eth_dev_get_supported_ptypes(self.id(), mask, ptypes.as_mut_ptr(), n)
        };
        ptypes.truncate(got.max(0) as usize);
        ptypes
    }

    /// Basic counters.
    pub fn stats(&self) -> Result<PortStats, PortError> {
        let _control = Control::lock(self.id());
        // SAFETY: plain old data; zero is a valid value that the call overwrites.
        let mut s: dpdk_sys::rte_eth_stats = unsafe { std::mem::zeroed() };
        // SAFETY: valid port, writable stats struct.
        let ret = unsafe { dpdk_sys::rte_eth_stats_get(self.id(), &mut s) };
        if ret != 0 {
            return Err(PortError::call(self.id(), "rte_eth_stats_get", ret));
        }
        Ok(PortStats {
            ipackets: s.ipackets,
            opackets: s.opackets,
            ibytes: s.ibytes,
            obytes: s.obytes,
            imissed: s.imissed,
            ierrors: s.ierrors,
            oerrors: s.oerrors,
            rx_nombuf: s.rx_nombuf,
        })
    }

    /// Resets the basic counters.
    pub fn reset_stats(&self) -> Result<(), PortError> {
        let _control = Control::lock(self.id());
        // SAFETY: valid port.
        let ret = unsafe { dpdk_sys::rte_eth_stats_reset(self.id()) };
        if ret != 0 {
            return Err(PortError::call(self.id(), "rte_eth_stats_reset", ret));
        }
        Ok(())
    }

    /// Extended statistics, by name.
    pub fn xstats(&self) -> Result<Vec<(String, u64)>, PortError> {
        let _control = Control::lock(self.id());
        let port = self.id();
        // SAFETY: valid port; NULL/0 asks for the count.
        let n = unsafe { dpdk_sys::rte_eth_xstats_get_names(port, std::ptr::null_mut(), 0) };
        if n < 0 {
            return Err(PortError::call(port, "rte_eth_xstats_get_names", n));
        }
        let mut names = vec![dpdk_sys::rte_eth_xstat_name::default(); n as usize];
        let mut values = vec![dpdk_sys::rte_eth_xstat::default(); n as usize];
        // SAFETY: arrays of n elements as announced.
        let got_names =
            unsafe { dpdk_sys::rte_eth_xstats_get_names(port, names.as_mut_ptr(), n as u32) };
        // SAFETY: as above.
        let got_values =
            unsafe { dpdk_sys::rte_eth_xstats_get(port, values.as_mut_ptr(), n as u32) };
        if got_names < 0 || got_values < 0 {
            return Err(PortError::call(
                port,
                "rte_eth_xstats_get",
                got_names.min(got_values),
            ));
        }
        let count = (got_names.min(got_values) as usize).min(names.len());
        Ok(values[..count]
            .iter()
            .filter_map(|v| {
                let name = names.get(v.id as usize)?;
                // SAFETY: xstat names are NUL-terminated within their 64-byte array.
                let name = unsafe { CStr::from_ptr(name.name.as_ptr()) }
                    .to_string_lossy()
                    .into_owned();
                Some((name, v.value))
            })
            .collect())
    }
}

impl fmt::Debug for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Port")
            .field("id", &self.id())
            .field("name", &self.info.name)
            .finish()
    }
}

/// The receive side of one queue of a started port. Exactly one exists per queue; it can move
/// to another lcore (`Send`) but not be shared (`!Sync`, `!Clone`), as DPDK requires
/// ("multiple logical cores should never share receive or transmit queues").
///
/// Polling one queue from two threads does not compile, neither through a shared reference...
///
/// ```compile_fail
/// fn poll_from_two_threads(rx: &dpdk::RxQueue) {
///     std::thread::scope(|s| {
///         s.spawn(|| rx.id()); // error: `Cell<()>` cannot be shared between threads safely
///         rx.id()
///     });
/// }
/// ```
///
/// ... nor through a copy:
///
/// ```compile_fail
/// fn second_handle(rx: &dpdk::RxQueue) -> dpdk::RxQueue {
///     rx.clone() // error: `RxQueue` is not `Clone` (this clones the reference)
/// }
/// ```
///
/// Moving the handle to the thread that polls it compiles:
///
/// ```
/// fn poll_there(mut rx: dpdk::RxQueue, mut burst: dpdk::Batch) {
///     std::thread::spawn(move || rx.rx(&mut burst));
/// }
/// ```
pub struct RxQueue {
    shared: Arc<Shared>,
    id: u16,
    _not_sync: PhantomData<Cell<()>>,
}

impl RxQueue {
    /// The port id.
    pub fn port(&self) -> u16 {
        self.shared.port
    }

    /// The queue id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// Receives up to `batch.spare()` packets at the end of `batch`; returns how many.
    #[inline]
    pub fn rx(&mut self, batch: &mut Batch) -> usize {
        let (ptr, spare) = batch.spare_raw();
        if spare == 0 {
            return 0;
        }
        // SAFETY: the port is started (Shared alive), this handle is the only poller of the
        // queue, and `ptr` has room for `spare` mbuf pointers.
        let n = unsafe { dpdk_sys::shim_rte_eth_rx_burst(self.shared.port, self.id, ptr, spare) };
        // SAFETY: the PMD wrote `n` mbufs it handed over to us.
        unsafe { batch.commit(n as usize) };
        n as usize
    }
}

/// The transmit side of one queue of a started port; same ownership rules as [`RxQueue`].
///
/// ```compile_fail
/// fn send_from_two_threads(tx: &dpdk::TxQueue) {
///     std::thread::scope(|s| {
///         s.spawn(|| tx.id()); // error: `Cell<()>` cannot be shared between threads safely
///         tx.id()
///     });
/// }
/// ```
///
/// ```
/// fn send_there(mut tx: dpdk::TxQueue, mut burst: dpdk::Batch) {
///     std::thread::spawn(move || tx.tx(&mut burst));
/// }
/// ```
pub struct TxQueue {
    shared: Arc<Shared>,
    id: u16,
    /// With fast freeing, the pool every segment sent must come from.
    fast_free: Option<Mempool>,
    _not_sync: PhantomData<Cell<()>>,
}

impl TxQueue {
    /// The port id.
    pub fn port(&self) -> u16 {
        self.shared.port
    }

    /// The queue id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// Hands the packets at the front of `batch` to the PMD; returns how many it took. The rest
    /// stay in `batch`, in order, still owned by the caller.
    ///
    /// # Panics
    /// With [fast freeing](PortBuilder::tx_fast_free), if a segment of a packet in `batch`
    /// comes from another pool or does not own its data; nothing is sent then.
    #[inline]
    pub fn tx(&mut self, batch: &mut Batch) -> usize {
        if let Some(pool) = &self.fast_free {
            let pool = pool.as_raw();
            if let Some(bad) = batch.iter().find(|m| !m.fast_free_ok(pool)) {
                panic!(
                    "port {} TX queue {}: fast mbuf freeing needs every segment from the \
                     port's pool, owning its data; got {bad:?}",
                    self.shared.port, self.id
                );
            }
        }
        let (ptr, len) = batch.live_raw();
        if len == 0 {
            return 0;
        }
        // SAFETY: started port, sole user of this queue, `len` valid owned mbufs at `ptr`.
        let n = unsafe { dpdk_sys::shim_rte_eth_tx_burst(self.shared.port, self.id, ptr, len) };
        // SAFETY: the PMD now owns the first `n` mbufs.
        unsafe { batch.consume_front(n as usize) };
        n as usize
    }
}

impl fmt::Debug for RxQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RxQueue(port {}, queue {})", self.shared.port, self.id)
    }
}

impl fmt::Debug for TxQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TxQueue(port {}, queue {})", self.shared.port, self.id)
    }
}
