//! Counters the forwarding lcores publish, and the reports built from them: one JSON object per
//! period with `--stats-format json`, and the final summary written by `--stats-file`. Every app
//! (testpmd, l2fwd, l3fwd) reports through these types, so the shapes are the same everywhere.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// A counter written by one lcore (its owner) and read by any thread.
///
/// `add` is a relaxed load and store rather than an atomic read-modify-write: with a single
/// writer nothing is lost, and the fast path pays no locked instruction.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The largest value one lcore saw (the longest stall of a generator, in TSC ticks), taken
/// period by period by the monitor.
///
/// The owning lcore raises `current` with one relaxed load and, rarely, an atomic max; the
/// monitor swaps it to zero once a period and is the only writer of `overall`.
#[derive(Debug, Default)]
pub struct MaxGauge {
    current: AtomicU64,
    overall: AtomicU64,
}

impl MaxGauge {
    #[inline]
    pub fn record(&self, value: u64) {
        if value > self.current.load(Ordering::Relaxed) {
            self.current.fetch_max(value, Ordering::Relaxed);
        }
    }

    /// The largest value since the previous call (monitor thread only).
    pub fn take_period(&self) -> u64 {
        let v = self.current.swap(0, Ordering::Relaxed);
        self.overall.fetch_max(v, Ordering::Relaxed);
        v
    }

    /// The largest value ever recorded.
    pub fn overall(&self) -> u64 {
        self.overall
            .load(Ordering::Relaxed)
            .max(self.current.load(Ordering::Relaxed))
    }
}

/// What one lcore counted for one port (or one stream). Cache-line aligned so that lcores
/// updating their own counters do not share lines.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct PortCounters {
    pub rx_packets: Counter,
    pub rx_bytes: Counter,
    pub tx_packets: Counter,
    pub tx_bytes: Counter,
    /// Packets received but not forwarded or transmitted (e.g. l3fwd drops).
    pub rx_dropped: Counter,
    /// Packets the PMD did not accept and that were freed.
    pub tx_dropped: Counter,
    /// Longest interval between two polls of a paced generator (TSC ticks).
    pub tx_gap: MaxGauge,
}

impl PortCounters {
    /// Current values, attributed to `port`.
    pub fn sample(&self, port: u16) -> PortSample {
        PortSample {
            port,
            rx_packets: self.rx_packets.get(),
            tx_packets: self.tx_packets.get(),
            rx_dropped: self.rx_dropped.get(),
            tx_dropped: self.tx_dropped.get(),
            rx_bytes: self.rx_bytes.get(),
            tx_bytes: self.tx_bytes.get(),
        }
    }
}

/// Counters of one port in a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PortSample {
    pub port: u16,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

impl PortSample {
    /// Adds another sample's counters (same port, other lcore or stream).
    pub fn accumulate(&mut self, other: &PortSample) {
        self.rx_packets += other.rx_packets;
        self.tx_packets += other.tx_packets;
        self.rx_dropped += other.rx_dropped;
        self.tx_dropped += other.tx_dropped;
        self.rx_bytes += other.rx_bytes;
        self.tx_bytes += other.tx_bytes;
    }

    /// Counters since `earlier` (saturating, in case a device reset its counters).
    pub fn since(&self, earlier: &PortSample) -> PortSample {
        PortSample {
            port: self.port,
            rx_packets: self.rx_packets.saturating_sub(earlier.rx_packets),
            tx_packets: self.tx_packets.saturating_sub(earlier.tx_packets),
            rx_dropped: self.rx_dropped.saturating_sub(earlier.rx_dropped),
            tx_dropped: self.tx_dropped.saturating_sub(earlier.tx_dropped),
            rx_bytes: self.rx_bytes.saturating_sub(earlier.rx_bytes),
            tx_bytes: self.tx_bytes.saturating_sub(earlier.tx_bytes),
        }
    }
}

/// Sums over all ports. `tx_packets` counts packets the PMDs accepted and `rx_packets` packets
/// received, so a sender's and a receiver's totals can be compared exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
}

