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
    fn stats_format_parses() {
        assert_eq!("json".parse::<StatsFormat>(), Ok(StatsFormat::Json));
        assert!("xml".parse::<StatsFormat>().unwrap_err().contains("xml"));
    }
}
