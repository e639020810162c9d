//! The statistics side: the periodic "Port statistics" block or JSON report while forwarding
//! runs (on the monitor thread, never on a forwarding lcore), and the per-port and probe
//! figures the final report is built from.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam::channel::{Receiver, Sender};
use dpdk::{Port, PortStats};

use super::engine::Snapshot;
use super::options::Mode;
use super::output::{self, Rates};
use super::probe::{Aggregate, ProbeReport};
use super::streams::Stream;
use crate::metrics::{Figures, ProbeFigures};
use crate::signal::Stop;
use crate::stats::{Pacing, PortCounters, PortPacing, PortSample, Report, ReportKind, StatsFormat};

/// A stream's published counters, whether what it sends carries probes, and its share of
/// `--tx-rate` when it is a paced generator.
#[derive(Debug, Clone)]
pub struct StreamCounters {
    pub stream: Stream,
    pub counters: Arc<PortCounters>,
    pub sends_probes: bool,
    pub target_pps: Option<u64>,
}

/// Which stall figure [`Accounts::pacing`] reads: the period's (taken, so the next period
/// starts afresh) or the whole run's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gauge {
    Period,
    Overall,
}

/// A period falls short when it offers less than this fraction below the target.
pub const SHORTFALL_TOLERANCE: f64 = 0.01;

/// The monitor's end of the lcores' probe snapshots.
#[derive(Debug)]
pub struct ProbeSync {
    pub epoch: Arc<AtomicU64>,
    pub snapshots: Receiver<Snapshot>,
    /// Per receiving lcore id, where its snapshots go back for reuse.
    pub spares: Vec<(u32, Sender<Snapshot>)>,
}

/// What statistics are computed from, during the run and at its end.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub ports: Vec<Port>,
    /// Ethdev counters when forwarding started.
    pub base: Vec<PortStats>,
    pub streams: Vec<StreamCounters>,
    /// Whether reports carry a `probe` object.
    pub report_probes: bool,
    /// This host's probe clock id and TSC frequency.
    pub clock: u16,
    pub hz: u64,
}

/// What the monitor thread needs.
#[derive(Debug)]
pub struct Monitor {
    pub period: Option<Duration>,
    pub format: StatsFormat,
    pub mode: Mode,
    pub accounts: Accounts,
    pub stop: Stop,
    pub probes: Option<ProbeSync>,
    /// Where the monitor leaves the receivers' probe figures for `/metrics` (about once a
    /// second): they live in the lcores' own tables, copied out only on the monitor's request,
    /// so the scrape thread reads the monitor's latest copy rather than asking the lcores.
    pub published: Option<Arc<Mutex<ProbeFigures>>>,
}

/// How often the monitor copies the receivers' probe figures out for `/metrics`.
const PUBLISH_PERIOD: Duration = Duration::from_secs(1);

impl Monitor {
    /// Prints periodic statistics until `stop`, then testpmd's stop announcement.
    pub fn run(self) {
        let start = Instant::now();
        let mut last = Last {
            at: start,
            software: self.software_samples(),
            ethdev: self.accounts.base.clone(),
        };
        let mut shown: Vec<Option<(PortStats, Instant)>> = vec![None; self.accounts.ports.len()];
        // testpmd shows the text block at once, then every period; a JSON report covers a
        // whole period, so the first comes after one.
        let mut next = match (self.format, self.period) {
            (StatsFormat::Json, Some(period)) => start + period,
            _ => start,
        };
        let mut published_at = start;
        loop {
            let mut wait = Duration::from_millis(200);
            if let (Some(slot), Some(p)) = (&self.published, &self.probes) {
                if published_at.elapsed() >= PUBLISH_PERIOD {
                    let mut agg = Aggregate::new(self.accounts.hz);
                    collect_snapshots(p, &mut agg);
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = agg.metrics();
                    published_at = Instant::now();
                }
            }
            if let Some(period) = self.period {
                let now = Instant::now();
                if now >= next {
                    match self.format {
                        StatsFormat::Text => self.print_text(&mut shown, &mut last),
                        StatsFormat::Json => self.print_json(&mut last),
                    }
                    while next <= now {
                        next += period;
                    }
                }
                wait = wait.min(next.saturating_duration_since(Instant::now()));
            }
            if self.stop.sleep(wait) {
                break;
            }
        }
        println!("Telling cores to stop...\nWaiting for lcores to finish...");
        let _ = std::io::stdout().flush();
    }

