//! testpmd's command line (the part after `--`), parsed and checked before the EAL starts, so
//! `--help` and option errors need no DPDK. Names, defaults and limits are testpmd 22.11's;
//! where we differ (unknown modes and options are errors, extra options), the help says so.

use std::net::Ipv4Addr;

use dpdk::MacAddr;

use crate::getopt::{self, GetoptError, HasArg, Opt};
use crate::runopts::RunOptions;

/// testpmd's `MAX_PKT_BURST`.
pub const MAX_BURST: u16 = 512;
/// testpmd's `DEF_PKT_BURST`.
pub const DEFAULT_BURST: u16 = 32;
pub use dpdk::MAX_PORTS;
/// `RTE_MAX_SEGS_PER_PKT` as testpmd uses it for `--txpkts`.
pub const MAX_TX_SEGMENTS: usize = 255;
/// Ethernet + IPv4 + UDP headers: the shortest packet txonly and flowgen can build.
pub const MIN_TX_PACKET: usize = 42;
/// `RTE_MBUF_DEFAULT_BUF_SIZE` (2048 bytes of data after the 128-byte headroom).
pub const DEFAULT_MBUF_SIZE: u16 = dpdk::DEFAULT_DATA_ROOM;
/// `RTE_PKTMBUF_HEADROOM`.
pub const MBUF_HEADROOM: u16 = 128;

/// A forwarding engine (`--forward-mode`), with testpmd 22.11's per-packet behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Io,
    Mac,
    MacSwap,
    RxOnly,
    TxOnly,
    FlowGen,
    IcmpEcho,
}

impl Mode {
    pub const ALL: [Mode; 7] = [
        Mode::Io,
        Mode::Mac,
        Mode::MacSwap,
        Mode::RxOnly,
        Mode::TxOnly,
        Mode::FlowGen,
        Mode::IcmpEcho,
    ];

    /// testpmd's `fwd_mode_name`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Io => "io",
            Mode::Mac => "mac",
            Mode::MacSwap => "macswap",
            Mode::RxOnly => "rxonly",
            Mode::TxOnly => "txonly",
            Mode::FlowGen => "flowgen",
            Mode::IcmpEcho => "icmpecho",
        }
    }

    /// Whether the engine polls RX queues.
    pub fn receives(self) -> bool {
        self != Mode::TxOnly
    }

    /// Whether the engine transmits (generated or forwarded packets).
    pub fn transmits(self) -> bool {
        self != Mode::RxOnly
    }

    /// Whether the engine builds packets from a template (and so writes probes).
    pub fn generates(self) -> bool {
        matches!(self, Mode::TxOnly | Mode::FlowGen)
    }
}

/// How RX ports map to TX ports (`--port-topology`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Topology {
    /// 0<->1, 2<->3, ...; with an odd count the last port forwards to itself.
    #[default]
    Paired,
    /// Each port forwards to the next, the last to the first.
    Chained,
    /// Each port forwards to itself.
    Loop,
}

