//! Probe accounting: what receivers make of the probes generators write after the UDP header
//! (the wire format, its encoding and [`decode`] are in [`packet::probe`]): exact loss,
//! reordering and duplicate counts, and latency.
//!
//! Receivers key streams by (RX port, stream id). Loss is judged on the whole sequence: a
//! stream's `lost` is the span of sequence numbers seen minus the distinct packets received,
//! so late packets fill their gap (they count as `reordered`, not lost) and the figures of
//! several lcores receiving the same stream (RSS) add up. Duplicates are recognised within a
//! window of [`WINDOW`] sequence numbers; older arrivals cannot be told from duplicates and
//! count as reordered. Packets lost after the last one received are visible only against the
//! sender's `sent` count.
//!
//! Latency is recorded only when the probe's clock id is ours (same host, hence the same
//! invariant TSC); a sample above one second is counted as out of range instead (a sender on
//! another host whose boot id hashes alike, or a stale probe).

use hdrhistogram::Histogram;
use packet::probe::{decode, TSC_MASK};
use serde::Serialize;

use crate::metrics;

/// Sequence numbers behind the highest one seen that are checked for duplicates.
pub const WINDOW: u64 = 1024;
/// Stream ids a receiver tracks per port (ids at or above are counted as unknown).
pub const MAX_STREAMS: usize = 1024;
/// Streams one receiving lcore tracks (each has a latency histogram of about 180 KiB); probes
/// of further streams are counted as unknown. Our generators send one stream per port and TX
/// queue, far fewer; the cap keeps a sender that cycles stream ids (a hostile or broken peer)
/// from allocating memory on the fast path without bound.
pub const MAX_TRACKED_STREAMS: usize = 64;

/// Counters of one received stream. `first`/`highest` are sequence numbers extended to 64
/// bits (starting at 2^32 + the first one seen), so wrap-around and merging work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RxCounts {
    pub received: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub first: u64,
    pub highest: u64,
    /// Probes whose clock id is not ours (no latency).
    pub foreign_clock: u64,
    /// Latency samples over the sanity bound.
    pub out_of_range: u64,
}

impl RxCounts {
    /// Adds another receiver's view of the same stream.
    pub fn merge(&mut self, o: &RxCounts) {
        if o.received == 0 {
            return;
        }
        if self.received == 0 {
            *self = *o;
            return;
        }
        self.first = self.first.min(o.first);
        self.highest = self.highest.max(o.highest);
        self.received += o.received;
        self.duplicated += o.duplicated;
        self.reordered += o.reordered;
        self.foreign_clock += o.foreign_clock;
        self.out_of_range += o.out_of_range;
    }

    /// Sequence numbers missing between the first and the highest seen.
    pub fn lost(&self) -> u64 {
        if self.received == 0 {
            return 0;
        }
        let span = self.highest - self.first + 1;
        span.saturating_sub(self.received - self.duplicated)
    }
}

/// One stream as one lcore sees it.
#[derive(Debug, Clone)]
pub struct StreamRx {
    pub port: u16,
    pub stream: u16,
    pub counts: RxCounts,
    /// Bit `s % WINDOW` set: sequence number `s` (within WINDOW of `highest`) was received.
    seen: [u64; (WINDOW / 64) as usize],
    /// Latency in TSC ticks.
    pub latency: Histogram<u64>,
}

impl StreamRx {
    fn new(port: u16, stream: u16, max_ticks: u64) -> Self {
        StreamRx {
            port,
            stream,
            counts: RxCounts::default(),
            seen: [0; (WINDOW / 64) as usize],
            latency: Histogram::new_with_bounds(1, max_ticks.max(2), 3)
                .expect("valid histogram bounds"),
        }
    }

    #[inline]
    fn bit(&mut self, seq: u64) -> (&mut u64, u64) {
        let i = seq % WINDOW;
        (&mut self.seen[(i / 64) as usize], 1 << (i % 64))
    }

