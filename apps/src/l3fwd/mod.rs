//! `dpdk-app l3fwd`: DPDK 22.11's `examples/l3fwd` (poll mode, LPM and EM lookups) with the
//! same command line, routes and per-packet decisions, which also runs where C l3fwd cannot:
//! on devices without RX checksum offload or packet type classification (virtio, vDPA, pcap).
//! It adds statistics (text block, JSON), `--duration`, `--stats-file` and a clean exit.
//!
//! [`run`] takes everything after the subcommand (`EAL args -- app args`); the application
//! arguments and rule files are checked before the EAL starts.

pub mod config;
pub mod em;
pub mod engine;
pub mod forward;
pub mod lpm;
pub mod options;
pub mod ptype;
pub mod rules;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use dpdk::{
    offload, Eal, LpmError, MacAddr, Mempool, MempoolError, Port, PortBuilder, PortError, PortInfo,
    RxQueue, TxQueue,
};
use thiserror::Error;

use crate::lcores::Job;
use crate::monitor::{self, LcoreCounters, Reporter, MAX_PORTS};
use crate::sample_app::{self, RunError};
use crate::sample_args::{Parsed, PortMask};
use crate::signal::Stop;
use crate::txbuffer::{TxBuffer, BURST};
use config::ConfigError;
use em::{route_key4, route_key6, ExactMatch};
use engine::{Engine, RxLane};
use forward::{EmTables, Router, Tables};
use lpm::LpmTables;
pub use options::Lookup;
use options::{Options, OptionsError, Routes};
use ptype::Source;

const MEMPOOL_CACHE: u32 = 256;
/// Ethernet header and CRC: the MTU overhead when the device does not say (C's fallback).
const DEFAULT_OVERHEAD: u32 = 14 + 4;
const STANDARD_MTU: u32 = 1500;

/// Why l3fwd could not run.
#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Options(#[from] OptionsError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Mempool(#[from] MempoolError),
    #[error(transparent)]
    Port(#[from] PortError),
    #[error(transparent)]
    Lpm(#[from] LpmError),
    #[error("invalid --config: {0}")]
    Config(#[from] ConfigError),
    #[error("no Ethernet ports: check the --vdev / -a EAL arguments")]
    NoPorts,
    #[error("error: lcore {0} is not enabled in lcore mask (EAL -l/--lcores)")]
    LcoreNotEnabled(u32),
    #[error("port {0} is not present on the board")]
    NoSuchPort(u16),
    #[error(
        "invalid --max-pkt-len {len} for port {port}: the device adds {overhead} bytes to the MTU"
    )]
    MaxPktLen { port: u16, len: u32, overhead: u32 },
}

/// Runs l3fwd with `argv` = `[EAL args] -- [app args]` until a signal or `--duration`.
pub fn run(argv: &[String]) -> Result<(), Error> {
    let (eal_args, app_args) = sample_app::split_args(argv);
    let Parsed::Run(opts) = options::parse(app_args)? else {
        print!("{}", options::help());
        return Ok(());
    };
    let Some((eal, stop)) = sample_app::init("l3fwd", eal_args)? else {
        return Ok(());
    };
    if opts.parse_ptype {
        println!("soft parse-ptype is enabled");
    }
    forward_until_stopped(&eal, &opts, &stop)
}

fn forward_until_stopped(eal: &Eal, opts: &Options, stop: &Stop) -> Result<(), Error> {
    let available = eal.port_ids();
    if available.is_empty() {
        return Err(Error::NoPorts);
    }
    let present = available
        .iter()
        .filter(|&&p| usize::from(p) < MAX_PORTS)
        .fold(0u32, |m, &p| m | 1 << p);
    let enabled = PortMask(opts.portmask.0 & present);
    for p in opts.portmask.ports().filter(|&p| !enabled.contains(p)) {
        println!("Notice: port {p} of the port mask is not present; skipping it");
    }
    let mut lcores = eal.worker_lcores();
    lcores.push(eal.main_lcore());
    for param in &opts.config {
        if !lcores.contains(&param.lcore) {
            return Err(Error::LcoreNotEnabled(param.lcore));
        }
        if !available.contains(&param.port) {
            return Err(Error::NoSuchPort(param.port));
        }
    }
    let layout = config::layout(&opts.config, enabled)?;
    let mut ports = start_ports(eal, opts, &available, enabled, &layout)?;
    let router = Arc::new(Router {
        tables: build_tables(eal, opts, enabled, &ports.infos)?,
        headers: ports.headers,
        strict: opts.strict_rfc1812,
    });

    let mut jobs = Vec::new();
    let mut counters = Vec::new();
    for (index, (&lcore, queues)) in layout.lcores.iter().enumerate() {
        let table = Arc::new(LcoreCounters::default());
        counters.push(table.clone());
        let engine = Engine {
            rx: ports.rx_lanes(queues),
            tx: ports.tx_buffers(index),
            router: router.clone(),
            counters: table,
            stop: stop.clone(),
            idle_sleep: opts.run.idle_sleep,
        };
        let polled = queues.clone();
        jobs.push(Job::new(lcore, move || {
            println!("L3FWD: entering main loop on lcore {lcore}");
            for (port, queue) in polled {
                println!("L3FWD:  -- lcoreid={lcore} portid={port} rxqueueid={queue}");
            }
            engine.run();
        }));
    }
    sample_app::wait_for_links(&ports.handles, stop);

    let enabled_ports: Vec<u16> = enabled.ports().collect();
    let reporter = Reporter::new(
        "l3fwd",
        opts.lookup.name(),
        opts.stats_period,
        &opts.run,
        move || monitor::sample(&counters, &enabled_ports),
        crate::l2fwd::stats::block,
    );
    let handles = std::mem::take(&mut ports.handles);
    sample_app::forward(eal, jobs, stop, &reporter, opts.run.duration, handles)?;
    drop((router, ports));
    Ok(())
}

