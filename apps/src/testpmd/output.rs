//! testpmd's text, byte for byte: the periodic "Port statistics" block (`print_stats` and
//! config.c's `nic_stats_display`), the final "Forward statistics" blocks (testpmd.c's
//! `fwd_stats_display` and `pkt_burst_stats_display`) and the start-up configuration lines
//! (`pkt_fwd_config_display`, `rxtx_config_display`). Log parsers read these word by word, so
//! every `%-14lu` padding is kept. Everything here returns strings; printing is the caller's.

use std::fmt::Write;

use dpdk::{MacAddr, PortStats};

use super::options::MAX_BURST;
use super::streams::Stream;

/// `ESC[2J ESC[1;1H`: testpmd clears the terminal before each periodic block.
pub const CLEAR_SCREEN: &str = "\x1b[2J\x1b[1;1H";

/// Packets per second and bits per second since the previous block of a port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rates {
    pub rx_pps: u64,
    pub rx_bps: u64,
    pub tx_pps: u64,
    pub tx_bps: u64,
}

impl Rates {
    /// Rates between two samples `ns` nanoseconds apart (0 when no time passed, as testpmd
    /// shows for the first block).
    pub fn between(prev: &PortStats, cur: &PortStats, ns: u64) -> Self {
        let per_sec = |d: u64| {
            if ns == 0 {
                0
            } else {
                (d as f64 / ns as f64 * 1e9) as u64
            }
        };
        Rates {
            rx_pps: per_sec(cur.ipackets.saturating_sub(prev.ipackets)),
            tx_pps: per_sec(cur.opackets.saturating_sub(prev.opackets)),
            rx_bps: per_sec(cur.ibytes.saturating_sub(prev.ibytes)) * 8,
            tx_bps: per_sec(cur.obytes.saturating_sub(prev.obytes)) * 8,
        }
    }
}

/// The start of a periodic block; each port's [`nic_stats`] follows.
pub fn port_statistics_header() -> String {
    format!("{CLEAR_SCREEN}\nPort statistics ====================================")
}

/// One port's block of the periodic output.
pub fn nic_stats(port: u16, s: &PortStats, r: &Rates) -> String {
    let border = "########################";
    format!(
        "\n  {border} NIC statistics for port {port:<2} {border}\n\
         \x20 RX-packets: {:<10} RX-missed: {:<10} RX-bytes:  {}\n\
         \x20 RX-errors: {}\n\
         \x20 RX-nombuf:  {:<10}\n\
         \x20 TX-packets: {:<10} TX-errors: {:<10} TX-bytes:  {}\n\
         \n\
         \x20 Throughput (since last show)\n\
         \x20 Rx-pps: {:>12}          Rx-bps: {:>12}\n\
         \x20 Tx-pps: {:>12}          Tx-bps: {:>12}\n\
         \x20 {border}############################{border}\n",
        s.ipackets,
        s.imissed,
        s.ibytes,
        s.ierrors,
        s.rx_nombuf,
        s.opackets,
        s.oerrors,
        s.obytes,
        r.rx_pps,
        r.rx_bps,
        r.tx_pps,
        r.tx_bps,
    )
}

/// How many bursts carried how many packets (`--record-burst-stats`); index = packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BurstSpread(pub Box<[u64]>);

impl Default for BurstSpread {
    fn default() -> Self {
        BurstSpread(vec![0; usize::from(MAX_BURST) + 1].into_boxed_slice())
    }
}

impl BurstSpread {
    #[inline]
    pub fn record(&mut self, packets: usize) {
        if let Some(n) = self.0.get_mut(packets) {
            *n += 1;
        }
    }

    /// `  RX-bursts : N [a% of 0 pkts + b% of x pkts + c% of y pkts + d% of other]`, or
    /// nothing when no burst was recorded.
    pub fn line(&self, rx_tx: &str) -> String {
        let spread = &self.0;
        let mut stats = [0u64; 3];
        let mut sizes = [0usize; 3];
        let mut total = spread[0];
        stats[0] = spread[0];
        for (n, &count) in spread.iter().enumerate().skip(1) {
            if count == 0 {
                continue;
            }
            total += count;
            if count > stats[1] {
                stats[2] = stats[1];
                sizes[2] = sizes[1];
                stats[1] = count;
                sizes[1] = n;
            } else if count > stats[2] {
                stats[2] = count;
                sizes[2] = n;
            }
        }
        if total == 0 {
            return String::new();
        }
        let mut out = format!("  {rx_tx}-bursts : {total} [");
        let (mut sum, mut sum_pct) = (0u64, 0i64);
        for i in 0..4 {
            if i == 3 {
                let _ = writeln!(out, "{}% of other]", 100 - sum_pct);
                return out;
            }
            sum += stats[i];
            if sum == total {
                let _ = writeln!(out, "{}% of {} pkts]", 100 - sum_pct, sizes[i]);
                return out;
            }
            let pct = (stats[i] as f64 / total as f64 * 100.0) as i64;
            let _ = write!(out, "{pct}% of {} pkts + ", sizes[i]);
            sum_pct += pct;
        }
        out
    }
}