    /// Accounts for sequence number `seq32`.
    #[inline]
    pub fn observe(&mut self, seq32: u32) {
        self.counts.received += 1;
        if self.counts.received == 1 {
            let seq = (1u64 << 32) + u64::from(seq32);
            self.counts.first = seq;
            self.counts.highest = seq;
            let (w, b) = self.bit(seq);
            *w |= b;
            return;
        }
        let highest = self.counts.highest;
        let diff = seq32.wrapping_sub(highest as u32) as i32;
        if diff == 1 {
            // In order: the common case.
            self.counts.highest = highest + 1;
            let (w, b) = self.bit(highest + 1);
            *w |= b;
            return;
        }
        if diff > 0 {
            let new = highest + diff as u64;
            self.counts.highest = new;
            if diff as u64 >= WINDOW {
                self.seen = [0; (WINDOW / 64) as usize];
            } else {
                for s in highest + 1..new {
                    let (w, b) = self.bit(s);
                    *w &= !b;
                }
            }
            let (w, b) = self.bit(new);
            *w |= b;
            return;
        }
        let back = u64::from(diff.unsigned_abs());
        if back >= WINDOW || back > highest - (1 << 32) {
            // Too old to check against the window: assume a late packet.
            self.counts.reordered += 1;
            return;
        }
        let seq = highest - back;
        let (w, b) = self.bit(seq);
        if *w & b != 0 {
            self.counts.duplicated += 1;
        } else {
            *w |= b;
            self.counts.reordered += 1;
            self.counts.first = self.counts.first.min(seq);
        }
    }
}

/// A run of equal latency samples not yet recorded.
#[derive(Debug, Default)]
struct Pending {
    slot: usize,
    ticks: u64,
    count: u64,
}

/// What one receiving lcore knows about probes.
#[derive(Debug)]
pub struct ProbeRx {
    clock: u16,
    latency: bool,
    max_ticks: u64,
    /// `(port << 10 | stream)` -> index in `streams` + 1.
    index: Vec<u32>,
    pub streams: Vec<StreamRx>,
    /// Probes of a stream we do not track: an id out of range, or beyond
    /// [`MAX_TRACKED_STREAMS`].
    pub unknown: u64,
}

impl ProbeRx {
    /// `hz`: TSC frequency (latency above one second is out of range).
    pub fn new(clock: u16, latency: bool, hz: u64) -> Self {
        ProbeRx {
            clock,
            latency,
            max_ticks: hz,
            index: vec![0; super::options::MAX_PORTS * MAX_STREAMS],
            streams: Vec::new(),
            unknown: 0,
        }
    }

