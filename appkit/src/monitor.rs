//! The statistics side of a forwarding app: per-lcore counter tables the fast path writes, and
//! a [`Reporter`] that reads them, prints the periodic output (the app's text block, or one
//! JSON [`Report`] per period) and the final summary (stdout and `--stats-file`).
//!
//! Periodic reporting runs on the monitor thread of [`crate::lcores::run`], never on a
//! forwarding lcore, so printing cannot stall the fast path.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::metrics::{Exporter, Figures, MetricsError};
use crate::runopts::RunOptions;
use crate::signal::Stop;
use crate::stats::{PortCounters, PortDrops, PortSample, Report, ReportKind, StatsFormat};

pub use dpdk::MAX_PORTS;

/// What one lcore counted, per port id. Only that lcore writes it.
#[derive(Debug)]
pub struct LcoreCounters {
    ports: Box<[PortCounters]>,
}

impl Default for LcoreCounters {
    fn default() -> Self {
        LcoreCounters {
            ports: (0..MAX_PORTS).map(|_| PortCounters::default()).collect(),
        }
    }
}

impl LcoreCounters {
    /// The counters of `port` (ids are below [`MAX_PORTS`], as ethdev guarantees).
    #[inline]
    pub fn port(&self, port: u16) -> &PortCounters {
        &self.ports[usize::from(port)]
    }
}

/// Sums the lcores' counters for each of `ports`.
pub fn sample(lcores: &[Arc<LcoreCounters>], ports: &[u16]) -> Vec<PortSample> {
    ports
        .iter()
        .map(|&port| {
            let mut total = PortSample {
                port,
                ..PortSample::default()
            };
            for lcore in lcores {
                total.accumulate(&lcore.port(port).sample(port));
            }
            total
        })
        .collect()
}

/// Renders the text statistics block of an app from cumulative per-port counters.
pub type TextBlock = fn(&[PortSample]) -> String;

/// Prints an app's statistics: periodically while it forwards, and once at the end.
#[derive(Clone)]
pub struct Reporter {
    app: &'static str,
    mode: String,
    /// Periodic output interval; `None` disables it (the final summary is still printed).
    period: Option<Duration>,
    format: StatsFormat,
    stats_file: Option<PathBuf>,
    metrics_addr: Option<SocketAddr>,
    started: Instant,
    sample: Arc<dyn Fn() -> Vec<PortSample> + Send + Sync>,
    drops: Option<Arc<dyn Fn() -> Vec<PortDrops> + Send + Sync>>,
    text: TextBlock,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("app", &self.app)
            .field("mode", &self.mode)
            .field("period", &self.period)
            .field("format", &self.format)
            .finish()
    }
}

impl Reporter {
    /// A reporter whose clock starts now (call it when forwarding starts).
    pub fn new(
        app: &'static str,
        mode: &str,
        period: Option<Duration>,
        run: &RunOptions,
        sample: impl Fn() -> Vec<PortSample> + Send + Sync + 'static,
        text: TextBlock,
    ) -> Self {
        Reporter {
            app,
            mode: mode.to_owned(),
            period,
            format: run.stats_format,
            stats_file: run.stats_file.clone(),
            metrics_addr: run.metrics_addr,
            started: Instant::now(),
            sample: Arc::new(sample),
            drops: None,
            text,
        }
    }

    /// Adds the drop causes `drops` reads to every JSON report (cumulative, also in periodic
    /// reports).
    pub fn with_drops(
        mut self,
        drops: impl Fn() -> Vec<PortDrops> + Send + Sync + 'static,
    ) -> Self {
        self.drops = Some(Arc::new(drops));
        self
    }

    /// What a Prometheus scrape reads now: the same counters as the reports.
    pub fn figures(&self) -> Figures {
        Figures {
            ports: (self.sample)(),
            drops: self.drops.as_ref().map(|d| d()),
            elapsed_s: self.started.elapsed().as_secs_f64(),
            ..Figures::default()
        }
    }