/// The started ports: their handles and queues until the lcores take them, what each is.
struct StartedPorts {
    handles: Vec<Port>,
    infos: BTreeMap<u16, PortInfo>,
    /// Per port, the 12 address bytes for packets sent there (C's `val_eth`).
    headers: [[u8; 12]; MAX_PORTS],
    sources: BTreeMap<u16, Source>,
    rx: BTreeMap<(u16, u16), RxQueue>,
    /// TX queue i of each port belongs to the i-th polling lcore.
    tx: BTreeMap<u16, Vec<Option<TxQueue>>>,
    /// Kept until the ports are closed.
    _pools: Vec<Mempool>,
}

impl StartedPorts {
    /// The RX queues `(port, queue)` an lcore polls.
    fn rx_lanes(&mut self, queues: &[(u16, u16)]) -> Vec<RxLane> {
        queues
            .iter()
            .map(|&(port, queue)| {
                let source = self.sources[&port];
                if source == Source::Software {
                    println!("Port {port}: softly parse packet type info");
                }
                RxLane {
                    queue: self
                        .rx
                        .remove(&(port, queue))
                        .expect("each configured queue is started once"),
                    source,
                }
            })
            .collect()
    }

    /// The TX queue `index` of every port, by port id.
    fn tx_buffers(&mut self, index: usize) -> Vec<Option<TxBuffer>> {
        let mut tx: Vec<Option<TxBuffer>> = (0..MAX_PORTS).map(|_| None).collect();
        for (&port, queues) in self.tx.iter_mut() {
            let queue = queues[index]
                .take()
                .expect("one TX queue per polling lcore");
            tx[usize::from(port)] = Some(TxBuffer::new(queue));
        }
        tx
    }
}

