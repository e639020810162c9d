//! The l2fwd fast path: each lcore polls its RX ports, rewrites the Ethernet addresses of what
//! it receives and hands the burst to the TX buffer of the paired port.

use std::sync::Arc;

use dpdk::{Batch, MacAddr, RxQueue};

use crate::monitor::LcoreCounters;
use crate::quiesce::Quiesce;
use crate::runopts::IdleSleep;
use crate::signal::Stop;
use crate::testpmd::announce::drop_announcements;
use crate::txbuffer::{DrainTimer, TxBuffer, BURST};

/// The 12 address bytes l2fwd writes: destination `02:00:00:00:00:<dst port>`, source the
/// destination port's own MAC (`l2fwd_mac_updating`).
pub fn mac_header(dst_port: u16, dst_port_mac: MacAddr) -> [u8; 12] {
    let mut h = [0u8; 12];
    h[..6].copy_from_slice(&MacAddr::locally_administered(dst_port as u8).0);
    h[6..].copy_from_slice(&dst_port_mac.0);
    h
}

/// Writes `header` over the addresses of `frame`. A runt shorter than 12 bytes gets the
/// header's first bytes only: C writes the full 12 past the end of the data, where they are
/// not part of the frame.
#[inline]
pub fn rewrite(frame: &mut [u8], header: &[u8; 12]) {
    match frame.first_chunk_mut::<12>() {
        Some(addrs) => *addrs = *header,
        None => rewrite_runt(frame, header),
    }
}

/// Kept out of line: merged with the fixed-size copy above, it would turn every rewrite into
/// a variable-length `memcpy` call.
#[cold]
#[inline(never)]
fn rewrite_runt(frame: &mut [u8], header: &[u8; 12]) {
    let n = frame.len();
    frame.copy_from_slice(&header[..n]);
}

/// One RX port of an lcore and where its packets go.
#[derive(Debug)]
pub struct Lane {
    pub rx: RxQueue,
    pub tx: TxBuffer,
    /// The addresses to write, `None` with `--no-mac-updating`.
    pub header: Option<[u8; 12]>,
}

/// The work of one lcore.
#[derive(Debug)]
pub struct Engine {
    pub lanes: Vec<Lane>,
    pub counters: Arc<LcoreCounters>,
    pub stop: Stop,
    /// `--idle-sleep-us`: sleep this long after a pass that received nothing.
    pub idle_sleep: IdleSleep,
}

impl Engine {
    /// Forwards until the stop flag is set and what was in flight has arrived (see
    /// [`Quiesce`]), then flushes the TX buffers.
    pub fn run(mut self) {
        let mut burst = Batch::new(BURST);
        let mut drain = DrainTimer::new();
        let mut quiesce: Option<Quiesce> = None;
        loop {
            if drain.due() {
                self.drain();
            }
            let mut received = 0;
            for lane in &mut self.lanes {
                let n = lane.rx.rx(&mut burst);
                if n == 0 {
                    continue;
                }
                // MAC announcements (testpmd --announce) are neither counted nor forwarded.
                if drop_announcements(&mut burst) == n {
                    continue;
                }
                let n = burst.len();
                received += n;
                let rx = self.counters.port(lane.rx.port());
                rx.rx_packets.add(burst.len() as u64);
                let mut bytes = 0;
                match &lane.header {
                    Some(header) => {
                        for m in burst.iter_mut() {
                            bytes += m.len() as u64;
                            rewrite(m.data_mut(), header);
                        }
                    }
                    None => bytes = burst.iter().map(|m| m.len() as u64).sum(),
                }
                rx.rx_bytes.add(bytes);
                let sent = lane.tx.send(&mut burst, bytes);
                sent.record(self.counters.port(lane.tx.port()));
            }
            if self.stop.is_set() && quiesce.get_or_insert_with(Quiesce::new).done(received) {
                break;
            }
            self.idle_sleep.after_pass(received);
        }
        self.drain();
    }

    fn drain(&mut self) {
        for lane in &mut self.lanes {
            let sent = lane.tx.flush();
            sent.record(self.counters.port(lane.tx.port()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_rewrite() {
        let mac = MacAddr([0x02, 0x70, 0x63, 0x61, 0x70, 0x01]);
        let h = mac_header(1, mac);
        assert_eq!(h, [2, 0, 0, 0, 0, 1, 0x02, 0x70, 0x63, 0x61, 0x70, 0x01]);
        let mut frame: Vec<u8> = (0..60).collect();
        rewrite(&mut frame, &h);
        assert_eq!(frame[..12], h);
        assert_eq!(frame[12..], (12..60).collect::<Vec<u8>>()[..]);
        let mut runt = [0xffu8; 8];
        rewrite(&mut runt, &h);
        assert_eq!(runt, h[..8]);
    }
}