impl Totals {
    pub fn of(ports: &[PortSample]) -> Self {
        ports.iter().fold(Totals::default(), |t, p| Totals {
            rx_packets: t.rx_packets + p.rx_packets,
            tx_packets: t.tx_packets + p.tx_packets,
            rx_dropped: t.rx_dropped + p.rx_dropped,
            tx_dropped: t.tx_dropped + p.tx_dropped,
        })
    }
}

/// A report: one per period (`"kind": "period"`, counters since the previous period, with
/// `duration_s` the period's length) or the final summary (`"kind": "summary"`, counters since
/// forwarding started).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub kind: ReportKind,
    pub app: &'static str,
    pub mode: String,
    pub duration_s: f64,
    pub ports: Vec<PortSample>,
    pub totals: Totals,
    /// Probe accounting (testpmd modes that send or see probes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<serde_json::Value>,
    /// What paced generators (`--tx-rate`) offered against their target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pacing: Option<Pacing>,
    /// Why frames did not leave a forwarder, per port and cause (the relay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drops: Option<Vec<PortDrops>>,
}

/// Frames a forwarder received that did not leave it, by cause. `filtered` counts against the
/// port they arrived on (its `rx_dropped`), the others against the port they were for (their
/// sum is that port's `tx_dropped`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PortDrops {
    pub port: u16,
    /// No port to go to (malformed frame, or nowhere to flood).
    pub filtered: u64,
    /// The port's ring and the forwarder's queue for it were both full.
    pub queue_full: u64,
    /// No mbuf for a flooded copy.
    pub no_mbuf: u64,
    /// Still queued for the port when the forwarder stopped (its peer had gone or stalled).
    pub at_exit: u64,
}

/// Offered load against `--tx-rate`, over a period or the whole run.
///
/// `offered_pps` counts the packets the PMDs accepted, so it is what the wire was offered; it
/// falls short of `target_pps` when the generator's lcore was stalled for longer than the
/// token bucket's credit cap (`longest_stall_ms` shows the worst stall) or when the port
/// refused packets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pacing {
    /// Sum over the generating ports.
    pub target_pps: u64,
    pub offered_pps: f64,
    pub longest_stall_ms: f64,
    pub ports: Vec<PortPacing>,
}

/// [`Pacing`] of one port.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortPacing {
    pub port: u16,
    pub target_pps: u64,
    pub offered_pps: f64,
    pub longest_stall_ms: f64,
}

impl PortPacing {
    /// Whether the port offered less than `1 - tolerance` of its target.
    pub fn short_by_more_than(&self, tolerance: f64) -> bool {
        self.offered_pps < self.target_pps as f64 * (1.0 - tolerance)
    }

    /// The warning the text output prints for a period that fell short.
    pub fn shortfall_warning(&self, period_s: f64) -> String {
        let short = 100.0 * (1.0 - self.offered_pps / self.target_pps as f64);
        format!(
            "Warning: port {} offered {:.0} pps over the last {period_s:.1} s, {short:.1} % below \
             --tx-rate {} (longest stall of its generator {:.1} ms; a generator stalled for \
             longer than {} ms, by a busy or shared CPU, cannot catch up, and a port slower \
             than the rate refuses the rest)",
            self.port,
            self.offered_pps,
            self.target_pps,
            self.longest_stall_ms,
            crate::pacing::CREDIT_CAP.as_millis()
        )
    }
}

