//! testpmd's forwarding configuration: which streams exist (an RX port/queue feeding a TX
//! port/queue) and which lcore runs which streams. The rules are config.c's
//! `simple_fwd_config_setup`, `rss_fwd_config_setup`, `icmp_echo_config_setup` and
//! `setup_fwd_config_of_each_lcore`, so the start-up lines and the per-stream statistics come
//! out in testpmd's order.

use std::ops::Range;

use super::options::{Mode, Topology};

/// One forwarding stream, identified by its index (also the probe stream id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stream {
    pub id: u16,
    pub rx_port: u16,
    pub rx_queue: u16,
    pub tx_port: u16,
    pub tx_queue: u16,
}

/// Streams and their distribution over forwarding lcores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FwdConfig {
    pub streams: Vec<Stream>,
    /// Per forwarding lcore (in order), the range of `streams` it runs.
    pub lcores: Vec<Range<usize>>,
    /// Set when paired topology had to pair the last port with itself.
    pub odd_paired: bool,
}

impl FwdConfig {
    /// Builds the configuration for `ports` (ids in order), `nb_cores` forwarding lcores and
    /// the queue counts, as testpmd's `fwd_config_setup` does.
    pub fn new(
        mode: Mode,
        ports: &[u16],
        nb_cores: usize,
        rxq: u16,
        txq: u16,
        topology: Topology,
    ) -> Self {
        let n = ports.len();
        let mut odd_paired = false;
        let mut tx_of = |rxp: usize| -> usize {
            match topology {
                Topology::Paired if rxp.is_multiple_of(2) => {
                    if rxp + 1 < n {
                        rxp + 1
                    } else {
                        odd_paired = true;
                        rxp
                    }
                }
                Topology::Paired => rxp - 1,
                Topology::Chained => (rxp + 1) % n,
                Topology::Loop => rxp,
            }
        };
        let mut streams = Vec::new();
        let lcores;
        if mode == Mode::IcmpEcho {
            // Every (port, queue) answers on itself; lcores capped by TX queues and streams.
            let total = usize::from(rxq) * n;
            let nb = nb_cores.min(usize::from(txq) * n).min(total);
            lcores = spread(total, nb);
            for (i, (p, q)) in (0..n)
                .flat_map(|p| (0..rxq).map(move |q| (p, q)))
                .enumerate()
            {
                streams.push(Stream {
                    id: i as u16,
                    rx_port: ports[p],
                    rx_queue: q,
                    tx_port: ports[p],
                    tx_queue: q,
                });
            }
        } else if rxq > 1 && txq > 1 {
            let nb_q = rxq.min(txq);
            let total = usize::from(nb_q) * n;
            lcores = spread(total, nb_cores.min(total));
            for i in 0..total {
                let (rxp, q) = (i % n, (i / n) as u16);
                streams.push(Stream {
                    id: i as u16,
                    rx_port: ports[rxp],
                    rx_queue: q,
                    tx_port: ports[tx_of(rxp)],
                    tx_queue: q,
                });
            }
        } else {
            lcores = spread(n, nb_cores.min(n));
            for rxp in 0..n {
                streams.push(Stream {
                    id: rxp as u16,
                    rx_port: ports[rxp],
                    rx_queue: 0,
                    tx_port: ports[tx_of(rxp)],
                    tx_queue: 0,
                });
            }
        }
        FwdConfig {
            streams,
            lcores,
            odd_paired,
        }
    }
}

/// `setup_fwd_config_of_each_lcore`: `nb_fs / nb_fc` streams per lcore, the remainder going
/// one each to the last lcores.
fn spread(nb_fs: usize, nb_fc: usize) -> Vec<Range<usize>> {
    let nb_fc = nb_fc.max(1);
    let (per, extra) = if nb_fs <= nb_fc {
        (1, 0)
    } else {
        (nb_fs / nb_fc, nb_fs % nb_fc)
    };
    let mut out = Vec::with_capacity(nb_fc);
    let mut start = 0;
    for lc in 0..nb_fc {
        let len = if lc < nb_fc - extra { per } else { per + 1 };
        let end = (start + len).min(nb_fs);
        out.push(start..end);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(c: &FwdConfig) -> Vec<(u16, u16, u16, u16)> {
        c.streams
            .iter()
            .map(|s| (s.rx_port, s.rx_queue, s.tx_port, s.tx_queue))
            .collect()
    }

    #[test]
    fn one_port_pairs_with_itself() {
        let c = FwdConfig::new(Mode::TxOnly, &[0], 1, 1, 1, Topology::Paired);
        assert_eq!(pairs(&c), vec![(0, 0, 0, 0)]);
        assert_eq!(c.lcores, vec![0..1]);
        assert!(c.odd_paired);
    }

    #[test]
    fn two_ports_two_queues_as_testpmd_prints_them() {
        // dpdk-testpmd --rxq=2 --txq=2 with two ports and one core printed exactly this order.
        let c = FwdConfig::new(Mode::Io, &[0, 1], 1, 2, 2, Topology::Paired);
        assert_eq!(
            pairs(&c),
            vec![(0, 0, 1, 0), (1, 0, 0, 0), (0, 1, 1, 1), (1, 1, 0, 1)]
        );
        assert_eq!(c.lcores, vec![0..4]);
        assert!(!c.odd_paired);
    }

    #[test]
    fn simple_config_caps_lcores_at_ports_and_uses_queue_0() {
        let c = FwdConfig::new(Mode::Mac, &[0, 1, 2], 4, 4, 1, Topology::Chained);
        assert_eq!(pairs(&c), vec![(0, 0, 1, 0), (1, 0, 2, 0), (2, 0, 0, 0)]);
        assert_eq!(c.lcores, vec![0..1, 1..2, 2..3]);
        let l = FwdConfig::new(Mode::Mac, &[0, 1], 1, 1, 1, Topology::Loop);
        assert_eq!(pairs(&l), vec![(0, 0, 0, 0), (1, 0, 1, 0)]);
        let odd = FwdConfig::new(Mode::Io, &[0, 1, 2], 1, 1, 1, Topology::Paired);
        assert_eq!(pairs(&odd), vec![(0, 0, 1, 0), (1, 0, 0, 0), (2, 0, 2, 0)]);
        assert!(odd.odd_paired);
    }

    #[test]
    fn extra_streams_go_to_the_last_lcores() {
        // 5 streams on 2 lcores: 2 then 3, as setup_fwd_config_of_each_lcore assigns them.
        assert_eq!(spread(5, 2), vec![0..2, 2..5]);
        assert_eq!(spread(2, 4), vec![0..1, 1..2, 2..2, 2..2]);
        let c = FwdConfig::new(Mode::Io, &[0, 1], 3, 4, 2, Topology::Paired);
        assert_eq!(c.streams.len(), 4);
        assert_eq!(c.lcores, vec![0..1, 1..2, 2..4]);
    }

    #[test]
    fn icmpecho_answers_on_the_receiving_queue() {
        let c = FwdConfig::new(Mode::IcmpEcho, &[0, 1], 2, 2, 1, Topology::Paired);
        assert_eq!(
            pairs(&c),
            vec![(0, 0, 0, 0), (0, 1, 0, 1), (1, 0, 1, 0), (1, 1, 1, 1)]
        );
        assert_eq!(c.lcores, vec![0..2, 2..4]);
    }
}
