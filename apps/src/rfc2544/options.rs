//! The command line of `dpdk-app rfc2544`: the search options (help and value parsers from
//! [`rfc2544::cli`], so `--help` states the crate's defaults), the peers and the outputs.

use std::path::PathBuf;

use dpdk::MacAddr;
use rfc2544::frame::{parse_frame_sizes, FrameSize};
use rfc2544::search::{SearchConfig, SearchConfigBuilder};

use crate::getopt::{self, GetoptError, HasArg, Opt};
use crate::runopts::IdleSleep;
use crate::stats::StatsFormat;

/// Why the command line was refused; each message names the option.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error(transparent)]
    Getopt(#[from] GetoptError),
    #[error(transparent)]
    Search(#[from] rfc2544::Error),
    #[error("{0}")]
    Value(String),
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    Help,
    Run(Box<Config>),
}

/// The engine's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub search: SearchConfig,
    pub sizes: Vec<FrameSize>,
    /// `--eth-peer` overrides of the default peer `02:00:00:00:00:<port>` (testpmd's); `None`:
    /// `P,auto`, learned from the reflector's MAC announcements.
    pub eth_peers: Vec<(u16, Option<MacAddr>)>,
    pub report_dir: Option<PathBuf>,
    pub stats_format: StatsFormat,
    /// `--stats-file`: the JSON report here too (the pod simulation reads it).
    pub stats_file: Option<PathBuf>,
    /// `--idle-sleep-us`: give the CPU away when a pass found nothing to do.
    pub idle_sleep: IdleSleep,
    /// Frames per TX burst.
    pub burst: u16,
    pub tx_refused: TxRefused,
}

/// What a frame the generator's TX queue refuses is (`--tx-refused`).
///
/// On a NIC the wire takes every frame below line rate, so a full TX ring means the generator
/// is at its limit. On the paths this toolkit tests (virtio-user, vhost-user, vDPA's virtio
/// rings) the TX ring is the DUT's RX ring: it is full because the DUT stopped taking frames,
/// which is loss at the DUT. Counting such frames as unsent instead makes every stall of the
/// DUT look like a slow generator, and the search stops probing rates above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TxRefused {
    /// Offered and lost (default).
    #[default]
    Lost,
    /// Not offered: the achieved rate drops and the trial may be marked generator-limited.
    Unsent,
}

impl Config {
    /// The peer MAC of `port`: the last `--eth-peer` for it or testpmd's default
    /// `02:00:00:00:00:<port>`; `None` for `P,auto` (learned from announcements).
    pub fn peer(&self, port: u16) -> Option<MacAddr> {
        self.eth_peers
            .iter()
            .rev()
            .find(|(p, _)| *p == port)
            .map_or(Some(MacAddr([2, 0, 0, 0, 0, port as u8])), |(_, m)| *m)
    }
}

const TABLE: &[Opt] = &[
    Opt::both('h', "help", HasArg::No),
    Opt::long("frame-sizes", HasArg::Required),
    Opt::long("pdr-loss", HasArg::Required),
    Opt::long("resolution", HasArg::Required),
    Opt::long("trial-duration", HasArg::Required),
    Opt::long("final-duration", HasArg::Required),
    Opt::long("max-rate", HasArg::Required),
    Opt::long("min-rate", HasArg::Required),
    Opt::long("duration", HasArg::Required),
    Opt::long("eth-peer", HasArg::Required),
    Opt::long("report-dir", HasArg::Required),
    Opt::long("stats-format", HasArg::Required),
    Opt::long("burst", HasArg::Required),
    Opt::long("tx-refused", HasArg::Required),
    Opt::long("stats-file", HasArg::Required),
    Opt::long("idle-sleep-us", HasArg::Required),
];

/// Default frames per TX burst (testpmd's `--burst` default).
pub const DEFAULT_BURST: u16 = 32;

const HEAD: &str = "\
Usage: dpdk-app rfc2544 [EAL args] -- [options]

RFC 2544 throughput search: per frame size, the highest rate with no frame lost (NDR) and
with at most --pdr-loss lost (PDR), with latency, over every port the EAL found. Each port
sends paced probe frames to its peer, and a reflector (dpdk-app testpmd
--forward-mode=macswap or io, l2fwd, l3fwd, C dpdk-testpmd) returns them; a frame counts
only for the trial whose id it carries. Prints one line per trial, then RFC 2544's table.