    fn print_text(&self, shown: &mut [Option<(PortStats, Instant)>], last: &mut Last) {
        let first = shown.iter().all(Option::is_none);
        let mut out = output::port_statistics_header();
        for (i, port) in self.accounts.ports.iter().enumerate() {
            let Ok(stats) = port.stats() else { continue };
            let now = Instant::now();
            let rates = match shown[i] {
                Some((prev, at)) => Rates::between(&prev, &stats, (now - at).as_nanos() as u64),
                None => Rates::default(),
            };
            shown[i] = Some((stats, now));
            out.push_str(&output::nic_stats(port.id(), &stats, &rates));
        }
        // Paced generators that fell short of --tx-rate say so under the block (not on the
        // first block, printed as forwarding starts).
        let now = Instant::now();
        let software = self.software_samples();
        let secs = (now - last.at).as_secs_f64();
        if !first && secs > 0.0 {
            if let Some(pacing) =
                self.accounts
                    .pacing(&software, &last.software, secs, Gauge::Period)
            {
                for p in pacing
                    .ports
                    .iter()
                    .filter(|p| p.short_by_more_than(SHORTFALL_TOLERANCE))
                {
                    out.push_str(&p.shortfall_warning(secs));
                    out.push('\n');
                }
            }
        }
        last.at = now;
        last.software = software;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
    }

    fn print_json(&self, last: &mut Last) {
        let now = Instant::now();
        let software = self.software_samples();
        let ethdev = self.ethdev_stats();
        let ports = samples(&software, &last.software, &ethdev, &last.ethdev);
        let mut report = Report::new(
            ReportKind::Period,
            "testpmd",
            self.mode.name(),
            (now - last.at).as_secs_f64(),
            ports,
        );
        let a = &self.accounts;
        if a.report_probes {
            let mut agg = Aggregate::new(a.hz);
            add_sent(&mut agg, &a.streams);
            if let Some(p) = &self.probes {
                collect_snapshots(p, &mut agg);
            }
            report.probe = Some(probe_json(&agg.report(a.clock)));
        }
        report.pacing = a.pacing(&software, &last.software, report.duration_s, Gauge::Period);
        report.print_json_line();
        *last = Last {
            at: now,
            software,
            ethdev,
        };
    }

    fn software_samples(&self) -> Vec<PortSample> {
        self.accounts.software_samples()
    }

    fn ethdev_stats(&self) -> Vec<PortStats> {
        self.accounts.ethdev_stats()
    }
}

impl Accounts {
    /// Cumulative software counters per port.
    pub fn software_samples(&self) -> Vec<PortSample> {
        software_samples(&self.ports, &self.streams)
    }

    /// What the paced generators offered between two cumulative samples `secs` apart, per
    /// transmitting port; `None` without `--tx-rate`.
    pub fn pacing(
        &self,
        now: &[PortSample],
        before: &[PortSample],
        secs: f64,
        gauge: Gauge,
    ) -> Option<Pacing> {
        let mut ports = Vec::new();
        for (n, b) in now.iter().zip(before) {
            let paced = self
                .streams
                .iter()
                .filter(|s| s.stream.tx_port == n.port && s.target_pps.is_some());
            let mut target = 0;
            let mut stall = 0;
            let mut any = false;
            for s in paced {
                any = true;
                target += s.target_pps.unwrap_or(0);
                stall = stall.max(match gauge {
                    Gauge::Period => s.counters.tx_gap.take_period(),
                    Gauge::Overall => s.counters.tx_gap.overall(),
                });
            }
            if !any {
                continue;
            }
            ports.push(PortPacing {
                port: n.port,
                target_pps: target,
                offered_pps: crate::stats::rate(n.tx_packets.saturating_sub(b.tx_packets), secs),
                longest_stall_ms: stall as f64 * 1e3 / self.hz.max(1) as f64,
            });
        }
        (!ports.is_empty()).then(|| Pacing::of(ports))
    }

    /// What a `/metrics` scrape shows: the same per-port figures as the final report, the
    /// paced generators' targets, and probe figures (live sent counts, the receivers' as the
    /// monitor last published them).
    pub fn figures(&self, started: Instant, published: Option<&Mutex<ProbeFigures>>) -> Figures {
        let software = self.software_samples();
        let zero: Vec<PortSample> = software
            .iter()
            .map(|s| PortSample {
                port: s.port,
                ..PortSample::default()
            })
            .collect();
        let ports = samples(&software, &zero, &self.ethdev_stats(), &self.base);
        let mut targets: Vec<(u16, u64)> = Vec::new();
        for s in &self.streams {
            if let Some(pps) = s.target_pps {
                match targets.iter_mut().find(|(p, _)| *p == s.stream.tx_port) {
                    Some((_, t)) => *t += pps,
                    None => targets.push((s.stream.tx_port, pps)),
                }
            }
        }
        let probe = self.report_probes.then(|| {
            let mut probe = published
                .map(|p| p.lock().unwrap_or_else(|e| e.into_inner()).clone())
                .unwrap_or_default();
            let mut sent = Aggregate::new(self.hz);
            add_sent(&mut sent, &self.streams);
            for s in sent.metrics().streams {
                match probe
                    .streams
                    .iter_mut()
                    .find(|r| (r.port, r.stream) == (s.port, s.stream))
                {
                    Some(r) => r.sent = s.sent,
                    None => probe.streams.push(s),
                }
            }
            probe
        });
        Figures {
            ports,
            drops: None,
            targets,
            elapsed_s: started.elapsed().as_secs_f64(),
            probe,
        }
    }