/// Everything the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub mode: Mode,
    /// `--forward-mode` was given (testpmd then prints "Set <mode> packet forwarding mode").
    pub mode_given: bool,
    pub auto_start: bool,
    pub tx_first: bool,
    /// Seconds between "Port statistics" blocks; 0 = none (then stop on Enter).
    pub stats_period: u64,
    /// `--nb-cores`; checked against the worker lcores once the EAL is up.
    pub nb_cores: u16,
    pub rxq: u16,
    pub txq: u16,
    /// 0 = the PMD's default ring size.
    pub rxd: u16,
    pub txd: u16,
    pub burst: u16,
    /// Segment lengths of generated packets; their sum is the packet length without FCS.
    pub txpkts: Vec<u16>,
    /// `--eth-peer` overrides of the default peer `02:00:00:00:00:<port>`.
    pub eth_peers: Vec<(u16, MacAddr)>,
    /// `--eth-peer=P,auto` [ours]: ports whose peer is learned from MAC announcements.
    pub auto_peers: Vec<u16>,
    /// `--announce` [ours]: send MAC announcements on every port (see `testpmd::announce`).
    pub announce: bool,
    /// `--no-rx-warn SECS` [ours]: a receiving port that got nothing for this long says so
    /// (0: never).
    pub no_rx_warn: u64,
    pub topology: Topology,
    /// `None`: testpmd's default pool size.
    pub total_num_mbufs: Option<u32>,
    /// Data room of each mbuf, headroom included.
    pub mbuf_size: u16,
    pub mlockall: bool,
    pub txonly_multi_flow: bool,
    pub flowgen_flows: u32,
    pub max_pkt_len: Option<u32>,
    pub record_burst_stats: bool,
    /// testpmd enables link-state interrupts by default; `--no-lsc-interrupt` and `--tx-first`
    /// turn them off, which makes start-up wait for links to come up.
    pub lsc_interrupt: bool,
    pub tx_ip: (Ipv4Addr, Ipv4Addr),
    pub tx_udp: (u16, u16),
    pub run: RunOptions,
    /// Packets per second per port for txonly/flowgen; `None` = as fast as the PMD takes them.
    pub tx_rate: Option<u64>,
    /// Write probes into generated packets.
    pub probe: bool,
    /// Record latency from probes stamped on this host's clock.
    pub probe_latency: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Io,
            mode_given: false,
            auto_start: false,
            tx_first: false,
            stats_period: 0,
            nb_cores: 1,
            rxq: 1,
            txq: 1,
            rxd: 0,
            txd: 0,
            burst: DEFAULT_BURST,
            txpkts: vec![64],
            eth_peers: Vec::new(),
            auto_peers: Vec::new(),
            announce: false,
            no_rx_warn: 10,
            topology: Topology::Paired,
            total_num_mbufs: None,
            mbuf_size: DEFAULT_MBUF_SIZE,
            mlockall: true,
            txonly_multi_flow: false,
            flowgen_flows: 1024,
            max_pkt_len: None,
            record_burst_stats: false,
            lsc_interrupt: true,
            tx_ip: (Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 0, 2)),
            tx_udp: (9, 9),
            run: RunOptions::default(),
            tx_rate: None,
            probe: true,
            probe_latency: true,
        }
    }
}

impl Config {
    /// Length of a txonly packet (without FCS).
    pub fn tx_packet_len(&self) -> usize {
        self.txpkts.iter().map(|&l| usize::from(l)).sum()
    }

    /// Whether `port`'s peer is learned from announcements (`--eth-peer=P,auto`).
    pub fn auto_peer(&self, port: u16) -> bool {
        self.auto_peers.contains(&port)
    }

    /// The peer MAC of `port`: `--eth-peer` or `02:00:00:00:00:<port>` (for an auto peer, what
    /// the output shows until one is learned).
    pub fn peer(&self, port: u16) -> MacAddr {
        self.eth_peers
            .iter()
            .rev()
            .find(|(p, _)| *p == port)
            .map_or(MacAddr::locally_administered(port as u8), |(_, m)| *m)
    }
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Help,
    Run(Box<Config>),
}

