//! Where every frame went: for each port the generator sent on, the path through the relay
//! (and a forwarder pod, if there is one) to the receiving pod, hop by hop, with each frame
//! that did not arrive counted by the process and counter that saw it go.
//!
//! ```text
//! sent (generator tx_packets)
//!   = delivered (receiver rx_packets)
//!   + left in the generator's TX ring at exit     (generator tx_packets - relay rx_packets)
//!   + relay: filtered | queue full | no mbuf | queued at exit
//!   + forwarder: rx_dropped (not forwarded) | tx_dropped | left in its TX ring at exit
//!   + receiver: rx_dropped (the PMD's missed frames)
//! ```
//!
//! Each hop's counters come from the processes' final summaries (`--stats-file`); a run's
//! accounting is exact when [`Ledger::unaccounted`] is zero for every network, whatever was lost.

use serde::Serialize;
use serde_json::Value;

use super::placement::Role;
use super::run::{Outcome, RunOutcome};
use super::topology::{Attachment, Topology};

/// The frames one generator port sent, and where they went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ledger {
    /// The NetworkAttachmentDefinition of the generator's port.
    pub network: String,
    /// The generator pod's port (its n-th network).
    pub port: u16,
    /// What the generator's PMD accepted.
    pub sent: u64,
    /// What the receiving pod's port counted (`rx_packets`).
    pub delivered: u64,
    /// Frames that did not arrive, by where and why; zeros left out.
    pub drops: Vec<Drop>,
}

/// Frames that stopped at one place, for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drop {
    /// Where, e.g. `relay port 2 (vdpa-pod-sink net1)`.
    pub at: String,
    /// The counter (or counter difference) that holds them.
    pub counter: String,
    pub packets: u64,
}

impl Ledger {
    /// Frames neither delivered nor counted by a drop counter: 0 when the accounting is exact
    /// (negative if more arrived than were sent, e.g. flooded copies).
    pub fn unaccounted(&self) -> i128 {
        i128::from(self.sent)
            - i128::from(self.delivered)
            - self
                .drops
                .iter()
                .map(|d| i128::from(d.packets))
                .sum::<i128>()
    }

    /// Frames lost on the way.
    pub fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.delivered)
    }

    /// One line per hop, for error messages and the demo's text report.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "{} (generator port {}): sent {}, delivered {}",
            self.network, self.port, self.sent, self.delivered
        );
        for d in &self.drops {
            out += &format!("; {} at {}: {}", d.counter, d.at, d.packets);
        }
        let u = self.unaccounted();
        if u != 0 {
            out += &format!("; UNACCOUNTED: {u}");
        }
        out
    }
}

/// The ledgers of every port of the run's generator, following `topology`.
pub fn ledgers(topology: &Topology, run: &RunOutcome) -> Result<Vec<Ledger>, String> {
    let (gi, gen) = pod_in(run, Role::Generator).ok_or("no generator pod")?;
    topology
        .of_pod(gi)
        .enumerate()
        .map(|(k, start)| follow(topology, run, gen, k as u16, start))
        .collect()
}

fn pod_in(run: &RunOutcome, role: Role) -> Option<(usize, &Outcome)> {
    run.pods
        .iter()
        .enumerate()
        .find(|(_, p)| p.role == Some(role))
}

/// The pod-local port of attachment `a` (its index among the pod's attachments).
fn local_port(topology: &Topology, a: &Attachment) -> u16 {
    topology
        .of_pod(a.pod)
        .position(|b| b.relay_port == a.relay_port)
        .unwrap_or(0) as u16
}

fn follow(
    topology: &Topology,
    run: &RunOutcome,
    gen: &Outcome,
    port: u16,
    start: &Attachment,
) -> Result<Ledger, String> {
    let relay = &run.relay.summary;
    let sent = counter(&gen.summary, port, "tx_packets");
    let mut ledger = Ledger {
        network: start.nad.name.clone(),
        port,
        sent,
        delivered: 0,
        drops: Vec::new(),
    };
    let mut drop = |at: String, counter: &str, packets: u64| {
        if packets > 0 {
            ledger.drops.push(Drop {
                at,
                counter: counter.to_owned(),
                packets,
            });
        }
    };
    // Walk: `into` is the relay port frames enter from a pod that transmitted `pod_tx`.
    let (mut into, mut pod_tx, mut from) = (start, sent, format!("{} port {port}", gen.name));
    for _ in 0..topology.attachments.len() {
        let relay_rx = counter(relay, into.relay_port, "rx_packets");
        drop(
            from.clone(),
            "left in its TX ring at exit (tx_packets - relay rx_packets)",
            pod_tx.saturating_sub(relay_rx),
        );
        let here = format!("relay port {}", into.relay_port);
        drop(
            here.clone(),
            "filtered",
            relay_drop(relay, into.relay_port, "filtered"),
        );
        let out = topology
            .attachments
            .iter()
            .find(|b| b.segment == into.segment && b.relay_port != into.relay_port)
            .ok_or_else(|| format!("segment {} has no port but {here}", into.segment))?;
        let there = format!("relay port {}", out.relay_port);
        for cause in ["queue_full", "no_mbuf", "at_exit"] {
            drop(
                there.clone(),
                cause,
                relay_drop(relay, out.relay_port, cause),
            );
        }
        let pod = &run.pods[out.pod];
        let in_port = local_port(topology, out);
        let name = format!("{} port {in_port}", pod.name);
        // testpmd counts the PMD's missed frames here, l2fwd and l3fwd what they did not
        // forward.
        drop(
            name,
            "rx_dropped",
            counter(&pod.summary, in_port, "rx_dropped"),
        );
        if pod.role != Some(Role::Forwarder) {
            ledger.delivered = counter(&pod.summary, in_port, "rx_packets");
            return Ok(ledger);
        }
        // A forwarder pod: frames leave by its other port.
        let next = topology
            .of_pod(out.pod)
            .find(|b| b.relay_port != out.relay_port)
            .ok_or_else(|| format!("forwarder {} has one port", pod.name))?;
        let out_port = local_port(topology, next);
        let out_name = format!("{} port {out_port}", pod.name);
        drop(
            out_name.clone(),
            "tx_dropped",
            counter(&pod.summary, out_port, "tx_dropped"),
        );
        (into, pod_tx, from) = (
            next,
            counter(&pod.summary, out_port, "tx_packets"),
            out_name,
        );
    }
    Err(format!("the path from {} loops", start.nad.name))
}

/// `key` of port `port` in a summary's `ports`, 0 if absent.
pub fn counter(summary: &Value, port: u16, key: &str) -> u64 {
    per_port(summary, "ports", port, key)
}

/// Drop cause `key` of relay port `port` (the relay summary's `drops`).
fn relay_drop(summary: &Value, port: u16, key: &str) -> u64 {
    per_port(summary, "drops", port, key)
}

/// `key` of the entry for `port` in the per-port array `section` of a summary, 0 if absent.
fn per_port(summary: &Value, section: &str, port: u16, key: &str) -> u64 {
    summary[section]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["port"].as_u64() == Some(u64::from(port)))
        .and_then(|p| p[key].as_u64())
        .unwrap_or(0)
}
