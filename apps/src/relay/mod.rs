//! `dpdk-app relay`: the vhost-user switch that stands in for the vDPA NIC and its embedded
//! switch when the traffic test runs on one machine (the demo and the pod simulation).
//!
//! Each pod interface is a `net_vhost` port of the relay (a vhost-user server socket); the pod's
//! `virtio_user` vdev connects to it exactly as it would open `/dev/vhost-vdpa-N`. Ports are
//! grouped into segments (the VLANs of the NetworkAttachmentDefinitions); frames are switched
//! by a learning bridge within their segment only (see [`switch`]).
//!
//! ```text
//! dpdk-app relay [EAL args] -- --segment vlan1000=0,2 --segment vlan2000=1,3 [--idle-sleep-us 20]
//! ```

pub mod switch;

use std::sync::Arc;
use std::time::Duration;

use dpdk::{
    Batch, Eal, EalError, MacAddr, Mempool, MempoolError, PortBuilder, PortError, RxQueue, TxQueue,
};
use packet::ether;

use crate::getopt::{self, GetoptError, HasArg, Opt};
use crate::lcores::{self, Job, LcoresError};
use crate::monitor::Reporter;
use crate::quiesce::Quiesce;
use crate::runopts::RunOptions;
use crate::signal::Stop;
use crate::stats::{Counter, PortCounters, PortDrops, PortSample};
use switch::{Forward, Segment, Switch};

/// Frames a port may hold back while its peer is not taking them.
const PENDING: usize = 1024;

/// One relay port's counters: the shared per-port ones, and why frames for it (`tx_dropped`)
/// or from it (`rx_dropped`, filtered) never left the relay.
#[derive(Debug, Default)]
struct RelayCounters {
    port: PortCounters,
    queue_full: Counter,
    no_mbuf: Counter,
    at_exit: Counter,
}

impl RelayCounters {
    fn drop_for(&self, cause: &Counter, n: u64) {
        cause.add(n);
        self.port.tx_dropped.add(n);
    }

    fn drops(&self, port: u16) -> PortDrops {
        PortDrops {
            port,
            filtered: self.port.rx_dropped.get(),
            queue_full: self.queue_full.get(),
            no_mbuf: self.no_mbuf.get(),
            at_exit: self.at_exit.get(),
        }
    }
}

