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
const MBUF_DATA_ROOM: u16 = 2048 + 128;
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
}

/// Runs l3fwd with `argv` = `[EAL args] -- [app args]` until a signal or `--duration`.
pub fn run(argv: &[String]) -> Result<(), Error> {
    let (eal_args, app_args) = sample_app::split_args(argv);
    let Parsed::Run(opts) = options::parse(app_args)? else {
        print!("{}", options::help());
        return Ok(());
    };
    let (eal, stop) = sample_app::init("l3fwd", eal_args)?;
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
    // One TX queue per port for each lcore that polls (C: for every enabled lcore), in lcore
    // order: queue i belongs to the i-th polling lcore.
    let pollers: Vec<u32> = layout.lcores.keys().copied().collect();
    let tx_queues = pollers.len() as u16;
    let max_rx_queues = layout.rx_queues.values().copied().max().unwrap_or(0);
    let nb_mbuf = |nports: usize| {
        let n = nports
            * (usize::from(max_rx_queues) * usize::from(opts.rx_queue_size)
                + pollers.len() * BURST
                + usize::from(tx_queues) * usize::from(opts.tx_queue_size))
            + pollers.len() * MEMPOOL_CACHE as usize;
        n.max(8192) as u32
    };
    let shared_pool = if opts.per_port_pool {
        None
    } else {
        Some(Mempool::new_pktmbuf(
            eal,
            "mbuf_pool",
            nb_mbuf(available.len()),
            MEMPOOL_CACHE,
            MBUF_DATA_ROOM,
        )?)
    };

    let mut dest: [MacAddr; MAX_PORTS] =
        std::array::from_fn(|p| MacAddr::locally_administered(p as u8));
    for &(port, mac) in &opts.eth_dest {
        dest[usize::from(port)] = mac;
    }
    let mut headers = [[0u8; 12]; MAX_PORTS];
    for (h, d) in headers.iter_mut().zip(&dest) {
        h[..6].copy_from_slice(&d.0);
    }

    let mut handles: Vec<Port> = Vec::new();
    let mut infos: BTreeMap<u16, PortInfo> = BTreeMap::new();
    let mut pools = Vec::new();
    let mut rx_queues: BTreeMap<(u16, u16), RxQueue> = BTreeMap::new();
    let mut tx_by_port: BTreeMap<u16, Vec<Option<TxQueue>>> = BTreeMap::new();
    let mut sources: BTreeMap<u16, Source> = BTreeMap::new();
    for &id in &available {
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
        let mut tx_offloads = offload::TX_MBUF_FAST_FREE;
        if let Some(len) = opts.max_pkt_len {
            let mtu = len - overhead(builder.info());
            if mtu > STANDARD_MTU {
                tx_offloads |= offload::TX_MULTI_SEGS;
            }
            builder = builder.mtu(mtu.min(u32::from(u16::MAX)) as u16);
        }
        let info = builder.info().clone();
        let pool = match &shared_pool {
            Some(pool) => pool.clone(),
            None => {
                let pool = Mempool::new_pktmbuf(
                    eal,
                    &format!("mbuf_pool_{id}"),
                    nb_mbuf(1),
                    MEMPOOL_CACHE,
                    MBUF_DATA_ROOM,
                )?;
                pools.push(pool.clone());
                pool
            }
        };
        let started = builder.tx_offloads(tx_offloads).start(&pool)?;
        let mac = started.port.mac_addr()?;
        headers[usize::from(id)][6..].copy_from_slice(&mac.0);
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
        sources.insert(id, source);
        for (q, queue) in started.rx.into_iter().enumerate() {
            rx_queues.insert((id, q as u16), queue);
        }
        tx_by_port.insert(id, started.tx.into_iter().map(Some).collect());
        infos.insert(id, info);
        handles.push(started.port);
    }

    let tables = build_tables(eal, opts, enabled, &infos)?;
    let router = Arc::new(Router {
        tables,
        headers,
        strict: opts.strict_rfc1812,
    });

    let mut jobs = Vec::new();
    let mut counters = Vec::new();
    for (index, (&lcore, queues)) in layout.lcores.iter().enumerate() {
        let mut rx = Vec::new();
        for &(port, queue) in queues {
            if sources[&port] == Source::Software {
                println!("Port {port}: softly parse packet type info");
            }
            rx.push(RxLane {
                queue: rx_queues
                    .remove(&(port, queue))
                    .expect("each configured queue is started once"),
                source: sources[&port],
            });
        }
        let mut tx: Vec<Option<TxBuffer>> = (0..MAX_PORTS).map(|_| None).collect();
        for (&port, queues) in tx_by_port.iter_mut() {
            // Queue `index` of every port is this lcore's.
            let queue = queues[index]
                .take()
                .expect("one TX queue per polling lcore");
            tx[usize::from(port)] = Some(TxBuffer::new(queue));
        }
        let table = Arc::new(LcoreCounters::default());
        counters.push(table.clone());
        let engine = Engine {
            rx,
            tx,
            router: router.clone(),
            counters: table,
            stop: stop.clone(),
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
    drop(tx_by_port);
    sample_app::wait_for_links(&handles, stop);

    let ports: Vec<u16> = enabled.ports().collect();
    let reporter = Reporter::new(
        "l3fwd",
        opts.lookup.name(),
        opts.stats_period,
        &opts.run,
        move || monitor::sample(&counters, &ports),
        crate::l2fwd::stats::block,
    );
    sample_app::forward(eal, jobs, stop, &reporter, opts.run.duration, handles)?;
    drop((router, shared_pool, pools));
    Ok(())
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