    /// Accounts for the probes in a burst of frames received on `port` (frames without one are
    /// skipped). `now`: the TSC at receive.
    ///
    /// Consecutive probes of one stream share the stream lookup, and consecutive equal
    /// latencies (a sender burst shares one timestamp) are recorded with one histogram call.
    #[inline]
    pub fn observe_burst<'a>(
        &mut self,
        port: u16,
        frames: impl Iterator<Item = &'a [u8]>,
        now: u64,
    ) {
        let mut current: Option<(u16, usize)> = None;
        let mut pending = Pending::default();
        for frame in frames {
            let Some(p) = decode(frame) else { continue };
            let slot = match current {
                Some((stream, slot)) if stream == p.stream => slot,
                _ => match self.slot(port, p.stream) {
                    Some(slot) => {
                        current = Some((p.stream, slot));
                        slot
                    }
                    None => continue,
                },
            };
            let s = &mut self.streams[slot];
            s.observe(p.seq);
            if p.clock != self.clock {
                s.counts.foreign_clock += 1;
            } else if self.latency {
                let ticks = now.wrapping_sub(p.tsc) & TSC_MASK;
                if ticks > self.max_ticks {
                    s.counts.out_of_range += 1;
                } else if pending.count > 0 && pending.slot == slot && pending.ticks == ticks {
                    pending.count += 1;
                } else {
                    self.flush(&pending);
                    pending = Pending {
                        slot,
                        ticks,
                        count: 1,
                    };
                }
            }
        }
        self.flush(&pending);
    }

    /// The slot of (port, stream), created on first sight; `None` (counted) for ids we do
    /// not track.
    #[inline]
    fn slot(&mut self, port: u16, stream: u16) -> Option<usize> {
        if usize::from(stream) >= MAX_STREAMS || usize::from(port) >= super::options::MAX_PORTS {
            self.unknown += 1;
            return None;
        }
        let key = usize::from(port) * MAX_STREAMS + usize::from(stream);
        Some(match self.index[key] {
            0 if self.streams.len() >= MAX_TRACKED_STREAMS => {
                self.unknown += 1;
                return None;
            }
            0 => {
                // A new stream: a control-path event, the only allocation here (bounded by
                // MAX_TRACKED_STREAMS).
                self.streams
                    .push(StreamRx::new(port, stream, self.max_ticks));
                self.index[key] = self.streams.len() as u32;
                self.streams.len() - 1
            }
            n => n as usize - 1,
        })
    }

    #[inline]
    fn flush(&mut self, p: &Pending) {
        if p.count > 0 {
            self.streams[p.slot]
                .latency
                .saturating_record_n(p.ticks, p.count);
        }
    }

    /// Copies the current state into `snap` (reusing its allocations).
    pub fn snapshot_into(&self, snap: &mut Vec<StreamRx>) {
        snap.truncate(self.streams.len());
        for (i, s) in self.streams.iter().enumerate() {
            match snap.get_mut(i) {
                Some(d) => {
                    d.port = s.port;
                    d.stream = s.stream;
                    d.counts = s.counts;
                    d.latency.reset();
                    d.latency.add(&s.latency).expect("same bounds");
                }
                None => snap.push(s.clone()),
            }
        }
    }
}

/// Latency percentiles in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub samples: u64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Latency {
    fn of(h: &Histogram<u64>, hz: u64) -> Option<Self> {
        if h.is_empty() || hz == 0 {
            return None;
        }
        let ns = |ticks: u64| (u128::from(ticks) * 1_000_000_000 / u128::from(hz)) as u64;
        Some(Latency {
            samples: h.len(),
            p50: ns(h.value_at_quantile(0.5)),
            p99: ns(h.value_at_quantile(0.99)),
            p999: ns(h.value_at_quantile(0.999)),
            max: ns(h.max()),
        })
    }
}

/// What a report says about a stream, or about all of them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    /// Probes this process sent (only on streams it generates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<u64>,
    pub received: u64,
    pub lost: u64,
    pub reordered: u64,
    pub duplicated: u64,
    pub latency_ns: Option<Latency>,
}

impl Figures {
    fn add(&mut self, o: &Figures) {
        if let Some(s) = o.sent {
            self.sent = Some(self.sent.unwrap_or(0) + s);
        }
        self.received += o.received;
        self.lost += o.lost;
        self.reordered += o.reordered;
        self.duplicated += o.duplicated;
    }
}

/// One stream in a report: what this process sent on it and/or received of it.
#[derive(Debug, Clone, Serialize)]
pub struct StreamReport {
    pub stream: u16,
    /// TX port for a sent stream, RX port for a received one.
    pub port: u16,
    #[serde(flatten)]
    pub figures: Figures,
    #[serde(skip_serializing_if = "is_zero")]
    pub foreign_clock: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub latency_out_of_range: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Totals over all streams.
#[derive(Debug, Clone, Serialize)]
pub struct TotalsReport {
    #[serde(flatten)]
    pub figures: Figures,
    /// Latency counts in doubling buckets, for plots (the demo's report draws them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub latency_histogram: Vec<Bucket>,
}

/// Latency samples up to `le_ns` (and above the previous bucket's bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub le_ns: u64,
    pub count: u64,
}

impl Bucket {
    /// Doubling buckets from 1 µs up to the largest sample.
    fn log2(h: &Histogram<u64>, hz: u64) -> Vec<Bucket> {
        if h.is_empty() || hz == 0 {
            return Vec::new();
        }
        let ns = |ticks: u64| (u128::from(ticks) * 1_000_000_000 / u128::from(hz)) as u64;
        h.iter_log((hz / 1_000_000).max(1), 2.0)
            .map(|v| Bucket {
                le_ns: ns(v.value_iterated_to()),
                count: v.count_since_last_iteration(),
            })
            .collect()
    }
}