/// Errors of the relay.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Getopt(#[from] GetoptError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Eal(#[from] EalError),
    #[error(transparent)]
    Mempool(#[from] MempoolError),
    #[error(transparent)]
    Port(#[from] PortError),
    #[error(transparent)]
    Lcore(#[from] LcoresError),
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    #[error("cannot write {path}: {source}")]
    StatsFile {
        path: String,
        source: std::io::Error,
    },
}

/// Relay options (after `--`).
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub segments: Vec<Segment>,
    /// `--port-mac`: the MAC each listed port's device owns.
    pub port_macs: Vec<(u16, MacAddr)>,
    pub burst: usize,
    pub stats_period: Option<Duration>,
    pub run: RunOptions,
}

const HELP: &str = "\
Usage: dpdk-app relay [EAL args] -- --segment NAME=PORT[,PORT...] [options]

A learning Ethernet switch over DPDK ports (normally net_vhost ports, one vhost-user socket per
pod interface) that keeps segments apart, as the NIC's switch keeps VLANs apart.

  --segment NAME=PORTS   ports (ethdev ids) forming one segment, e.g. vlan1000=0,2; repeat
                         for each segment; a port belongs to at most one segment
  --port-mac PORT=MAC    the MAC the device behind PORT owns, as the NIC's switch knows each
                         VF's: unicast to it goes to PORT only, and unicast to a MAC no port
                         owns reaches only ports without a --port-mac (repeat per port)
  --burst N              RX burst size (1..512, default 32)
  --stats-period SECS    print per-port counters every SECS seconds, at most 31622400
                         (default 0: off)
";

impl Options {
    pub const TABLE: [Opt; 4] = [
        Opt::long("segment", HasArg::Required),
        Opt::long("port-mac", HasArg::Required),
        Opt::long("burst", HasArg::Required),
        Opt::long("stats-period", HasArg::Required),
    ];

    /// Parses the relay's arguments; `Ok(None)` when `--help` was asked for (and printed).
    pub fn parse(args: &[String]) -> Result<Option<Options>, RelayError> {
        if args.iter().any(|a| a == "--help" || a == "-h") {
            println!("{HELP}{}", RunOptions::HELP);
            return Ok(None);
        }
        let table = RunOptions::table_with(&[&Self::TABLE]);
        let mut o = Options {
            segments: Vec::new(),
            port_macs: Vec::new(),
            burst: 32,
            stats_period: None,
            run: RunOptions::default(),
        };
        let usage = RelayError::Usage;
        for (name, value) in getopt::scan(args, &table)? {
            let v = value.as_deref().unwrap_or_default();
            match name {
                "segment" => o.segments.push(parse_segment(v).map_err(usage)?),
                "port-mac" => o.port_macs.push(parse_port_mac(v).map_err(usage)?),
                "burst" => o.burst = parse_num(name, v, 1, 512).map_err(usage)? as usize,
                "stats-period" => {
                    o.stats_period = crate::runopts::parse_period(name, v).map_err(usage)?
                }
                other => {
                    o.run.accept(other, value.as_deref()).map_err(usage)?;
                }
            }
        }
        if o.segments.is_empty() {
            return Err(usage(
                "at least one --segment NAME=PORTS is required".into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in &o.segments {
            for &p in &s.ports {
                if !seen.insert(p) {
                    return Err(usage(format!("port {p} is in more than one --segment")));
                }
            }
        }
        if let Some((p, _)) = o.port_macs.iter().find(|(p, _)| !seen.contains(p)) {
            return Err(usage(format!(
                "--port-mac names port {p}, which is in no --segment"
            )));
        }
        Ok(Some(o))
    }
}

fn parse_num(name: &str, v: &str, min: u64, max: u64) -> Result<u64, String> {
    v.parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("invalid --{name} {v:?}: expected an integer in {min}..={max}"))
}

fn parse_port_mac(v: &str) -> Result<(u16, MacAddr), String> {
    let bad = |why: &str| format!("invalid --port-mac {v:?}: {why}");
    let (port, mac) = v.split_once('=').ok_or_else(|| bad("expected PORT=MAC"))?;
    let port = port
        .trim()
        .parse::<u16>()
        .map_err(|_| bad("the port is not a port id"))?;
    let mac: MacAddr = mac.trim().parse().map_err(|_| bad("not an Ethernet MAC"))?;
    if mac.0[0] & 1 == 1 {
        return Err(bad("a device cannot own a multicast MAC"));
    }
    Ok((port, mac))
}

fn parse_segment(v: &str) -> Result<Segment, String> {
    let (name, ports) = v
        .split_once('=')
        .ok_or_else(|| format!("invalid --segment {v:?}: expected NAME=PORT[,PORT...]"))?;
    if name.is_empty() {
        return Err(format!("invalid --segment {v:?}: empty name"));
    }
    let ports = ports
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<u16>()
                .map_err(|_| format!("invalid --segment {v:?}: {p:?} is not a port id"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Segment {
        name: name.to_owned(),
        ports,
    })
}

/// Entry point: `argv` is everything after `relay` (EAL args `--` relay args).
pub fn run(argv: &[String]) -> Result<(), RelayError> {
    let (eal_args, app_args) = crate::cmdline::split_eal_app(argv);
    let Some(opts) = Options::parse(app_args)? else {
        return Ok(());
    };
    let stop = Stop::new();
    stop.on_signals()
        .map_err(|e| RelayError::Usage(format!("cannot install signal handlers: {e}")))?;
    let (eal, _) =
        Eal::init(std::iter::once("dpdk-app").chain(eal_args.iter().map(String::as_str)))?;
    crate::sample_app::enable_capture(&eal);
    if stop.started() {
        return Ok(());
    }
    let available = eal.port_ids();
    let ports: Vec<u16> = opts
        .segments
        .iter()
        .flat_map(|s| s.ports.iter().copied())
        .collect();
    if let Some(missing) = ports.iter().find(|p| !available.contains(p)) {
        return Err(RelayError::Usage(format!(
            "--segment names port {missing}, but the EAL has ports {available:?}: check the --vdev arguments"
        )));
    }
    let pool = Mempool::new_pktmbuf(
        &eal,
        "relay_pool",
        (ports.len() as u32 * 4096).next_power_of_two() - 1,
        256,
        dpdk::DEFAULT_DATA_ROOM,
    )?;
    let mut handles = Vec::new();
    let mut queues = Vec::new();
    for &id in &ports {
        let mut started = PortBuilder::new(&eal, id)?.start(&pool)?;
        queues.push((id, started.rx.remove(0), started.tx.remove(0)));
        handles.push(started.port);
    }
    for s in &opts.segments {
        println!("Relay segment {}: ports {:?}", s.name, s.ports);
    }

    if let Some(d) = opts.run.duration {
        stop.after(d);
    }
    let counters: Vec<Arc<RelayCounters>> = ports.iter().map(|_| Default::default()).collect();
    let reporter = {
        let (ports, counters) = (ports.clone(), counters.clone());
        let (drop_ports, drop_counters) = (ports.clone(), counters.clone());
        Reporter::new(
            "relay",
            "switch",
            opts.stats_period,
            &opts.run,
            move || samples(&ports, &counters),
            text_block,
        )
        .with_drops(move || {
            drop_ports
                .iter()
                .zip(&drop_counters)
                .map(|(&p, c)| c.drops(p))
                .collect()
        })
    };
    let job = {
        let (stop, counters, opts, pool) =
            (stop.clone(), counters.clone(), opts.clone(), pool.clone());
        let mut switch = Switch::new(opts.segments.clone());
        for &(port, mac) in &opts.port_macs {
            switch.own(port, mac);
        }
        Job::new(eal.main_lcore(), move || {
            forward(queues, switch, &pool, &counters, &opts, &stop)
        })
    };
    let monitor = {
        let (stop, reporter) = (stop.clone(), reporter.clone());
        move || reporter.periodic(&stop)
    };
    let metrics = reporter.serve_metrics()?;
    lcores::run(&eal, vec![job], &stop, monitor)?;
    drop(metrics);
    // The pods read what the relay last delivered from their rings before it closes them.
    let sent = samples(&ports, &counters);
    crate::quiesce::linger(
        handles
            .iter()
            .map(|h| h.info())
            .zip(sent.iter().map(|s| s.tx_packets)),
    );
    reporter.summary().map_err(|source| RelayError::StatsFile {
        path: opts
            .run
            .stats_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        source,
    })?;
    drop(handles);
    Ok(())
}

fn samples(ports: &[u16], counters: &[Arc<RelayCounters>]) -> Vec<PortSample> {
    ports
        .iter()
        .zip(counters)
        .map(|(&p, c)| c.port.sample(p))
        .collect()
}

/// The relay's statistics block, one line per port.
fn text_block(samples: &[PortSample]) -> String {
    let mut out = String::from("Relay statistics ===================================\n");
    for s in samples {
        out += &format!(
            "port {:<3} RX-packets: {:<14} TX-packets: {:<14} TX-dropped: {}\n",
            s.port, s.rx_packets, s.tx_packets, s.tx_dropped
        );
    }
    out + "====================================================\n"
}

/// The relay's forwarding loop on one lcore: poll every port, switch each frame, transmit per
/// destination; frames a busy destination does not take wait (up to [`PENDING`]) and are retried.
/// After the stop it goes on until nothing moved for a while ([`Quiesce`]), and counts what is
/// still waiting as dropped at exit.
fn forward(
    mut queues: Vec<(u16, RxQueue, TxQueue)>,
    mut switch: Switch,
    pool: &Mempool,
    counters: &[Arc<RelayCounters>],
    opts: &Options,
    stop: &Stop,
) {
    let index_of = |port: u16| queues.iter().position(|(p, _, _)| *p == port);
    let slot: Vec<Option<usize>> = (0..=queues.iter().map(|q| q.0).max().unwrap_or(0))
        .map(index_of)
        .collect();
    let mut pending: Vec<Batch> = queues.iter().map(|_| Batch::new(PENDING)).collect();
    let mut inbox = Batch::new(opts.burst);
    let mut quiesce: Option<Quiesce> = None;
    loop {
        let mut received = 0;
        for i in 0..queues.len() {
            let in_port = queues[i].0;
            let n = queues[i].1.rx(&mut inbox);
            if n == 0 {
                continue;
            }
            received += n;
            let c = &counters[i].port;
            c.rx_packets.add(n as u64);
            c.rx_bytes.add(inbox.iter().map(|m| m.len() as u64).sum());
            for m in inbox.drain() {
                let decision = match ether::Frame::new_checked(m.data()) {
                    Ok(f) => switch.decide(in_port, f.src(), f.dst()),
                    Err(_) => Forward::Filter,
                };
                match decision {
                    Forward::To(out) => enqueue(&mut pending, &slot, counters, out, m),
                    d @ (Forward::Flood | Forward::FloodUnowned) => {
                        // Every port but the last gets a copy, the last the frame itself; no
                        // allocation, as until a sink answers every frame to it is flooded.
                        let unowned = d == Forward::FloodUnowned;
                        let mut outs = switch.flood_ports(in_port, unowned).peekable();
                        let mut frame = Some(m);
                        while let Some(out) = outs.next() {
                            let m = frame.take().expect("the frame goes out last");
                            if outs.peek().is_none() {
                                enqueue(&mut pending, &slot, counters, out, m);
                                break;
                            }
                            match copy_of(pool, &m) {
                                Some(copy) => enqueue(&mut pending, &slot, counters, out, copy),
                                None => {
                                    let c = &counters[slot[usize::from(out)].unwrap()];
                                    c.drop_for(&c.no_mbuf, 1);
                                }
                            }
                            frame = Some(m);
                        }
                        if frame.is_some() {
                            c.rx_dropped.add(1);
                        }
                    }
                    Forward::Filter => c.rx_dropped.add(1),
                }
            }
        }
        let mut sent_any = 0;
        for (i, out) in pending.iter_mut().enumerate() {
            if out.is_empty() {
                continue;
            }
            let bytes: u64 = out.iter().map(|m| m.len() as u64).sum();
            let sent = queues[i].2.tx(out);
            let left: u64 = out.iter().map(|m| m.len() as u64).sum();
            counters[i].port.tx_packets.add(sent as u64);
            counters[i].port.tx_bytes.add(bytes - left);
            sent_any += sent;
        }
        let work = received + sent_any;
        if stop.is_set() && quiesce.get_or_insert_with(Quiesce::new).done(work) {
            break;
        }
        // No progress: nothing arrived and no peer took anything. Sleeping here hands the CPU
        // to a pod sharing it, which is what unblocks a full ring.
        opts.run.idle_sleep.after_pass(work);
    }
    for (out, c) in pending.iter_mut().zip(counters) {
        c.drop_for(&c.at_exit, out.len() as u64);
        out.clear();
    }
}

fn enqueue(
    pending: &mut [Batch],
    slot: &[Option<usize>],
    counters: &[Arc<RelayCounters>],
    out: u16,
    m: dpdk::Mbuf,
) {
    let i = slot[usize::from(out)].expect("switch only forwards to relay ports");
    if pending[i].push(m).is_err() {
        counters[i].drop_for(&counters[i].queue_full, 1);
    }
}

fn copy_of(pool: &Mempool, m: &dpdk::Mbuf) -> Option<dpdk::Mbuf> {
    let mut copy = pool.alloc().ok()?;
    let mut at = 0;
    let dst = copy.append(m.len())?;
    for seg in m.segments() {
        dst[at..at + seg.len()].copy_from_slice(seg);
        at += seg.len();
    }
    Some(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_segments_and_options() {
        let o = Options::parse(&args(&[
            "--segment",
            "vlan1000=0,2",
            "--segment=vlan2000=1,3",
            "--idle-sleep-us",
            "20",
            "--duration",
            "3",
            "--port-mac",
            "2=0c:fe:c0:ff:ee:10",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(o.port_macs, [(2, "0c:fe:c0:ff:ee:10".parse().unwrap())]);
        assert_eq!(
            o.segments,
            [
                Segment {
                    name: "vlan1000".into(),
                    ports: vec![0, 2]
                },
                Segment {
                    name: "vlan2000".into(),
                    ports: vec![1, 3]
                }
            ]
        );
        assert_eq!(
            o.run.idle_sleep,
            crate::runopts::IdleSleep::parse("20").unwrap()
        );
        assert_eq!(o.run.duration, Some(Duration::from_secs(3)));
    }

    #[test]
    fn rejects_bad_options() {
        for (bad, needle) in [
            (&["--segment", "x"][..], "NAME=PORT"),
            (&["--segment", "a=0,x"], "\"x\""),
            (&["--segment", "a=0", "--segment", "b=0"], "more than one"),
            (&[], "at least one"),
            (&["--segment", "a=0", "--burst", "0"], "--burst"),
            (&["--segment", "a=0", "--bogus"], "--bogus"),
            (&["--segment", "a=0", "--port-mac", "0"], "PORT=MAC"),
            (
                &["--segment", "a=0", "--port-mac", "0=zz"],
                "not an Ethernet MAC",
            ),
            (
                &["--segment", "a=0", "--port-mac", "0=01:00:5e:00:00:01"],
                "multicast",
            ),
            (
                &["--segment", "a=0", "--port-mac", "5=02:00:00:00:00:05"],
                "port 5",
            ),
        ] {
            let err = Options::parse(&args(bad)).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad:?}: {err}");
        }
    }
}
