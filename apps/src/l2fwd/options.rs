//! l2fwd's command line (after `--`), parsed and checked before the EAL starts.

use std::time::Duration;

use thiserror::Error;

use crate::getopt::{self, GetoptError, HasArg, Opt};
use crate::runopts::RunOptions;
use crate::sample_args::{parse_tuples, Parsed, PortMask, SampleArgError};

/// `-q` must stay below C's `MAX_RX_QUEUE_PER_LCORE` (16).
const MAX_RX_PORTS_PER_LCORE: u32 = 15;
/// `-T` must stay below C's `MAX_TIMER_PERIOD` (one day).
const MAX_TIMER_PERIOD: u32 = 86400;

/// What `dpdk-app l2fwd ... -- ARGS` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub portmask: PortMask,
    /// `-P`: enable promiscuous mode on every port.
    pub promiscuous: bool,
    /// `-q`: RX ports per lcore (1..15).
    pub rx_ports_per_lcore: u32,
    /// `-T`: statistics period; `None` for `-T 0`.
    pub stats_period: Option<Duration>,
    /// Rewrite the MAC addresses (off with `--no-mac-updating`).
    pub mac_updating: bool,
    /// `--portmap`: explicit pairs instead of consecutive enabled ports.
    pub portmap: Option<Vec<(u16, u16)>>,
    pub run: RunOptions,
}

/// An l2fwd command line that cannot run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OptionsError {
    #[error(transparent)]
    Getopt(#[from] GetoptError),
    #[error(transparent)]
    SampleArg(#[from] SampleArgError),
    #[error(
        "-p PORTMASK is required (\"All available ports are disabled. Please set portmask.\")"
    )]
    NoPortmask,
    #[error("invalid queue number {0:?} for -q: expected 1 to {MAX_RX_PORTS_PER_LCORE}")]
    QueueNumber(String),
    #[error("invalid timer period {0:?} for -T: expected 0 to 86399 seconds")]
    TimerPeriod(String),
    #[error("--portmap: port {0} is not enabled in port mask {1}")]
    PortmapNotInMask(u16, PortMask),
    #[error("--portmap: port {0} is used in other port pairs")]
    PortmapReused(u16),
    #[error("{0}")]
    Run(String),
}

pub const TABLE: &[Opt] = &[
    Opt::short('p', "p", HasArg::Required),
    Opt::short('P', "P", HasArg::No),
    Opt::short('q', "q", HasArg::Required),
    Opt::short('T', "T", HasArg::Required),
    Opt::long("no-mac-updating", HasArg::No),
    Opt::long("portmap", HasArg::Required),
    Opt::both('h', "help", HasArg::No),
];

/// The `--help` text.
pub fn help() -> String {
    format!(
        "\
Usage: dpdk-app l2fwd [EAL options] -- -p PORTMASK [-P] [-q NQ] [-T PERIOD]
                      [--no-mac-updating] [--portmap=\"(a,b)(c,d)\"]
                      [--duration SECS] [--stats-format text|json] [--stats-file PATH]
                      [--idle-sleep-us N]

Forwards every packet received on a port out of its paired port, like DPDK 22.11's
examples/l2fwd: consecutive enabled ports are paired (0<->1, 2<->3; with an odd count the last
port forwards to itself), packets are buffered per port and sent in bursts of 32 or every
~100 us.

  -p PORTMASK            hexadecimal bitmask of ports to use (required)
  -P                     enable promiscuous mode (a port that cannot, such as virtio-user
                         without a control queue, gets a warning instead of an exit)
  -q NQ                  RX ports polled per lcore, 1 to 15 (default 1)
  -T PERIOD              print statistics every PERIOD seconds, 0 to disable, below 86400
                         (default 10)
  --no-mac-updating      forward frames unchanged; by default the destination MAC becomes
                         02:00:00:00:00:<TX port> and the source MAC the TX port's address
  --portmap PAIRS        explicit port pairs, e.g. \"(0,1)(2,3)\"; ports must be in the mask and
                         each used once; ports of the mask not in a pair are not used
  {run}
  -h, --help             print this help

Differences from the C l2fwd:
  * with more ports than lcores x NQ, ports are shared round-robin among the lcores (the C
    app exits with \"Not enough cores\"), so one lcore can forward any number of ports;
  * the statistics are printed by a monitor thread (also when the main lcore polls no port),
    once more when forwarding stops, and as JSON with --stats-format json;
  * SIGINT/SIGTERM and --duration stop forwarding, flush the TX buffers, print the final
    statistics and exit 0;
  * malformed arguments are errors that name the problem (the C parsers ignore trailing
    characters in numbers), and -h/--help prints this text.
",
        run = RunOptions::HELP
    )
}

/// Parses the application arguments (everything after `--`).
pub fn parse(args: &[String]) -> Result<Parsed<Options>, OptionsError> {
    let mut portmask = None;
    let mut promiscuous = false;
    let mut rx_ports_per_lcore = 1;
    let mut stats_period = Some(Duration::from_secs(10));
    let mut mac_updating = true;
    let mut portmap = None;
    let mut run = RunOptions::default();
    for (name, value) in getopt::scan(args, &RunOptions::table_with(&[TABLE]))? {
        let value = value.unwrap_or_default();
        match name {
            "p" => portmask = Some(PortMask::parse(&value)?),
            "P" => promiscuous = true,
            "q" => {
                rx_ports_per_lcore = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_RX_PORTS_PER_LCORE).contains(n))
                    .ok_or(OptionsError::QueueNumber(value))?;
            }
            "T" => {
                let secs: u32 = value
                    .parse()
                    .ok()
                    .filter(|&s| s < MAX_TIMER_PERIOD)
                    .ok_or(OptionsError::TimerPeriod(value))?;
                stats_period = (secs > 0).then(|| Duration::from_secs(secs.into()));
            }
            "no-mac-updating" => mac_updating = false,
            "portmap" => {
                let pairs = parse_tuples("--portmap", &value, [31, 31])?;
                portmap = Some(
                    pairs
                        .into_iter()
                        .map(|[a, b]| (a as u16, b as u16))
                        .collect::<Vec<_>>(),
                );
            }
            "help" => return Ok(Parsed::Help),
            other => {
                run.accept(other, Some(&value)).map_err(OptionsError::Run)?;
            }
        }
    }
    let portmask = portmask.ok_or(OptionsError::NoPortmask)?;
    if let Some(pairs) = &portmap {
        check_portmap(pairs, portmask)?;
    }
    Ok(Parsed::Run(Options {
        portmask,
        promiscuous,
        rx_ports_per_lcore,
        stats_period,
        mac_updating,
        portmap,
        run,
    }))
}

