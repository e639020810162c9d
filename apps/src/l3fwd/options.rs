//! l3fwd's command line (after `--`), parsed and checked before the EAL starts; rule files are
//! read here too, so a bad route fails before any device is touched.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use dpdk::MacAddr;
use thiserror::Error;

use super::config::{self, ConfigError, LcoreParam};
use super::rules::{self, EmRoute, LpmRoute, RuleError};
use crate::getopt::{self, GetoptError, HasArg, Opt};
use crate::runopts::{self, RunOptions};
use crate::sample_args::{Parsed, PortMask, SampleArgError};

/// C's `RX_DESC_DEFAULT`, `TX_DESC_DEFAULT`.
const DEFAULT_QUEUE_SIZE: u16 = 1024;
/// C's `RTE_ETHER_MIN_LEN` and `MAX_JUMBO_PKT_LEN`.
const MIN_PKT_LEN: u32 = 64;
const MAX_PKT_LEN: u32 = 9600;

/// The route lookup method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Longest prefix match on the destination address (`--lookup=lpm`, `-L`, the default).
    Lpm,
    /// Exact match on the 5-tuple (`--lookup=em`, `-E`).
    Em,
}

impl Lookup {
    pub fn name(self) -> &'static str {
        match self {
            Lookup::Lpm => "lpm",
            Lookup::Em => "em",
        }
    }
}

/// The routes to install (before filtering by the port mask).
#[derive(Debug, Clone, PartialEq)]
pub enum Routes {
    Lpm {
        v4: Vec<LpmRoute<Ipv4Addr>>,
        v6: Vec<LpmRoute<Ipv6Addr>>,
    },
    Em {
        v4: Vec<EmRoute<Ipv4Addr>>,
        v6: Vec<EmRoute<Ipv6Addr>>,
    },
}

/// What `dpdk-app l3fwd ... -- ARGS` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub portmask: PortMask,
    /// `-P`: promiscuous mode on every port.
    pub promiscuous: bool,
    pub lookup: Lookup,
    /// `--config`, or C's default table.
    pub config: Vec<LcoreParam>,
    pub rx_queue_size: u16,
    pub tx_queue_size: u16,
    /// `--eth-dest`: destination MACs replacing `02:00:00:00:00:<port>`.
    pub eth_dest: Vec<(u16, MacAddr)>,
    /// `--max-pkt-len`: sets the MTU (and multi-segment TX above 1500).
    pub max_pkt_len: Option<u32>,
    /// `--ipv6`: EM installs the IPv6 table instead of the IPv4 one.
    pub ipv6: bool,
    /// `--parse-ptype`: classify packets in software even if the device could.
    pub parse_ptype: bool,
    /// `--per-port-pool`: one mbuf pool per port.
    pub per_port_pool: bool,
    /// The routes: from `--rule_ipv4` and `--rule_ipv6` when both are given, else built in.
    pub routes: Routes,
    /// Statistics period (`--stats-period`, 0 disables).
    pub stats_period: Option<Duration>,
    /// `--strict-rfc1812`.
    pub strict_rfc1812: bool,
    pub run: RunOptions,
}