/// Configures and starts the enabled ports as C's `l3fwd_poll_resource_setup` does: RX queues
/// from `--config`, one TX queue per polling lcore (C: per enabled lcore), RSS over IP,
/// 1024-descriptor rings, mbuf pools sized by C's `NB_MBUF`.
fn start_ports(
    eal: &Eal,
    opts: &Options,
    available: &[u16],
    enabled: PortMask,
    layout: &config::Layout,
) -> Result<StartedPorts, Error> {
    let pollers = layout.lcores.len();
    let tx_queues = pollers as u16;
    let max_rx_queues = layout.rx_queues.values().copied().max().unwrap_or(0);
    let nb_mbuf = |nports: usize| {
        let n = nports
            * (usize::from(max_rx_queues) * usize::from(opts.rx_queue_size)
                + pollers * BURST
                + pollers * usize::from(opts.tx_queue_size))
            + pollers * MEMPOOL_CACHE as usize;
        n.max(8192) as u32
    };
    let mut pools = Vec::new();
    if !opts.per_port_pool {
        pools.push(Mempool::new_pktmbuf(
            eal,
            "mbuf_pool",
            nb_mbuf(available.len()),
            MEMPOOL_CACHE,
            dpdk::DEFAULT_DATA_ROOM,
        )?);
    }
    let mut dest: [MacAddr; MAX_PORTS] =
        std::array::from_fn(|p| MacAddr::locally_administered(p as u8));
    for &(port, mac) in &opts.eth_dest {
        dest[usize::from(port)] = mac;
    }
    let mut ports = StartedPorts {
        handles: Vec::new(),
        infos: BTreeMap::new(),
        headers: [[0u8; 12]; MAX_PORTS],
        sources: BTreeMap::new(),
        rx: BTreeMap::new(),
        tx: BTreeMap::new(),
        _pools: Vec::new(),
    };
    for (h, d) in ports.headers.iter_mut().zip(&dest) {
        h[..6].copy_from_slice(&d.0);
    }
    for &id in available {
        if !enabled.contains(id) {
            println!("\nSkipping disabled port {id}");
            continue;
        }
        let nb_rxq = layout.rx_queues.get(&id).copied().unwrap_or(0);
        print!(
            "Initializing port {id} ... Creating queues: nb_rxq={nb_rxq} nb_txq={tx_queues}... "
        );
        let _ = std::io::stdout().flush();
        let mut builder = PortBuilder::new(eal, id)?
            .queues(nb_rxq, tx_queues)
            .descriptors(opts.rx_queue_size, opts.tx_queue_size)
            .rss(offload::RSS_IP)
            .rx_offloads(offload::RX_CHECKSUM);
        let mut tx_offloads = 0;
        if let Some(len) = opts.max_pkt_len {
            let overhead = overhead(builder.info());
            let mtu = len
                .checked_sub(overhead)
                .and_then(|m| u16::try_from(m).ok())
                .ok_or(Error::MaxPktLen {
                    port: id,
                    len,
                    overhead,
                })?;
            if u32::from(mtu) > STANDARD_MTU {
                tx_offloads |= offload::TX_MULTI_SEGS;
            }
            builder = builder.mtu(mtu);
        }
        let info = builder.info().clone();
        if opts.per_port_pool {
            pools.push(Mempool::new_pktmbuf(
                eal,
                &format!("mbuf_pool_{id}"),
                nb_mbuf(1),
                MEMPOOL_CACHE,
                dpdk::DEFAULT_DATA_ROOM,
            )?);
        }
        let pool = pools.last().expect("a pool for every port");
        // Fast freeing where the device offers it, as C, but not with a pool per port (C
        // requests it then too): packets of several pools then share each TX queue, and the
        // PMD would return them all to the pool of the first.
        if !opts.per_port_pool && builder.info().offers_tx_fast_free() {
            builder = builder.tx_fast_free(pool);
        }
        let started = builder.tx_offloads(tx_offloads).start(pool)?;
        let mac = started.port.mac_addr()?;
        appkit::portmacs::check(id, mac);
        ports.headers[usize::from(id)][6..].copy_from_slice(&mac.0);
        println!(" Address:{mac}, Destination:{}, ", dest[usize::from(id)]);
        if opts.promiscuous && !started.port.set_promiscuous(true)? {
            println!(
                "Port {id}: promiscuous mode is not supported by the device; continuing without it"
            );
        }
        let supported = started
            .port
            .supported_ptypes(dpdk::ptype::L3_MASK | dpdk::ptype::L4_MASK);
        let source = if opts.parse_ptype {
            Source::Software
        } else if ptype::device_suffices(opts.lookup, &supported) {
            Source::Device
        } else {
            println!(
                "Port {id} cannot classify the packet types {} needs: parsing them in software \
                 (C l3fwd: \"please add --parse-ptype\")",
                opts.lookup.name()
            );
            Source::Software
        };
        ports.sources.insert(id, source);
        for (q, queue) in started.rx.into_iter().enumerate() {
            ports.rx.insert((id, q as u16), queue);
        }
        ports
            .tx
            .insert(id, started.tx.into_iter().map(Some).collect());
        ports.infos.insert(id, info);
        ports.handles.push(started.port);
    }
    ports._pools = pools;
    Ok(ports)
}

/// C's `eth_dev_get_overhead_len`: frame bytes beyond the MTU.
fn overhead(info: &PortInfo) -> u32 {
    if info.max_mtu != u16::MAX && info.max_rx_pktlen > u32::from(info.max_mtu) {
        info.max_rx_pktlen - u32::from(info.max_mtu)
    } else {
        DEFAULT_OVERHEAD
    }
}

/// Creates the lookup tables with the routes to enabled ports, printing them as C does.
fn build_tables(
    eal: &Eal,
    opts: &Options,
    enabled: PortMask,
    infos: &BTreeMap<u16, PortInfo>,
) -> Result<Tables, Error> {
    let device = |port: u16| infos.get(&port).map_or("", |i| i.name.as_str()).to_owned();
    match &opts.routes {
        Routes::Lpm { v4, v6 } => {
            let tables = LpmTables::new(eal, v4, v6, enabled, |route, port| {
                println!("LPM: Adding route {route} [{}]", device(port));
            })?;
            Ok(Tables::Lpm(tables))
        }
        Routes::Em { v4, v6 } => {
            let mut t4 = ExactMatch::with_capacity(v4.len());
            let mut t6 = ExactMatch::with_capacity(v6.len());
            if opts.ipv6 {
                for r in v6.iter().filter(|r| enabled.contains(r.port.into())) {
                    t6.insert(route_key6(r), r.port);
                    println!("EM: Adding route {r} [{}]", device(r.port.into()));
                }
                println!("Hash: Adding 0x{:x}keys", v6.len());
            } else {
                for r in v4.iter().filter(|r| enabled.contains(r.port.into())) {
                    t4.insert(route_key4(r), r.port);
                    println!("EM: Adding route {r} [{}]", device(r.port.into()));
                }
                println!("Hash: Adding 0x{:x} keys", v4.len());
            }
            Ok(Tables::Em(EmTables {
                v4: t4,
                v6: t6,
                enabled,
            }))
        }
    }
}