    /// Registers the app's telemetry commands and starts the `/metrics` endpoint if
    /// `--metrics-addr` asked for one ([`crate::metrics::observe`]); it serves until the
    /// returned exporter is dropped.
    pub fn serve_metrics(&self) -> Result<Option<Exporter>, MetricsError> {
        let me = self.clone();
        crate::metrics::observe(
            self.metrics_addr,
            self.app,
            &self.mode,
            Arc::new(move || me.figures()),
        )
    }

    fn report(&self, kind: ReportKind, secs: f64, ports: Vec<PortSample>) -> Report {
        let mut report = Report::new(kind, self.app, &self.mode, secs, ports);
        report.drops = self.drops.as_ref().map(|d| d());
        report
    }

    /// Prints statistics every period until `stop` is set. In text mode the first block comes
    /// at once, as the C apps print theirs on the first timer tick; JSON reports carry the
    /// counters of their own period.
    pub fn periodic(&self, stop: &Stop) {
        let Some(period) = self.period else {
            while !stop.sleep(Duration::from_secs(3600)) {}
            return;
        };
        let mut last = (self.sample)();
        let mut last_at = Instant::now();
        if self.format == StatsFormat::Text {
            print_text(&(self.text)(&last));
        }
        while !stop.sleep(period) {
            let now = (self.sample)();
            let at = Instant::now();
            match self.format {
                StatsFormat::Text => print_text(&(self.text)(&now)),
                StatsFormat::Json => {
                    let delta = now.iter().zip(&last).map(|(n, l)| n.since(l)).collect();
                    let secs = at.duration_since(last_at).as_secs_f64();
                    self.report(ReportKind::Period, secs, delta)
                        .print_json_line();
                }
            }
            last = now;
            last_at = at;
        }
    }

    /// The final statistics (call after the lcores stopped): the text block or a JSON summary
    /// line on stdout, and the `--stats-file` summary if one was asked for.
    pub fn summary(&self) -> std::io::Result<Report> {
        let ports = (self.sample)();
        let secs = self.started.elapsed().as_secs_f64();
        match self.format {
            StatsFormat::Text => print_text(&(self.text)(&ports)),
            StatsFormat::Json => {}
        }
        let report = self.report(ReportKind::Summary, secs, ports);
        if self.format == StatsFormat::Json {
            report.print_json_line();
        }
        if let Some(path) = &self.stats_file {
            report.write_file(path)?;
        }
        Ok(report)
    }
}

fn print_text(block: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(block.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_lcores_per_port() {
        let a = Arc::new(LcoreCounters::default());
        let b = Arc::new(LcoreCounters::default());
        a.port(0).rx_packets.add(3);
        b.port(0).rx_packets.add(4);
        b.port(1).tx_dropped.add(2);
        let s = sample(&[a, b], &[0, 1]);
        assert_eq!((s[0].port, s[0].rx_packets), (0, 7));
        assert_eq!((s[1].port, s[1].tx_dropped), (1, 2));
    }

    #[test]
    fn summary_goes_to_the_stats_file() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunOptions {
            stats_format: StatsFormat::Json,
            stats_file: Some(dir.path().join("s.json")),
            ..RunOptions::default()
        };
        let counters = Arc::new(LcoreCounters::default());
        counters.port(1).tx_packets.add(9);
        let c = counters.clone();
        let r = Reporter::new(
            "l2fwd",
            "mac-updating",
            None,
            &run,
            move || sample(std::slice::from_ref(&c), &[1]),
            |_| String::new(),
        );
        let report = r.summary().unwrap();
        assert_eq!(report.totals.tx_packets, 9);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.json")).unwrap())
                .unwrap();
        assert_eq!(v["kind"], "summary");
        assert_eq!(v["ports"][0]["port"], 1);
    }
}
