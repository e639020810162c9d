//! l2fwd's statistics block, byte for byte as C l2fwd's `print_stats()` prints it (the clear
//! screen and cursor-home escapes included). l3fwd prints the same block: C l3fwd has none.

use std::fmt::Write;

use crate::stats::PortSample;

/// `ESC[2J` (clear screen) then `ESC[1;1H` (cursor to the top left).
const CLEAR: &str = "\x1b[2J\x1b[1;1H";

/// The block for `ports` (cumulative counters, in port order). "Packets dropped" counts
/// packets the PMD refused (C l2fwd's TX buffer error callback) plus packets the app dropped
/// (l3fwd's invalid IPv4 headers).
pub fn block(ports: &[PortSample]) -> String {
    let mut s = String::with_capacity(200 + 140 * ports.len());
    let (mut sent, mut received, mut dropped) = (0u64, 0u64, 0u64);
    s.push_str(CLEAR);
    s.push_str("\nPort statistics ====================================");
    for p in ports {
        let p_dropped = p.rx_dropped + p.tx_dropped;
        let _ = write!(
            s,
            "\nStatistics for port {} ------------------------------\
             \nPackets sent: {:24}\
             \nPackets received: {:20}\
             \nPackets dropped: {:21}",
            p.port, p.tx_packets, p.rx_packets, p_dropped
        );
        sent += p.tx_packets;
        received += p.rx_packets;
        dropped += p_dropped;
    }
    let _ = write!(
        s,
        "\nAggregate statistics ===============================\
         \nTotal packets sent: {sent:18}\
         \nTotal packets received: {received:14}\
         \nTotal packets dropped: {dropped:15}"
    );
    s.push_str("\n====================================================\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_c_print_stats() {
        let ports = [
            PortSample {
                port: 0,
                tx_packets: 112569952,
                rx_packets: 112569952,
                ..PortSample::default()
            },
            PortSample {
                port: 1,
                tx_packets: 5,
                rx_packets: 7,
                tx_dropped: 2,
                ..PortSample::default()
            },
        ];
        // Captured from the C l2fwd of DPDK 22.11 (port 1's numbers edited).
        let expected = "\x1b[2J\x1b[1;1H
Port statistics ====================================
Statistics for port 0 ------------------------------
Packets sent:                112569952
Packets received:            112569952
Packets dropped:                     0
Statistics for port 1 ------------------------------
Packets sent:                        5
Packets received:                    7
Packets dropped:                     2
Aggregate statistics ===============================
Total packets sent:          112569957
Total packets received:      112569959
Total packets dropped:               2
====================================================
";
        assert_eq!(block(&ports), expected);
    }
}