/// The `probe` object of a report.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    pub clock_id: u16,
    pub streams: Vec<StreamReport>,
    pub totals: TotalsReport,
    #[serde(skip_serializing_if = "is_zero")]
    pub unknown_streams: u64,
}

/// One (port, stream) of an [`Aggregate`].
#[derive(Debug)]
struct Entry {
    port: u16,
    stream: u16,
    sent: Option<u64>,
    counts: RxCounts,
    latency: Option<Histogram<u64>>,
}

/// Builds reports from what senders sent and what receiving lcores saw.
#[derive(Debug)]
pub struct Aggregate {
    hz: u64,
    entries: Vec<Entry>,
    unknown: u64,
}

impl Aggregate {
    pub fn new(hz: u64) -> Self {
        Aggregate {
            hz,
            entries: Vec::new(),
            unknown: 0,
        }
    }

    fn entry(&mut self, port: u16, stream: u16) -> &mut Entry {
        let i = match self
            .entries
            .iter()
            .position(|e| e.port == port && e.stream == stream)
        {
            Some(i) => i,
            None => {
                self.entries.push(Entry {
                    port,
                    stream,
                    sent: None,
                    counts: RxCounts::default(),
                    latency: None,
                });
                self.entries.len() - 1
            }
        };
        &mut self.entries[i]
    }

    /// A stream this process sent `sent` probes on, out of `port`.
    pub fn add_sent(&mut self, port: u16, stream: u16, sent: u64) {
        let e = self.entry(port, stream);
        e.sent = Some(e.sent.unwrap_or(0) + sent);
    }

    /// One lcore's view of received streams.
    pub fn add_received(&mut self, streams: &[StreamRx], unknown: u64) {
        self.unknown += unknown;
        for s in streams {
            let e = self.entry(s.port, s.stream);
            e.counts.merge(&s.counts);
            match &mut e.latency {
                Some(h) => h.add(&s.latency).expect("same bounds"),
                None => e.latency = Some(s.latency.clone()),
            }
        }
    }

    /// The figures a Prometheus scrape shows: per stream, and the latency of all streams in
    /// the fixed buckets of [`metrics::LATENCY_BUCKETS_S`].
    pub fn metrics(&self) -> metrics::ProbeFigures {
        let mut total: Option<Histogram<u64>> = None;
        let streams = self
            .entries
            .iter()
            .map(|e| {
                if let Some(h) = &e.latency {
                    match &mut total {
                        Some(t) => t.add(h).expect("same bounds"),
                        None => total = Some(h.clone()),
                    }
                }
                metrics::StreamFigures {
                    port: e.port,
                    stream: e.stream,
                    sent: e.sent,
                    receives: e.latency.is_some() || e.counts.received > 0,
                    received: e.counts.received,
                    lost: e.counts.lost(),
                    reordered: e.counts.reordered,
                    duplicated: e.counts.duplicated,
                }
            })
            .collect();
        let hz = self.hz.max(1) as f64;
        let latency = total.filter(|h| !h.is_empty()).map(|h| metrics::Latency {
            sum_s: h.mean() * h.len() as f64 / hz,
            count: h.len(),
            buckets: metrics::LATENCY_BUCKETS_S
                .iter()
                .map(|&le| (le, h.count_between(0, (le * hz) as u64)))
                .collect(),
        });
        metrics::ProbeFigures { streams, latency }
    }