    /// Current ethdev counters per port.
    pub fn ethdev_stats(&self) -> Vec<PortStats> {
        self.ports
            .iter()
            .map(|p| p.stats().unwrap_or_default())
            .collect()
    }
}

struct Last {
    at: Instant,
    software: Vec<PortSample>,
    ethdev: Vec<PortStats>,
}

/// Asks every receiving lcore for a snapshot (by bumping the epoch), waits for them briefly,
/// adds them up and sends them back for reuse.
fn collect_snapshots(p: &ProbeSync, agg: &mut Aggregate) {
    p.epoch.fetch_add(1, Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_millis(500);
    let mut pending = p.spares.len();
    while pending > 0 {
        let Ok(snap) = p.snapshots.recv_deadline(deadline) else {
            break;
        };
        pending -= 1;
        agg.add_received(&snap.streams, snap.unknown);
        if let Some((_, back)) = p.spares.iter().find(|(l, _)| *l == snap.lcore) {
            let _ = back.send(snap);
        }
    }
}

/// Adds what each probe-sending stream sent.
pub fn add_sent(agg: &mut Aggregate, streams: &[StreamCounters]) {
    for s in streams.iter().filter(|s| s.sends_probes) {
        agg.add_sent(s.stream.tx_port, s.stream.id, s.counters.tx_packets.get());
    }
}

/// The `probe` object of a report.
pub fn probe_json(report: &ProbeReport) -> serde_json::Value {
    serde_json::to_value(report).expect("probe reports serialise")
}

/// Per-port software counters (what our lcores received, sent and dropped), cumulative.
pub fn software_samples(ports: &[Port], streams: &[StreamCounters]) -> Vec<PortSample> {
    ports
        .iter()
        .map(|p| {
            let port = p.id();
            let mut s = PortSample {
                port,
                ..PortSample::default()
            };
            for st in streams {
                if st.stream.rx_port == port {
                    s.rx_packets += st.counters.rx_packets.get();
                }
                if st.stream.tx_port == port {
                    s.tx_packets += st.counters.tx_packets.get();
                    s.tx_dropped += st.counters.tx_dropped.get();
                }
            }
            s
        })
        .collect()
}

/// Report samples between two points: packet counts from our counters, `rx_dropped` (the
/// PMD's `imissed`) and bytes from ethdev.
pub fn samples(
    software: &[PortSample],
    software_base: &[PortSample],
    ethdev: &[PortStats],
    ethdev_base: &[PortStats],
) -> Vec<PortSample> {
    software
        .iter()
        .zip(software_base)
        .zip(ethdev.iter().zip(ethdev_base))
        .map(|((s, sb), (e, eb))| {
            let d = delta(e, eb);
            PortSample {
                rx_dropped: d.imissed,
                rx_bytes: d.ibytes,
                tx_bytes: d.obytes,
                ..s.since(sb)
            }
        })
        .collect()
}

/// Ethdev counters since `base` (saturating, should a PMD reset them).
pub fn delta(now: &PortStats, base: &PortStats) -> PortStats {
    PortStats {
        ipackets: now.ipackets.saturating_sub(base.ipackets),
        opackets: now.opackets.saturating_sub(base.opackets),
        ibytes: now.ibytes.saturating_sub(base.ibytes),
        obytes: now.obytes.saturating_sub(base.obytes),
        imissed: now.imissed.saturating_sub(base.imissed),
        ierrors: now.ierrors.saturating_sub(base.ierrors),
        oerrors: now.oerrors.saturating_sub(base.oerrors),
        rx_nombuf: now.rx_nombuf.saturating_sub(base.rx_nombuf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_mix_software_packets_and_ethdev_bytes() {
        let sw = [PortSample {
            port: 3,
            rx_packets: 10,
            tx_packets: 20,
            tx_dropped: 2,
            ..Default::default()
        }];
        let sw_base = [PortSample {
            port: 3,
            rx_packets: 4,
            ..Default::default()
        }];
        let e = [PortStats {
            ibytes: 640,
            obytes: 1280,
            imissed: 7,
            ..Default::default()
        }];
        let e_base = [PortStats {
            ibytes: 64,
            ..Default::default()
        }];
        let s = samples(&sw, &sw_base, &e, &e_base);
        assert_eq!(
            s,
            vec![PortSample {
                port: 3,
                rx_packets: 6,
                tx_packets: 20,
                rx_dropped: 7,
                tx_dropped: 2,
                rx_bytes: 576,
                tx_bytes: 1280,
            }]
        );
    }
}
