//! Options every app accepts beyond its C counterpart: how long to run and where statistics go.
//! Each app adds [`RunOptions::TABLE`] to its own option table and hands matching options to
//! [`RunOptions::accept`], so the spelling and checks are the same in every app.

use std::path::PathBuf;
use std::time::Duration;

use crate::getopt::{HasArg, Opt};
use crate::stats::StatsFormat;

/// `--duration`, `--stats-format`, `--stats-file`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunOptions {
    /// Stop forwarding after this long, print the final statistics, exit 0.
    pub duration: Option<Duration>,
    /// Periodic statistics as the C app's text or as JSON lines.
    pub stats_format: StatsFormat,
    /// Write the final summary as JSON here.
    pub stats_file: Option<PathBuf>,
}

impl RunOptions {
    pub const TABLE: [Opt; 3] = [
        Opt::long("duration", HasArg::Required),
        Opt::long("stats-format", HasArg::Required),
        Opt::long("stats-file", HasArg::Required),
    ];

    /// Help text lines for these options, for each app's `--help`.
    pub const HELP: &'static str = "\
  --duration SECS        stop after SECS seconds (fractions allowed), print the final
                         statistics and exit 0 [not in the C app]
  --stats-format FMT     periodic statistics as `text` (the C app's blocks, default) or
                         `json` (one object per period on stdout) [not in the C app]
  --stats-file PATH      write the final summary as JSON to PATH [not in the C app]";

    /// Takes option `name` if it is one of ours; `Ok(false)` if it is not.
    pub fn accept(&mut self, name: &str, value: Option<&str>) -> Result<bool, String> {
        let value = || value.ok_or_else(|| format!("--{name} requires a value"));
        match name {
            "duration" => {
                let v = value()?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| {
                        format!("invalid --duration {v:?}: expected a positive number of seconds")
                    })?;
                self.duration = Some(Duration::from_secs_f64(secs));
            }
            "stats-format" => self.stats_format = value()?.parse()?,
            "stats-file" => {
                let v = value()?;
                if v.is_empty() {
                    return Err("--stats-file requires a non-empty path".into());
                }
                self.stats_file = Some(PathBuf::from(v));
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
    fn accepts_and_validates() {
        let mut o = RunOptions::default();
        assert_eq!(o.accept("duration", Some("2.5")), Ok(true));
        assert_eq!(o.duration, Some(Duration::from_millis(2500)));
        assert_eq!(o.accept("stats-format", Some("json")), Ok(true));
        assert_eq!(o.stats_format, StatsFormat::Json);
        assert_eq!(o.accept("stats-file", Some("/tmp/x.json")), Ok(true));
        assert_eq!(o.accept("burst", Some("32")), Ok(false));
        for bad in ["0", "-1", "abc", "inf"] {
            assert!(o.accept("duration", Some(bad)).unwrap_err().contains(bad));
        }
        assert!(o.accept("stats-format", Some("csv")).is_err());
    }
}
