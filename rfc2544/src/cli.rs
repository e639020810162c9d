//! The search options of `dpdk-app rfc2544`: their `--help` text (each default and why) and
//! parsers for their values, so the engine's command line only maps names to
//! [`SearchConfigBuilder`](crate::search::SearchConfigBuilder) setters.
//!
//! Percentages are typed as percent (`--pdr-loss 0.1` is 0.1 %) and returned as ratios; rates
//! take `k`, `M` or `G` suffixes; every parser refuses NaN, infinities, negatives and junk with
//! an [`Error`] naming the option.

use std::time::Duration;

use crate::frame::FRAME_SIZES_HELP;
use crate::Error;

/// The search options, for `--help` (after [`FRAME_SIZES_HELP`], see [`help`]).
pub const SEARCH_HELP: &str = "\
  --pdr-loss PERCENT     loss tolerance of the PDR (default 0.1, as NFVbench and TRex's
                         ndr_bench); the NDR is always zero loss; both are found in one search
  --resolution PERCENT   stop when the lowest failing rate is within PERCENT of the highest
                         passing one (default 1)
  --trial-duration SECS  length of search trials near the result (default 10); while the
                         interval is wider than 8 (2) resolutions trials last 1/8 (1/2) of it,
                         because a failure is certain at any length and a pass is confirmed
                         by the final trial anyway
  --final-duration SECS  verification trial at each result (default 60, RFC 2544 §24); a result
                         is accepted only if this trial confirms it, else the search goes on
                         below it
  --max-rate PPS         highest rate searched, frames/s over all ports, k/M/G suffixes
                         allowed (default: a first unpaced trial finds it, and the DUT's
                         forwarding rate in it is the first search point)
  --min-rate PPS         lowest rate searched (default 1000); a goal still failing there has
                         no result
  --duration SECS        cap on the whole search, shared out over the frame sizes; goals not
                         verified by then are reported as unverified bounds (default: none)";

/// The frame-size and search options' help.
pub fn help() -> String {
    // The constants open with `"\` continuations, which eat their first line's indent.
    format!("  {FRAME_SIZES_HELP}\n  {SEARCH_HELP}\n")
}

/// A percentage (`0.1`, `0.1%`) as a ratio (0.001), in `0..=100`.
pub fn parse_percent(option: &'static str, value: &str) -> Result<f64, Error> {
    let t = value.trim();
    let v = number(option, t.strip_suffix('%').unwrap_or(t).trim_end(), value)?;
    if !(0.0..=100.0).contains(&v) {
        return Err(Error::invalid(
            option,
            value,
            "must be a percentage from 0 to 100",
        ));
    }
    Ok(v / 100.0)
}

/// Seconds (`2`, `0.5`, `60s`), positive and at most 24 h.
pub fn parse_seconds(option: &'static str, value: &str) -> Result<Duration, Error> {
    let t = value.trim();
    let v = number(option, t.strip_suffix('s').unwrap_or(t).trim_end(), value)?;
    if !(v > 0.0 && v <= 86_400.0) {
        return Err(Error::invalid(
            option,
            value,
            "must be a number of seconds above 0, at most 86400",
        ));
    }
    Duration::try_from_secs_f64(v).map_err(|_| {
        Error::invalid(
            option,
            value,
            "must be a number of seconds above 0, at most 86400",
        )
    })
}

/// Frames per second (`14880952`, `500k`, `1.5M`, `2G`, an optional `pps`), from 1 to 10¹².
pub fn parse_rate(option: &'static str, value: &str) -> Result<f64, Error> {
    let t = value.trim();
    let t = t.strip_suffix("pps").unwrap_or(t).trim_end();
    let (digits, scale) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 1e3),
        Some((i, 'M' | 'm')) => (&t[..i], 1e6),
        Some((i, 'G' | 'g')) => (&t[..i], 1e9),
        _ => (t, 1.0),
    };
    let v = number(option, digits.trim_end(), value)? * scale;
    if !(1.0..=1e12).contains(&v) {
        return Err(Error::invalid(
            option,
            value,
            "must be a rate from 1 to 10^12 frames/s",
        ));
    }
    Ok(v)
}

/// A finite decimal number (no sign games: `-`, `inf`, `NaN` refused).
fn number(option: &'static str, digits: &str, value: &str) -> Result<f64, Error> {
    let plain = !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'E' || b == b'+')
        && digits
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.');
    match digits.parse::<f64>() {
        Ok(v) if plain && v.is_finite() => Ok(v),
        _ => Err(Error::invalid(option, value, "is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{
        DEFAULT_FINAL_DURATION, DEFAULT_MIN_RATE_PPS, DEFAULT_PDR_LOSS, DEFAULT_RESOLUTION,
        DEFAULT_TRIAL_DURATION,
    };

    #[test]
    fn values_parse_and_junk_is_refused() {
        assert_eq!(parse_percent("--pdr-loss", "0.1").unwrap(), 0.001);
        assert_eq!(parse_percent("--pdr-loss", " 1 %").unwrap(), 0.01);
        assert!(parse_percent("--pdr-loss", "NaN").is_err());
        assert!(parse_percent("--pdr-loss", "-1").is_err());
        assert!(parse_percent("--pdr-loss", "101").is_err());
        assert!(parse_percent("--pdr-loss", "").is_err());
        assert_eq!(
            parse_seconds("--trial-duration", "2").unwrap(),
            Duration::from_secs(2)
        );
        assert_eq!(
            parse_seconds("--trial-duration", "0.5s").unwrap(),
            Duration::from_millis(500)
        );
        for bad in ["0", "-3", "inf", "1e300", "two", "s"] {
            let e = parse_seconds("--trial-duration", bad)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("--trial-duration"), "{bad}: {e}");
        }
        assert_eq!(parse_rate("--max-rate", "14880952").unwrap(), 14_880_952.0);
        assert_eq!(parse_rate("--max-rate", "1.5M").unwrap(), 1.5e6);
        assert_eq!(parse_rate("--max-rate", "500kpps").unwrap(), 5e5);
        assert_eq!(parse_rate("--max-rate", "2G").unwrap(), 2e9);
        for bad in ["0", "1e13", "M", "fast", "NaN", "-5", "1.5T", "infinity"] {
            assert!(parse_rate("--max-rate", bad).is_err(), "{bad}");
        }
    }

    /// The help states each default as the constants have it.
    #[test]
    fn help_states_the_defaults() {
        let h = help();
        let flat: String = h.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&format!(
            "--pdr-loss PERCENT loss tolerance of the PDR (default {}",
            DEFAULT_PDR_LOSS * 100.0
        )));
        assert!(flat.contains(&format!("(default {})", DEFAULT_RESOLUTION * 100.0)));
        assert!(flat.contains(&format!("(default {})", DEFAULT_TRIAL_DURATION.as_secs())));
        assert!(flat.contains(&format!(
            "(default {}, RFC 2544 §24)",
            DEFAULT_FINAL_DURATION.as_secs()
        )));
        assert!(flat.contains(&format!("(default {})", DEFAULT_MIN_RATE_PPS)));
        assert!(flat.contains("imix = simple IMIX"));
        assert!(
            h.lines().all(|l| l.chars().count() <= 100),
            "fits a terminal"
        );
    }
}
