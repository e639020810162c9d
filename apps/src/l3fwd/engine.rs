//! The l3fwd lcore loop (`lpm_main_loop`/`em_main_loop`): poll the lcore's RX queues, decide
//! each burst with the [`Router`], send through per-port TX buffers drained every ~100 µs.

use std::sync::Arc;

use dpdk::{Batch, RxQueue};

use super::forward::{Router, BAD_PORT};
use super::ptype::Source;
use crate::monitor::{LcoreCounters, MAX_PORTS};
use crate::quiesce::Quiesce;
use crate::runopts::IdleSleep;
use crate::signal::Stop;
use crate::testpmd::announce::drop_announcements;
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
    /// `--idle-sleep-us`: sleep this long after a pass that received nothing.
    pub idle_sleep: IdleSleep,
}

impl Engine {
    /// Forwards until the stop flag is set and what was in flight has arrived (see
    /// [`Quiesce`]), then flushes the TX buffers.
    pub fn run(mut self) {
        assert_eq!(self.tx.len(), MAX_PORTS, "one TX slot per port id");
        let used: Vec<usize> = (0..MAX_PORTS).filter(|&p| self.tx[p].is_some()).collect();
        let mut burst = Batch::new(BURST);
        let mut dst = [0u16; BURST];
        let mut drain = DrainTimer::new();
        let mut quiesce: Option<Quiesce> = None;
        loop {
            if drain.due() {
                self.drain(&used);
            }
            let mut received = 0;
            for lane in &mut self.rx {
                let n = lane.queue.rx(&mut burst);
                if n == 0 {
                    continue;
                }
                // MAC announcements (testpmd --announce) are neither counted nor routed.
                if drop_announcements(&mut burst) == n {
                    continue;
                }
                let n = burst.len();
                received += n;
                let port = lane.queue.port();
                let dst = &mut dst[..n];
                let decided = self
                    .router
                    .decide(burst.as_mut_slice(), port, lane.source, dst);
                let rx = self.counters.port(port);
                rx.rx_packets.add(n as u64);
                rx.rx_bytes.add(decided.bytes);
                let dropped = match decided.uniform {
                    Some(to) => {
                        let buffer = self.tx[usize::from(to)]
                            .as_mut()
                            .expect("destinations are enabled ports");
                        buffer
                            .send(&mut burst, decided.bytes)
                            .record(self.counters.port(to));
                        0
                    }
                    None => distribute(&mut self.tx, &self.counters, &mut burst, dst),
                };
                if dropped > 0 {
                    rx.rx_dropped.add(dropped);
                }
            }
            if self.stop.is_set() && quiesce.get_or_insert_with(Quiesce::new).done(received) {
                break;
            }
            self.idle_sleep.after_pass(received);
        }
        self.drain(&used);
    }

    /// Flushes the TX buffers of the `used` port ids.
    fn drain(&mut self, used: &[usize]) {
        for &port in used {
            if let Some(buffer) = &mut self.tx[port] {
                buffer.flush().record(self.counters.port(buffer.port()));
            }
        }
    }
}

/// Sends each packet of `burst` to its destination's TX buffer, in order, and drops those
/// for `BAD_PORT`; returns how many were dropped.
fn distribute(
    tx: &mut [Option<TxBuffer>],
    counters: &LcoreCounters,
    burst: &mut Batch,
    dst: &[u16],
) -> u64 {
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