/// An option testpmd would accept but that this implementation rejects, or a bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error(transparent)]
    Getopt(#[from] GetoptError),
    #[error("invalid --forward-mode {0:?}: expected one of io, mac, macswap, rxonly, txonly, flowgen, icmpecho")]
    UnknownMode(String),
    #[error("--forward-mode={0} is a testpmd engine that dpdk-app testpmd does not implement (available: io, mac, macswap, rxonly, txonly, flowgen, icmpecho)")]
    UnsupportedMode(String),
    #[error("option --{0} is a testpmd option that dpdk-app testpmd does not implement")]
    Unsupported(&'static str),
    #[error("invalid --{option} value {value:?}: {reason}")]
    Value {
        option: &'static str,
        value: String,
        reason: String,
    },
    #[error("{0}")]
    Conflict(String),
}

fn bad(option: &'static str, value: &str, reason: impl Into<String>) -> OptionsError {
    OptionsError::Value {
        option,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// testpmd engines we do not implement: named in the error instead of "unknown".
const OTHER_ENGINES: &[&str] = &[
    "csum",
    "noisy",
    "5tswap",
    "ieee1588",
    "shared_rxq",
    "shared-rxq",
    "tm",
];

/// Options of ours (testpmd's, then dpdk-app's own).
pub const SUPPORTED: &[Opt] = &[
    Opt::both('h', "help", HasArg::No),
    Opt::both('a', "auto-start", HasArg::No),
    Opt::long("tx-first", HasArg::No),
    Opt::long("stats-period", HasArg::Required),
    Opt::long("forward-mode", HasArg::Required),
    Opt::long("nb-cores", HasArg::Required),
    Opt::long("rxq", HasArg::Required),
    Opt::long("txq", HasArg::Required),
    Opt::long("rxd", HasArg::Required),
    Opt::long("txd", HasArg::Required),
    Opt::long("burst", HasArg::Required),
    Opt::long("txpkts", HasArg::Required),
    Opt::long("eth-peer", HasArg::Required),
    Opt::long("port-topology", HasArg::Required),
    Opt::long("total-num-mbufs", HasArg::Required),
    Opt::long("mbuf-size", HasArg::Required),
    Opt::long("mlockall", HasArg::No),
    Opt::long("no-mlockall", HasArg::No),
    Opt::long("txonly-multi-flow", HasArg::No),
    Opt::long("flowgen-flows", HasArg::Required),
    Opt::long("max-pkt-len", HasArg::Required),
    Opt::long("record-burst-stats", HasArg::No),
    Opt::long("no-lsc-interrupt", HasArg::No),
    Opt::long("tx-ip", HasArg::Required),
    Opt::long("tx-udp", HasArg::Required),
    Opt::long("tx-rate", HasArg::Required),
    Opt::long("no-probe", HasArg::No),
    Opt::long("probe-latency", HasArg::Required),
    Opt::long("announce", HasArg::No),
    Opt::long("no-rx-warn", HasArg::Required),
];

/// testpmd 22.11 options we reject by name (with their argument kinds, so that scanning
/// continues correctly up to the error).
const UNSUPPORTED: &[Opt] = &[
    Opt::both('i', "interactive", HasArg::No),
    Opt::long("cmdline-file", HasArg::Required),
    Opt::long("eth-peers-configfile", HasArg::Required),
    Opt::long("nb-ports", HasArg::Required),
    Opt::long("coremask", HasArg::Required),
    Opt::long("portmask", HasArg::Required),
    Opt::long("portlist", HasArg::Required),
    Opt::long("numa", HasArg::No),
    Opt::long("no-numa", HasArg::No),
    Opt::long("port-numa-config", HasArg::Required),
    Opt::long("ring-numa-config", HasArg::Required),
    Opt::long("socket-num", HasArg::Required),
    Opt::long("mp-alloc", HasArg::Required),
    Opt::long("mbcache", HasArg::Required),
    Opt::long("max-lro-pkt-size", HasArg::Required),
    Opt::long("disable-crc-strip", HasArg::No),
    Opt::long("enable-lro", HasArg::No),
    Opt::long("enable-rx-cksum", HasArg::No),
    Opt::long("enable-rx-timestamp", HasArg::No),
    Opt::long("enable-scatter", HasArg::No),
    Opt::long("enable-hw-vlan", HasArg::No),
    Opt::long("enable-hw-vlan-filter", HasArg::No),
    Opt::long("enable-hw-vlan-strip", HasArg::No),
    Opt::long("enable-hw-vlan-extend", HasArg::No),
    Opt::long("enable-hw-qinq-strip", HasArg::No),
    Opt::long("enable-drop-en", HasArg::No),
    Opt::long("disable-rss", HasArg::No),
    Opt::long("rss-ip", HasArg::No),
    Opt::long("rss-udp", HasArg::No),
    Opt::long("rss-level-inner", HasArg::No),
    Opt::long("rss-level-outer", HasArg::No),
    Opt::long("rxpt", HasArg::Required),
    Opt::long("rxht", HasArg::Required),
    Opt::long("rxwt", HasArg::Required),
    Opt::long("rxfreet", HasArg::Required),
    Opt::long("txpt", HasArg::Required),
    Opt::long("txht", HasArg::Required),
    Opt::long("txwt", HasArg::Required),
    Opt::long("txfreet", HasArg::Required),
    Opt::long("txrst", HasArg::Required),
    Opt::long("rxoffs", HasArg::Required),
    Opt::long("rxpkts", HasArg::Required),
    Opt::long("rxhdrs", HasArg::Required),
    Opt::long("txtimes", HasArg::Required),
    Opt::long("multi-rx-mempool", HasArg::No),
    Opt::long("eth-link-speed", HasArg::Required),
    Opt::long("disable-link-check", HasArg::No),
    Opt::long("disable-device-start", HasArg::No),
    Opt::long("no-flush-rx", HasArg::No),
    Opt::long("flow-isolate-all", HasArg::No),
    Opt::long("tx-offloads", HasArg::Required),
    Opt::long("rx-offloads", HasArg::Required),
    Opt::long("hot-plug", HasArg::No),
    Opt::long("vxlan-gpe-port", HasArg::Required),
    Opt::long("geneve-parsed-port", HasArg::Required),
    Opt::long("no-iova-contig", HasArg::No),
    Opt::long("rx-mq-mode", HasArg::Required),
    Opt::long("record-core-cycles", HasArg::No),
    Opt::long("display-xstats", HasArg::Required),
    Opt::long("nb-hairpinq", HasArg::Required),
    Opt::long("hairpin-mode", HasArg::Required),
    Opt::long("print-event", HasArg::Required),
    Opt::long("mask-event", HasArg::Required),
    Opt::long("flowgen-clones", HasArg::Required),
    Opt::long("rxq-share", HasArg::Optional),
    Opt::long("no-rmv-interrupt", HasArg::No),
    Opt::long("bitrate-stats", HasArg::Required),
    Opt::long("latencystats", HasArg::Required),
    Opt::long("pkt-filter-mode", HasArg::Required),
    Opt::long("pkt-filter-report-hash", HasArg::Required),
    Opt::long("pkt-filter-size", HasArg::Required),
    Opt::long("pkt-filter-drop-queue", HasArg::Required),
    Opt::long("noisy-tx-sw-buffer-size", HasArg::Required),
    Opt::long("noisy-tx-sw-buffer-flushtime", HasArg::Required),
    Opt::long("noisy-lkup-memory", HasArg::Required),
    Opt::long("noisy-lkup-num-writes", HasArg::Required),
    Opt::long("noisy-lkup-num-reads", HasArg::Required),
    Opt::long("noisy-lkup-num-reads-writes", HasArg::Required),
];

/// The help text: every option, with what differs from testpmd marked.
pub const HELP: &str = "\
Usage: dpdk-app testpmd [EAL options] -- [testpmd options]

A re-implementation of DPDK 22.11's testpmd in non-interactive mode: same options, same
forwarding engines, same statistics text; plus exact loss/latency probes and JSON output.
Marks: [differs] behaves differently from testpmd, [ours] not in testpmd.

testpmd options:
  -h, --help             this text
  -a, --auto-start       start forwarding at start-up (always the case: non-interactive)
  --tx-first             send one txonly burst on every stream before forwarding; waits for
                         links like testpmd (disables link-state interrupts)
  --stats-period N       print the \"Port statistics\" block every N seconds, at most 31622400
                         (0: never; then forwarding stops on Enter) [differs: end of input on
                         stdin does not stop, so a pod keeps forwarding until a signal or
                         --duration; the bound]
  --forward-mode MODE    io (default), mac, macswap, rxonly, txonly, flowgen, icmpecho
                         [differs: an unknown mode is an error instead of falling back to io;
                         csum, noisy, 5tswap, ieee1588, shared_rxq are not implemented]
  --nb-cores N           forwarding lcores, 1..(lcores besides the main one); default 1
                         [differs: with only the main lcore (-l N), it forwards itself]
  --rxq N, --txq N       queues per port (default 1); rxq>1 and txq>1 spread streams with RSS
  --rxd N, --txd N       ring sizes (default: the PMD's)
  --burst N              packets per burst, 1..512 (default 32; 0 also means 32)
  --txpkts L[,L...]      segment lengths of txonly/flowgen packets (default 64; total >= 42,
                         each <= mbuf data size, at most 255 segments)
  --eth-peer P,MAC       peer MAC of port P (default 02:00:00:00:00:<P>), used by mac/txonly
  --eth-peer P,auto      [ours] txonly: learn port P's peer from the MAC announcements a receiver
                         started with --announce sends on the same network; port P sends
                         nothing until one arrives (the MAC a vDPA device really owns may
                         differ from the pod's network-status, see docs/kubernetes.md)
  --port-topology T      paired (default), chained or loop
  --total-num-mbufs N    mbufs in the pool (> 1024); default as testpmd
                         ((4608 + 250 x lcores) x 32)
  --mbuf-size N          data room per mbuf incl. 128 B headroom (default 2176) [differs:
                         one value only, no multiple pools]
  --mlockall             lock memory (default, as testpmd on Linux)
  --no-mlockall          do not lock memory
  --txonly-multi-flow    txonly source IP 198.18.<0..255>.<2+lcore> per packet (22.11)
  --flowgen-flows N      flowgen destinations 10.253.0.0 + 0..N-1 (default 1024)
  --max-pkt-len N        maximum frame length (>= 64); sets the MTU to N - 18
  --record-burst-stats   add RX-bursts/TX-bursts lines to the forward statistics
  --no-lsc-interrupt     do not use link-state interrupts (start-up waits for links)
  --tx-ip SRC,DST        txonly IPv4 addresses (default 198.18.0.1,198.18.0.2)
  --tx-udp SRC[,DST]     txonly UDP ports (default 9,9)
Other testpmd options (e.g. -i/--interactive, --portmask, --rss-udp) are rejected by name.

dpdk-app options [ours]:
  --tx-rate PPS          txonly/flowgen: send PPS packets per second per port, TSC-paced
                         (split evenly over the port's streams); packets the PMD refuses are
                         counted as TX-dropped and their credit is returned
  --no-probe             txonly/flowgen: leave payloads alone (no probe header)
  --probe-latency on|off record latency of probes sent from this host (default on)
  --announce             send a MAC announcement (broadcast, EtherType 0x88B5, the port's
                         device MAC) on every port once a second until traffic arrives, then
                         every 10 s, so --eth-peer=P,auto generators find this port
  --no-rx-warn SECS      a receiving port that got nothing for SECS seconds logs a warning with
                         the checks to make (default 10; 0: never)
@RUN@

Probes: txonly and flowgen write 18 bytes after the UDP header of every packet with room
(frames of >= 60 bytes): magic, stream id, sequence number, clock id and TSC. Every
receiving mode counts them per (RX port, stream): received, lost (sequence gaps), reordered,
duplicated, and latency percentiles when the sender's clock id (from the host's boot id) is
ours. macswap/icmpecho keep probes, so a flowgen generator measures round trips.
MAC announcements (EtherType 0x88B5) are never traffic: every mode takes them out of what it
received before counting (they appear in the ethdev counters only), learns auto peers from
them, and never forwards them.
Signals: SIGINT/SIGTERM stop forwarding, print the final statistics and exit 0.
";

/// The help text with the shared run options filled in.
pub fn help() -> String {
    HELP.replace("@RUN@", RunOptions::HELP)
}

/// Parses testpmd's arguments (what follows `--`).
pub fn parse(args: &[String]) -> Result<Parsed, OptionsError> {
    let table = RunOptions::table_with(&[SUPPORTED, UNSUPPORTED]);
    let mut cfg = Config::default();
    for (name, value) in getopt::scan(args, &table)? {
        let v = value.as_deref().unwrap_or("");
        match name {
            "help" => return Ok(Parsed::Help),
            "auto-start" => cfg.auto_start = true,
            "tx-first" => cfg.tx_first = true,
            "stats-period" => cfg.stats_period = number(name, v, 0, crate::runopts::MAX_SECONDS)?,
            "forward-mode" => {
                cfg.mode = parse_mode(v)?;
                cfg.mode_given = true;
            }
            "nb-cores" => cfg.nb_cores = number(name, v, 1, u64::from(u16::MAX))? as u16,
            "rxq" => cfg.rxq = number(name, v, 0, 1024)? as u16,
            "txq" => cfg.txq = number(name, v, 0, 1024)? as u16,
            "rxd" => cfg.rxd = number(name, v, 1, u64::from(u16::MAX))? as u16,
            "txd" => cfg.txd = number(name, v, 1, u64::from(u16::MAX))? as u16,
            "burst" => {
                let n = number(name, v, 0, u64::from(MAX_BURST))? as u16;
                cfg.burst = if n == 0 { DEFAULT_BURST } else { n };
            }
            "txpkts" => cfg.txpkts = parse_txpkts(v)?,
            "eth-peer" => {
                // The last --eth-peer of a port wins, auto or fixed.
                let (port, mac) = parse_eth_peer(v)?;
                cfg.eth_peers.retain(|(p, _)| *p != port);
                cfg.auto_peers.retain(|p| *p != port);
                match mac {
                    Some(mac) => cfg.eth_peers.push((port, mac)),
                    None => cfg.auto_peers.push(port),
                }
            }
            "announce" => cfg.announce = true,
            "no-rx-warn" => cfg.no_rx_warn = number(name, v, 0, crate::runopts::MAX_SECONDS)?,
            "port-topology" => cfg.topology = parse_topology(v)?,
            "total-num-mbufs" => {
                cfg.total_num_mbufs = Some(number(name, v, 1025, u64::from(u32::MAX))? as u32)
            }
            "mbuf-size" => cfg.mbuf_size = parse_mbuf_size(v)?,
            "mlockall" => cfg.mlockall = true,
            "no-mlockall" => cfg.mlockall = false,
            "txonly-multi-flow" => cfg.txonly_multi_flow = true,
            "flowgen-flows" => cfg.flowgen_flows = number(name, v, 1, u64::from(u32::MAX))? as u32,
            "max-pkt-len" => cfg.max_pkt_len = Some(number(name, v, 64, 65535)? as u32),
            "record-burst-stats" => cfg.record_burst_stats = true,
            "no-lsc-interrupt" => cfg.lsc_interrupt = false,
            "tx-ip" => cfg.tx_ip = parse_tx_ip(v)?,
            "tx-udp" => cfg.tx_udp = parse_tx_udp(v)?,
            "tx-rate" => cfg.tx_rate = Some(number(name, v, 1, 1_000_000_000_000)?),
            "no-probe" => cfg.probe = false,
            "probe-latency" => {
                cfg.probe_latency = match v {
                    "on" => true,
                    "off" => false,
                    _ => return Err(bad("probe-latency", v, "expected on or off")),
                }
            }
            other => {
                if !cfg
                    .run
                    .accept(other, value.as_deref())
                    .map_err(OptionsError::Conflict)?
                {
                    let opt = UNSUPPORTED.iter().find(|o| o.name == other);
                    return Err(OptionsError::Unsupported(opt.map_or("?", |o| o.name)));
                }
            }
        }
    }
    check(&cfg)?;
    Ok(Parsed::Run(Box::new(cfg)))
}

/// Checks that need several options together.
fn check(cfg: &Config) -> Result<(), OptionsError> {
    let total = cfg.tx_packet_len();
    if let Some(seg) = cfg
        .txpkts
        .iter()
        .find(|&&l| l > cfg.mbuf_size - MBUF_HEADROOM)
    {
        return Err(OptionsError::Conflict(format!(
            "--txpkts segment of {seg} bytes exceeds the mbuf data size {} (--mbuf-size minus 128 bytes of headroom)",
            cfg.mbuf_size - MBUF_HEADROOM
        )));
    }
    if total > usize::from(u16::MAX) {
        return Err(OptionsError::Conflict(format!(
            "--txpkts total {total} exceeds 65535"
        )));
    }
    let room = usize::from(cfg.mbuf_size - MBUF_HEADROOM);
    if cfg.mode == Mode::FlowGen && total > room {
        return Err(OptionsError::Conflict(format!(
            "flowgen sends single-segment packets: the --txpkts total of {total} bytes exceeds \
             the mbuf data size {room} (raise --mbuf-size)"
        )));
    }
    if cfg.mode == Mode::RxOnly && cfg.rxq == 0 {
        return Err(OptionsError::Conflict(
            "rxq are 0, cannot use rxonly fwd mode".into(),
        ));
    }
    if cfg.mode == Mode::TxOnly && cfg.txq == 0 {
        return Err(OptionsError::Conflict(
            "txq are 0, cannot use txonly fwd mode".into(),
        ));
    }
    if !matches!(cfg.mode, Mode::RxOnly | Mode::TxOnly) && (cfg.rxq == 0 || cfg.txq == 0) {
        return Err(OptionsError::Conflict(format!(
            "Either rxq or txq are 0, cannot use {} fwd mode",
            cfg.mode.name()
        )));
    }
    if cfg.tx_rate.is_some() && !cfg.mode.generates() {
        return Err(OptionsError::Conflict(format!(
            "--tx-rate paces generated traffic: it needs --forward-mode=txonly or flowgen, not {}",
            cfg.mode.name()
        )));
    }
    Ok(())
}

fn number(option: &'static str, v: &str, min: u64, max: u64) -> Result<u64, OptionsError> {
    let n: u64 = v
        .parse()
        .map_err(|_| bad(option, v, "expected a non-negative integer"))?;
    if n < min || n > max {
        return Err(bad(option, v, format!("must be between {min} and {max}")));
    }
    Ok(n)
}

fn parse_mode(v: &str) -> Result<Mode, OptionsError> {
    if let Some(mode) = Mode::ALL.into_iter().find(|m| m.name() == v) {
        return Ok(mode);
    }
    if OTHER_ENGINES.contains(&v) {
        return Err(OptionsError::UnsupportedMode(v.to_owned()));
    }
    Err(OptionsError::UnknownMode(v.to_owned()))
}

fn parse_topology(v: &str) -> Result<Topology, OptionsError> {
    match v {
        "paired" => Ok(Topology::Paired),
        "chained" => Ok(Topology::Chained),
        "loop" => Ok(Topology::Loop),
        _ => Err(bad("port-topology", v, "must be: paired, chained or loop")),
    }
}

fn parse_txpkts(v: &str) -> Result<Vec<u16>, OptionsError> {
    let segs = v
        .split(',')
        .map(|s| s.trim().parse::<u16>().ok().filter(|&l| l > 0))
        .collect::<Option<Vec<u16>>>()
        .ok_or_else(|| bad("txpkts", v, "expected comma-separated segment lengths > 0"))?;
    if segs.len() > MAX_TX_SEGMENTS {
        return Err(bad(
            "txpkts",
            v,
            format!("at most {MAX_TX_SEGMENTS} segments"),
        ));
    }
    let total: usize = segs.iter().map(|&l| usize::from(l)).sum();
    if total < MIN_TX_PACKET {
        return Err(bad(
            "txpkts",
            v,
            format!("total packet length={total} < {MIN_TX_PACKET}"),
        ));
    }
    Ok(segs)
}

/// `P,MAC` or `P,auto` (`None`).
pub(crate) fn parse_eth_peer(v: &str) -> Result<(u16, Option<MacAddr>), OptionsError> {
    let (port, mac) = v.split_once(',').ok_or_else(|| {
        bad(
            "eth-peer",
            v,
            "expected PORT,XX:XX:XX:XX:XX:XX or PORT,auto",
        )
    })?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|&p: &u16| usize::from(p) < MAX_PORTS)
        .ok_or_else(|| bad("eth-peer", v, format!("port must be below {MAX_PORTS}")))?;
    if mac == "auto" {
        return Ok((port, None));
    }
    let mac: MacAddr = mac
        .parse()
        .map_err(|_| bad("eth-peer", v, format!("Invalid ethernet address: {mac}")))?;
    Ok((port, Some(mac)))
}

fn parse_mbuf_size(v: &str) -> Result<u16, OptionsError> {
    if v.contains(',') {
        return Err(bad(
            "mbuf-size",
            v,
            "several sizes (one pool per RX segment) are not implemented; give one size",
        ));
    }
    let n = number("mbuf-size", v, u64::from(MBUF_HEADROOM) + 64, 65535)?;
    Ok(n as u16)
}

fn parse_tx_ip(v: &str) -> Result<(Ipv4Addr, Ipv4Addr), OptionsError> {
    let err = || bad("tx-ip", v, "expected SRC,DST IPv4 addresses");
    let (s, d) = v.split_once(',').ok_or_else(err)?;
    Ok((
        s.trim().parse().map_err(|_| err())?,
        d.trim().parse().map_err(|_| err())?,
    ))
}

fn parse_tx_udp(v: &str) -> Result<(u16, u16), OptionsError> {
    let err = || bad("tx-udp", v, "expected SRC[,DST] UDP ports");
    let mut parts = v.split(',');
    let src: u16 = parts
        .next()
        .unwrap_or("")
        .trim()
        .parse()
        .map_err(|_| err())?;
    let dst = match parts.next() {
        Some(d) => d.trim().parse().map_err(|_| err())?,
        None => src,
    };
    if parts.next().is_some() {
        return Err(err());
    }
    Ok((src, dst))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn cfg(s: &str) -> Config {
        match parse(&args(s)).unwrap() {
            Parsed::Run(c) => *c,
            Parsed::Help => panic!("help"),
        }
    }

    fn err(s: &str) -> String {
        parse(&args(s)).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_testpmds() {
        let c = cfg("");
        assert_eq!(c.mode, Mode::Io);
        assert_eq!((c.rxq, c.txq, c.rxd, c.txd, c.burst), (1, 1, 0, 0, 32));
        assert_eq!(c.tx_packet_len(), 64);
        assert_eq!(c.topology, Topology::Paired);
        assert!(c.mlockall && c.lsc_interrupt && c.probe && c.probe_latency);
        assert_eq!(c.peer(3), "02:00:00:00:00:03".parse().unwrap());
        assert_eq!(c.flowgen_flows, 1024);
    }

    #[test]
    fn pod_command_line() {
        let c = cfg(
            "--auto-start --tx-first --stats-period 2 --forward-mode=txonly \
             --eth-peer=1,0c:fe:c0:ff:ee:01 --txpkts=32,32 --burst=64 --nb-cores=2 \
             --rxq=2 --txq=2 --rxd=1024 --txd=1024 --port-topology=chained \
             --total-num-mbufs=8192 --mbuf-size=4096 --no-mlockall --txonly-multi-flow \
             --flowgen-flows=16 --max-pkt-len=1518 --record-burst-stats --no-lsc-interrupt \
             --duration 1.5 --stats-format json --tx-rate 100000 --idle-sleep-us 10 \
             --no-probe --probe-latency=off --tx-ip 10.0.0.1,10.0.0.2 --tx-udp 1000",
        );
        assert!(c.auto_start && c.tx_first && c.txonly_multi_flow && c.record_burst_stats);
        assert_eq!(c.stats_period, 2);
        assert_eq!(c.mode, Mode::TxOnly);
        assert_eq!(c.peer(1), "0c:fe:c0:ff:ee:01".parse().unwrap());
        assert_eq!(c.txpkts, vec![32, 32]);
        assert_eq!((c.burst, c.nb_cores, c.rxq, c.txq), (64, 2, 2, 2));
        assert_eq!((c.rxd, c.txd), (1024, 1024));
        assert_eq!(c.topology, Topology::Chained);
        assert_eq!(c.total_num_mbufs, Some(8192));
        assert_eq!(c.mbuf_size, 4096);
        assert!(!c.mlockall && !c.lsc_interrupt && !c.probe && !c.probe_latency);
        assert_eq!((c.flowgen_flows, c.max_pkt_len), (16, Some(1518)));
        assert_eq!(c.run.duration, Some(std::time::Duration::from_millis(1500)));
        assert_eq!(c.tx_rate, Some(100_000));
        assert_eq!(
            c.run.idle_sleep,
            crate::runopts::IdleSleep::parse("10").unwrap()
        );
        assert_eq!(c.tx_udp, (1000, 1000));
        assert_eq!(c.tx_ip.1, Ipv4Addr::new(10, 0, 0, 2));
    }

    #[test]
    fn auto_peers_and_announcements() {
        let c = cfg("--eth-peer=0,auto --eth-peer=1,0c:fe:c0:ff:ee:11 --announce --no-rx-warn=3");
        assert!(c.auto_peer(0) && !c.auto_peer(1));
        assert_eq!(c.peer(1), "0c:fe:c0:ff:ee:11".parse().unwrap());
        assert!(c.announce);
        assert_eq!(c.no_rx_warn, 3);
        let c = cfg("--eth-peer=0,auto --eth-peer=0,0c:fe:c0:ff:ee:10");
        assert!(!c.auto_peer(0), "the last --eth-peer of a port wins");
        assert!(cfg("--eth-peer=0,0c:fe:c0:ff:ee:10 --eth-peer=0,auto").auto_peer(0));
        assert_eq!(Config::default().no_rx_warn, 10);
    }

    #[test]
    fn help_and_abbreviations() {
        assert_eq!(parse(&args("--help")).unwrap(), Parsed::Help);
        assert_eq!(parse(&args("-h")).unwrap(), Parsed::Help);
        assert_eq!(cfg("--forward=rxonly").mode, Mode::RxOnly);
        let help = help();
        for opt in SUPPORTED.iter().chain(RunOptions::TABLE.iter()) {
            assert!(help.contains(&format!("--{}", opt.name)), "{}", opt.name);
        }
    }

    #[test]
    fn errors_name_what_is_wrong() {
        assert!(err("--forward-mode=bogus").contains("\"bogus\""));
        assert!(err("--forward-mode=csum").contains("does not implement"));
        assert!(err("--no-such-option").contains("--no-such-option"));
        assert!(err("-i").contains("--interactive"));
        assert!(err("--portmask 0x3").contains("--portmask"));
        assert!(err("--burst=600").contains("between 0 and 512"));
        assert!(err("--txpkts=20").contains("total packet length=20 < 42"));
        assert!(err("--total-num-mbufs=100").contains("--total-num-mbufs"));
        assert!(err("--port-topology=ring").contains("paired, chained or loop"));
        assert!(err("--stats-period=x").contains("--stats-period"));
        assert!(err("--eth-peer=0,zz").contains("Invalid ethernet address: zz"));
        assert!(err("--eth-peer=40,00:00:00:00:00:01").contains("below 32"));
        assert!(err("--eth-peer=0").contains("PORT,auto"));
        assert!(err("--no-rx-warn=x").contains("--no-rx-warn"));
        assert!(err("--nb-cores=0").contains("--nb-cores"));
        assert!(err("--rxd=0").contains("--rxd"));
        assert!(err("--txpkts=4000").contains("mbuf data size"));
        let e = err("--forward-mode=flowgen --txpkts=2000,2000");
        assert!(e.contains("flowgen") && e.contains("4000"), "{e}");
        assert!(err("--forward-mode=rxonly --rxq=0").contains("cannot use rxonly"));
        assert!(err("--forward-mode=mac --txq=0").contains("cannot use mac"));
        assert!(err("--tx-rate=100").contains("txonly or flowgen"));
        assert!(err("--mbuf-size=2176,2176").contains("one size"));
        assert!(err("--probe-latency=maybe").contains("on or off"));
        assert!(err("--duration=0").contains("--duration"));
        assert!(err("stray").contains("stray"));
    }
}