impl Pacing {
    /// Sums the ports.
    pub fn of(ports: Vec<PortPacing>) -> Pacing {
        Pacing {
            target_pps: ports.iter().map(|p| p.target_pps).sum(),
            offered_pps: ports.iter().map(|p| p.offered_pps).sum(),
            longest_stall_ms: ports.iter().map(|p| p.longest_stall_ms).fold(0.0, f64::max),
            ports,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    Period,
    Summary,
}

impl Report {
    pub fn new(
        kind: ReportKind,
        app: &'static str,
        mode: &str,
        duration_s: f64,
        ports: Vec<PortSample>,
    ) -> Self {
        let totals = Totals::of(&ports);
        Report {
            kind,
            app,
            mode: mode.to_owned(),
            duration_s,
            ports,
            totals,
            probe: None,
            pacing: None,
            drops: None,
        }
    }

    /// Prints the report as one line of JSON on stdout.
    pub fn print_json_line(&self) {
        let line = serde_json::to_string(self).expect("reports serialise");
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// Writes the report as a JSON document to `path` (replacing it atomically).
    pub fn write_file(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("tmp");
        let mut text = serde_json::to_string_pretty(self).expect("reports serialise");
        text.push('\n');
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    }
}

/// How periodic statistics are printed (`--stats-format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatsFormat {
    /// The mirrored C application's text blocks.
    #[default]
    Text,
    /// One JSON [`Report`] per line.
    Json,
}

impl std::str::FromStr for StatsFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(StatsFormat::Text),
            "json" => Ok(StatsFormat::Json),
            other => Err(format!(
                "invalid --stats-format {other:?}: expected text or json"
            )),
        }
    }
}

/// Packets per second from a count over `secs` (0 when no time passed).
pub fn rate(count: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_accumulate_and_report() {
        let c = PortCounters::default();
        c.rx_packets.add(5);
        c.tx_packets.add(3);
        c.tx_dropped.add(2);
        let mut a = c.sample(1);
        let b = a;
        a.accumulate(&b);
        assert_eq!((a.rx_packets, a.tx_packets, a.tx_dropped), (10, 6, 4));
        assert_eq!(a.since(&b).rx_packets, 5);
        let r = Report::new(ReportKind::Summary, "testpmd", "io", 1.5, vec![a, b]);
        assert_eq!(
            r.totals,
            Totals {
                rx_packets: 15,
                tx_packets: 9,
                rx_dropped: 0,
                tx_dropped: 6
            }
        );
        let v: serde_json::Value = serde_json::to_value(&r).unwrap();
        for key in ["app", "mode", "duration_s", "ports", "totals"] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["kind"], "summary");
        assert_eq!(v["ports"][0]["rx_bytes"], 0);
        assert!(v.get("probe").is_none());
    }

    #[test]
    fn writes_summary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stats.json");
        Report::new(ReportKind::Summary, "l2fwd", "l2fwd", 2.0, vec![])
            .write_file(&path)
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["app"], "l2fwd");
    }

    #[test]
    fn max_gauge_takes_periods_and_keeps_the_overall_max() {
        let g = MaxGauge::default();
        g.record(5);
        g.record(3);
        assert_eq!(g.take_period(), 5);
        g.record(2);
        assert_eq!(g.overall(), 5);
        assert_eq!(g.take_period(), 2);
        assert_eq!(g.take_period(), 0);
        g.record(9);
        assert_eq!(g.overall(), 9, "the running period counts");
    }

    #[test]
    fn pacing_sums_ports_and_words_its_warning() {
        let port = |port, offered_pps| PortPacing {
            port,
            target_pps: 100_000,
            offered_pps,
            longest_stall_ms: f64::from(port) * 10.0,
        };
        let p = Pacing::of(vec![port(0, 99_500.0), port(1, 98_575.0)]);
        assert_eq!((p.target_pps, p.offered_pps), (200_000, 198_075.0));
        assert_eq!(p.longest_stall_ms, 10.0);
        assert!(!p.ports[0].short_by_more_than(0.01));
        assert!(p.ports[1].short_by_more_than(0.01));
        assert_eq!(
            p.ports[1].shortfall_warning(2.0),
            "Warning: port 1 offered 98575 pps over the last 2.0 s, 1.4 % below --tx-rate \
             100000 (longest stall of its generator 10.0 ms; a generator stalled for longer \
             than 50 ms, by a busy or shared CPU, cannot catch up, and a port slower than the \
             rate refuses the rest)"
        );
    }

    #[test]
    fn stats_format_parses() {
        assert_eq!("json".parse::<StatsFormat>(), Ok(StatsFormat::Json));
        assert!("xml".parse::<StatsFormat>().unwrap_err().contains("xml"));
    }
}