";

const TAIL: &str = "\
  --eth-peer P,MAC       peer MAC of port P (default 02:00:00:00:00:<P>, as testpmd)
  --eth-peer P,auto      [ours] send to the MAC the reflector announces on port P's network
                         (dpdk-app testpmd --announce): a vDPA device may own another MAC than
                         the pod's network-status says; nothing is sent before it is learned
  --report-dir DIR       write DIR/rfc2544.json and DIR/rfc2544.html (created if missing)
  --stats-format FMT     text (default: progress lines and the table on stdout) or json
                         (progress lines on stderr; on stdout the start line, then
                         rfc2544.json's report)
  --stats-file PATH      write the JSON report to PATH too
  --idle-sleep-us N      sleep N microseconds when a pass over the ports sent and received
                         nothing (CPUs shared with the reflector, as in the demo); default 0:
                         busy-poll, which keeps the pacing exact
  --burst N              frames per TX burst, 1..512 (default 32)
  --tx-refused lost|unsent  frames the TX queue refuses (a virtio ring the DUT does not
                         empty) count as offered and lost (default lost: on virtio and vhost
                         paths the TX ring is the DUT's RX ring), or as never sent (unsent:
                         a NIC's ring, full only at the generator's limit)
  -h, --help             this text

Exit status: 0 when every frame size got verified results (or proved none exists above
--min-rate); 1 with a message otherwise (duration cap, SIGINT/SIGTERM: the partial report
is still printed and written).
";

/// The `--help` text.
pub fn help() -> String {
    format!("{HEAD}{}{TAIL}", rfc2544::cli::help())
}

/// Parses what follows `--`.
pub fn parse(args: &[String]) -> Result<Parsed, OptionsError> {
    use rfc2544::cli::{parse_percent, parse_rate, parse_seconds};
    let mut b: SearchConfigBuilder = SearchConfig::builder();
    let mut sizes = FrameSize::rfc2544_sizes();
    let mut eth_peers = Vec::new();
    let mut report_dir = None;
    let mut stats_format = StatsFormat::Text;
    let mut burst = DEFAULT_BURST;
    let mut tx_refused = TxRefused::Lost;
    let mut stats_file = None;
    let mut idle_sleep = IdleSleep::default();
    for (name, value) in getopt::scan(args, TABLE)? {
        let v = value.as_deref().unwrap_or("");
        b = match name {
            "help" => return Ok(Parsed::Help),
            "frame-sizes" => {
                sizes = parse_frame_sizes(v)?;
                b
            }
            "pdr-loss" => b.pdr_loss(parse_percent("--pdr-loss", v)?),
            "resolution" => b.resolution(parse_percent("--resolution", v)?),
            "trial-duration" => b.trial_duration(parse_seconds("--trial-duration", v)?),
            "final-duration" => b.final_duration(parse_seconds("--final-duration", v)?),
            "max-rate" => b.max_rate(Some(parse_rate("--max-rate", v)?)),
            "min-rate" => b.min_rate(parse_rate("--min-rate", v)?),
            "duration" => b.duration_cap(Some(parse_seconds("--duration", v)?)),
            "eth-peer" => {
                let peer = crate::testpmd::options::parse_eth_peer(v)
                    .map_err(|e| OptionsError::Value(e.to_string()))?;
                eth_peers.push(peer);
                b
            }
            "report-dir" => {
                if v.is_empty() {
                    return Err(OptionsError::Value(
                        "--report-dir requires a non-empty directory path".into(),
                    ));
                }
                report_dir = Some(PathBuf::from(v));
                b
            }
            "stats-format" => {
                stats_format = v.parse().map_err(OptionsError::Value)?;
                b
            }
            "burst" => {
                burst = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=512).contains(n))
                    .ok_or_else(|| {
                        OptionsError::Value(format!("--burst {v:?}: expected 1 to 512 frames"))
                    })?;
                b
            }
            "stats-file" => {
                if v.is_empty() {
                    return Err(OptionsError::Value(
                        "--stats-file requires a non-empty path".into(),
                    ));
                }
                stats_file = Some(PathBuf::from(v));
                b
            }
            "idle-sleep-us" => {
                idle_sleep = IdleSleep::parse(v).map_err(OptionsError::Value)?;
                b
            }
            "tx-refused" => {
                tx_refused = match v {
                    "lost" => TxRefused::Lost,
                    "unsent" => TxRefused::Unsent,
                    _ => {
                        return Err(OptionsError::Value(format!(
                            "--tx-refused {v:?}: expected lost or unsent"
                        )))
                    }
                };
                b
            }
            other => unreachable!("option {other} is in the table but not handled"),
        };
    }
    Ok(Parsed::Run(Box::new(Config {
        search: b.build()?,
        sizes,
        eth_peers,
        report_dir,
        stats_format,
        burst,
        tx_refused,
        stats_file,
        idle_sleep,
    })))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn run(s: &str) -> Result<Config, OptionsError> {
        match parse(&args(s))? {
            Parsed::Run(c) => Ok(*c),
            Parsed::Help => panic!("help"),
        }
    }

    #[test]
    fn options_reach_the_search_config() {
        let c = run("--frame-sizes 64,1518,imix --pdr-loss 0.5 --resolution 2 \
             --trial-duration 2 --final-duration 3 --max-rate 1M --min-rate 10k --duration 300 \
             --eth-peer 1,0c:fe:c0:ff:ee:01 --report-dir /tmp/r --stats-format json")
        .unwrap();
        assert_eq!(c.sizes.len(), 3);
        assert_eq!(c.search.pdr_loss(), 0.005);
        assert_eq!(c.search.resolution(), 0.02);
        assert_eq!(c.search.trial_duration(), Duration::from_secs(2));
        assert_eq!(c.search.final_duration(), Duration::from_secs(3));
        assert_eq!(c.search.max_rate(), Some(1e6));
        assert_eq!(c.search.min_rate(), 1e4);
        assert_eq!(c.search.duration_cap(), Some(Duration::from_secs(300)));
        assert_eq!(c.peer(1), Some("0c:fe:c0:ff:ee:01".parse().unwrap()));
        assert_eq!(c.peer(2), Some("02:00:00:00:00:02".parse().unwrap()));
        assert_eq!(c.stats_format, StatsFormat::Json);
        let auto =
            run("--eth-peer 0,auto --eth-peer 1,auto --eth-peer 1,0c:fe:c0:ff:ee:01").unwrap();
        assert_eq!(auto.peer(0), None, "auto: learned from announcements");
        assert_eq!(
            auto.peer(1),
            Some("0c:fe:c0:ff:ee:01".parse().unwrap()),
            "the last one wins"
        );
        let d = run("").unwrap();
        assert_eq!(d.sizes.len(), 7);
        assert_eq!(d.search.final_duration(), Duration::from_secs(60));
    }

    #[test]
    fn bad_values_name_the_option() {
        for (line, want) in [
            ("--frame-sizes 63", "--frame-sizes"),
            ("--pdr-loss x", "--pdr-loss"),
            ("--trial-duration 0", "--trial-duration"),
            ("--max-rate -1", "--max-rate"),
            ("--eth-peer 0,zz", "eth-peer"),
            ("--stats-format xml", "--stats-format"),
            ("--burst 0", "--burst"),
            ("--tx-refused maybe", "--tx-refused"),
            ("--nope", "--nope"),
        ] {
            let e = run(line).unwrap_err().to_string();
            assert!(e.contains(want), "{line}: {e}");
        }
        assert!(matches!(parse(&args("--help")), Ok(Parsed::Help)));
        assert!(run("--duration 1e400").is_err() && run("--resolution 1e-400%x").is_err());
        assert!(help().contains("(default 60, RFC 2544 §24)"));
    }

    proptest::proptest! {
        /// Whatever the command line, parsing answers (an error naming the option, or a
        /// config); it never panics.
        #[test]
        fn any_command_line_is_answered(
            words in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(TABLE.iter().filter_map(|o| o.long)
                        .map(|l| format!("--{l}")).collect::<Vec<_>>()),
                    ".{0,12}",
                ],
                0..8,
            )
        ) {
            let _ = parse(&words);
        }
    }
}