/// An l3fwd command line that cannot run.
#[derive(Debug, Error)]
pub enum OptionsError {
    #[error(transparent)]
    Getopt(#[from] GetoptError),
    #[error(transparent)]
    SampleArg(#[from] SampleArgError),
    #[error("invalid --config: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Rules(#[from] RuleError),
    #[error("-p PORTMASK is required")]
    NoPortmask,
    #[error("Only one lookup mode is allowed at a time!")]
    LookupTwice,
    #[error(
        "invalid --lookup {0:?}: dpdk-app implements lpm and em (C l3fwd also has fib and acl)"
    )]
    LookupMethod(String),
    #[error("invalid --{0} {1:?}: expected 1 to 65535")]
    QueueSize(&'static str, String),
    #[error("invalid --eth-dest {0:?}: expected PORT,XX:XX:XX:XX:XX:XX with PORT below 32")]
    EthDest(String),
    #[error("invalid --max-pkt-len {0:?}: expected {MIN_PKT_LEN} to {MAX_PKT_LEN}")]
    MaxPktLen(String),
    #[error("--{0} is not supported: dpdk-app l3fwd runs in poll mode only")]
    EventMode(&'static str),
    #[error("--alg selects the ACL classifier, which dpdk-app l3fwd does not implement")]
    Alg,
    #[error("{0}")]
    Run(String),
}

pub const TABLE: &[Opt] = &[
    Opt::short('p', "p", HasArg::Required),
    Opt::short('P', "P", HasArg::No),
    Opt::short('L', "L", HasArg::No),
    Opt::short('E', "E", HasArg::No),
    Opt::long("config", HasArg::Required),
    Opt::long("rx-queue-size", HasArg::Required),
    Opt::long("tx-queue-size", HasArg::Required),
    Opt::long("eth-dest", HasArg::Required),
    Opt::long("no-numa", HasArg::No),
    Opt::long("ipv6", HasArg::No),
    Opt::long("max-pkt-len", HasArg::Required),
    Opt::long("hash-entry-num", HasArg::Required),
    Opt::long("parse-ptype", HasArg::No),
    Opt::long("per-port-pool", HasArg::No),
    Opt::long("mode", HasArg::Required),
    Opt::long("eventq-sched", HasArg::Required),
    Opt::long("event-eth-rxqs", HasArg::Required),
    Opt::long("lookup", HasArg::Required),
    Opt::long("event-vector", HasArg::No),
    Opt::long("event-vector-size", HasArg::Required),
    Opt::long("event-vector-tmo", HasArg::Required),
    Opt::long("rule_ipv4", HasArg::Required),
    Opt::long("rule_ipv6", HasArg::Required),
    Opt::long("alg", HasArg::Required),
    Opt::long("stats-period", HasArg::Required),
    Opt::long("strict-rfc1812", HasArg::No),
    Opt::both('h', "help", HasArg::No),
];

/// The `--help` text.
pub fn help() -> String {
    format!(
        "\
Usage: dpdk-app l3fwd [EAL options] -- -p PORTMASK [-P] [--lookup=lpm|em | -L | -E]
                      --config=\"(port,queue,lcore)[,(port,queue,lcore)]\"
                      [--rule_ipv4=FILE --rule_ipv6=FILE] [--parse-ptype] [--ipv6]
                      [--eth-dest=PORT,MAC] [--max-pkt-len N] [--rx-queue-size N]
                      [--tx-queue-size N] [--per-port-pool] [--no-numa] [--hash-entry-num N]
                      [--stats-period SECS] [--strict-rfc1812]
                      [--duration SECS] [--stats-format text|json] [--stats-file PATH]
                      [--idle-sleep-us N]

Routes IPv4 and IPv6 packets between ports like DPDK 22.11's examples/l3fwd (x86 build):
same routes, same lookups, same rewrites, same drops.

  -p PORTMASK            hexadecimal bitmask of ports to use (required)
  -P                     enable promiscuous mode (a port that cannot gets a warning)
  --lookup=lpm|em        longest prefix match on the destination (default) or exact match
                         on the 5-tuple; -L and -E are the legacy spellings
  --config=TUPLES        (port,queue,lcore): lcore polls RX queue of port; queues of a port
                         numbered from 0 in order; default: C's table (0,0,2),(0,1,2),
                         (0,2,2),(1,0,2),(1,1,2),(1,2,2),(2,0,2),(3,0,3),(3,1,3)
  --rule_ipv4=FILE       IPv4 routes (22.11 syntax: `R198.18.0.0/24 0` for LPM,
  --rule_ipv6=FILE       `R<dst> <src> <dport> <sport> <proto> <port>` for EM); both files
                         are needed, else the built-in tables are used (198.18.N.0/24 and
                         2001:200:0:N::/64 to port N; EM: UDP 198.18.N.1:9 -> 198.18.N.0:9
                         and 2001:200:0:N::1 -> 2001:200:0:N:: to port N); only routes to
                         ports of the mask are installed
  --parse-ptype          classify packets in software even if the device could
  --ipv6                 EM: install the IPv6 table instead of the IPv4 one
  --eth-dest=PORT,MAC    destination MAC for packets sent on PORT (default
                         02:00:00:00:00:<PORT>)
  --max-pkt-len N        maximum packet length, 64 to 9600 (sets the MTU)
  --rx-queue-size N      RX ring size (default 1024)
  --tx-queue-size N      TX ring size (default 1024)
  --per-port-pool        one mbuf pool per port
  --no-numa              accepted for compatibility (one pool serves all lcores)
  --hash-entry-num N     accepted and ignored, as in C 22.11
  --mode=poll            accepted; eventdev mode and its options are not supported
  --stats-period SECS    print statistics every SECS seconds, 0 to disable, at most
                         31622400 (default 10)
                         [not in the C app]
  --strict-rfc1812       IPv4 by RFC 1812 instead of C's checks: drop packets with a bad
                         header checksum, bad version or lengths, or TTL 0 or 1, update the
                         checksum by RFC 1624 [not in the C app]
  {run}
  -h, --help             print this help

Differences from the C l3fwd:
  * a device that cannot classify packet types (virtio, pcap) gets the software
    classification of --parse-ptype instead of \"please add --parse-ptype\" and an exit;
  * offloads are requested only where the device offers them: RX checksum (C 22.11
    requests it unconditionally, so it cannot start on virtio ports; no decision uses it)
    and multi-segment TX when --max-pkt-len makes the MTU exceed 1500;
  * a port refusing promiscuous mode (-P) gets a warning instead of an exit;
  * each port gets one TX queue per lcore that polls (C: per enabled lcore), so an idle
    main lcore needs no queue; ports of the mask that do not exist are skipped with a
    notice (C would install routes to them);
  * statistics: a periodic block in l2fwd's format, JSON with --stats-format json, a final
    summary; SIGINT/SIGTERM and --duration flush the TX buffers and exit 0;
  * --lookup=fib|acl, --alg and eventdev mode are refused;
  * bytes C would read past the end of a short frame read as zero here (C reads stale
    buffer contents);
  * rule files: a malformed EM IPv4 address or an LPM depth of 0 is an error naming the
    file and line, and routes to ports above 31 are never installed;
  * malformed arguments are errors that name the problem.
",
        run = RunOptions::HELP
    )
}

/// Parses the application arguments (everything after `--`) and loads the rule files.
pub fn parse(args: &[String]) -> Result<Parsed<Box<Options>>, OptionsError> {
    let mut portmask = None;
    let mut promiscuous = false;
    let mut lookup = None;
    let mut config = None;
    let mut rx_queue_size = DEFAULT_QUEUE_SIZE;
    let mut tx_queue_size = DEFAULT_QUEUE_SIZE;
    let mut eth_dest = Vec::new();
    let mut max_pkt_len = None;
    let mut ipv6 = false;
    let mut parse_ptype = false;
    let mut per_port_pool = false;
    let mut rule_ipv4: Option<PathBuf> = None;
    let mut rule_ipv6: Option<PathBuf> = None;
    let mut stats_period = Some(Duration::from_secs(10));
    let mut strict_rfc1812 = false;
    let mut run = RunOptions::default();
    let mut set_lookup = |l: Lookup| match lookup.replace(l) {
        Some(_) => Err(OptionsError::LookupTwice),
        None => Ok(()),
    };
    for (name, value) in getopt::scan(args, &RunOptions::table_with(&[TABLE]))? {
        let value = value.unwrap_or_default();
        match name {
            "p" => portmask = Some(PortMask::parse(&value)?),
            "P" => promiscuous = true,
            "L" => set_lookup(Lookup::Lpm)?,
            "E" => set_lookup(Lookup::Em)?,
            "lookup" => set_lookup(match value.as_str() {
                "lpm" => Lookup::Lpm,
                "em" => Lookup::Em,
                _ => return Err(OptionsError::LookupMethod(value)),
            })?,
            "config" => config = Some(config::parse(&value)?),
            "rx-queue-size" => rx_queue_size = queue_size("rx-queue-size", value)?,
            "tx-queue-size" => tx_queue_size = queue_size("tx-queue-size", value)?,
            "eth-dest" => eth_dest.push(parse_eth_dest(&value)?),
            "no-numa" => {}
            "ipv6" => ipv6 = true,
            "max-pkt-len" => {
                max_pkt_len = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|n| (MIN_PKT_LEN..=MAX_PKT_LEN).contains(n))
                        .ok_or(OptionsError::MaxPktLen(value))?,
                );
            }
            "hash-entry-num" => eprintln!("Hash entry number will be ignored"),
            "parse-ptype" => parse_ptype = true,
            "per-port-pool" => per_port_pool = true,
            "mode" if value == "poll" => {}
            "mode" | "eventq-sched" | "event-eth-rxqs" | "event-vector" | "event-vector-size"
            | "event-vector-tmo" => return Err(OptionsError::EventMode(name)),
            "rule_ipv4" => rule_ipv4 = Some(value.into()),
            "rule_ipv6" => rule_ipv6 = Some(value.into()),
            "alg" => return Err(OptionsError::Alg),
            "stats-period" => {
                stats_period = runopts::parse_period(name, &value).map_err(OptionsError::Run)?;
            }
            "strict-rfc1812" => strict_rfc1812 = true,
            "help" => return Ok(Parsed::Help),
            other => {
                run.accept(other, Some(&value)).map_err(OptionsError::Run)?;
            }
        }
    }
    let portmask = portmask.ok_or(OptionsError::NoPortmask)?;
    let lookup = lookup.unwrap_or(Lookup::Lpm);
    let config = config.unwrap_or_else(|| config::DEFAULT.to_vec());
    config::layout(&config, portmask)?;
    let files = rule_ipv4.as_deref().zip(rule_ipv6.as_deref());
    let routes = match (lookup, files) {
        (Lookup::Lpm, Some((f4, f6))) => Routes::Lpm {
            v4: rules::load(f4)?,
            v6: rules::load(f6)?,
        },
        (Lookup::Em, Some((f4, f6))) => Routes::Em {
            v4: rules::load(f4)?,
            v6: rules::load(f6)?,
        },
        (Lookup::Lpm, None) => Routes::Lpm {
            v4: rules::default_lpm_v4(),
            v6: rules::default_lpm_v6(),
        },
        (Lookup::Em, None) => Routes::Em {
            v4: rules::default_em_v4(),
            v6: rules::default_em_v6(),
        },
    };
    Ok(Parsed::Run(Box::new(Options {
        portmask,
        promiscuous,
        lookup,
        config,
        rx_queue_size,
        tx_queue_size,
        eth_dest,
        max_pkt_len,
        ipv6,
        parse_ptype,
        per_port_pool,
        routes,
        stats_period,
        strict_rfc1812,
        run,
    })))
}

