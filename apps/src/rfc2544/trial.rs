//! One RFC 2544 trial on the ports: learning frames, paced probe frames for the trial's
//! duration, the wait for late frames, and the count of what came back.
//!
//! Everything runs on the main lcore: sending and receiving interleave in one loop, so the
//! generator needs one CPU and no locks, and a trial's counts are final the moment the loop
//! ends. Frames are testpmd's txonly frames ([`Template`]) with a probe whose stream id is the
//! trial's *wire id*; the receive side is testpmd's probe accounting ([`ProbeRx`]), keyed by
//! (RX port, stream), so only frames carrying the trial's id count for it, and its sequence
//! gaps tell the loss while the trial still runs (the early stop).

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dpdk::{tsc, Batch, MacAddr, Mbuf, Mempool, RxQueue, TxQueue};
use hdrhistogram::Histogram;
use packet::template::{Addresses, Template};
use rfc2544::frame::FrameSize;
use rfc2544::search::{LatencySummary, TrialOutcome, TrialSpec};

use crate::pacing::{share, TokenBucket};
use crate::runopts::IdleSleep;
use crate::signal::Stop;
use crate::testpmd::announce::PortTable;
use crate::testpmd::probe::{ProbeRx, MAX_STREAMS};

/// The probe stream id of learning frames: never a trial's.
pub const LEARNING_ID: u16 = 0;

/// The probe stream id carrying trial `id`. The receiver tracks ids below [`MAX_STREAMS`], so
/// ids wrap within `1..MAX_STREAMS`: a frame would have to arrive 1023 trials late to be
/// taken for a later trial's.
pub fn wire_id(id: u32) -> u16 {
    let span = MAX_STREAMS as u32 - 1;
    ((id.saturating_sub(1) % span) + 1) as u16
}

/// One port of the generator: its queues and the MACs its frames carry.
#[derive(Debug)]
pub struct PortIo {
    pub id: u16,
    pub rx: RxQueue,
    pub tx: TxQueue,
    pub mac: MacAddr,
    /// Where frames go; `None` until an announcement says so (`--eth-peer=P,auto`).
    pub peer: Option<MacAddr>,
    /// Whether `peer` follows the announcements heard on this port.
    pub auto: bool,
}

/// A port's sending state within one trial.
struct Sender {
    /// One template per distinct frame length of the size (the IMIX has three).
    templates: Vec<Template>,
    pacer: Option<TokenBucket>,
    /// Frames the PMD accepted: the next sequence number and IMIX position.
    sent: u64,
}

/// The ports, the pool and the clock: what every trial uses.
#[derive(Debug)]
pub struct Generator {
    pub ports: Vec<PortIo>,
    pub pool: Mempool,
    pub burst: u16,
    pub hz: u64,
    pub clock: u16,
    /// `--tx-refused lost`: frames the PMD refuses count as sent and lost (see
    /// [`TxRefused`](super::options::TxRefused)).
    pub refused_lost: bool,
    pub idle_sleep: IdleSleep,
    /// MAC announcements heard (taken out of every received burst: never trial frames).
    announcements: std::sync::Arc<PortTable>,
    batch: Batch,
}

/// How a trial ended.
#[derive(Debug)]
pub enum Ended {
    /// It ran; here is what to record.
    Done(TrialOutcome),
    /// SIGINT/SIGTERM (or the stop flag) interrupted it: nothing to record.
    Stopped,
}

impl Generator {
    pub fn new(ports: Vec<PortIo>, pool: Mempool, burst: u16, refused_lost: bool) -> Generator {
        Generator {
            ports,
            pool,
            burst,
            hz: tsc::hz().max(1),
            clock: packet::probe::clock_id(),
            refused_lost,
            idle_sleep: IdleSleep::default(),
            announcements: PortTable::new(),
            batch: Batch::new(usize::from(burst).max(32)),
        }
    }

    /// Whether every port knows where to send (fixed peers, or `auto` ones learned).
    pub fn peers_known(&self) -> bool {
        self.ports.iter().all(|p| p.peer.is_some())
    }

    /// The frame of `len` bytes (FCS excluded) port `i` sends, with probe stream `stream`.
    /// Source and destination are RFC 2544 appendix C's test addresses (198.18.0.0/15).
    fn template(&self, i: usize, len: u16, stream: u16) -> Template {
        let p = &self.ports[i];
        let addrs = Addresses {
            src_mac: p.mac,
            // Ports without a peer send nothing (see `send`); the template is never used.
            dst_mac: p.peer.unwrap_or(MacAddr([0xff; 6])),
            src_ip: Ipv4Addr::new(198, 18, 0, 1 + i as u8),
            dst_ip: Ipv4Addr::new(198, 19, 0, 1 + i as u8),
            src_port: 1024,
            dst_port: 1025,
        };
        Template::txonly(addrs, usize::from(len), Some((stream, self.clock)))
    }

