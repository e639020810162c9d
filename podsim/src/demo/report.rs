//! The demo's report: per phase and network what was sent, received and lost, the rate and the
//! latency; printed as text, written as `report.json` (shape below) and drawn by [`super::html`].
//!
//! ```text
//! {"phases":[{"name":"paced"|"max-rate",
//!             "networks":[{"name","sent","received","lost","mpps", ...}],
//!             "latency_ns":{"p50","p99","p999","max"}, ...}], ...}
//! ```
//!
//! Counts come from the pods' own summaries: `sent` is what the generator's PMD accepted on the
//! network's port, `received` what the sink's probes saw of the generator's streams for that
//! port (so it is right whatever path the frames took), `lost` the difference, and `drops`
//! where each lost frame was counted on the way ([`crate::ledger`]).

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::ledger;
use crate::placement::Role;
use crate::run::{Outcome, RunOutcome};
use crate::topology::Topology;

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub phases: Vec<Phase>,
    /// The forwarding app in the middle (`testpmd`: none, generator straight to sink).
    pub app: String,
    /// How the frames flow, one line.
    pub topology: String,
    pub frame_size: u16,
}

/// One phase.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub name: String,
    pub networks: Vec<Network>,
    pub latency_ns: LatencyNs,
    /// Why the phase failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The paced rate per port, `None` for max-rate.
    pub rate_pps_per_port: Option<u64>,
    /// How long the generator sent, seconds.
    pub duration_s: f64,
    /// CPU and idle sleep of every process.
    pub placement: Vec<Placed>,
    /// How the pods got their memory (hugepages scaled to this machine, or `--no-huge`).
    pub hugepages: String,
    /// Latency samples in doubling buckets (`le_ns`, `count`).
    pub latency_histogram: Vec<Value>,
    /// Rate over time, from the periodic reports.
    pub series: Vec<Series>,
    /// The command line each pod's entrypoint built (`ENTER dpdk-app: ...`).
    pub commands: Vec<(String, String)>,
    /// The longest stall of the generator's lcore (paced phases): a figure above the token
    /// bucket's credit cap means the rate was not held because the CPU was taken.
    pub longest_stall_ms: Option<f64>,
    /// The machine's load average (1, 5, 15 min) when the phase ended: what else was running.
    pub load_average: Option<[f64; 3]>,
}

/// One network in a phase.
#[derive(Debug, Clone, Serialize)]
pub struct Network {
    /// The NetworkAttachmentDefinition.
    pub name: String,
    pub vlan: Option<u16>,
    pub sent: u64,
    pub received: u64,
    pub lost: u64,
    /// Received frames per second over the sending time, millions.
    pub mpps: f64,
    /// The sink's per-stream latency for this network.
    pub latency_ns: LatencyNs,
    /// Frames the probes say are missing (gaps in sequence numbers), a cross-check of `lost`.
    pub probe_lost: u64,
    /// Frames the relay took from the generator's port: `sent - relay_received` were stranded
    /// in the generator's TX ring when it stopped, `relay_received - received` were dropped
    /// on the way to the sink.
    pub relay_received: u64,
    /// Where the frames that did not arrive were dropped, each by the counter that saw them
    /// (see [`crate::ledger`]).
    pub drops: Vec<ledger::Drop>,
    /// `sent - delivered - drops`: 0 when every frame is accounted for.
    pub unaccounted: i64,
    /// What the generator offered on this port per second (paced phases), against the phase's
    /// `rate_pps_per_port`.
    pub offered_pps: Option<f64>,
}

impl Network {
    /// Where the lost frames were counted, one line per counter (and the unaccounted rest).
    pub fn drop_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .drops
            .iter()
            .map(|d| format!("{:>10}  {} at {}", d.packets, d.counter, d.at))
            .collect();
        if self.unaccounted != 0 {
            lines.push(format!("{:>10}  not counted anywhere", self.unaccounted));
        }
        lines
    }

    /// The table row: name, VLAN, sent, received, lost, Mpps, p50, p99, p99.9, max.
    pub fn cells(&self) -> [String; 10] {
        let [p50, p99, p999, max] = self.latency_ns.human();
        [
            self.name.clone(),
            self.vlan.map_or("-".into(), |v| v.to_string()),
            self.sent.to_string(),
            self.received.to_string(),
            self.lost.to_string(),
            format!("{:.3}", self.mpps),
            p50,
            p99,
            p999,
            max,
        ]
    }
}

/// Latency percentiles; `null` when nothing was measured.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LatencyNs {
    pub p50: Option<u64>,
    pub p99: Option<u64>,
    pub p999: Option<u64>,
    pub max: Option<u64>,
}

impl LatencyNs {
    /// p50, p99, p99.9 and max for people.
    pub fn human(&self) -> [String; 4] {
        [self.p50, self.p99, self.p999, self.max].map(human_ns)
    }

