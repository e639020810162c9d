//! The l3fwd lcore loop (`lpm_main_loop`/`em_main_loop`): poll the lcore's RX queues, decide
//! each burst with the [`Router`], send through per-port TX buffers drained every ~100 µs.

use std::sync::Arc;

use dpdk::{Batch, RxQueue};

use super::forward::{Router, BAD_PORT};
use super::ptype::Source;
use crate::monitor::{LcoreCounters, MAX_PORTS};
use crate::signal::Stop;
use crate::txbuffer::{DrainTimer, TxBuffer, BURST};

/// One RX queue an lcore polls and how its packet types are obtained.
#[derive(Debug)]
pub struct RxLane {
    pub queue: RxQueue,
    pub source: Source,
}

/// The work of one lcore.
#[derive(Debug)]
pub struct Engine {
    pub rx: Vec<RxLane>,
    /// This lcore's TX queue of every enabled port, by port id.
    pub tx: Vec<Option<TxBuffer>>,
    pub router: Arc<Router>,
    pub counters: Arc<LcoreCounters>,
    pub stop: Stop,
}

impl Engine {
    /// Forwards until the stop flag is set, then flushes the TX buffers.
    pub fn run(mut self) {
        assert_eq!(self.tx.len(), MAX_PORTS, "one TX slot per port id");
        let mut burst = Batch::new(BURST);
        let mut dst = [0u16; BURST];
        let mut drain = DrainTimer::new();
        while !self.stop.is_set() {
            if drain.due() {
                self.drain();
            }
            for lane in &mut self.rx {
                let n = lane.queue.rx(&mut burst);
                if n == 0 {
                    continue;
                }
                let port = lane.queue.port();
                let dst = &mut dst[..n];
                let bytes: u64 = burst.iter().map(|m| m.len() as u64).sum();
                self.router
                    .decide(burst.as_mut_slice(), port, lane.source, dst);
                let rx = self.counters.port(port);
                rx.rx_packets.add(n as u64);
                rx.rx_bytes.add(bytes);
                let dropped = send(&mut self.tx, &self.counters, &mut burst, dst, bytes);
                if dropped > 0 {
                    rx.rx_dropped.add(dropped);
                }
            }
        }
        self.drain();
    }

    fn drain(&mut self) {
        for buffer in self.tx.iter_mut().flatten() {
            buffer.flush().record(self.counters.port(buffer.port()));
        }
    }
}

/// Sends each packet of `burst` (`bytes` long together) to its destination's TX buffer, in
/// order; a burst that goes to one port whole is handed over at once. Returns how many were
/// dropped (`BAD_PORT`).
#[inline]
fn send(
    tx: &mut [Option<TxBuffer>],
    counters: &LcoreCounters,
    burst: &mut Batch,
    dst: &[u16],
    bytes: u64,
) -> u64 {
    let first = dst[0];
    if first != BAD_PORT && dst.iter().all(|&d| d == first) {
        let buffer = tx[usize::from(first)]
            .as_mut()
            .expect("destinations are enabled ports");
        buffer.send(burst, bytes).record(counters.port(first));
        return 0;
    }
    let mut dropped = 0;
    for (m, &d) in burst.drain().zip(dst) {
        if d == BAD_PORT {
            drop(m);
            dropped += 1;
            continue;
        }
        let buffer = tx[usize::from(d)]
            .as_mut()
            .expect("destinations are enabled ports");
        buffer.push(m).record(counters.port(d));
    }
    dropped
}