    pub fn report(&mut self, clock_id: u16) -> ProbeReport {
        self.entries.sort_by_key(|e| (e.stream, e.port));
        let mut total_hist: Option<Histogram<u64>> = None;
        let mut totals = Figures::default();
        let mut streams = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            if let Some(h) = &e.latency {
                match &mut total_hist {
                    Some(t) => t.add(h).expect("same bounds"),
                    None => total_hist = Some(h.clone()),
                }
            }
            let figures = Figures {
                sent: e.sent,
                received: e.counts.received,
                lost: e.counts.lost(),
                reordered: e.counts.reordered,
                duplicated: e.counts.duplicated,
                latency_ns: e.latency.as_ref().and_then(|h| Latency::of(h, self.hz)),
            };
            totals.add(&figures);
            streams.push(StreamReport {
                stream: e.stream,
                port: e.port,
                figures,
                foreign_clock: e.counts.foreign_clock,
                latency_out_of_range: e.counts.out_of_range,
            });
        }
        totals.latency_ns = total_hist.as_ref().and_then(|h| Latency::of(h, self.hz));
        ProbeReport {
            clock_id,
            streams,
            totals: TotalsReport {
                figures: totals,
                latency_histogram: total_hist
                    .as_ref()
                    .map_or_else(Vec::new, |h| Bucket::log2(h, self.hz)),
            },
            unknown_streams: self.unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use packet::probe::{stamp, write_header, PROBE_OFF};

    use super::*;

    fn frame(stream: u16, seq: u32, clock: u16, tsc: u64) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        f[12] = 0x08;
        f[14] = 0x45;
        f[23] = 17;
        write_header(&mut f[PROBE_OFF..], stream, clock);
        stamp(&mut f[PROBE_OFF..], seq, tsc);
        f
    }

    fn counts(seqs: &[u32]) -> RxCounts {
        let mut s = StreamRx::new(0, 0, 1000);
        for &q in seqs {
            s.observe(q);
        }
        s.counts
    }

    #[test]
    fn a_sender_cycling_stream_ids_gets_a_bounded_number_of_histograms() {
        let mut rx = ProbeRx::new(7, true, 1_000_000);
        let frames: Vec<Vec<u8>> = (0..1000u16).map(|id| frame(id, 0, 7, 0)).collect();
        for port in 0..4 {
            rx.observe_burst(port, frames.iter().map(Vec::as_slice), 10);
        }
        assert_eq!(rx.streams.len(), MAX_TRACKED_STREAMS);
        assert_eq!(
            rx.unknown,
            4000 - MAX_TRACKED_STREAMS as u64,
            "overflow counted"
        );
        // Tracked streams keep counting.
        rx.observe_burst(0, std::iter::once(frame(0, 1, 7, 0).as_slice()), 10);
        assert_eq!(rx.streams[0].counts.received, 2);
    }