    fn of(v: &Value) -> LatencyNs {
        let f = |k: &str| v.get(k).and_then(Value::as_u64);
        LatencyNs {
            p50: f("p50"),
            p99: f("p99"),
            p999: f("p999"),
            max: f("max"),
        }
    }
}

/// Where one process ran.
#[derive(Debug, Clone, Serialize)]
pub struct Placed {
    pub process: String,
    pub cpu: String,
    pub idle_sleep_us: u32,
}

/// Packets per second of one network over time, as one process counted them.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub network: String,
    /// `sent` (generator TX) or `received` (sink RX).
    pub direction: &'static str,
    /// Seconds since the process started forwarding, at the end of each period.
    pub t: Vec<f64>,
    pub pps: Vec<f64>,
}

impl Phase {
    /// A phase that did not complete.
    pub fn failed(name: &str, rate: Option<u64>, placement: Vec<Placed>, why: String) -> Phase {
        Phase {
            name: name.to_owned(),
            networks: Vec::new(),
            latency_ns: LatencyNs::default(),
            error: Some(why),
            rate_pps_per_port: rate,
            duration_s: 0.0,
            placement,
            hugepages: String::new(),
            latency_histogram: Vec::new(),
            series: Vec::new(),
            commands: Vec::new(),
            longest_stall_ms: None,
            load_average: load_average(),
        }
    }

