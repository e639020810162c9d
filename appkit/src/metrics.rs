//! `--metrics-addr`: the app's counters in the Prometheus (OpenMetrics) text exposition at
//! `/metrics`, so a cluster's Prometheus scrapes a traffic test like any other workload.
//!
//! The figures are read at scrape time by a [`prometheus_client`] custom collector from the
//! same single-writer counters the monitor reads ([`crate::stats::Counter`]): the forwarding
//! lcores never see the exporter (no lock, no allocation, no extra store per packet), and the
//! wire format is the Prometheus project's encoder, not ours. The HTTP side is `tiny_http` on
//! one thread of its own, which also keeps a slow scraper away from the monitor's periods.
//!
//! Names follow the Prometheus conventions: a `dpdk_app_` prefix, `_total` on counters, base
//! units (bytes, seconds) in the name, and the labels `app`, `mode`, `port` and `stream`.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::thread::JoinHandle;

use dpdk::telemetry::{self, Dict};
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use thiserror::Error;

use crate::stats::{PortDrops, PortSample};

/// The content type of the OpenMetrics text `prometheus_client` writes; Prometheus asks for it.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The classic text format (0.0.4), for clients that do not ask for OpenMetrics (`promtool
/// check metrics`, `curl`, older scrapers).
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The classic text format of an OpenMetrics exposition written by `prometheus_client`: the
/// two differ only in how a counter's family is named (`# TYPE x counter` with samples
/// `x_total` in OpenMetrics, `x_total` throughout in 0.0.4), in `# UNIT` and in `# EOF`, which
/// 0.0.4 lacks. Everything else (escaping, numbers, histograms) is the library's text as is.
pub fn to_text_format(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|tag| {
            let rest = line.strip_prefix(tag)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{tag}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// Upper bounds of the latency histogram's buckets, in seconds: 1-2-5 steps from 1 µs (a
/// virtio ring round trip) to 1 s (a stalled peer), so `histogram_quantile` has resolution
/// where vDPA latencies are.
pub const LATENCY_BUCKETS_S: [f64; 19] = [
    1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1,
    0.2, 0.5, 1.0,
];

/// Parses `--metrics-addr HOST:PORT` (or `METRICS_ADDR`): an IP address or a host name that
/// resolves, and a port.
pub fn parse_addr(option: &str, v: &str) -> Result<SocketAddr, String> {
    let bad = |why: String| format!("invalid {option} {v:?}: {why}");
    if v.rsplit_once(':')
        .is_none_or(|(h, p)| h.is_empty() || p.is_empty())
    {
        return Err(bad(
            "expected HOST:PORT, e.g. 0.0.0.0:9091 or [::1]:9091".into()
        ));
    }
    let mut addrs = v.to_socket_addrs().map_err(|e| {
        bad(format!(
            "expected HOST:PORT with a port from 0 to 65535 ({e})"
        ))
    })?;
    addrs
        .next()
        .ok_or_else(|| bad("the host resolves to no address".into()))
}

/// What every engine exposes, read at each scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Cumulative counters per port since forwarding started.
    pub ports: Vec<PortSample>,
    /// Drop causes per port where the app tells them apart (the relay); otherwise the ports'
    /// `rx_dropped` and `tx_dropped` are the causes `rx` and `tx`.
    pub drops: Option<Vec<PortDrops>>,
    /// `--tx-rate` per transmitting port (packets per second), for paced generators.
    pub targets: Vec<(u16, u64)>,
    /// Seconds since forwarding started (the offered rate is `tx_packets` over it).
    pub elapsed_s: f64,
    /// Probe accounting (testpmd modes that send or receive probes).
    pub probe: Option<ProbeFigures>,
}

/// Probe accounting of one (port, stream): the TX port of a sent stream, the RX port of a
/// received one, as in the JSON reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamFigures {
    pub port: u16,
    pub stream: u16,
    /// `None` for a stream this process only receives.
    pub sent: Option<u64>,
    /// Whether this process receives the stream (the figures below apply).
    pub receives: bool,
    pub received: u64,
    pub lost: u64,
    pub reordered: u64,
    pub duplicated: u64,
}

