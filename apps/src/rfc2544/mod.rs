//! `dpdk-app rfc2544 [EAL args] -- [options]`: the RFC 2544 throughput search on DPDK ports.
//!
//! The search itself (which rate next, for how long, what the verdicts mean, the reports) is
//! the pure `rfc2544` crate; this engine runs its trials ([`trial`]) and prints and writes
//! what it reports. A reflector on the far side returns the frames: `dpdk-app testpmd
//! --forward-mode=macswap` (or io, l2fwd, l3fwd, C dpdk-testpmd).

mod options;
mod trial;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use dpdk::{Eal, EalError, Mempool, MempoolError, PortBuilder, PortError};
use rfc2544::report::{self, Report};
use rfc2544::sweep::Sweep;

use crate::cmdline::split_eal_app;
use crate::signal::Stop;
use crate::stats::StatsFormat;
pub use options::OptionsError;
use options::{Config, Parsed};
use trial::{Ended, Generator, PortIo};

/// How long the generator waits for its first frame to come back before giving up: pods of
/// a Job may start a minute apart, and a vhost link comes up when its peer connects.
pub const PATH_TIMEOUT: Duration = Duration::from_secs(60);
/// Mbufs in the pool: enough for every port's RX and TX rings and a few bursts in flight.
const NB_MBUFS: u32 = 16 * 1024 - 1;
const MEMPOOL_CACHE: u32 = 250;
/// Headroom DPDK reserves in front of each mbuf's data (`RTE_PKTMBUF_HEADROOM`).
const HEADROOM: u16 = 128;

/// Why the search could not run, or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Options(#[from] OptionsError),
    #[error(transparent)]
    Eal(#[from] EalError),
    #[error("cannot create the mbuf pool for {frame}-byte frames: {source} (see EAL -m)")]
    Mempool { frame: u16, source: MempoolError },
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("no ports: give the EAL a --vdev or -a device")]
    NoPorts,
    #[error("more than 255 ports ({0}): frame addresses number ports in one byte")]
    TooManyPorts(usize),
    #[error("cannot install the SIGINT/SIGTERM handlers: {0}")]
    Signals(std::io::Error),
    #[error(
        "no frame came back within {0} s on any port: is the reflector running, and is \
         --eth-peer its MAC (or the MAC its switch forwards to it)? With --eth-peer=P,auto: \
         was the reflector started with --announce?"
    )]
    NoPath(u64),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("the search: {0}")]
    Search(#[from] rfc2544::Error),
    #[error("stopped by a signal before the search finished; the partial report was written")]
    Stopped,
    #[error("no verified result for frame size(s) {0} (see the notes in the report)")]
    Incomplete(String),
}

/// Runs the search with `argv` = everything after `rfc2544`: EAL arguments, `--`, ours.
pub fn run(argv: &[String]) -> Result<(), Error> {
    let (eal_args, app_args) = split_eal_app(argv);
    let cfg = match options::parse(app_args)? {
        Parsed::Help => {
            print!("{}", options::help());
            return Ok(());
        }
        Parsed::Run(cfg) => *cfg,
    };
    let stop = Stop::new();
    stop.on_signals().map_err(Error::Signals)?;
    let argv0 = std::iter::once("dpdk-app").chain(eal_args.iter().map(String::as_str));
    let (eal, _) = Eal::init(argv0)?;
    let result = search(&eal, &cfg, &stop);
    drop(eal);
    result
}