    /// The phase's figures from what the run's processes reported.
    pub fn from_run(
        name: &str,
        rate: Option<u64>,
        placement: Vec<Placed>,
        hugepages: String,
        topology: &Topology,
        pod_index: impl Fn(Role) -> Option<usize>,
        run: &RunOutcome,
    ) -> Result<Phase, String> {
        let gen = run.pod(Role::Generator).ok_or("no generator pod")?;
        let sink = run.pod(Role::Sink).ok_or("no sink pod")?;
        let (gi, si) = (
            pod_index(Role::Generator).ok_or("no generator pod")?,
            pod_index(Role::Sink).ok_or("no sink pod")?,
        );
        let duration_s = gen.summary["duration_s"].as_f64().unwrap_or(0.0);
        let sink_streams = sink.summary["probe"]["streams"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let ledgers = ledger::ledgers(topology, run)?;
        let mut networks = Vec::new();
        let mut series = Vec::new();
        for ((gport, a), ledger) in topology.of_pod(gi).enumerate().zip(ledgers) {
            let gport = gport as u64;
            let sent = ledger::counter(&gen.summary, gport as u16, "tx_packets");
            // The generator's streams out of this port, and what the sink saw of them.
            let ids: Vec<u64> = gen.summary["probe"]["streams"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| s["port"].as_u64() == Some(gport) && s.get("sent").is_some())
                .filter_map(|s| s["stream"].as_u64())
                .collect();
            let seen: Vec<&Value> = sink_streams
                .iter()
                .filter(|s| s["stream"].as_u64().is_some_and(|id| ids.contains(&id)))
                .collect();
            let received: u64 = seen.iter().filter_map(|s| s["received"].as_u64()).sum();
            let probe_lost: u64 = seen.iter().filter_map(|s| s["lost"].as_u64()).sum();
            let latency = match seen.as_slice() {
                [one] => LatencyNs::of(&one["latency_ns"]),
                _ => LatencyNs::default(),
            };
            networks.push(Network {
                name: a.nad.name.clone(),
                vlan: a.nad.vlan,
                sent,
                received,
                lost: sent.saturating_sub(received),
                mpps: if duration_s > 0.0 {
                    received as f64 / duration_s / 1e6
                } else {
                    0.0
                },
                latency_ns: latency,
                probe_lost,
                relay_received: ledger::counter(&run.relay.summary, a.relay_port, "rx_packets"),
                unaccounted: i64::try_from(ledger.unaccounted()).unwrap_or(i64::MAX),
                drops: ledger.drops,
                offered_pps: gen.summary["pacing"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|p| p["port"].as_u64() == Some(gport))
                    .and_then(|p| p["offered_pps"].as_f64()),
            });
            series.push(rate_series(&a.nad.name, "sent", gen, gport, "tx_packets"));
            if let Some(sport) = topology.of_pod(si).position(|b| b.nad.name == a.nad.name) {
                series.push(rate_series(
                    &a.nad.name,
                    "received",
                    sink,
                    sport as u64,
                    "rx_packets",
                ));
            }
        }
        let totals = &sink.summary["probe"]["totals"];
        Ok(Phase {
            name: name.to_owned(),
            networks,
            latency_ns: LatencyNs::of(&totals["latency_ns"]),
            error: None,
            rate_pps_per_port: rate,
            duration_s,
            placement,
            hugepages,
            latency_histogram: totals["latency_histogram"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
            series,
            commands: run
                .pods
                .iter()
                .map(|p| (p.name.clone(), p.command.clone().unwrap_or_default()))
                .collect(),
            longest_stall_ms: gen.summary["pacing"]["longest_stall_ms"].as_f64(),
            load_average: load_average(),
        })
    }

    /// What the machine was doing: load average and the generator's longest stall.
    pub fn conditions(&self) -> Option<String> {
        let [one, five, fifteen] = self.load_average?;
        let stall = self
            .longest_stall_ms
            .map(|ms| format!(", longest generator stall {ms:.1} ms"))
            .unwrap_or_default();
        Some(format!(
            "load average {one:.2} {five:.2} {fifteen:.2}{stall}"
        ))
    }

    /// Frames lost over all networks.
    pub fn lost(&self) -> u64 {
        self.networks.iter().map(|n| n.lost).sum()
    }
}

/// `/proc/loadavg`'s three averages.
fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|w| w.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

fn rate_series(
    network: &str,
    direction: &'static str,
    o: &Outcome,
    port: u64,
    key: &str,
) -> Series {
    let mut t = Vec::new();
    let mut pps = Vec::new();
    let mut at = 0.0;
    for p in &o.periods {
        let d = p["duration_s"].as_f64().unwrap_or(0.0);
        at += d;
        t.push(at);
        pps.push(if d > 0.0 {
            ledger::counter(p, port as u16, key) as f64 / d
        } else {
            0.0
        });
    }
    Series {
        network: network.to_owned(),
        direction,
        t,
        pps,
    }
}

/// Nanoseconds for people: `850 ns`, `129.7 us`, `4.37 ms`.
pub fn human_ns(ns: Option<u64>) -> String {
    match ns {
        None => "-".into(),
        Some(n) if n < 1_000 => format!("{n} ns"),
        Some(n) if n < 1_000_000 => format!("{:.1} us", n as f64 / 1e3),
        Some(n) => format!("{:.2} ms", n as f64 / 1e6),
    }
}

impl Report {
    /// The report as the demo prints it.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Topology: {}", self.topology);
        let _ = writeln!(out, "Frames: {} bytes", self.frame_size);
        for p in &self.phases {
            let rate = match p.rate_pps_per_port {
                Some(r) => format!("{r} pps per port"),
                None => "as fast as possible".into(),
            };
            let _ = writeln!(out, "\nPhase {} ({rate}, {:.1} s):", p.name, p.duration_s);
            let placed: Vec<String> = p
                .placement
                .iter()
                .map(|x| {
                    let sleep = if x.idle_sleep_us > 0 {
                        format!(", idle sleep {} us", x.idle_sleep_us)
                    } else {
                        String::new()
                    };
                    format!("{} CPU {}{sleep}", x.process, x.cpu)
                })
                .collect();
            let _ = writeln!(out, "  CPU placement: {}", placed.join("; "));
            if !p.hugepages.is_empty() {
                let _ = writeln!(out, "  Memory: {}", p.hugepages);
            }
            if let Some(c) = p.conditions() {
                let _ = writeln!(out, "  Conditions: {c}");
            }
            if let Some(e) = &p.error {
                let _ = writeln!(out, "  FAILED: {e}");
                continue;
            }
            let _ = writeln!(
                out,
                "  {:<26} {:>5} {:>12} {:>12} {:>10} {:>8}   latency p50 / p99 / p99.9 / max",
                "network", "vlan", "sent", "received", "lost", "Mpps"
            );
            for n in &p.networks {
                let [name, vlan, sent, received, lost, mpps, p50, p99, p999, max] = n.cells();
                let _ = writeln!(
                    out,
                    "  {name:<26} {vlan:>5} {sent:>12} {received:>12} {lost:>10} {mpps:>8}   \
                     {p50} / {p99} / {p999} / {max}"
                );
            }
            for n in p
                .networks
                .iter()
                .filter(|n| n.lost > 0 || n.unaccounted != 0)
            {
                let _ = writeln!(out, "  {} lost {}:", n.name, n.lost);
                for line in n.drop_lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
            let [p50, p99, p999, max] = p.latency_ns.human();
            let _ = writeln!(
                out,
                "  all networks: latency p50 {p50}, p99 {p99}, p99.9 {p999}, max {max}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(human_ns(Some(850)), "850 ns");
        assert_eq!(human_ns(Some(129_673)), "129.7 us");
        assert_eq!(human_ns(Some(4_370_116)), "4.37 ms");
        assert_eq!(human_ns(None), "-");
    }

    #[test]
    fn json_shape() {
        let p = Phase::failed("max-rate", None, Vec::new(), "relay died".into());
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["name"], "max-rate");
        assert_eq!(v["error"], "relay died");
        for k in ["p50", "p99", "p999", "max"] {
            assert!(v["latency_ns"].get(k).is_some(), "{k}");
        }
        assert!(v["networks"].as_array().unwrap().is_empty());
    }
}