    proptest::proptest! {
        /// Any bytes on the wire: decoding and accounting never panic, and every frame is
        /// either counted for a stream or as unknown, or is no probe at all.
        #[test]
        fn arbitrary_frames_are_accounted_without_panics(
            frames in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..128), 0..64),
            probes in proptest::collection::vec((0u16..2048, proptest::num::u32::ANY, proptest::num::u64::ANY), 0..64),
            port in 0u16..40,
        ) {
            let mut rx = ProbeRx::new(7, true, 1_000_000);
            let mut all: Vec<Vec<u8>> = frames;
            all.extend(probes.iter().map(|&(id, seq, tsc)| frame(id, seq, 7, tsc)));
            let decoded = all.iter().filter(|f| decode(f).is_some()).count() as u64;
            rx.observe_burst(port, all.iter().map(Vec::as_slice), 42);
            let counted: u64 = rx.streams.iter().map(|s| s.counts.received).sum();
            proptest::prop_assert_eq!(counted + rx.unknown, decoded);
            proptest::prop_assert!(rx.streams.len() <= MAX_TRACKED_STREAMS);
        }
    }

    #[test]
    fn in_order_gaps_reorder_and_duplicates() {
        let c = counts(&[0, 1, 2, 3]);
        assert_eq!(
            (c.received, c.lost(), c.reordered, c.duplicated),
            (4, 0, 0, 0)
        );
        // 2 and 5 missing.
        let c = counts(&[0, 1, 3, 4, 6]);
        assert_eq!((c.lost(), c.reordered), (2, 0));
        // 2 arrives late: reordered, not lost.
        let c = counts(&[0, 1, 3, 2, 4]);
        assert_eq!((c.lost(), c.reordered, c.duplicated), (0, 1, 0));
        // 3 twice, 1 twice.
        let c = counts(&[0, 1, 2, 3, 3, 1, 4]);
        assert_eq!(
            (c.received, c.lost(), c.reordered, c.duplicated),
            (7, 0, 0, 2)
        );
        // A late packet older than the start extends the span without counting as loss.
        let c = counts(&[5, 6, 4, 7]);
        assert_eq!((c.lost(), c.reordered), (0, 1));
    }

    #[test]
    fn gaps_clear_the_window_and_sequence_wraps() {
        // A big jump forgets the window: an old packet is then taken for a late one (here a
        // duplicate of 1, so the 4998 missing packets show as 4997 lost).
        let c = counts(&[0, 1, 5000, 1]);
        assert_eq!((c.lost(), c.reordered, c.duplicated), (4997, 1, 0));
        let c = counts(&[u32::MAX - 1, u32::MAX, 0, 1]);
        assert_eq!((c.received, c.lost(), c.reordered), (4, 0, 0));
        let c = counts(&[u32::MAX, 1]);
        assert_eq!(c.lost(), 1);
    }

    #[test]
    fn views_of_several_lcores_merge() {
        // One stream spread over two queues polled by two lcores (RSS): even and odd seqs.
        let mut a = counts(&[0, 2, 4, 6]);
        let b = counts(&[1, 3, 7]);
        a.merge(&b);
        assert_eq!((a.received, a.lost()), (7, 1));
    }

    #[test]
    fn receiver_keys_by_port_and_stream_and_checks_the_clock() {
        let mut rx = ProbeRx::new(7, true, 1_000_000);
        let burst = [frame(1, 0, 7, 100), vec![0u8; 64], frame(1, 1, 7, 100)];
        rx.observe_burst(0, burst.iter().map(|f| &f[..]), 350);
        rx.observe_burst(0, [&frame(1, 2, 7, 100)[..]].into_iter(), 2_000_000); // beyond a second
        rx.observe_burst(1, [&frame(1, 0, 8, 100)[..]].into_iter(), 350); // other clock
        rx.observe_burst(1, [&frame(5000, 0, 7, 100)[..]].into_iter(), 350); // untracked id
        assert_eq!(rx.streams.len(), 2);
        let s = &rx.streams[0];
        assert_eq!((s.port, s.stream, s.counts.received), (0, 1, 3));
        assert_eq!((s.latency.len(), s.counts.out_of_range), (2, 1));
        assert_eq!(rx.unknown, 1);
        assert_eq!(s.latency.max(), 250);
        assert_eq!(rx.streams[1].counts.foreign_clock, 1);

        let mut snap = Vec::new();
        rx.snapshot_into(&mut snap);
        rx.snapshot_into(&mut snap);
        let mut agg = Aggregate::new(1_000_000);
        agg.add_sent(0, 1, 3);
        agg.add_received(&snap, 0);
        let r = agg.report(7);
        assert_eq!(r.streams.len(), 2);
        assert_eq!(r.streams[0].figures.sent, Some(3));
        assert_eq!(r.streams[0].figures.received, 3);
        let lat = r.streams[0].figures.latency_ns.unwrap();
        assert_eq!(lat.samples, 2);
        assert!((249_000..=251_000).contains(&lat.max), "{lat:?}");
        assert_eq!(
            (r.totals.figures.sent, r.totals.figures.received),
            (Some(3), 4)
        );
        let hist = &r.totals.latency_histogram;
        assert_eq!(hist.iter().map(|b| b.count).sum::<u64>(), 2, "{hist:?}");
        let full: Vec<_> = hist.iter().filter(|b| b.count > 0).collect();
        assert!(
            full.len() == 1 && (250_000..512_000).contains(&full[0].le_ns),
            "{hist:?}"
        );
        assert!(hist.windows(2).all(|w| w[1].le_ns > w[0].le_ns), "{hist:?}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["streams"][1]["latency_ns"], serde_json::Value::Null);
        assert_eq!(json["streams"][1]["foreign_clock"], 1);
    }
}