/// C's `check_port_pair_config` minus the device check (done once the EAL knows the ports).
fn check_portmap(pairs: &[(u16, u16)], mask: PortMask) -> Result<(), OptionsError> {
    let mut used = 0u32;
    for &(a, b) in pairs {
        for port in [a, b] {
            if !mask.contains(port) {
                return Err(OptionsError::PortmapNotInMask(port, mask));
            }
        }
        let pair = (1u32 << a) | (1u32 << b);
        if used & pair != 0 {
            return Err(OptionsError::PortmapReused(if used & (1 << a) != 0 {
                a
            } else {
                b
            }));
        }
        used |= pair;
    }
    Ok(())
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
            Ok(Parsed::Run(o)) => o,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn defaults_and_pod_command_line() {
        let o = run("-p 0x3 -T 120 --no-mac-updating");
        assert_eq!(o.portmask, PortMask(3));
        assert_eq!(o.stats_period, Some(Duration::from_secs(120)));
        assert!(!o.mac_updating && !o.promiscuous);
        assert_eq!(o.rx_ports_per_lcore, 1);
        assert_eq!(o.portmap, None);
        let o = run("-p3");
        assert_eq!(o.stats_period, Some(Duration::from_secs(10)));
        assert!(o.mac_updating);
        assert_eq!(run("-p 1 -T 0").stats_period, None);
    }

    #[test]
    fn all_options() {
        let o = run(
            "-Pp 0xf -q 2 -T 1 --portmap=\"(0,3),(1,2)\" --duration 2.5 --stats-format json \
                 --idle-sleep-us 20",
        );
        assert!(o.promiscuous);
        assert_eq!(o.portmask, PortMask(0xf));
        assert_eq!(o.rx_ports_per_lcore, 2);
        assert_eq!(o.portmap, Some(vec![(0, 3), (1, 2)]));
        assert_eq!(o.run.duration, Some(Duration::from_millis(2500)));
        assert_eq!(o.run.idle_sleep, IdleSleep::parse("20").unwrap());
        assert_eq!(parse(&args("-p 1 --help")), Ok(Parsed::Help));
        assert_eq!(parse(&args("-h")), Ok(Parsed::Help));
    }

    #[test]
    fn errors() {
        let err = |s: &str| parse(&args(s)).unwrap_err();
        assert_eq!(err(""), OptionsError::NoPortmask);
        assert_eq!(err("-T 5"), OptionsError::NoPortmask);
        assert!(matches!(err("-p 0"), OptionsError::SampleArg(_)));
        assert!(matches!(err("-p zz"), OptionsError::SampleArg(_)));
        for q in ["0", "16", "x", "-1"] {
            assert_eq!(
                err(&format!("-p 1 -q {q}")),
                OptionsError::QueueNumber(q.into())
            );
        }
        for t in ["86400", "-1", "1.5"] {
            assert_eq!(
                err(&format!("-p 1 -T {t}")),
                OptionsError::TimerPeriod(t.into())
            );
        }
        assert_eq!(
            err("-p 0x3 --portmap=(0,2)"),
            OptionsError::PortmapNotInMask(2, PortMask(3))
        );
        assert_eq!(
            err("-p 0x7 --portmap=(0,1)(1,2)"),
            OptionsError::PortmapReused(1)
        );
        assert!(matches!(
            err("-p 3 --portmap=(0,1,2)"),
            OptionsError::SampleArg(SampleArgError::Tuples { .. })
        ));
        assert!(matches!(err("-p 3 --bogus"), OptionsError::Getopt(_)));
        assert!(matches!(
            err("-p 3 --duration 0"),
            OptionsError::Run(m) if m.contains("--duration")
        ));
        assert!(err("-p 3 -q 0").to_string().contains("1 to 15"));
    }
}