/// What one stream counted in software.
#[derive(Debug, Clone, Default)]
pub struct StreamTotals {
    pub stream: Stream,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub tx_dropped: u64,
    pub rx_bursts: Option<BurstSpread>,
    pub tx_bursts: Option<BurstSpread>,
}

/// A port's ethdev counters since forwarding started.
#[derive(Debug, Clone, Copy)]
pub struct PortDelta {
    pub port: u16,
    pub stats: PortStats,
}

/// `fwd_stats_display`: per-stream blocks (only with more streams than ports), per-port
/// blocks and the accumulated block.
pub fn forward_stats(streams: &[StreamTotals], ports: &[PortDelta]) -> String {
    let mut out = String::new();
    let per_stream = streams.len() > ports.len();
    let dashes = "----------------------";
    if per_stream {
        for s in streams {
            if s.rx_packets == 0 && s.tx_packets == 0 && s.tx_dropped == 0 {
                continue;
            }
            let st = &s.stream;
            let _ = writeln!(
                out,
                "\n  ------- Forward Stats for RX Port={:>2}/Queue={:>2} -> TX Port={:>2}/Queue={:>2} -------",
                st.rx_port, st.rx_queue, st.tx_port, st.tx_queue
            );
            let _ = writeln!(
                out,
                "  RX-packets: {:<14} TX-packets: {:<14} TX-dropped: {:<14}",
                s.rx_packets, s.tx_packets, s.tx_dropped
            );
            burst_lines(&mut out, s.rx_bursts.as_ref(), s.tx_bursts.as_ref());
        }
    }
    let (mut rx, mut tx, mut rx_dropped, mut tx_dropped, mut nombuf) = (0, 0, 0, 0, 0);
    for p in ports {
        let s = &p.stats;
        let port_tx_dropped: u64 = streams
            .iter()
            .filter(|t| t.stream.tx_port == p.port)
            .map(|t| t.tx_dropped)
            .sum();
        rx += s.ipackets;
        tx += s.opackets;
        rx_dropped += s.imissed;
        tx_dropped += port_tx_dropped + s.oerrors;
        nombuf += s.rx_nombuf;
        let _ = writeln!(
            out,
            "\n  {dashes} Forward statistics for port {:<2} {dashes}",
            p.port
        );
        let _ = writeln!(
            out,
            "  RX-packets: {:<14} RX-dropped: {:<14}RX-total: {}",
            s.ipackets,
            s.imissed,
            s.ipackets + s.imissed
        );
        if s.ierrors + s.rx_nombuf > 0 {
            let _ = writeln!(out, "  RX-error: {}", s.ierrors);
            let _ = writeln!(out, "  RX-nombufs: {:<14}", s.rx_nombuf);
        }
        let _ = writeln!(
            out,
            "  TX-packets: {:<14} TX-dropped: {:<14}TX-total: {}",
            s.opackets,
            port_tx_dropped,
            s.opackets + port_tx_dropped
        );
        if !per_stream {
            // testpmd shows the bursts of the (last) stream receiving / sending on the port.
            let rx_stream = streams.iter().rev().find(|t| t.stream.rx_port == p.port);
            let tx_stream = streams.iter().rev().find(|t| t.stream.tx_port == p.port);
            burst_lines(
                &mut out,
                rx_stream.and_then(|t| t.rx_bursts.as_ref()),
                tx_stream.and_then(|t| t.tx_bursts.as_ref()),
            );
        }
        let _ = writeln!(out, "  {dashes}--------------------------------{dashes}");
    }
    let plus = "+++++++++++++++";
    let _ = writeln!(
        out,
        "\n  {plus} Accumulated forward statistics for all ports{plus}"
    );
    let _ = writeln!(
        out,
        "  RX-packets: {:<14} RX-dropped: {:<14}RX-total: {}",
        rx,
        rx_dropped,
        rx + rx_dropped
    );
    let _ = writeln!(
        out,
        "  TX-packets: {:<14} TX-dropped: {:<14}TX-total: {}",
        tx,
        tx_dropped,
        tx + tx_dropped
    );
    if nombuf > 0 {
        let _ = writeln!(out, "  RX-nombufs: {nombuf:<14}");
    }
    let _ = writeln!(
        out,
        "  {plus}++++++++++++++++++++++++++++++++++++++++++++++{plus}"
    );
    out
}

