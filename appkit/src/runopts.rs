//! Options every app accepts beyond its C counterpart: how long to run, where statistics go and
//! whether idle lcores give their CPU away.
//! Each app adds [`RunOptions::TABLE`] to its own option table and hands matching options to
//! [`RunOptions::accept`], so the spelling and checks are the same in every app.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::getopt::{HasArg, Opt};
use crate::stats::StatsFormat;

/// The longest `--duration` and `--stats-period` every app accepts, in seconds: a year. Longer
/// runs are stopped by a signal; the bound keeps every deadline computed from them
/// (`Instant + Duration`) far from overflowing, whatever a pod's `*_EXTRA_ARGS` say.
pub const MAX_SECONDS: u64 = 366 * 24 * 3600;

/// Parses `--duration`: a positive number of seconds (fractions allowed), at most
/// [`MAX_SECONDS`].
pub fn parse_duration(option: &str, v: &str) -> Result<Duration, String> {
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= MAX_SECONDS as f64)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            format!(
                "invalid --{option} {v:?}: expected a number of seconds above 0 and at most \
                 {MAX_SECONDS}"
            )
        })
}

/// Parses a statistics period: whole seconds from 0 (off) to [`MAX_SECONDS`].
pub fn parse_period(option: &str, v: &str) -> Result<Option<Duration>, String> {
    v.parse::<u64>()
        .ok()
        .filter(|s| *s <= MAX_SECONDS)
        .map(|s| (s > 0).then(|| Duration::from_secs(s)))
        .ok_or_else(|| {
            format!(
                "invalid --{option} {v:?}: expected whole seconds from 0 (off) to {MAX_SECONDS}"
            )
        })
}

/// `--duration`, `--stats-format`, `--stats-file`, `--idle-sleep-us`, `--metrics-addr`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunOptions {
    /// Stop forwarding after this long, print the final statistics, exit 0.
    pub duration: Option<Duration>,
    /// Periodic statistics as the C app's text or as JSON lines.
    pub stats_format: StatsFormat,
    /// Write the final summary as JSON here.
    pub stats_file: Option<PathBuf>,
    /// Sleep this long when a pass over all of an lcore's queues found nothing to do; `None`
    /// busy-polls like the C apps. Pods that share a CPU with other pollers (the demo on two
    /// cores, clusters without the static CPU manager) need it: a busy poller keeps the CPU
    /// for its whole time slice while its peer's rings overflow.
    pub idle_sleep: IdleSleep,
    /// Serve Prometheus metrics at `http://ADDR/metrics` ([`crate::metrics`]); off by default
    /// so that an app never opens a port nobody asked for.
    pub metrics_addr: Option<SocketAddr>,
}

/// How a poller gives its CPU away (`--idle-sleep-us`): after a pass over its queues that did
/// nothing, it sleeps this long; by default it does not (busy-polls).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdleSleep(Option<Duration>);

impl IdleSleep {
    /// Parses the microseconds of `--idle-sleep-us`; 0 means busy-poll.
    pub fn parse(v: &str) -> Result<IdleSleep, String> {
        let us: u64 = v
            .parse()
            .ok()
            .filter(|us| *us <= 10_000_000)
            .ok_or_else(|| {
                format!("invalid --idle-sleep-us {v:?}: expected 0 to 10000000 microseconds")
            })?;
        Ok(IdleSleep((us > 0).then(|| Duration::from_micros(us))))
    }

    /// Sleeps if the pass that just ended did no `work`.
    #[inline]
    pub fn after_pass(self, work: usize) {
        if let (0, Some(d)) = (work, self.0) {
            std::thread::sleep(d);
        }
    }
}

impl RunOptions {
    pub const TABLE: [Opt; 5] = [
        Opt::long("duration", HasArg::Required),
        Opt::long("stats-format", HasArg::Required),
        Opt::long("stats-file", HasArg::Required),
        Opt::long("idle-sleep-us", HasArg::Required),
        Opt::long("metrics-addr", HasArg::Required),
    ];

    /// An app's option table with ours appended: what the app passes to [`crate::getopt::scan`].
    pub fn table_with(app: &[&[Opt]]) -> Vec<Opt> {
        app.iter()
            .copied()
            .flatten()
            .chain(&Self::TABLE)
            .copied()
            .collect()
    }

