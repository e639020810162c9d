//! `dpdk-app testpmd [EAL args] -- [testpmd args]`: DPDK 22.11's testpmd in non-interactive
//! mode, for generator, sink and forwarder pods.
//!
//! It takes testpmd's command line, builds testpmd's streams over ports and queues and prints
//! testpmd's text word for word, so existing command lines and log parsers keep working. On
//! top it counts loss exactly and measures latency with probes (see [`probe`]), reports JSON,
//! paces generators (`--tx-rate`), stops after `--duration`, and exits 0 on SIGINT/SIGTERM
//! after printing the final statistics.
//!
//! Layout: [`options`] parses the command line, [`streams`] assigns streams to lcores,
//! [`packet::template`] builds generated packets, [`engine`] is the per-lcore fast path,
//! [`monitor`] prints while forwarding runs, [`output`] holds testpmd's text formats and
//! [`pacing`] the token bucket.

pub(crate) mod announce;
mod engine;
mod monitor;
pub mod options;
mod output;

pub mod probe;
mod streams;

use std::io::Write;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam::channel;
use dpdk::{
    offload, Batch, Eal, EalError, Mempool, MempoolError, Port, PortBuilder, PortError, RxQueue,
    StartedPort, TxQueue,
};
use packet::template::{Addresses, Template};

use crate::cmdline::split_eal_app;
use crate::lcores::{self, Job, LcoresError};
use crate::metrics::{self, MetricsError, ProbeFigures};
use crate::quiesce;
use crate::signal::Stop;
use crate::stats::{Report, ReportKind, StatsFormat};
use engine::{Context, GenKind, Generator, Lcore, LcoreDone, SnapshotLink, StreamRun};
use monitor::{Accounts, Gauge, Monitor, ProbeSync, StreamCounters};
pub use options::OptionsError;
use options::{Config, Mode, Parsed};
use output::{BurstSpread, LcoreLine, PortDelta, PortQueues, StreamTotals};
use probe::{Aggregate, ProbeRx};
use streams::FwdConfig;

/// testpmd's default per-lcore mempool cache (`DEF_MBUF_CACHE`).
const MEMPOOL_CACHE: u32 = 250;