fn queue_size(option: &'static str, value: String) -> Result<u16, OptionsError> {
    value
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or(OptionsError::QueueSize(option, value))
}

/// `PORT,XX:XX:XX:XX:XX:XX`.
fn parse_eth_dest(value: &str) -> Result<(u16, MacAddr), OptionsError> {
    let err = || OptionsError::EthDest(value.to_owned());
    let (port, mac) = value.split_once(',').ok_or_else(err)?;
    let port: u16 = port.parse().ok().filter(|&p| p < 32).ok_or_else(err)?;
    Ok((port, mac.parse().map_err(|_| err())?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runopts::IdleSleep;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn run(s: &str) -> Options {
        match parse(&args(s)) {
            Ok(Parsed::Run(o)) => *o,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn err(s: &str) -> String {
        match parse(&args(s)) {
            Err(e) => e.to_string(),
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn pod_command_line() {
        // The entrypoint passes the double quotes through to argv.
        let o = run("-p 0x3 -P --config=\"(0,0,1),(1,0,1)\" --parse-ptype");
        assert_eq!(o.portmask, PortMask(3));
        assert!(o.promiscuous && o.parse_ptype && !o.ipv6);
        assert_eq!(o.lookup, Lookup::Lpm);
        assert_eq!(
            o.config,
            [
                LcoreParam {
                    port: 0,
                    queue: 0,
                    lcore: 1
                },
                LcoreParam {
                    port: 1,
                    queue: 0,
                    lcore: 1
                }
            ]
        );
        assert_eq!(o.stats_period, Some(Duration::from_secs(10)));
        assert_eq!((o.rx_queue_size, o.tx_queue_size), (1024, 1024));
        match o.routes {
            Routes::Lpm { v4, v6 } => {
                assert_eq!(v4, rules::default_lpm_v4());
                assert_eq!(v6, rules::default_lpm_v6());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lookup_modes() {
        assert_eq!(run("-p 3 -E --config (0,0,1)").lookup, Lookup::Em);
        assert_eq!(run("-p 3 --lookup=em --config (0,0,1)").lookup, Lookup::Em);
        assert_eq!(run("-p 3 -L --config (0,0,1)").lookup, Lookup::Lpm);
        assert!(matches!(
            run("-p 3 -E --ipv6 --config (0,0,1)").routes,
            Routes::Em { .. }
        ));
        assert_eq!(
            err("-p 3 -E -L"),
            "Only one lookup mode is allowed at a time!"
        );
        assert_eq!(
            err("-p 3 --lookup=em -E"),
            "Only one lookup mode is allowed at a time!"
        );
        assert!(err("-p 3 --lookup=fib").contains("fib"));
    }

    #[test]
    fn other_options() {
        let o = run(
            "-p 1 --config=(0,0,0) --eth-dest=0,0c:fe:c0:ff:ee:00 --max-pkt-len 9000 \
             --rx-queue-size 512 --tx-queue-size 256 --per-port-pool --no-numa \
             --hash-entry-num 0x10 --mode=poll --stats-period 0 --strict-rfc1812 \
             --duration 1 --stats-format json --idle-sleep-us 5",
        );
        assert_eq!(o.eth_dest, [(0, "0c:fe:c0:ff:ee:00".parse().unwrap())]);
        assert_eq!(o.max_pkt_len, Some(9000));
        assert_eq!((o.rx_queue_size, o.tx_queue_size), (512, 256));
        assert!(o.per_port_pool && o.strict_rfc1812);
        assert_eq!(o.stats_period, None);
        assert_eq!(o.run.duration, Some(Duration::from_secs(1)));
        assert_eq!(o.run.idle_sleep, IdleSleep::parse("5").unwrap());
        assert_eq!(parse(&args("--help")).unwrap(), Parsed::Help);
    }

    #[test]
    fn errors() {
        assert_eq!(err("--config=(0,0,1)"), "-p PORTMASK is required");
        // Without --config, C's default table needs ports 0 to 3.
        assert!(err("-p 3").contains("port 2 is not enabled in port mask 0x3"));
        assert!(err("-p 1 --config=(0,1,1)").contains("must be in sequence"));
        assert!(err("-p 1 --config=(0,0)").contains("2 fields, expected 3"));
        assert!(err("-p 1 --config (0,0,1) --eth-dest=32,00:00:00:00:00:01").contains("eth-dest"));
        assert!(err("-p 1 --config (0,0,1) --eth-dest=1,00:00:00:00:01").contains("eth-dest"));
        assert!(err("-p 1 --config (0,0,1) --max-pkt-len 63").contains("64 to 9600"));
        assert!(err("-p 1 --config (0,0,1) --max-pkt-len 0").contains("64 to 9600"));
        assert!(err("-p 1 --config (0,0,1) --rx-queue-size 0").contains("rx-queue-size"));
        assert!(err("-p 1 --config (0,0,1) --tx-queue-size 65536").contains("tx-queue-size"));
        assert!(err("-p 1 --config (0,0,1) --mode=eventdev").contains("poll mode only"));
        assert!(err("-p 1 --config (0,0,1) --event-vector").contains("poll mode only"));
        assert!(err("-p 1 --config (0,0,1) --alg=scalar").contains("ACL"));
        assert!(err("-p 1 --config (0,0,1) --stats-period x").contains("stats-period"));
        assert!(err("-p 1 --config (0,0,1) --bogus").contains("--bogus"));
        assert!(
            err("-p 1 --config (0,0,1) --rule_ipv4=/nonexistent --rule_ipv6=/x")
                .contains("cannot read rule file /nonexistent")
        );
    }

    #[test]
    fn rule_files_need_both() {
        let dir = tempfile::tempdir().unwrap();
        let f4 = dir.path().join("v4.cfg");
        let f6 = dir.path().join("v6.cfg");
        std::fs::write(&f4, "R10.0.0.0/8 0\n").unwrap();
        std::fs::write(&f6, "R2001:db8::/32 0\n# done\n").unwrap();
        let base = "-p 1 --config (0,0,1)";
        // One file alone: the built-in tables, as in C ("Missing 1 or more rule files").
        let o = run(&format!("{base} --rule_ipv4={}", f4.display()));
        assert!(matches!(o.routes, Routes::Lpm { ref v4, .. } if v4.len() == 16));
        let o = run(&format!(
            "{base} --rule_ipv4={} --rule_ipv6={}",
            f4.display(),
            f6.display()
        ));
        match o.routes {
            Routes::Lpm { v4, v6 } => {
                assert_eq!((v4.len(), v4[0].depth), (1, 8));
                assert_eq!((v6.len(), v6[0].depth), (1, 32));
            }
            other => panic!("{other:?}"),
        }
        // The EM parser reads the same files as EM rules: an LPM line is an error there.
        let e = err(&format!(
            "{base} -E --rule_ipv4={} --rule_ipv6={}",
            f4.display(),
            f6.display()
        ));
        assert!(e.contains("v4.cfg:1: expected 6 fields"), "{e}");
    }
}