    /// Help text lines for these options, for each app's `--help`.
    pub const HELP: &'static str = "\
  --duration SECS        stop after SECS seconds (fractions allowed, at most 31622400, a
                         year), print the final statistics and exit 0 [not in the C app]
  --stats-format FMT     periodic statistics as `text` (the C app's blocks, default) or
                         `json` (one object per period on stdout) [not in the C app]
  --stats-file PATH      write the final summary as JSON to PATH [not in the C app]
  --idle-sleep-us N      sleep N microseconds when a pass over all queues found nothing to
                         do (pods without dedicated CPUs); default 0: busy-poll like the C
                         app [not in the C app]
  --metrics-addr H:P     serve Prometheus metrics at http://H:P/metrics (e.g. 0.0.0.0:9091);
                         default off [not in the C app]";

    /// Takes option `name` if it is one of ours; `Ok(false)` if it is not.
    pub fn accept(&mut self, name: &str, value: Option<&str>) -> Result<bool, String> {
        let value = || value.ok_or_else(|| format!("--{name} requires a value"));
        match name {
            "duration" => self.duration = Some(parse_duration(name, value()?)?),
            "stats-format" => self.stats_format = value()?.parse()?,
            "stats-file" => {
                let v = value()?;
                if v.is_empty() {
                    return Err("--stats-file requires a non-empty path".into());
                }
                self.stats_file = Some(PathBuf::from(v));
            }
            "idle-sleep-us" => self.idle_sleep = IdleSleep::parse(value()?)?,
            "metrics-addr" => {
                self.metrics_addr = Some(crate::metrics::parse_addr("--metrics-addr", value()?)?)
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_states_the_bound() {
        assert!(RunOptions::HELP.contains(&MAX_SECONDS.to_string()));
    }

    #[test]
    fn periods_are_bounded_whole_seconds() {
        assert_eq!(parse_period("stats-period", "0"), Ok(None));
        assert_eq!(
            parse_period("stats-period", "2"),
            Ok(Some(Duration::from_secs(2)))
        );
        for bad in ["-1", "1.5", "31622401", "18446744073709551615", "x"] {
            let e = parse_period("stats-period", bad).unwrap_err();
            assert!(e.contains(bad) && e.contains("--stats-period"), "{e}");
        }
    }

    #[test]
    fn accepts_and_validates() {
        let mut o = RunOptions::default();
        assert_eq!(o.accept("duration", Some("2.5")), Ok(true));
        assert_eq!(o.duration, Some(Duration::from_millis(2500)));
        assert_eq!(o.accept("stats-format", Some("json")), Ok(true));
        assert_eq!(o.stats_format, StatsFormat::Json);
        assert_eq!(o.accept("stats-file", Some("/tmp/x.json")), Ok(true));
        assert_eq!(o.accept("idle-sleep-us", Some("20")), Ok(true));
        assert_eq!(o.idle_sleep, IdleSleep(Some(Duration::from_micros(20))));
        assert_eq!(o.accept("idle-sleep-us", Some("0")), Ok(true));
        assert_eq!(o.idle_sleep, IdleSleep(None));
        assert_eq!(o.accept("metrics-addr", Some("127.0.0.1:9091")), Ok(true));
        assert_eq!(o.metrics_addr, Some("127.0.0.1:9091".parse().unwrap()));
        assert!(o
            .accept("metrics-addr", Some("nonsense"))
            .unwrap_err()
            .contains("nonsense"));
        assert_eq!(o.accept("burst", Some("32")), Ok(false));
        for bad in ["0", "-1", "abc", "inf", "NaN", "1e20", "1e19", "31622400.5"] {
            assert!(o.accept("duration", Some(bad)).unwrap_err().contains(bad));
        }
        assert_eq!(o.accept("duration", Some("31622400")), Ok(true));
        assert_eq!(o.duration, Some(Duration::from_secs(MAX_SECONDS)));
        assert!(o.accept("stats-format", Some("csv")).is_err());
        for bad in ["-1", "1e3", "10000001"] {
            assert!(o
                .accept("idle-sleep-us", Some(bad))
                .unwrap_err()
                .contains(bad));
        }
    }
}
