//! `dpdk-app l2fwd`: DPDK 22.11's `examples/l2fwd` with the same command line, pairing and
//! MAC rewrite, on any port the EAL can open (virtio-user and vDPA included), plus statistics
//! as JSON, `--duration`, `--stats-file` and a clean exit on SIGINT/SIGTERM.
//!
//! [`run`] takes everything after the subcommand (`EAL args -- app args`); the application
//! arguments are checked before the EAL starts, so `--help` and option errors need no DPDK.

pub mod forward;
pub mod options;
pub mod stats;
pub mod topology;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use dpdk::{Eal, Mempool, MempoolError, Port, PortBuilder, PortError, RxQueue, TxQueue};
use thiserror::Error;

use crate::lcores::Job;
use crate::monitor::{self, LcoreCounters, Reporter};
use crate::sample_app::{self, RunError};
use crate::sample_args::{Parsed, PortMask};
use crate::signal::Stop;
use crate::txbuffer::{TxBuffer, BURST};
use forward::{mac_header, Engine, Lane};
use options::{Options, OptionsError};
use topology::{assign, Pairs};

/// C l2fwd's ring sizes and mbuf cache.
const RX_DESC: u16 = 1024;
const TX_DESC: u16 = 1024;
const MEMPOOL_CACHE: u32 = 256;

/// Why l2fwd could not run.
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
    #[error("no Ethernet ports: check the --vdev / -a EAL arguments")]
    NoPorts,
    #[error("invalid portmask {mask}: port {port} does not exist (ports: {available:?})")]
    NoSuchPort {
        mask: PortMask,
        port: u16,
        available: Vec<u16>,
    },
}

/// Runs l2fwd with `argv` = `[EAL args] -- [app args]` until a signal or `--duration`.
pub fn run(argv: &[String]) -> Result<(), Error> {
    let (eal_args, app_args) = sample_app::split_args(argv);
    let Parsed::Run(opts) = options::parse(app_args)? else {
        print!("{}", options::help());
        return Ok(());
    };
    let Some((eal, stop)) = sample_app::init("l2fwd", eal_args)? else {
        return Ok(());
    };
    forward_until_stopped(&eal, &opts, &stop)
}

fn forward_until_stopped(eal: &Eal, opts: &Options, stop: &Stop) -> Result<(), Error> {
    println!(
        "MAC updating {}",
        if opts.mac_updating {
            "enabled"
        } else {
            "disabled"
        }
    );
    let available = eal.port_ids();
    if available.is_empty() {
        return Err(Error::NoPorts);
    }
    if let Some(port) = opts.portmask.ports().find(|p| !available.contains(p)) {
        return Err(Error::NoSuchPort {
            mask: opts.portmask,
            port,
            available,
        });
    }
    let pairs = Pairs::new(opts.portmask, opts.portmap.as_deref());
    if pairs.odd {
        println!("Notice: odd number of ports in portmask.");
    }
    let ports: Vec<u16> = pairs.ports().collect();
    let mut lcores = eal.worker_lcores();
    lcores.push(eal.main_lcore());
    lcores.sort_unstable();
    let assignment = assign(&ports, &lcores, opts.rx_ports_per_lcore as usize);
    if assignment.overcommitted {
        println!(
            "Notice: {} ports but {} lcores x {} ports per lcore; sharing the ports among the lcores",
            ports.len(),
            lcores.len(),
            opts.rx_ports_per_lcore
        );
    }
    for (lcore, rx_ports) in &assignment.lcores {
        for p in rx_ports {
            println!("Lcore {lcore}: RX port {p} TX port {}", pairs.dst[p]);
        }
    }

    let nb_mbufs = (available.len()
        * (usize::from(RX_DESC + TX_DESC) + BURST + assignment.lcores.len() * 256))
        .max(8192) as u32;
    let pool = Mempool::new_pktmbuf(
        eal,
        "mbuf_pool",
        nb_mbufs,
        MEMPOOL_CACHE,
        dpdk::DEFAULT_DATA_ROOM,
    )?;
    let mut queues: BTreeMap<u16, (Option<RxQueue>, Option<TxQueue>)> = BTreeMap::new();
    let mut handles: Vec<Port> = Vec::new();
    for &id in &available {
        if !ports.contains(&id) {
            println!("Skipping disabled port {id}");
            continue;
        }
        print!("Initializing port {id}... ");
        let _ = std::io::stdout().flush();
        let mut builder = PortBuilder::new(eal, id)?
            .queues(1, 1)
            .descriptors(RX_DESC, TX_DESC);
        // Every packet comes from the one pool: fast freeing where the device offers it, as C.
        if builder.info().offers_tx_fast_free() {
            builder = builder.tx_fast_free(&pool);
        }
        let mut started = builder.start(&pool)?;
        println!("done: ");
        if opts.promiscuous && !started.port.set_promiscuous(true)? {
            println!(
                "Port {id}: promiscuous mode is not supported by the device; continuing without it"
            );
        }
        let mac = started.port.mac_addr()?;
        println!("Port {id}, MAC address: {mac}\n");
        appkit::portmacs::check(id, mac);
        queues.insert(id, (started.rx.pop(), started.tx.pop()));
        handles.push(started.port);
    }
    sample_app::wait_for_links(&handles, stop);

    let mut jobs = Vec::new();
    let mut tables = Vec::new();
    for (lcore, rx_ports) in &assignment.lcores {
        let counters = Arc::new(LcoreCounters::default());
        tables.push(counters.clone());
        let mut lanes = Vec::new();
        for &p in rx_ports {
            let dst = pairs.dst[&p];
            let rx = queues.get_mut(&p).and_then(|q| q.0.take());
            // The pairing is a bijection, so each TX queue goes to exactly one lane.
            let tx = queues.get_mut(&dst).and_then(|q| q.1.take());
            let (Some(rx), Some(tx)) = (rx, tx) else {
                unreachable!("port {p} or {dst} started with one queue each, used once");
            };
            let header = if opts.mac_updating {
                let mac = handles.iter().find(|h| h.id() == dst).map(Port::mac_addr);
                Some(mac_header(dst, mac.expect("destination port started")?))
            } else {
                None
            };
            lanes.push(Lane {
                rx,
                tx: TxBuffer::new(tx),
                header,
            });
        }
        let engine = Engine {
            lanes,
            counters,
            stop: stop.clone(),
            idle_sleep: opts.run.idle_sleep,
        };
        let lcore = *lcore;
        let polled = rx_ports.clone();
        jobs.push(Job::new(lcore, move || {
            println!("L2FWD: entering main loop on lcore {lcore}");
            for p in polled {
                println!("L2FWD:  -- lcoreid={lcore} portid={p}");
            }
            engine.run();
        }));
    }
    drop(queues);

    let mode = if opts.mac_updating {
        "mac-updating"
    } else {
        "no-mac-updating"
    };
    let reporter = Reporter::new(
        "l2fwd",
        mode,
        opts.stats_period,
        &opts.run,
        move || monitor::sample(&tables, &ports),
        stats::block,
    );
    sample_app::forward(eal, jobs, stop, &reporter, opts.run.duration, handles)?;
    drop(pool);
    Ok(())
}