    fn senders(&self, size: FrameSize, stream: u16, rate: Option<f64>) -> Vec<Sender> {
        let n = self.ports.len();
        let total = rate.map(|r| r.round().max(1.0) as u64);
        let now = tsc::rdtsc();
        (0..n)
            .map(|i| Sender {
                templates: lengths(size)
                    .iter()
                    .map(|&len| self.template(i, len, stream))
                    .collect(),
                pacer: total.map(|t| TokenBucket::new(share(t, n, i), self.hz, self.burst, now)),
                sent: 0,
            })
            .collect()
    }

    /// Sends up to one burst on port `i`; returns the frames the PMD accepted.
    fn send(&mut self, i: usize, s: &mut Sender, size: FrameSize, max: u64) -> u64 {
        if self.ports[i].peer.is_none() {
            return 0;
        }
        let now = tsc::rdtsc();
        let want = u64::from(self.burst).min(max) as u16;
        let n = match &mut s.pacer {
            Some(p) => p.take(now, want),
            None => want,
        };
        if n == 0 {
            return 0;
        }
        if self
            .pool
            .alloc_bulk(&mut self.batch, usize::from(n))
            .is_err()
        {
            if let Some(p) = &mut s.pacer {
                p.refund(n);
            }
            return 0;
        }
        for (k, m) in self.batch.as_mut_slice().iter_mut().enumerate() {
            let at = s.sent + k as u64;
            let len = size.len_without_fcs(at);
            let t = s
                .templates
                .iter()
                .find(|t| t.len() == usize::from(len))
                .unwrap_or(&s.templates[0]);
            if let Some(d) = m.append(t.len()) {
                t.write_stamped(d, at as u32, now);
            }
        }
        let sent = self.ports[i].tx.tx(&mut self.batch) as u16;
        self.batch.clear();
        if self.refused_lost {
            // Offered and lost at the peer's door: their sequence numbers stay used, so the
            // receiver sees the gap (and the early stop the loss).
            s.sent += u64::from(n);
            return u64::from(n);
        }
        if sent < n {
            if let Some(p) = &mut s.pacer {
                p.refund(n - sent);
            }
        }
        s.sent += u64::from(sent);
        u64::from(sent)
    }

    /// Receives one burst per port into `probe` (or drops it); returns the frames received.
    fn receive(&mut self, mut probe: Option<&mut ProbeRx>) -> usize {
        let mut total = 0;
        for p in &mut self.ports {
            let n = match p.rx.rx(&mut self.batch) {
                0 => 0,
                _ => self.announcements.take_announcements(&mut self.batch, p.id),
            };
            if p.auto {
                p.peer = self.announcements.peer(p.id).or(p.peer);
            }
            if n > 0 {
                if let Some(probe) = probe.as_deref_mut() {
                    let now = tsc::rdtsc();
                    probe.observe_burst(p.id, self.batch.iter().map(Mbuf::data), now);
                }
                self.batch.clear();
            }
            total += n;
        }
        total
    }

    /// Polls the RX queues for `d`, dropping what arrives (stale frames of earlier trials).
    fn drain_for(&mut self, d: Duration, stop: &Stop) {
        let end = Instant::now() + d;
        while Instant::now() < end && !stop.is_set() {
            let n = self.receive(None);
            self.idle_sleep.after_pass(n);
        }
    }

