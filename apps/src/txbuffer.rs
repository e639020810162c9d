//! Per-port TX buffering with a periodic drain, as DPDK's l2fwd (`rte_eth_tx_buffer`) and l3fwd
//! (`send_single_packet`/`send_packetsx4`) do it: packets for a port collect in a buffer of one
//! burst, which goes to the PMD when it is full or when the lcore's drain timer (~100 µs) fires.
//!
//! What the PMD does not take is freed and counted, never retried: that is the C behaviour,
//! and it keeps a slow port from stalling the lcore.

use dpdk::{tsc, Batch, Mbuf, TxQueue};

use crate::stats::PortCounters;

/// Packets per TX burst and buffer size (`MAX_PKT_BURST`).
pub const BURST: usize = 32;

/// A run of at least this many packets goes straight to the PMD when nothing is buffered, as
/// l3fwd's `send_packetsx4` does (`MAX_TX_BURST`): same packets, same order, one copy less.
const DIRECT_MIN: usize = BURST / 2;

/// The drain interval of C l2fwd and l3fwd (`BURST_TX_DRAIN_US`).
const DRAIN_US: u64 = 100;

/// The lcore's TX drain timer: due once every ~100 µs of TSC time, checked once per loop.
#[derive(Debug)]
pub struct DrainTimer {
    ticks: u64,
    prev: u64,
}

impl DrainTimer {
    /// A timer whose first period starts now (needs the EAL for the TSC rate).
    pub fn new() -> Self {
        DrainTimer {
            ticks: tsc::hz().div_ceil(1_000_000) * DRAIN_US,
            prev: tsc::rdtsc(),
        }
    }

    /// Whether a drain is due; if so, the next period starts now.
    #[inline]
    pub fn due(&mut self) -> bool {
        let now = tsc::rdtsc();
        if now.wrapping_sub(self.prev) > self.ticks {
            self.prev = now;
            true
        } else {
            false
        }
    }
}

impl Default for DrainTimer {
    fn default() -> Self {
        Self::new()
    }
}

/// What one transmission did: packets (and bytes) the PMD accepted, packets it refused (freed).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub packets: u64,
    pub bytes: u64,
    pub dropped: u64,
}

impl Sent {
    /// Adds this result to the counters of the TX port.
    #[inline]
    pub fn record(self, port: &PortCounters) {
        if self.packets > 0 {
            port.tx_packets.add(self.packets);
            port.tx_bytes.add(self.bytes);
        }
        if self.dropped > 0 {
            port.tx_dropped.add(self.dropped);
        }
    }
}

impl std::ops::AddAssign for Sent {
    fn add_assign(&mut self, other: Sent) {
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.dropped += other.dropped;
    }
}

/// A TX queue with a one-burst buffer in front of it.
#[derive(Debug)]
pub struct TxBuffer {
    queue: TxQueue,
    pending: Batch,
    /// Bytes of the buffered packets.
    pending_bytes: u64,
}

impl TxBuffer {
    pub fn new(queue: TxQueue) -> Self {
        TxBuffer {
            queue,
            pending: Batch::new(BURST),
            pending_bytes: 0,
        }
    }

    /// The port this buffer transmits on.
    pub fn port(&self) -> u16 {
        self.queue.port()
    }

    /// Packets waiting for the next burst.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Buffers one packet; transmits the buffer when it is full.
    #[inline]
    pub fn push(&mut self, m: Mbuf) -> Sent {
        self.pending_bytes += m.len() as u64;
        // The buffer is flushed whenever it fills, so there is always room here.
        let _ = self.pending.push(m);
        if self.pending.is_full() {
            self.flush()
        } else {
            Sent::default()
        }
    }

    /// Sends every packet of `batch` (leaving it empty), in order after what is buffered;
    /// `bytes` is the length of `batch`'s packets together.
    #[inline]
    pub fn send(&mut self, batch: &mut Batch, bytes: u64) -> Sent {
        if self.pending.is_empty() && batch.len() >= DIRECT_MIN {
            return transmit(&mut self.queue, batch, bytes);
        }
        let mut sent = Sent::default();
        for m in batch.drain() {
            sent += self.push(m);
        }
        sent
    }

    /// Transmits whatever is buffered (the periodic drain).
    #[inline]
    pub fn flush(&mut self) -> Sent {
        if self.pending.is_empty() {
            return Sent::default();
        }
        let bytes = std::mem::take(&mut self.pending_bytes);
        transmit(&mut self.queue, &mut self.pending, bytes)
    }
}

/// One `tx_burst` of all of `batch` (`bytes` long together); what the PMD refuses is freed
/// and counted as dropped.
#[inline]
fn transmit(queue: &mut TxQueue, batch: &mut Batch, bytes: u64) -> Sent {
    let offered = batch.len();
    let taken = queue.tx(batch);
    let mut sent = Sent {
        packets: taken as u64,
        bytes,
        dropped: 0,
    };
    if taken < offered {
        sent.bytes -= batch.iter().map(|m| m.len() as u64).sum::<u64>();
        sent.dropped = batch.len() as u64;
        batch.clear();
    }
    sent
}