/// Why testpmd could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Options(#[from] OptionsError),
    #[error(transparent)]
    Eal(#[from] EalError),
    #[error("Creation of mbuf pool for socket 0 failed: {0} (see --total-num-mbufs and EAL -m)")]
    Mempool(#[from] MempoolError),
    #[error(transparent)]
    Port(#[from] PortError),
    #[error(transparent)]
    Lcore(#[from] LcoresError),
    #[error("No probed ethernet devices: check the --vdev / -a EAL arguments")]
    NoPorts,
    #[error("nb-cores should be > 0 and <= {0}")]
    NbCores(usize),
    #[error("stream RX P={rx_port}/Q={rx_queue} -> TX P={tx_port}/Q={tx_queue}: the queue does not exist (check --rxq/--txq)")]
    MissingQueue {
        rx_port: u16,
        rx_queue: u16,
        tx_port: u16,
        tx_queue: u16,
    },
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error("cannot install the SIGINT/SIGTERM handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot write --stats-file {path}: {source}")]
    StatsFile {
        path: String,
        source: std::io::Error,
    },
}

/// Runs testpmd with `argv` = everything after `testpmd`: EAL arguments, `--`, testpmd's.
pub fn run(argv: &[String]) -> Result<(), Error> {
    let (eal_args, app_args) = split_eal_app(argv);
    let cfg = match options::parse(app_args)? {
        Parsed::Help => {
            print!("{}", options::help());
            return Ok(());
        }
        Parsed::Run(cfg) => *cfg,
    };
    announce_options(&cfg);
    let stop = Stop::new();
    // Debian's testpmd 22.11 prints nothing when a signal arrives; neither do we.
    stop.on_signals_announced(|_| {}).map_err(Error::Signals)?;
    let argv0 = std::iter::once("dpdk-app").chain(eal_args.iter().map(String::as_str));
    let (eal, _) = Eal::init(argv0)?;
    crate::sample_app::enable_capture(&eal);
    if stop.started() {
        return Ok(());
    }
    if cfg.mlockall {
        use rustix::mm::{mlockall, MlockAllFlags};
        if let Err(e) = mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE) {
            eprintln!("testpmd: mlockall() failed with error \"{e}\"");
        }
    }
    let result = forward(&eal, &cfg, &stop);
    drop(eal);
    result
}

/// What testpmd prints while parsing its options.
fn announce_options(cfg: &Config) {
    if cfg.auto_start {
        println!("Auto-start selected");
    }
    if cfg.mode_given {
        println!("Set {} packet forwarding mode", cfg.mode.name());
    }
    if cfg.tx_first {
        println!("Ports to start sending a burst of packets first");
        if cfg.lsc_interrupt {
            eprintln!("Warning: lsc_interrupt needs to be off when using tx_first. Disabling.");
        }
    }
    if cfg.rxq > 1 && cfg.rxq > cfg.txq {
        eprintln!(
            "Warning: nb_rxq={} enables RSS configuration, but nb_txq={} will prevent to fully test it.",
            cfg.rxq, cfg.txq
        );
    }
}

/// A started port with its queues, each taken by the stream that uses it.
struct PortQueuesOwned {
    port: Port,
    rx: Vec<Option<RxQueue>>,
    tx: Vec<Option<TxQueue>>,
    started: PortQueues,
}

fn forward(eal: &Eal, cfg: &Config, stop: &Stop) -> Result<(), Error> {
    let port_ids = eal.port_ids();
    if port_ids.is_empty() {
        return Err(Error::NoPorts);
    }
    let workers = eal.worker_lcores();
    // testpmd needs a worker; with only the main lcore, we forward on it.
    let fwd_lcores = if workers.is_empty() {
        vec![eal.main_lcore()]
    } else {
        workers.clone()
    };
    if usize::from(cfg.nb_cores) > fwd_lcores.len() {
        return Err(Error::NbCores(fwd_lcores.len()));
    }
    let fc = FwdConfig::new(
        cfg.mode,
        &port_ids,
        usize::from(cfg.nb_cores),
        cfg.rxq,
        cfg.txq,
        cfg.topology,
    );

    let nb_mbufs = cfg
        .total_num_mbufs
        .unwrap_or_else(|| (2048 + workers.len().max(1) as u32 * MEMPOOL_CACHE + 2048 + 512) * 32);
    eprintln!(
        "testpmd: create a new mbuf pool <mb_pool_0>: n={nb_mbufs}, size={}, socket=0",
        cfg.mbuf_size
    );
    let pool = Mempool::new_pktmbuf(eal, "mb_pool_0", nb_mbufs, MEMPOOL_CACHE, cfg.mbuf_size)?;
    let socket = eal.lcore_socket(eal.main_lcore());

    let mut ports = Vec::with_capacity(port_ids.len());
    for &id in &port_ids {
        println!("Configuring Port {id} (socket {socket})");
        ports.push(start_port(eal, cfg, id, &pool)?);
        let mac = ports.last().expect("pushed").port.mac_addr()?;
        println!("Port {id}: {mac}");
        appkit::portmacs::check(id, mac);
    }
    check_links(cfg, &ports, stop);
    for p in &ports {
        match p.port.set_promiscuous(true) {
            Ok(true) => {}
            Ok(false) => eprintln!(
                "Error during enabling promiscuous mode for port {}: Operation not supported - ignore",
                p.port.id()
            ),
            Err(e) => eprintln!(
                "Error during enabling promiscuous mode for port {}: {e} - ignore",
                p.port.id()
            ),
        }
    }
    if fc.odd_paired {
        eprintln!("\nWarning! port-topology=paired and odd forward ports number, the last port will pair with itself.\n");
    }

    println!("No commandline core given, start packet forwarding");
    let lines: Vec<LcoreLine> = fc
        .lcores
        .iter()
        .enumerate()
        .map(|(i, r)| LcoreLine {
            lcore: fwd_lcores[i],
            socket: eal.lcore_socket(fwd_lcores[i]),
            streams: &fc.streams[r.clone()],
        })
        .collect();
    print!(
        "{}",
        output::fwd_config(
            cfg.mode.name(),
            ports.len(),
            &lines,
            |_| socket,
            |p| cfg.peer(p)
        )
    );
    if cfg.mode == Mode::FlowGen {
        for p in &ports {
            println!(
                "  number of flows for port {}: {}",
                p.port.id(),
                cfg.flowgen_flows
            );
        }
    }
    let packet =
        (cfg.mode.generates() || cfg.tx_first).then(|| (cfg.tx_packet_len(), cfg.txpkts.len()));
    let queues: Vec<PortQueues> = ports.iter().map(|p| p.started).collect();
    print!(
        "{}",
        output::rxtx_config(cfg.mode.name(), cfg.burst, packet, fc.lcores.len(), &queues)
    );

    // The lcores' state: streams with their queues, counters and templates.
    let clock = packet::probe::clock_id();
    let hz = dpdk::tsc::hz();
    let table = announce::PortTable::new();
    let mut counters = Vec::with_capacity(fc.streams.len());
    let mut lcores = Vec::with_capacity(fc.lcores.len());
    for (i, range) in fc.lcores.iter().enumerate() {
        let mut runs = Vec::with_capacity(range.len());
        for spec in &fc.streams[range.clone()] {
            let run = stream_run(cfg, &fc, spec, &mut ports, clock, hz, &table)?;
            counters.push(StreamCounters {
                stream: *spec,
                counters: run.counters.clone(),
                sends_probes: cfg.mode.generates()
                    && run
                        .generator
                        .as_ref()
                        .is_some_and(|g| g.template.has_probe()),
                target_pps: run
                    .generator
                    .as_ref()
                    .and_then(|g| g.pacer.as_ref())
                    .map(|p| p.rate()),
            });
            runs.push(run);
        }
        let segments = if cfg.txpkts.len() > 1 {
            usize::from(cfg.burst) * cfg.txpkts.len()
        } else {
            0
        };
        lcores.push(Lcore {
            id: fwd_lcores[i],
            streams: runs,
            cx: Context {
                pool: pool.clone(),
                burst: cfg.burst,
                batch: Batch::new(usize::from(cfg.burst)),
                segments: Batch::new(segments),
                probe: cfg
                    .mode
                    .receives()
                    .then(|| ProbeRx::new(clock, cfg.probe_latency, hz)),
                ip_var: 0,
                next_flow: 0,
                lcore: fwd_lcores[i],
                table: table.clone(),
            },
        });
    }

    // Periodic JSON and /metrics need copies of the receivers' probe state.
    let periodic_json = (cfg.stats_period > 0 && cfg.run.stats_format == StatsFormat::Json)
        || cfg.run.metrics_addr.is_some();
    let epoch = Arc::new(AtomicU64::new(0));
    let (snap_tx, snap_rx) = channel::unbounded();
    let mut spares = Vec::new();
    let mut links = Vec::new();
    for l in &lcores {
        if periodic_json && cfg.mode.receives() {
            let (back_tx, back_rx) = channel::unbounded();
            spares.push((l.id, back_tx));
            links.push(Some(SnapshotLink {
                epoch: epoch.clone(),
                to_monitor: snap_tx.clone(),
                spare: back_rx,
            }));
        } else {
            links.push(None);
        }
    }
    let report_probes = cfg.mode.receives() || counters.iter().any(|c| c.sends_probes);

    if cfg.stats_period == 0 {
        println!("Press enter to exit");
        stop.on_enter();
    }
    let _ = std::io::stdout().flush();

    let port_handles: Vec<Port> = ports.iter().map(|p| p.port.clone()).collect();
    let accounts = Accounts {
        base: port_handles
            .iter()
            .map(|p| p.stats().unwrap_or_default())
            .collect(),
        ports: port_handles,
        streams: counters,
        report_probes,
        clock,
        hz,
    };
    let published = cfg
        .run
        .metrics_addr
        .map(|_| Arc::new(Mutex::new(ProbeFigures::default())));
    let monitor = Monitor {
        period: (cfg.stats_period > 0).then(|| Duration::from_secs(cfg.stats_period)),
        format: cfg.run.stats_format,
        mode: cfg.mode,
        accounts: accounts.clone(),
        stop: stop.clone(),
        probes: periodic_json.then_some(ProbeSync {
            epoch,
            snapshots: snap_rx,
            spares,
        }),
        published: published.clone(),
    };
    let (done_tx, done_rx) = channel::unbounded();
    let idle = cfg.run.idle_sleep;
    let jobs = lcores
        .into_iter()
        .zip(links)
        .map(|(lcore, link)| {
            let (stop, done, mode, tx_first) =
                (stop.clone(), done_tx.clone(), cfg.mode, cfg.tx_first);
            Job::new(lcore.id, move || {
                lcore.run(mode, stop, tx_first, idle, link, done)
            })
        })
        .collect();
    drop(done_tx);

    // Learned peers and silent ports are logged beside the monitor.
    let mut watched = Vec::with_capacity(ports.len());
    for p in &ports {
        let port = p.port.id();
        watched.push(announce::Watched {
            port,
            mac: p.port.mac_addr()?,
            auto_peer: cfg.auto_peer(port) && cfg.mode == Mode::TxOnly,
            receives: cfg.mode.receives(),
        });
    }
    let silence = (cfg.no_rx_warn > 0).then(|| Duration::from_secs(cfg.no_rx_warn));
    let watcher = {
        let (table, stop) = (table.clone(), stop.clone());
        std::thread::spawn(move || announce::watch(&table, &watched, silence, &stop))
    };

    let started = Instant::now();
    // Telemetry commands always; /metrics when --metrics-addr asks for it.
    let metrics = {
        let accounts = accounts.clone();
        let source = move || accounts.figures(started, published.as_deref());
        metrics::observe(
            cfg.run.metrics_addr,
            "testpmd",
            cfg.mode.name(),
            Arc::new(source),
        )?
    };
    if let Some(d) = cfg.run.duration {
        stop.after(d);
    }
    let forwarded = lcores::run(eal, jobs, stop, move || monitor.run());
    stop.set();
    let _ = watcher.join();
    drop(metrics);
    forwarded?;
    let elapsed = started.elapsed();
    let dones: Vec<LcoreDone> = done_rx.try_iter().collect();

    report(cfg, &accounts, dones, elapsed)?;
    for p in &ports {
        let id = p.port.id();
        let (heard, invalid, sent) = table.announcements(id);
        if heard + invalid + sent > 0 {
            println!(
                "Port {id}: MAC announcements heard {heard} (invalid {invalid}), sent {sent}; \
                 not counted as traffic"
            );
        }
    }
    for p in &ports {
        println!(
            "\nStopping port {}...\nStopping ports...\nDone",
            p.port.id()
        );
    }
    // The peers of virtio-user ports take the last frames before the ports close.
    let sent = accounts.software_samples();
    quiesce::linger(
        ports
            .iter()
            .map(|p| p.port.info())
            .zip(sent.iter().map(|s| s.tx_packets)),
    );
    for p in &ports {
        println!(
            "\nShutting down port {id}...\nClosing ports...\nPort {id} is closed\nDone",
            id = p.port.id()
        );
    }
    drop(ports);
    println!("\nBye...");
    Ok(())
}

/// Configures and starts one port as testpmd does (RSS over IP with several RX queues, MTU
/// from `--max-pkt-len`).
fn start_port(eal: &Eal, cfg: &Config, id: u16, pool: &Mempool) -> Result<PortQueuesOwned, Error> {
    let mut builder = PortBuilder::new(eal, id)?
        .queues(cfg.rxq, cfg.txq)
        .descriptors(cfg.rxd, cfg.txd);
    if cfg.rxq > 1 {
        builder = builder.rss(offload::RSS_IP);
    }
    if let Some(len) = cfg.max_pkt_len {
        let info = builder.info();
        let overhead = if info.max_rx_pktlen > u32::from(info.max_mtu) {
            info.max_rx_pktlen - u32::from(info.max_mtu)
        } else {
            18
        };
        builder = builder.mtu(len.saturating_sub(overhead).min(u32::from(u16::MAX)) as u16);
    }
    let StartedPort {
        port,
        rx,
        tx,
        rx_offloads,
        tx_offloads,
        ..
    } = builder.start(pool)?;
    Ok(PortQueuesOwned {
        started: PortQueues {
            port: id,
            rxq: cfg.rxq,
            txq: cfg.txq,
            rxd: cfg.rxd,
            txd: cfg.txd,
            rx_offloads,
            tx_offloads,
        },
        port,
        rx: rx.into_iter().map(Some).collect(),
        tx: tx.into_iter().map(Some).collect(),
    })
}

/// testpmd's `check_all_ports_link_status`: with link-state interrupts (the default) it looks
/// once; without (`--no-lsc-interrupt`, `--tx-first`) it waits up to 9 s for every link, then
/// prints each port's link.
fn check_links(cfg: &Config, ports: &[PortQueuesOwned], stop: &Stop) {
    println!("Checking link statuses...");
    if !cfg.lsc_interrupt || cfg.tx_first {
        for _ in 0..90 {
            let all_up = ports
                .iter()
                .all(|p| p.port.link().map(|l| l.up).unwrap_or(false));
            if all_up || stop.sleep(Duration::from_millis(100)) {
                break;
            }
        }
        for p in ports {
            if let Ok(link) = p.port.link_text() {
                println!("Port {} {link}", p.port.id());
            }
        }
    }
    println!("Done");
}

/// Builds one stream's lcore state, taking its queues from the ports.
fn stream_run(
    cfg: &Config,
    fc: &FwdConfig,
    spec: &streams::Stream,
    ports: &mut [PortQueuesOwned],
    clock: u16,
    hz: u64,
    table: &Arc<announce::PortTable>,
) -> Result<StreamRun, Error> {
    let missing = || Error::MissingQueue {
        rx_port: spec.rx_port,
        rx_queue: spec.rx_queue,
        tx_port: spec.tx_port,
        tx_queue: spec.tx_queue,
    };
    let index = |port: u16| {
        ports
            .iter()
            .position(|p| p.port.id() == port)
            .expect("streams use started ports")
    };
    let (rxi, txi) = (index(spec.rx_port), index(spec.tx_port));
    // Each queue belongs to one stream at most, which takes it here.
    fn take<Q>(queues: &mut [Option<Q>], q: u16) -> Option<Q> {
        queues.get_mut(usize::from(q)).and_then(Option::take)
    }
    // txonly polls its RX queues too when it learns peers from announcements.
    let auto_peers = cfg.mode == Mode::TxOnly && !cfg.auto_peers.is_empty();
    let rx = (cfg.mode.receives() || auto_peers)
        .then(|| take(&mut ports[rxi].rx, spec.rx_queue).ok_or_else(missing))
        .transpose()?;
    let tx = (cfg.mode.transmits() || cfg.tx_first || cfg.announce)
        .then(|| take(&mut ports[txi].tx, spec.tx_queue).ok_or_else(missing))
        .transpose()?;
    let tx_mac = ports[txi].port.mac_addr()?;
    let peer = cfg.peer(spec.tx_port);
    let probe = cfg.probe.then_some((spec.id, clock));
    let txonly = |pacer| Generator {
        template: Template::txonly(
            Addresses {
                src_mac: tx_mac,
                dst_mac: peer,
                src_ip: cfg.tx_ip.0,
                dst_ip: cfg.tx_ip.1,
                src_port: cfg.tx_udp.0,
                dst_port: cfg.tx_udp.1,
            },
            cfg.tx_packet_len(),
            probe,
        ),
        segments: cfg.txpkts.clone(),
        kind: GenKind::TxOnly {
            multi_flow: cfg.txonly_multi_flow.then_some(cfg.tx_ip.1),
        },
        pacer,
    };
    let pacer = cfg.tx_rate.map(|rate| {
        let on_port: Vec<u16> = fc
            .streams
            .iter()
            .filter(|s| s.tx_port == spec.tx_port)
            .map(|s| s.id)
            .collect();
        let nth = on_port.iter().position(|&id| id == spec.id).unwrap_or(0);
        crate::pacing::TokenBucket::new(
            crate::pacing::share(rate, on_port.len(), nth),
            hz,
            cfg.burst,
            dpdk::tsc::rdtsc(),
        )
    });
    let generator = match cfg.mode {
        Mode::TxOnly => Some(txonly(pacer)),
        Mode::FlowGen => {
            let template = Template::flowgen(cfg.tx_packet_len(), probe);
            Some(Generator {
                segments: vec![template.len() as u16],
                template,
                kind: GenKind::FlowGen {
                    flows: cfg.flowgen_flows,
                },
                pacer,
            })
        }
        _ => None,
    };
    let first = (cfg.tx_first && cfg.mode != Mode::TxOnly).then(|| txonly(None));
    let mut macs = [0u8; 12];
    macs[..6].copy_from_slice(&peer.0);
    macs[6..].copy_from_slice(&tx_mac.0);
    Ok(StreamRun {
        spec: *spec,
        rx,
        tx,
        counters: Arc::default(),
        rx_bursts: cfg.record_burst_stats.then(BurstSpread::default),
        tx_bursts: cfg.record_burst_stats.then(BurstSpread::default),
        generator,
        first,
        macs,
        tx_mac,
        seq: 0,
        auto_peer: cfg.mode == Mode::TxOnly && cfg.auto_peer(spec.tx_port),
        // One announcer per port: the stream with its TX queue 0.
        announcer: (cfg.announce && spec.tx_queue == 0)
            .then(|| announce::Announcer::new(spec.tx_port, tx_mac, hz, table.clone())),
    })
}

/// The final output: testpmd's forward statistics, our probe summary, the JSON summary.
fn report(
    cfg: &Config,
    accounts: &Accounts,
    dones: Vec<LcoreDone>,
    elapsed: Duration,
) -> Result<(), Error> {
    let Accounts {
        ports,
        base,
        streams: counters,
        report_probes,
        clock,
        hz,
    } = accounts;
    let ethdev = accounts.ethdev_stats();
    let deltas: Vec<PortDelta> = ports
        .iter()
        .zip(ethdev.iter().zip(base))
        .map(|(p, (now, b))| PortDelta {
            port: p.id(),
            stats: monitor::delta(now, b),
        })
        .collect();
    let mut bursts: Vec<(u16, Option<BurstSpread>, Option<BurstSpread>)> = Vec::new();
    let mut agg = Aggregate::new(*hz);
    monitor::add_sent(&mut agg, counters);
    for d in dones {
        bursts.extend(d.bursts);
        if let Some(p) = d.probe {
            agg.add_received(&p.streams, p.unknown);
        }
    }
    let totals: Vec<StreamTotals> = counters
        .iter()
        .map(|c| {
            let (rx_bursts, tx_bursts) = bursts
                .iter_mut()
                .find(|b| b.0 == c.stream.id)
                .map_or((None, None), |b| (b.1.take(), b.2.take()));
            StreamTotals {
                stream: c.stream,
                rx_packets: c.counters.rx_packets.get(),
                tx_packets: c.counters.tx_packets.get(),
                tx_dropped: c.counters.tx_dropped.get(),
                rx_bursts,
                tx_bursts,
            }
        })
        .collect();
    print!("{}", output::forward_stats(&totals, &deltas));
    println!("\nDone.");

    let probe_report = report_probes.then(|| agg.report(*clock));
    if let Some(r) = &probe_report {
        print!("{}", output::probe_summary(r));
    }
    let software = accounts.software_samples();
    let zero = vec![Default::default(); software.len()];
    let mut summary = Report::new(
        ReportKind::Summary,
        "testpmd",
        cfg.mode.name(),
        elapsed.as_secs_f64(),
        monitor::samples(&software, &zero, &ethdev, base),
    );
    summary.probe = probe_report.as_ref().map(monitor::probe_json);
    summary.pacing = accounts.pacing(&software, &zero, elapsed.as_secs_f64(), Gauge::Overall);
    if cfg.run.stats_format == StatsFormat::Json {
        summary.print_json_line();
    }
    if let Some(path) = &cfg.run.stats_file {
        summary
            .write_file(path)
            .map_err(|source| Error::StatsFile {
                path: path.display().to_string(),
                source,
            })?;
    }
    let _ = std::io::stdout().flush();
    Ok(())
}