/// Probe latencies as a Prometheus histogram.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Latency {
    /// Sum of all samples, in seconds.
    pub sum_s: f64,
    pub count: u64,
    /// Cumulative counts at each of [`LATENCY_BUCKETS_S`] (`le` in seconds); `+Inf` is `count`.
    pub buckets: Vec<(f64, u64)>,
}

/// Probe figures of a scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProbeFigures {
    pub streams: Vec<StreamFigures>,
    pub latency: Option<Latency>,
}

/// Where a scrape gets its figures: a closure over the app's counters.
pub type Source = Arc<dyn Fn() -> Figures + Send + Sync>;

/// The custom collector: reads `source` and encodes it at every scrape.
struct Collector {
    app: &'static str,
    mode: String,
    source: Source,
}

impl fmt::Debug for Collector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Collector")
            .field("app", &self.app)
            .field("mode", &self.mode)
            .finish()
    }
}

/// Reads one figure of a stream, `None` where it does not apply (received figures of a sent
/// stream).
type StreamGetter = fn(&StreamFigures) -> Option<u64>;

type Labels<'a> = Vec<(&'static str, &'a str)>;

impl Collector {
    fn labels<'a>(&'a self, more: &[(&'static str, &'a str)]) -> Labels<'a> {
        let mut l = vec![("app", self.app), ("mode", self.mode.as_str())];
        l.extend_from_slice(more);
        l
    }

    /// One counter family with one sample per item of `rows`.
    fn counters(
        &self,
        encoder: &mut DescriptorEncoder,
        (name, help, unit): (&str, &str, Option<&Unit>),
        rows: &[(Vec<(&'static str, String)>, u64)],
    ) -> fmt::Result {
        if rows.is_empty() {
            return Ok(());
        }
        let mut family = encoder.encode_descriptor(name, help, unit, MetricType::Counter)?;
        for (labels, v) in rows {
            let mut l = self.labels(&[]);
            l.extend(labels.iter().map(|(k, v)| (*k, v.as_str())));
            ConstCounter::new(*v).encode(family.encode_family(&l)?)?;
        }
        Ok(())
    }

    fn gauges(
        &self,
        encoder: &mut DescriptorEncoder,
        (name, help): (&str, &str),
        rows: &[(Vec<(&'static str, String)>, f64)],
    ) -> fmt::Result {
        if rows.is_empty() {
            return Ok(());
        }
        let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
        for (labels, v) in rows {
            let mut l = self.labels(&[]);
            l.extend(labels.iter().map(|(k, v)| (*k, v.as_str())));
            ConstGauge::new(*v).encode(family.encode_family(&l)?)?;
        }
        Ok(())
    }
}

fn port(p: u16) -> Vec<(&'static str, String)> {
    vec![("port", p.to_string())]
}

impl prometheus_client::collector::Collector for Collector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let f = (self.source)();
        // A gauge at 1 rather than OpenMetrics' `info` type, which the classic text format
        // (promtool, older scrapers) does not know; `prometheus_build_info` does the same.
        let version = env!("CARGO_PKG_VERSION");
        let build = [(vec![("version", version.to_owned())], 1.0)];
        self.gauges(
            &mut encoder,
            (
                "build_info",
                "Which app, forwarding mode and version this is (always 1).",
            ),
            &build,
        )?;
        let per_port = |get: fn(&PortSample) -> u64| -> Vec<_> {
            f.ports.iter().map(|p| (port(p.port), get(p))).collect()
        };
        self.counters(
            &mut encoder,
            (
                "port_rx_packets",
                "Packets the app received on the port.",
                None,
            ),
            &per_port(|p| p.rx_packets),
        )?;
        self.counters(
            &mut encoder,
            (
                "port_tx_packets",
                "Packets the port's PMD accepted for transmission.",
                None,
            ),
            &per_port(|p| p.tx_packets),
        )?;
        self.counters(
            &mut encoder,
            ("port_rx", "Bytes received on the port.", Some(&Unit::Bytes)),
            &per_port(|p| p.rx_bytes),
        )?;
        self.counters(
            &mut encoder,
            (
                "port_tx",
                "Bytes transmitted on the port.",
                Some(&Unit::Bytes),
            ),
            &per_port(|p| p.tx_bytes),
        )?;
        let drops: Vec<_> = match &f.drops {
            Some(causes) => causes
                .iter()
                .flat_map(|d| {
                    [
                        ("filtered", d.filtered),
                        ("queue_full", d.queue_full),
                        ("no_mbuf", d.no_mbuf),
                        ("at_exit", d.at_exit),
                    ]
                    .map(|(cause, n)| {
                        (
                            vec![("port", d.port.to_string()), ("cause", cause.to_owned())],
                            n,
                        )
                    })
                })
                .collect(),
            None => f
                .ports
                .iter()
                .flat_map(|p| {
                    [("rx", p.rx_dropped), ("tx", p.tx_dropped)].map(|(cause, n)| {
                        (
                            vec![("port", p.port.to_string()), ("cause", cause.to_owned())],
                            n,
                        )
                    })
                })
                .collect(),
        };
        self.counters(
            &mut encoder,
            (
                "port_dropped_packets",
                "Packets dropped, by cause: rx = received and not forwarded (or missed by the \
                 PMD), tx = refused by the PMD and freed; the relay tells filtered, queue_full, \
                 no_mbuf and at_exit apart.",
                None,
            ),
            &drops,
        )?;
        let targets: Vec<_> = f
            .targets
            .iter()
            .map(|&(p, pps)| (port(p), pps as f64))
            .collect();
        self.gauges(
            &mut encoder,
            (
                "port_tx_target_packets_per_second",
                "The --tx-rate a paced generator aims at on the port.",
            ),
            &targets,
        )?;
        let offered: Vec<_> = f
            .targets
            .iter()
            .map(|&(p, _)| {
                let tx = f
                    .ports
                    .iter()
                    .find(|s| s.port == p)
                    .map_or(0, |s| s.tx_packets);
                (port(p), crate::stats::rate(tx, f.elapsed_s))
            })
            .collect();
        self.gauges(
            &mut encoder,
            (
                "port_tx_offered_packets_per_second",
                "Packets per second the port's PMD accepted since forwarding started (use \
                 rate(dpdk_app_port_tx_packets_total[1m]) for a window).",
            ),
            &offered,
        )?;
        if let Some(probe) = &f.probe {
            self.probe(&mut encoder, probe)?;
        }
        Ok(())
    }
}

impl Collector {
    fn probe(&self, encoder: &mut DescriptorEncoder, probe: &ProbeFigures) -> fmt::Result {
        let stream = |s: &StreamFigures| {
            vec![
                ("port", s.port.to_string()),
                ("stream", s.stream.to_string()),
            ]
        };
        let rows = |get: StreamGetter| -> Vec<_> {
            probe
                .streams
                .iter()
                .filter_map(|s| get(s).map(|v| (stream(s), v)))
                .collect()
        };
        let counters: [(&str, &str, StreamGetter); 4] = [
            (
                "probe_sent_packets",
                "Probe packets sent on the stream (labelled with its TX port).",
                |s| s.sent,
            ),
            (
                "probe_received_packets",
                "Probe packets of the stream received (labelled with the RX port).",
                |s| s.receives.then_some(s.received),
            ),
            (
                "probe_reordered_packets",
                "Probe packets that arrived after a later one of their stream.",
                |s| s.receives.then_some(s.reordered),
            ),
            (
                "probe_duplicated_packets",
                "Probe packets that arrived more than once.",
                |s| s.receives.then_some(s.duplicated),
            ),
        ];
        for (name, help, get) in counters {
            self.counters(encoder, (name, help, None), &rows(get))?;
        }
        // Loss can shrink when a late probe fills a gap, so it is a gauge, not a counter.
        let lost: Vec<_> = rows(|s| s.receives.then_some(s.lost))
            .into_iter()
            .map(|(l, v)| (l, v as f64))
            .collect();
        self.gauges(
            encoder,
            (
                "probe_lost_packets",
                "Probe packets of the stream missing from the sequence so far.",
            ),
            &lost,
        )?;
        if let Some(lat) = &probe.latency {
            let mut family = encoder.encode_descriptor(
                "probe_latency_seconds",
                "One-way latency of probes (same-host TSC clock), all streams.",
                None,
                MetricType::Histogram,
            )?;
            let labels = self.labels(&[]);
            let mut buckets = lat.buckets.clone();
            // prometheus_client writes the bound f64::MAX as `+Inf`.
            buckets.push((f64::MAX, lat.count));
            // prometheus_client's encoder takes per-bucket counts and accumulates them.
            let mut prev = 0;
            let per_bucket: Vec<(f64, u64)> = buckets
                .iter()
                .map(|&(le, cum)| {
                    let n = cum.saturating_sub(prev);
                    prev = prev.max(cum);
                    (le, n)
                })
                .collect();
            family.encode_family(&labels)?.encode_histogram::<Labels>(
                lat.sum_s,
                lat.count,
                &per_bucket,
                None,
            )?;
        }
        Ok(())
    }
}

/// The `/metrics` text of one scrape.
pub fn render(app: &'static str, mode: &str, source: Source) -> String {
    let mut registry = Registry::with_prefix("dpdk_app");
    registry.register_collector(Box::new(Collector {
        app,
        mode: mode.to_owned(),
        source,
    }));
    let mut out = String::new();
    // Writing into a String cannot fail; a collector error would be a bug in the names.
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &registry) {
        tracing::error!("encoding the metrics failed: {e}");
    }
    out
}

/// The figures of a scrape as DPDK telemetry dicts, for `/dpdk_app/stats`, `/dpdk_app/probe`
/// and `/dpdk_app/info`: the same numbers, keyed `portN/...` and `portN/streamM/...`.
pub fn telemetry_stats(f: &Figures) -> Dict {
    let mut d = Dict::new();
    d.u64("elapsed_ms", (f.elapsed_s * 1e3) as u64);
    for p in &f.ports {
        let n = p.port;
        d.u64(format!("port{n}/rx_packets"), p.rx_packets)
            .u64(format!("port{n}/tx_packets"), p.tx_packets)
            .u64(format!("port{n}/rx_bytes"), p.rx_bytes)
            .u64(format!("port{n}/tx_bytes"), p.tx_bytes)
            .u64(format!("port{n}/rx_dropped"), p.rx_dropped)
            .u64(format!("port{n}/tx_dropped"), p.tx_dropped);
    }
    for &(n, pps) in &f.targets {
        d.u64(format!("port{n}/tx_target_pps"), pps);
    }
    d
}

/// See [`telemetry_stats`].
pub fn telemetry_probe(f: &Figures) -> Dict {
    let mut d = Dict::new();
    let Some(probe) = &f.probe else {
        return d;
    };
    for s in &probe.streams {
        let key = format!("port{}/stream{}", s.port, s.stream);
        if let Some(sent) = s.sent {
            d.u64(format!("{key}/sent"), sent);
        }
        if s.receives {
            d.u64(format!("{key}/received"), s.received)
                .u64(format!("{key}/lost"), s.lost)
                .u64(format!("{key}/reordered"), s.reordered)
                .u64(format!("{key}/duplicated"), s.duplicated);
        }
    }
    if let Some(lat) = &probe.latency {
        d.u64("latency/count", lat.count)
            .u64("latency/sum_ns", (lat.sum_s * 1e9) as u64);
    }
    d
}

/// Registers `/dpdk_app/stats`, `/dpdk_app/probe` and `/dpdk_app/info` on DPDK's telemetry
/// socket, answering from `source` like `/metrics`; then starts the `/metrics` endpoint if
/// `addr` asks for one. A telemetry registration that fails is a warning: the app forwards
/// without it, as the C apps run without telemetry.
pub fn observe(
    addr: Option<SocketAddr>,
    app: &'static str,
    mode: &str,
    source: Source,
) -> Result<Option<Exporter>, MetricsError> {
    let info = {
        let mode = mode.to_owned();
        move |_: &str| {
            let mut d = Dict::new();
            d.str("app", app)
                .str("mode", mode.as_str())
                .str("version", env!("CARGO_PKG_VERSION"))
                .str("dpdk", dpdk::Eal::version());
            if let Some(a) = addr {
                d.str("metrics_addr", a.to_string());
            }
            d
        }
    };
    let (stats, probe) = (source.clone(), source.clone());
    let registered = telemetry::register(
        "/dpdk_app/stats",
        "Per-port packets, bytes and drops since forwarding started, as at /metrics.",
        move |_| telemetry_stats(&stats()),
    )
    .and_then(|()| {
        telemetry::register(
            "/dpdk_app/probe",
            "Probe packets sent, received, lost, reordered, duplicated per port and stream.",
            move |_| telemetry_probe(&probe()),
        )
    })
    .and_then(|()| {
        telemetry::register(
            "/dpdk_app/info",
            "Which app and mode this is, its version and DPDK's.",
            info,
        )
    });
    if let Err(e) = registered {
        tracing::warn!("{e}");
    }
    match addr {
        Some(addr) => Exporter::start(addr, app, mode, source).map(Some),
        None => Ok(None),
    }
}

/// Why the exporter could not start.
#[derive(Debug, Error)]
pub enum MetricsError {
    #[error("cannot serve metrics on {addr} (--metrics-addr/METRICS_ADDR): {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error("cannot start the metrics thread: {0}")]
    Thread(std::io::Error),
}

/// A running `/metrics` endpoint; dropping it stops the thread and closes the socket.
pub struct Exporter {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl fmt::Debug for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exporter")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Exporter {
    /// Binds `addr` and serves `/metrics` from `source` on a thread of its own.
    pub fn start(
        addr: SocketAddr,
        app: &'static str,
        mode: &str,
        source: Source,
    ) -> Result<Exporter, MetricsError> {
        let server = tiny_http::Server::http(addr).map_err(|e| MetricsError::Bind {
            addr,
            reason: e.to_string(),
        })?;
        let bound = server.server_addr().to_ip().unwrap_or(addr);
        let server = Arc::new(server);
        let serving = server.clone();
        let mode = mode.to_owned();
        let thread = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || serve(&serving, app, &mode, &source))
            .map_err(MetricsError::Thread)?;
        println!("Serving Prometheus metrics on http://{bound}/metrics");
        Ok(Exporter {
            server,
            thread: Some(thread),
            addr: bound,
        })
    }

    /// The address it listens on (with the port the system chose for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(server: &tiny_http::Server, app: &'static str, mode: &str, source: &Source) {
    for request in server.incoming_requests() {
        let path = request.url().split('?').next().unwrap_or("");
        let response = match (request.method(), path) {
            (tiny_http::Method::Get, "/metrics") => {
                let body = render(app, mode, source.clone());
                if wants_openmetrics(&request) {
                    tiny_http::Response::from_string(body).with_header(header(CONTENT_TYPE))
                } else {
                    tiny_http::Response::from_string(to_text_format(&body))
                        .with_header(header(CONTENT_TYPE_TEXT))
                }
            }
            (tiny_http::Method::Get, _) => {
                tiny_http::Response::from_string("not found: the metrics are at /metrics\n")
                    .with_status_code(404)
            }
            _ => tiny_http::Response::from_string("only GET\n").with_status_code(405),
        };
        // A scraper that hung up is its own problem; the next request is served as usual.
        let _ = request.respond(response);
    }
}

/// Whether the request's `Accept` names OpenMetrics (Prometheus's scrapes do).
fn wants_openmetrics(request: &tiny_http::Request) -> bool {
    request.headers().iter().any(|h| {
        h.field.equiv("Accept") && h.value.as_str().contains("application/openmetrics-text")
    })
}

fn header(content_type: &str) -> tiny_http::Header {
    tiny_http::Header {
        field: "Content-Type"
            .parse()
            .unwrap_or_else(|_| unreachable!("a valid header name")),
        value: content_type
            .parse()
            .unwrap_or_else(|_| unreachable!("a valid header value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_or_say_why_not() {
        assert_eq!(
            parse_addr("--metrics-addr", "127.0.0.1:9091").unwrap(),
            "127.0.0.1:9091".parse().unwrap()
        );
        assert!(parse_addr("--metrics-addr", "[::1]:0").is_ok());
        for bad in [
            "9091",
            "127.0.0.1",
            ":9091",
            "127.0.0.1:",
            "1.2.3.4:99999",
            "x:y",
        ] {
            let e = parse_addr("--metrics-addr", bad).unwrap_err();
            assert!(e.contains("--metrics-addr") && e.contains(bad), "{e}");
        }
    }

    fn figures() -> Figures {
        Figures {
            ports: vec![PortSample {
                port: 1,
                rx_packets: 10,
                tx_packets: 8,
                rx_dropped: 1,
                tx_dropped: 2,
                rx_bytes: 640,
                tx_bytes: 512,
            }],
            drops: None,
            targets: vec![(1, 1000)],
            elapsed_s: 2.0,
            probe: Some(ProbeFigures {
                streams: vec![
                    StreamFigures {
                        port: 1,
                        stream: 0,
                        sent: Some(8),
                        ..Default::default()
                    },
                    StreamFigures {
                        port: 0,
                        stream: 0,
                        sent: None,
                        receives: true,
                        received: 7,
                        lost: 1,
                        ..Default::default()
                    },
                ],
                latency: Some(Latency {
                    sum_s: 35e-6,
                    count: 7,
                    buckets: vec![(1e-6, 0), (5e-6, 7)],
                }),
            }),
        }
    }

    #[test]
    fn renders_conventional_names() {
        let text = render("testpmd", "txonly", Arc::new(figures));
        for line in [
            "dpdk_app_build_info{app=\"testpmd\",mode=\"txonly\",version=\"",
            "dpdk_app_probe_latency_seconds_bucket{le=\"+Inf\",app=\"testpmd\",mode=\"txonly\"} 7",
            "dpdk_app_port_rx_packets_total{app=\"testpmd\",mode=\"txonly\",port=\"1\"} 10",
            "dpdk_app_port_tx_bytes_total{app=\"testpmd\",mode=\"txonly\",port=\"1\"} 512",
            "dpdk_app_port_dropped_packets_total{app=\"testpmd\",mode=\"txonly\",port=\"1\",cause=\"tx\"} 2",
            "dpdk_app_port_tx_target_packets_per_second{app=\"testpmd\",mode=\"txonly\",port=\"1\"} 1000.0",
            "dpdk_app_port_tx_offered_packets_per_second{app=\"testpmd\",mode=\"txonly\",port=\"1\"} 4.0",
            "dpdk_app_probe_sent_packets_total{app=\"testpmd\",mode=\"txonly\",port=\"1\",stream=\"0\"} 8",
            "dpdk_app_probe_received_packets_total{app=\"testpmd\",mode=\"txonly\",port=\"0\",stream=\"0\"} 7",
            "dpdk_app_probe_lost_packets{app=\"testpmd\",mode=\"txonly\",port=\"0\",stream=\"0\"} 1",
            "dpdk_app_probe_latency_seconds_bucket{le=\"0.000005\",app=\"testpmd\",mode=\"txonly\"} 7",
            "dpdk_app_probe_latency_seconds_count{app=\"testpmd\",mode=\"txonly\"} 7",
            "# EOF",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
    }

    #[test]
    fn the_classic_text_format_names_counters_by_their_samples() {
        let text = to_text_format(&render("testpmd", "io", Arc::new(figures)));
        assert!(text.contains("# TYPE dpdk_app_port_rx_packets_total counter\n"));
        assert!(text.contains("# HELP dpdk_app_port_rx_bytes_total Bytes"));
        assert!(text.contains("# TYPE dpdk_app_probe_lost_packets gauge\n"));
        assert!(
            !text.contains("# EOF") && !text.contains("# UNIT"),
            "{text}"
        );
    }

    #[test]
    fn serves_metrics_and_stops_on_drop() {
        use std::io::{Read, Write};
        let exporter = Exporter::start(
            "127.0.0.1:0".parse().unwrap(),
            "l2fwd",
            "l2fwd",
            Arc::new(figures),
        )
        .unwrap();
        let get = |path: &str| {
            let mut s = std::net::TcpStream::connect(exporter.addr()).unwrap();
            write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
            let mut text = String::new();
            s.read_to_string(&mut text).unwrap();
            text
        };
        let ok = get("/metrics");
        assert!(
            ok.starts_with("HTTP/1.1 200") || ok.starts_with("HTTP/1.0 200"),
            "{ok}"
        );
        assert!(ok.contains("version=0.0.4"), "{ok}");
        assert!(ok.contains("dpdk_app_port_rx_packets_total"), "{ok}");
        assert!(get("/").contains(" 404 "));
        // Returns once the serving thread has ended.
        drop(exporter);
    }

    #[test]
    fn a_taken_port_is_a_clear_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let e = Exporter::start(addr, "l3fwd", "lpm", Arc::new(Figures::default)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(&addr.to_string()) && text.contains("--metrics-addr"),
            "{text}"
        );
    }
}