fn search(eal: &Eal, cfg: &Config, stop: &Stop) -> Result<(), Error> {
    let ids = eal.port_ids();
    if ids.is_empty() {
        return Err(Error::NoPorts);
    }
    if ids.len() > 255 {
        return Err(Error::TooManyPorts(ids.len()));
    }
    let max_frame = cfg.sizes.iter().map(|s| s.max_len()).max().unwrap_or(64);
    let room = (max_frame + HEADROOM).max(2048 + HEADROOM);
    let pool = Mempool::new_pktmbuf(eal, "rfc2544_pool", NB_MBUFS, MEMPOOL_CACHE, room).map_err(
        |source| Error::Mempool {
            frame: max_frame,
            source,
        },
    )?;
    let mut ports = Vec::with_capacity(ids.len());
    for &id in &ids {
        let mut builder = PortBuilder::new(eal, id)?.queues(1, 1);
        if max_frame > 1518 {
            builder = builder.mtu(max_frame - 18);
        }
        let started = builder.start(&pool)?;
        let port = started.port;
        let mac = port.mac_addr()?;
        if let Err(e) = port.set_promiscuous(true) {
            tracing::warn!(port = id, "cannot enable promiscuous mode: {e}");
        }
        let (Some(rx), Some(tx)) = (started.rx.into_iter().next(), started.tx.into_iter().next())
        else {
            return Err(Error::NoPorts);
        };
        match cfg.peer(id) {
            Some(peer) => eprintln!("rfc2544: port {id} {mac} -> peer {peer}"),
            None => eprintln!("rfc2544: port {id} {mac} -> peer auto (learned from announcements)"),
        }
        ports.push((
            port,
            PortIo {
                id,
                rx,
                tx,
                mac,
                peer: cfg.peer(id),
                auto: cfg.peer(id).is_none(),
            },
        ));
    }
    let (_handles, io): (Vec<_>, Vec<_>) = ports.into_iter().unzip();
    let mut gen = Generator::new(
        io,
        pool,
        cfg.burst,
        cfg.tx_refused == options::TxRefused::Lost,
    );
    gen.idle_sleep = cfg.idle_sleep;

    let mut sweep = Sweep::new(cfg.search.clone(), cfg.sizes.clone())?;
    // On stdout in both formats: the pod simulation waits for this line.
    println!(
        "rfc2544: waiting up to {} s for frames to come back",
        PATH_TIMEOUT.as_secs()
    );
    if !gen.wait_for_path(cfg.sizes[0], PATH_TIMEOUT, stop) {
        if stop.is_set() {
            return finish(cfg, &sweep, true);
        }
        return Err(Error::NoPath(PATH_TIMEOUT.as_secs()));
    }
    let started = Instant::now();
    let mut stopped = false;
    while let Some(t) = sweep.next_trial() {
        match gen.run(t.size, &t.spec, stop) {
            Ended::Stopped => {
                stopped = true;
                break;
            }
            Ended::Done(outcome) => {
                let progress = sweep.record(t.spec.id, outcome)?;
                let line = report::progress_line(&progress);
                match cfg.stats_format {
                    StatsFormat::Text => println!("{line}"),
                    StatsFormat::Json => eprintln!("{line}"),
                }
            }
        }
        if stop.is_set() {
            stopped = true;
            break;
        }
    }
    eprintln!(
        "rfc2544: search took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    finish(cfg, &sweep, stopped)
}

/// Prints the table (or the JSON), writes the report files, and says whether every size got
/// verified results.
fn finish(cfg: &Config, sweep: &Sweep, stopped: bool) -> Result<(), Error> {
    let r = sweep.report(None);
    let mut out = std::io::stdout().lock();
    let printed = match cfg.stats_format {
        StatsFormat::Text => write!(out, "{}", report::table(&r)),
        StatsFormat::Json => writeln!(out, "{}", r.to_json()),
    };
    printed
        .and_then(|()| out.flush())
        .map_err(|source| Error::Write {
            path: "stdout".into(),
            source,
        })?;
    if let Some(dir) = &cfg.report_dir {
        write_reports(dir, &r)?;
    }
    if let Some(path) = &cfg.stats_file {
        std::fs::write(path, r.to_json()).map_err(|source| Error::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    if stopped {
        return Err(Error::Stopped);
    }
    let missing: Vec<String> = cfg
        .sizes
        .iter()
        .filter(|s| !r.results.iter().any(|res| res.size == **s && res.complete))
        .map(|s| s.to_string())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::Incomplete(missing.join(", ")))
    }
}

/// Writes `rfc2544.json` and `rfc2544.html` into `dir`.
fn write_reports(dir: &Path, r: &Report) -> Result<(), Error> {
    let fail = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(fail(dir))?;
    for (name, body) in [
        ("rfc2544.json", r.to_json()),
        ("rfc2544.html", report::html(r)),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(fail(&path))?;
        eprintln!("rfc2544: wrote {}", path.display());
    }
    Ok(())
}