    /// Sends learning frames (probe id 0) on every port whose peer is known until every `auto`
    /// port has heard its peer's announcement and a frame comes back, for up to
    /// `timeout`: a reflector that is not there yet (a pod started after ours, a link still
    /// down) would otherwise make the first trials lose everything. Returns whether the path
    /// answered.
    pub fn wait_for_path(&mut self, size: FrameSize, timeout: Duration, stop: &Stop) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end && !stop.is_set() {
            let mut senders = self.senders(size, LEARNING_ID, None);
            for (i, s) in senders.iter_mut().enumerate() {
                self.send(i, s, size, 8);
            }
            let until = Instant::now() + Duration::from_millis(200);
            while Instant::now() < until {
                if self.receive(None) > 0 && self.peers_known() {
                    self.drain_for(Duration::from_millis(100), stop);
                    return true;
                }
            }
        }
        false
    }

    /// Runs one trial of `size` frames.
    pub fn run(&mut self, size: FrameSize, spec: &TrialSpec, stop: &Stop) -> Ended {
        let started = Instant::now();
        let wire = wire_id(spec.id);

        // RFC 2544 §23: learning frames, then let the path settle (and stale frames drain).
        let mut learning = self.senders(size, LEARNING_ID, None);
        for (i, s) in learning.iter_mut().enumerate() {
            let frames = u64::from(spec.learning.frames_per_stream);
            let until = Instant::now() + Duration::from_millis(100);
            while s.sent < frames && Instant::now() < until {
                self.send(i, s, size, frames - s.sent);
            }
        }
        self.drain_for(spec.learning.settle, stop);

        let mut probe = ProbeRx::new(self.clock, true, self.hz);
        let mut senders = self.senders(size, wire, spec.rate_pps);
        let ticks = (spec.duration.as_secs_f64() * self.hz as f64) as u64;
        let t0 = tsc::rdtsc();
        let mut stopped_early = false;
        let mut spins: u32 = 0;
        let end = loop {
            let mut work = 0;
            for (i, s) in senders.iter_mut().enumerate() {
                work += self.send(i, s, size, u64::MAX) as usize;
            }
            work += self.receive(Some(&mut probe));
            self.idle_sleep.after_pass(work);
            let now = tsc::rdtsc();
            if now.wrapping_sub(t0) >= ticks {
                break now;
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(64) {
                if stop.is_set() {
                    return Ended::Stopped;
                }
                if let Some(limit) = spec.abort_after_lost {
                    if counts(&probe, wire).lost >= limit {
                        stopped_early = true;
                        break now;
                    }
                }
            }
        };
        let duration_s = end.wrapping_sub(t0) as f64 / self.hz as f64;
        let sent: u64 = senders.iter().map(|s| s.sent).sum();

        // RFC 2544 §23's wait for late frames, cut short once all are in or the path is quiet.
        let flush_end = Instant::now() + spec.flush.max;
        let mut last_rx = Instant::now();
        loop {
            let n = self.receive(Some(&mut probe));
            if n > 0 {
                last_rx = Instant::now();
            }
            self.idle_sleep.after_pass(n);
            let now = Instant::now();
            if counts(&probe, wire).received >= sent
                || now >= flush_end
                || now.duration_since(last_rx) >= spec.flush.quiet
            {
                break;
            }
            if stop.is_set() {
                return Ended::Stopped;
            }
        }
        let c = counts(&probe, wire);
        Ended::Done(TrialOutcome {
            sent,
            received: c.received,
            duration_s,
            wall_s: Some(started.elapsed().as_secs_f64()),
            latency: latency(&probe, wire, self.hz),
            stopped_early,
        })
    }
}

/// The distinct frame lengths (FCS excluded) a size sends.
fn lengths(size: FrameSize) -> Vec<u16> {
    let mut v: Vec<u16> = match size {
        FrameSize::Fixed(_) => vec![size.len_without_fcs(0)],
        FrameSize::Imix => (0..rfc2544::frame::IMIX_PATTERN.len() as u64)
            .map(|i| size.len_without_fcs(i))
            .collect(),
    };
    v.sort_unstable();
    v.dedup();
    v
}

/// A trial's frames as received: distinct frames, and the sequence gaps seen so far.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    received: u64,
    lost: u64,
}

fn counts(probe: &ProbeRx, wire: u16) -> Counts {
    probe
        .streams
        .iter()
        .filter(|s| s.stream == wire)
        .fold(Counts::default(), |acc, s| Counts {
            received: acc.received + s.counts.received - s.counts.duplicated,
            lost: acc.lost + s.counts.lost(),
        })
}

/// The trial's latency over all ports, in nanoseconds (RFC 8219's typical p50, worst p99.9).
fn latency(probe: &ProbeRx, wire: u16, hz: u64) -> Option<LatencySummary> {
    let mut all: Option<Histogram<u64>> = None;
    for s in probe.streams.iter().filter(|s| s.stream == wire) {
        match &mut all {
            Some(h) => h.add(&s.latency).ok()?,
            None => all = Some(s.latency.clone()),
        }
    }
    let h = all.filter(|h| !h.is_empty())?;
    let ns = |ticks: u64| (u128::from(ticks) * 1_000_000_000 / u128::from(hz)) as u64;
    Some(LatencySummary {
        min: ns(h.min()),
        p50: ns(h.value_at_quantile(0.5)),
        p99: ns(h.value_at_quantile(0.99)),
        p999: ns(h.value_at_quantile(0.999)),
        max: ns(h.max()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_ids_are_never_the_learning_id_and_fit_the_receiver() {
        assert_eq!(wire_id(1), 1);
        assert_eq!(wire_id(1023), 1023);
        assert_eq!(wire_id(1024), 1);
        for id in [0, 1, 500, 1023, 1024, 70_000, u32::MAX] {
            let w = wire_id(id);
            assert!(
                w != LEARNING_ID && usize::from(w) < MAX_STREAMS,
                "{id}: {w}"
            );
        }
    }

    #[test]
    fn imix_sends_three_lengths() {
        assert_eq!(lengths(FrameSize::Imix), vec![60, 590, 1514]);
        assert_eq!(lengths(FrameSize::Fixed(64)), vec![60]);
    }
}