fn burst_lines(out: &mut String, rx: Option<&BurstSpread>, tx: Option<&BurstSpread>) {
    if let Some(b) = rx {
        out.push_str(&b.line("RX"));
    }
    if let Some(b) = tx {
        out.push_str(&b.line("TX"));
    }
}

/// A forwarding lcore and its streams, for the start-up lines.
#[derive(Debug, Clone)]
pub struct LcoreLine<'a> {
    pub lcore: u32,
    pub socket: u32,
    pub streams: &'a [Stream],
}

/// `pkt_fwd_config_display`.
pub fn fwd_config(
    mode: &str,
    ports: usize,
    lcores: &[LcoreLine<'_>],
    socket_of_port: impl Fn(u16) -> u32,
    peer: impl Fn(u16) -> MacAddr,
) -> String {
    let streams: usize = lcores.iter().map(|l| l.streams.len()).sum();
    let mut out = format!(
        "{mode} packet forwarding - ports={ports} - cores={} - streams={streams} - NUMA support enabled, MP allocation mode: native\n",
        lcores.len()
    );
    for l in lcores {
        let _ = write!(
            out,
            "Logical Core {} (socket {}) forwards packets on {} streams:",
            l.lcore,
            l.socket,
            l.streams.len()
        );
        for s in l.streams {
            let _ = write!(
                out,
                "\n  RX P={}/Q={} (socket {}) -> TX P={}/Q={} (socket {}) peer={}",
                s.rx_port,
                s.rx_queue,
                socket_of_port(s.rx_port),
                s.tx_port,
                s.tx_queue,
                socket_of_port(s.tx_port),
                peer(s.tx_port)
            );
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

/// One port's line group of `rxtx_config_display`.
#[derive(Debug, Clone, Copy)]
pub struct PortQueues {
    pub port: u16,
    pub rxq: u16,
    pub txq: u16,
    pub rxd: u16,
    pub txd: u16,
    pub rx_offloads: u64,
    pub tx_offloads: u64,
}

/// `rxtx_config_display` (thresholds are the PMD defaults, shown as 0 like testpmd does).
pub fn rxtx_config(
    mode: &str,
    burst: u16,
    packet: Option<(usize, usize)>,
    lcores: usize,
    ports: &[PortQueues],
) -> String {
    let mut out = format!("  {mode} packet forwarding packets/burst={burst}\n");
    if let Some((len, segs)) = packet {
        let _ = writeln!(out, "  packet len={len} - nb packet segments={segs}");
    }
    let _ = writeln!(
        out,
        "  nb forwarding cores={lcores} - nb forwarding ports={}",
        ports.len()
    );
    for p in ports {
        let _ = write!(
            out,
            "  port {}: RX queue number: {} Tx queue number: {}\n\
             \x20   Rx offloads={:#x} Tx offloads={:#x}\n\
             \x20   RX queue: 0\n\
             \x20     RX desc={} - RX free threshold=0\n\
             \x20     RX threshold registers: pthresh=0 hthresh=0  wthresh=0\n\
             \x20     RX Offloads={:#x}\n\
             \x20   TX queue: 0\n\
             \x20     TX desc={} - TX free threshold=0\n\
             \x20     TX threshold registers: pthresh=0 hthresh=0  wthresh=0\n\
             \x20     TX offloads={:#x} - TX RS bit threshold=0\n",
            p.port,
            p.rxq,
            p.txq,
            p.rx_offloads,
            p.tx_offloads,
            p.rxd,
            p.rx_offloads,
            p.txd,
            p.tx_offloads
        );
    }
    out
}

/// Our short probe summary, printed after testpmd's blocks.
pub fn probe_summary(report: &super::probe::ProbeReport) -> String {
    let mut out =
        String::from("\n  ++++++++++++++++++++ Probe statistics (dpdk-app) ++++++++++++++++++++\n");
    for s in &report.streams {
        let label = format!("Stream {:<3} port {:<2}", s.stream, s.port);
        let _ = writeln!(out, "  {label}: {}", figures(&s.figures));
    }
    let _ = writeln!(
        out,
        "  {:<18}: {}",
        "Total",
        figures(&report.totals.figures)
    );
    out.push_str("  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++\n");
    out
}

fn figures(f: &super::probe::Figures) -> String {
    let sent = f.sent.map_or(String::new(), |n| format!("sent={n} "));
    let latency = match &f.latency_ns {
        Some(l) => format!(
            "latency ns p50={} p99={} p99.9={} max={}",
            l.p50, l.p99, l.p999, l.max
        ),
        None => "latency n/a".to_owned(),
    };
    format!(
        "{sent}received={} lost={} reordered={} duplicated={} {latency}",
        f.received, f.lost, f.reordered, f.duplicated
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nic_block_matches_testpmd() {
        let s = PortStats {
            ipackets: 456192,
            opackets: 105102496,
            ..Default::default()
        };
        let r = Rates {
            tx_pps: 52542502,
            ..Default::default()
        };
        // Captured from dpdk-testpmd 22.11 (txonly over net_null, --stats-period 1).
        let want = "
  ######################## NIC statistics for port 0  ########################
  RX-packets: 456192     RX-missed: 0          RX-bytes:  0
  RX-errors: 0
  RX-nombuf:  0         
  TX-packets: 105102496  TX-errors: 0          TX-bytes:  0

  Throughput (since last show)
  Rx-pps:            0          Rx-bps:            0
  Tx-pps:     52542502          Tx-bps:            0
  ############################################################################
";
        assert_eq!(nic_stats(0, &s, &r), want);
        assert_eq!(
            port_statistics_header(),
            "\x1b[2J\x1b[1;1H\nPort statistics ===================================="
        );
    }

    #[test]
    fn rates_since_last_show() {
        let a = PortStats::default();
        let b = PortStats {
            ipackets: 1000,
            ibytes: 64000,
            ..Default::default()
        };
        let r = Rates::between(&a, &b, 500_000_000);
        assert_eq!((r.rx_pps, r.rx_bps, r.tx_pps), (2000, 1_024_000, 0));
        assert_eq!(Rates::between(&a, &b, 0), Rates::default());
    }

    fn st(id: u16, rx: (u16, u16), tx: (u16, u16)) -> Stream {
        Stream {
            id,
            rx_port: rx.0,
            rx_queue: rx.1,
            tx_port: tx.0,
            tx_queue: tx.1,
        }
    }

    #[test]
    fn forward_stats_match_testpmd() {
        // Captured from dpdk-testpmd 22.11: io, 2 ports, --rxq=2 --txq=2 (4 streams).
        let streams: Vec<StreamTotals> = [
            st(0, (0, 0), (1, 0)),
            st(1, (1, 0), (0, 0)),
            st(2, (0, 1), (1, 1)),
            st(3, (1, 1), (0, 1)),
        ]
        .into_iter()
        .map(|stream| StreamTotals {
            stream,
            rx_packets: 29356608,
            tx_packets: 29356608,
            ..Default::default()
        })
        .collect();
        let port = |port| PortDelta {
            port,
            stats: PortStats {
                ipackets: 58713216,
                opackets: 58713216,
                ..Default::default()
            },
        };
        let want = "
  ------- Forward Stats for RX Port= 0/Queue= 0 -> TX Port= 1/Queue= 0 -------
  RX-packets: 29356608       TX-packets: 29356608       TX-dropped: 0             

  ------- Forward Stats for RX Port= 1/Queue= 0 -> TX Port= 0/Queue= 0 -------
  RX-packets: 29356608       TX-packets: 29356608       TX-dropped: 0             

  ------- Forward Stats for RX Port= 0/Queue= 1 -> TX Port= 1/Queue= 1 -------
  RX-packets: 29356608       TX-packets: 29356608       TX-dropped: 0             

  ------- Forward Stats for RX Port= 1/Queue= 1 -> TX Port= 0/Queue= 1 -------
  RX-packets: 29356608       TX-packets: 29356608       TX-dropped: 0             

  ---------------------- Forward statistics for port 0  ----------------------
  RX-packets: 58713216       RX-dropped: 0             RX-total: 58713216
  TX-packets: 58713216       TX-dropped: 0             TX-total: 58713216
  ----------------------------------------------------------------------------

  ---------------------- Forward statistics for port 1  ----------------------
  RX-packets: 58713216       RX-dropped: 0             RX-total: 58713216
  TX-packets: 58713216       TX-dropped: 0             TX-total: 58713216
  ----------------------------------------------------------------------------

  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++
  RX-packets: 117426432      RX-dropped: 0             RX-total: 117426432
  TX-packets: 117426432      TX-dropped: 0             TX-total: 117426432
  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++
";
        assert_eq!(forward_stats(&streams, &[port(0), port(1)]), want);
    }

    #[test]
    fn forward_stats_with_drops_errors_and_bursts() {
        // Captured from dpdk-testpmd 22.11: txonly to a vhost port that could not keep up,
        // and rxonly with --record-burst-stats.
        let mut rx_bursts = BurstSpread::default();
        for _ in 0..60 {
            rx_bursts.record(32);
        }
        let streams = [StreamTotals {
            stream: st(0, (0, 0), (0, 0)),
            tx_packets: 37334944,
            tx_dropped: 18444960,
            rx_bursts: Some(rx_bursts),
            tx_bursts: Some(BurstSpread::default()),
            ..Default::default()
        }];
        let ports = [PortDelta {
            port: 0,
            stats: PortStats {
                ipackets: 1920,
                opackets: 37334944,
                oerrors: 5,
                rx_nombuf: 3,
                ..Default::default()
            },
        }];
        let want = "
  ---------------------- Forward statistics for port 0  ----------------------
  RX-packets: 1920           RX-dropped: 0             RX-total: 1920
  RX-error: 0
  RX-nombufs: 3             
  TX-packets: 37334944       TX-dropped: 18444960      TX-total: 55779904
  RX-bursts : 60 [0% of 0 pkts + 100% of 32 pkts]
  ----------------------------------------------------------------------------

  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++
  RX-packets: 1920           RX-dropped: 0             RX-total: 1920
  TX-packets: 37334944       TX-dropped: 18444965      TX-total: 55779909
  RX-nombufs: 3             
  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++
";
        // The accumulated TX-dropped adds the port's oerrors, as testpmd's does.
        assert_eq!(forward_stats(&streams, &ports), want);
    }

    #[test]
    fn burst_spread_lines() {
        let mut b = BurstSpread::default();
        assert_eq!(b.line("RX"), "");
        for (n, times) in [(0, 10), (32, 50), (16, 30), (7, 5), (3, 5)] {
            for _ in 0..times {
                b.record(n);
            }
        }
        assert_eq!(
            b.line("TX"),
            "  TX-bursts : 100 [10% of 0 pkts + 50% of 32 pkts + 30% of 16 pkts + 10% of other]\n"
        );
    }

    #[test]
    fn start_up_lines_match_testpmd() {
        let streams = [st(0, (0, 0), (1, 0)), st(1, (1, 0), (0, 0))];
        let lines = fwd_config(
            "io",
            2,
            &[LcoreLine {
                lcore: 1,
                socket: 0,
                streams: &streams,
            }],
            |_| 0,
            |p| MacAddr::locally_administered(p as u8),
        );
        assert_eq!(
            lines,
            "io packet forwarding - ports=2 - cores=1 - streams=2 - NUMA support enabled, MP allocation mode: native
Logical Core 1 (socket 0) forwards packets on 2 streams:
  RX P=0/Q=0 (socket 0) -> TX P=1/Q=0 (socket 0) peer=02:00:00:00:00:01
  RX P=1/Q=0 (socket 0) -> TX P=0/Q=0 (socket 0) peer=02:00:00:00:00:00

"
        );
        let rxtx = rxtx_config(
            "txonly",
            32,
            Some((64, 1)),
            1,
            &[PortQueues {
                port: 0,
                rxq: 1,
                txq: 1,
                rxd: 0,
                txd: 0,
                rx_offloads: 0,
                tx_offloads: 0,
            }],
        );
        assert_eq!(
            rxtx,
            "  txonly packet forwarding packets/burst=32
  packet len=64 - nb packet segments=1
  nb forwarding cores=1 - nb forwarding ports=1
  port 0: RX queue number: 1 Tx queue number: 1
    Rx offloads=0x0 Tx offloads=0x0
    RX queue: 0
      RX desc=0 - RX free threshold=0
      RX threshold registers: pthresh=0 hthresh=0  wthresh=0
      RX Offloads=0x0
    TX queue: 0
      TX desc=0 - TX free threshold=0
      TX threshold registers: pthresh=0 hthresh=0  wthresh=0
      TX offloads=0x0 - TX RS bit threshold=0
"
        );
    }
}
