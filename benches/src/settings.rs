//! What a run measures and for how long: defaults sized for a 2-core machine, overridden by
//! environment variables (which reach the benchmark through `make` and `cargo bench` alike)
//! or by arguments after `cargo bench ... --`.

use std::time::Duration;

use testkit::MemoryMode;

use crate::measure::Timing;

/// Why the settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{name}={value}: {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: &'static str,
    },
    #[error("--runs needs a value")]
    MissingRuns,
}

/// How a benchmark run goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Measurements of each set-up; the best counts.
    pub runs: usize,
    pub timing: Timing,
    /// CI's smoke run: one short measurement each.
    pub quick: bool,
    /// Substrings of group names to run (none: all).
    pub filters: Vec<String>,
    /// Forced memory mode; `None`: hugepages when enough are free.
    pub memory: Option<MemoryMode>,
}

impl Settings {
    /// Reads `DPDK_BENCH_QUICK`, `DPDK_BENCH_RUNS`, `DPDK_BENCH_WARMUP` and
    /// `DPDK_BENCH_WINDOW` (seconds), `DPDK_BENCH_MEMORY` (`huge`|`nohuge`) through `env`, then
    /// `args`: `--quick`, `--runs N`, and group-name filters. Other options (`--bench`, which
    /// cargo passes, and criterion's) are ignored.
    pub fn parse(
        env: impl Fn(&str) -> Option<String>,
        args: impl IntoIterator<Item = String>,
    ) -> Result<Self, SettingsError> {
        let mut quick = env("DPDK_BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0");
        let mut runs_arg = None;
        let mut filters = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                "--runs" => runs_arg = Some(args.next().ok_or(SettingsError::MissingRuns)?),
                a if a.starts_with("--runs=") => runs_arg = Some(a["--runs=".len()..].to_owned()),
                a if a.starts_with('-') => {}
                _ => filters.push(arg),
            }
        }
        let (runs, warmup, window) = if quick { (1, 0.3, 0.5) } else { (5, 1.0, 2.0) };
        let runs = match runs_arg
            .map(|v| ("--runs", v))
            .or_else(|| env("DPDK_BENCH_RUNS").map(|v| ("DPDK_BENCH_RUNS", v)))
        {
            Some((name, v)) => match v.parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => return Err(invalid(name, &v, "a positive number of runs")),
            },
            None => runs,
        };
        let secs = |name: &str, default: f64| -> Result<Duration, SettingsError> {
            match env(name) {
                None => Ok(Duration::from_secs_f64(default)),
                Some(v) => match v.parse::<f64>() {
                    Ok(s) if s > 0.0 && s < 3600.0 => Ok(Duration::from_secs_f64(s)),
                    _ => Err(invalid(name, &v, "seconds, above 0 and below 3600")),
                },
            }
        };
        let memory = match env("DPDK_BENCH_MEMORY").as_deref() {
            None | Some("") => None,
            Some("huge") => Some(MemoryMode::Huge),
            Some("nohuge") => Some(MemoryMode::NoHuge),
            Some(v) => return Err(invalid("DPDK_BENCH_MEMORY", v, "huge or nohuge")),
        };
        Ok(Settings {
            runs,
            timing: Timing {
                warmup: secs("DPDK_BENCH_WARMUP", warmup)?,
                window: secs("DPDK_BENCH_WINDOW", window)?,
            },
            quick,
            filters,
            memory,
        })
    }
}

fn invalid(name: &str, value: &str, reason: &'static str) -> SettingsError {
    SettingsError::Invalid {
        name: name.to_owned(),
        value: value.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(env: &[(&str, &str)], args: &[&str]) -> Result<Settings, SettingsError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::parse(
            |name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            args.iter().map(|s| (*s).to_owned()),
        )
    }

    #[test]
    fn defaults_quick_and_overrides() {
        let s = parse(&[], &["--bench"]).unwrap();
        assert_eq!((s.runs, s.quick, s.memory), (5, false, None));
        assert_eq!(s.timing.window, Duration::from_secs(2));
        assert!(s.filters.is_empty());

        let q = parse(&[("DPDK_BENCH_QUICK", "1")], &["--bench"]).unwrap();
        assert_eq!((q.runs, q.quick), (1, true));
        assert_eq!(q, parse(&[], &["--quick", "--bench"]).unwrap());

        let s = parse(
            &[
                ("DPDK_BENCH_RUNS", "3"),
                ("DPDK_BENCH_WINDOW", "0.5"),
                ("DPDK_BENCH_MEMORY", "nohuge"),
            ],
            &["--bench", "l3fwd", "--save-baseline", "--runs=7"],
        )
        .unwrap();
        assert_eq!((s.runs, s.memory), (7, Some(MemoryMode::NoHuge)));
        assert_eq!(s.timing.window, Duration::from_millis(500));
        assert_eq!(s.filters, ["l3fwd"]);
    }

    #[test]
    fn refuses_bad_values() {
        assert!(parse(&[("DPDK_BENCH_RUNS", "0")], &[]).is_err());
        assert!(parse(&[("DPDK_BENCH_WINDOW", "-1")], &[]).is_err());
        assert!(parse(&[("DPDK_BENCH_MEMORY", "big")], &[]).is_err());
        assert!(parse(&[], &["--runs"]).is_err());
        assert!(parse(&[], &["--runs", "x"]).is_err());
    }
}
