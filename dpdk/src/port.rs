//! Ethernet ports (ethdev): configuration, start/stop, queues, link and statistics.

use std::cell::Cell;
use std::ffi::CStr;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::batch::Batch;
use crate::eal::Eal;
use crate::error::PortError;
use crate::mempool::Mempool;
use crate::resources::Registration;
use crate::MacAddr;

/// Offload and RSS flags (`RTE_ETH_*`), widened to the `u64` the configuration uses.
pub mod offload {
    macro_rules! flags {
        ($($(#[$doc:meta])* $name:ident = $sys:ident;)*) => {
            $($(#[$doc])* pub const $name: u64 = dpdk_sys::$sys as u64;)*
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
        /// Mbufs of a TX queue come from one pool and have refcnt 1 (faster freeing).
        TX_MBUF_FAST_FREE = RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
        RSS_IP = RTE_ETH_RSS_IP;
        RSS_UDP = RTE_ETH_RSS_UDP;
        RSS_TCP = RTE_ETH_RSS_TCP;
    }
}

/// What a port can do (`rte_eth_dev_info`), as far as configuration needs.
#[derive(Debug, Clone)]
pub struct PortInfo {
    pub port: u16,
    pub name: String,
    pub driver: String,
    pub max_rx_queues: u16,
    pub max_tx_queues: u16,
    pub rx_offload_capa: u64,
    pub tx_offload_capa: u64,
    pub rss_offloads: u64,
    pub min_mtu: u16,
    pub max_mtu: u16,
    pub max_rx_pktlen: u32,
}

impl PortInfo {
    fn query(port: u16) -> Result<Self, PortError> {
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
}

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
        })
    }

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

    /// TX offloads wanted (`offload::TX_*`).
    pub fn tx_offloads(mut self, flags: u64) -> Self {
        self.tx_offloads = flags;
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
        let rx_offloads = self.rx_offloads & self.info.rx_offload_capa;
        let tx_offloads = self.tx_offloads & self.info.tx_offload_capa;
        let rss_hf = if self.rx_queues > 1 {
            self.rss_hf & self.info.rss_offloads
        } else {
            0
        };
        if rx_offloads != self.rx_offloads
            || tx_offloads != self.tx_offloads
            || (self.rx_queues > 1 && rss_hf != self.rss_hf)
        {
            tracing::info!(
                port,
                driver = %self.info.driver,
                rx_dropped = format_args!("{:#x}", self.rx_offloads & !rx_offloads),
                tx_dropped = format_args!("{:#x}", self.tx_offloads & !tx_offloads),
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
        // SAFETY: valid port, conf fully initialised and only read during the call.
        let ret =
            unsafe { dpdk_sys::rte_eth_dev_configure(port, self.rx_queues, self.tx_queues, &conf) };
        if ret != 0 {
            return Err(PortError::call(port, "rte_eth_dev_configure", ret));
        }
        // From here on the device is configured: close it on any error.
        let shared = Arc::new(Shared {
            port,
            _rx_pool: pool.clone(),
            _registration: Registration::new(),
        });

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
            // defaults, and a pool that outlives the port (Shared holds a handle).
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
}

/// A started port, its queues (index = queue id) and the configuration actually applied.
#[derive(Debug)]
pub struct StartedPort {
    pub port: Port,
    pub rx: Vec<RxQueue>,
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
    _registration: Registration,
}

impl Drop for Shared {
    fn drop(&mut self) {
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
/// Clone it freely (for a statistics thread, for instance); the device is stopped and closed
/// when the port handles and all queue handles are gone.
#[derive(Clone)]
pub struct Port {
    shared: Arc<Shared>,
    info: PortInfo,
}

/// Link state (`rte_eth_link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub up: bool,
    /// Mbit/s; 0 when none, `u32::MAX` when the PMD cannot tell (virtio).
    pub speed_mbps: u32,
    pub full_duplex: bool,
    /// Whether the link negotiated its speed (`RTE_ETH_LINK_AUTONEG`).
    pub autoneg: bool,
}

/// Basic counters of a port (`rte_eth_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortStats {
    pub ipackets: u64,
    pub opackets: u64,
    pub ibytes: u64,
    pub obytes: u64,
    /// Packets the hardware dropped because RX rings were full.
    pub imissed: u64,
    pub ierrors: u64,
    pub oerrors: u64,
    /// RX mbuf allocation failures.
    pub rx_nombuf: u64,
}

impl Port {
    pub fn id(&self) -> u16 {
        self.shared.port
    }

    pub fn info(&self) -> &PortInfo {
        &self.info
    }

    /// The port's MAC address.
    pub fn mac_addr(&self) -> Result<MacAddr, PortError> {
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
        // SAFETY: valid port.
        let ret = unsafe { dpdk_sys::rte_eth_stats_reset(self.id()) };
        if ret != 0 {
            return Err(PortError::call(self.id(), "rte_eth_stats_reset", ret));
        }
        Ok(())
    }

    /// Extended statistics, by name.
    pub fn xstats(&self) -> Result<Vec<(String, u64)>, PortError> {
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
/// to another lcore (`Send`) but not be shared (`!Sync`, `!Clone`), as DPDK requires.
pub struct RxQueue {
    shared: Arc<Shared>,
    id: u16,
    _not_sync: PhantomData<Cell<()>>,
}

impl RxQueue {
    pub fn port(&self) -> u16 {
        self.shared.port
    }

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
pub struct TxQueue {
    shared: Arc<Shared>,
    id: u16,
    _not_sync: PhantomData<Cell<()>>,
}

impl TxQueue {
    pub fn port(&self) -> u16 {
        self.shared.port
    }

    pub fn id(&self) -> u16 {
        self.id
    }

    /// Hands the packets at the front of `batch` to the PMD; returns how many it took. The rest
    /// stay in `batch`, in order, still owned by the caller.
    #[inline]
    pub fn tx(&mut self, batch: &mut Batch) -> usize {
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
