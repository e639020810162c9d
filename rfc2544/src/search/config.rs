//! [`SearchConfig`]: the search's settings, validated once so the search never meets a NaN, a
//! zero duration or a rate it cannot offer.
//!
//! Built with [`SearchConfig::builder`]; [`SearchConfigBuilder::build`] refuses what the search
//! cannot use and names the option (`--pdr-loss`, `--resolution`, ...) in the [`Error`].

use std::time::Duration;

use crate::Error;

/// PDR loss tolerance by default: 0.1 %, as NFVbench and TRex's ndr_bench use.
pub const DEFAULT_PDR_LOSS: f64 = 0.001;
/// Resolution by default: the search stops when the interval is within 1 % of the rate found
/// (TRex's `pdr_error`).
pub const DEFAULT_RESOLUTION: f64 = 0.01;
/// Search trial length at the finest phase. Long enough that a path losing a burst every few
/// seconds shows it before the 60 s verification is spent on it; phases before use 1/8 and 1/2.
pub const DEFAULT_TRIAL_DURATION: Duration = Duration::from_secs(10);
/// The verification trial: RFC 2544 §24 asks for at least 60 s.
pub const DEFAULT_FINAL_DURATION: Duration = Duration::from_secs(60);
/// The lowest rate searched, frames per second: a goal that still loses frames here has no
/// result (reported as `null`).
pub const DEFAULT_MIN_RATE_PPS: f64 = 1_000.0;
/// The hard limit on trials per frame size; a clean DUT needs far fewer (see
/// [`SearchConfig::clean_trial_bound`]).
pub const DEFAULT_MAX_TRIALS: u32 = 64;
/// Learning frames per stream before each trial (RFC 2544 §23).
pub const DEFAULT_LEARNING_FRAMES: u32 = 32;
/// How long to wait after the learning frames before the trial starts.
pub const DEFAULT_LEARNING_SETTLE: Duration = Duration::from_millis(100);
/// The most the engine waits for a trial's late frames after sending stops (RFC 2544 §23: 2 s).
pub const DEFAULT_FLUSH_MAX: Duration = Duration::from_secs(2);
/// The engine stops waiting earlier once no frame of the trial arrived for this long.
pub const DEFAULT_FLUSH_QUIET: Duration = Duration::from_millis(100);
/// A trial whose achieved offered rate fell more than this short of the requested one is
/// generator-limited.
pub const GENERATOR_TOLERANCE: f64 = 0.01;
/// Short trials are never shorter than this (nor longer than the trial duration).
pub const MIN_SHORT_TRIAL: Duration = Duration::from_millis(100);

/// The phases: while the interval is wider than `COARSE_WIDTH` × resolution, trials last
/// trial_duration / `COARSE_DIVISOR`; while wider than `MID_WIDTH` × resolution, / `MID_DIVISOR`;
/// after that the full trial duration.
pub const COARSE_WIDTH: f64 = 8.0;
/// See [`COARSE_WIDTH`].
pub const COARSE_DIVISOR: u32 = 8;
/// See [`COARSE_WIDTH`].
pub const MID_WIDTH: f64 = 2.0;
/// See [`COARSE_WIDTH`].
pub const MID_DIVISOR: u32 = 2;

const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
const MAX_RATE_PPS: f64 = 1e12;

/// RFC 2544 §23 trial hygiene before the trial: frames that let the DUT learn addresses and fill
/// caches, not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Learning {
    /// Frames per stream, sent slowly, carrying trial id 0 (never counted).
    pub frames_per_stream: u32,
    /// Wait after them, so the trial starts with empty rings.
    pub settle: Duration,
}

/// RFC 2544 §23 trial hygiene after the trial: the wait for frames still in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flush {
    /// The longest wait after sending stopped.
    pub max: Duration,
    /// Stop waiting once no frame of this trial arrived for this long (or once every frame sent
    /// has arrived).
    pub quiet: Duration,
}

/// The settings of a search, valid by construction.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchConfig {
    pdr_loss: f64,
    resolution: f64,
    trial_duration: Duration,
    final_duration: Duration,
    min_rate: f64,
    max_rate: Option<f64>,
    duration_cap: Option<Duration>,
    max_trials: u32,
    learning: Learning,
    flush: Flush,
}

impl Default for SearchConfig {
    fn default() -> SearchConfig {
        SearchConfig {
            pdr_loss: DEFAULT_PDR_LOSS,
            resolution: DEFAULT_RESOLUTION,
            trial_duration: DEFAULT_TRIAL_DURATION,
            final_duration: DEFAULT_FINAL_DURATION,
            min_rate: DEFAULT_MIN_RATE_PPS,
            max_rate: None,
            duration_cap: None,
            max_trials: DEFAULT_MAX_TRIALS,
            learning: Learning {
                frames_per_stream: DEFAULT_LEARNING_FRAMES,
                settle: DEFAULT_LEARNING_SETTLE,
            },
            flush: Flush {
                max: DEFAULT_FLUSH_MAX,
                quiet: DEFAULT_FLUSH_QUIET,
            },
        }
    }
}

impl SearchConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> SearchConfigBuilder {
        SearchConfigBuilder {
            cfg: SearchConfig::default(),
        }
    }

    /// The PDR's loss tolerance as a ratio (0.001 = 0.1 %); the NDR's is always zero.
    pub fn pdr_loss(&self) -> f64 {
        self.pdr_loss
    }

    /// The resolution as a ratio of the found rate (0.01 = 1 %): a goal is resolved when its
    /// failing upper bound is within this of its passing lower bound.
    pub fn resolution(&self) -> f64 {
        self.resolution
    }

    /// The length of search trials in the finest phase.
    pub fn trial_duration(&self) -> Duration {
        self.trial_duration
    }

    /// The length of a verification trial.
    pub fn final_duration(&self) -> Duration {
        self.final_duration
    }

    /// The lowest rate searched, frames per second.
    pub fn min_rate(&self) -> f64 {
        self.min_rate
    }

    /// The highest rate searched; `None`: the first trial runs unpaced and its achieved rate
    /// becomes the highest.
    pub fn max_rate(&self) -> Option<f64> {
        self.max_rate
    }

    /// The limit on the search's total time (trials, learning and flush), if any.
    pub fn duration_cap(&self) -> Option<Duration> {
        self.duration_cap
    }

    /// The hard limit on trials per frame size.
    pub fn max_trials(&self) -> u32 {
        self.max_trials
    }

    /// Learning frames before each trial.
    pub fn learning(&self) -> Learning {
        self.learning
    }

    /// The wait for late frames after each trial.
    pub fn flush(&self) -> Flush {
        self.flush
    }

    /// The same settings with another duration cap (the sweep hands each frame size its share).
    pub(crate) fn with_duration_cap(&self, cap: Option<Duration>) -> SearchConfig {
        SearchConfig {
            duration_cap: cap,
            ..self.clone()
        }
    }

    /// The trial length for a goal whose interval has relative width `width`
    /// (`upper / lower - 1`; `None` when no lower bound is known yet). See the phases in the
    /// [`crate::search`] documentation.
    pub fn duration_for_width(&self, width: Option<f64>) -> Duration {
        let res = self.resolution;
        match width {
            Some(w) if w <= MID_WIDTH * res => self.trial_duration,
            Some(w) if w <= COARSE_WIDTH * res => self.short(MID_DIVISOR),
            _ => self.short(COARSE_DIVISOR),
        }
    }

    /// The shortest phase's trial length (also the max-rate trial's).
    pub fn coarse_duration(&self) -> Duration {
        self.short(COARSE_DIVISOR)
    }

    fn short(&self, divisor: u32) -> Duration {
        (self.trial_duration / divisor).max(MIN_SHORT_TRIAL.min(self.trial_duration))
    }

    /// What one trial of `duration` costs in wall time at most: learning, the trial, the
    /// longest flush.
    pub fn planned_wall(&self, duration: Duration) -> Duration {
        self.learning.settle + duration + self.flush.max
    }

    /// An upper bound on the trials a search needs when the DUT is clean (loss grows with the
    /// rate and a rate's verdict does not change between trials) and the generator hits the
    /// rates it is asked for, with `top_pps` the highest rate searched. With
    /// `L = ln(top / min_rate)` and `r = ln(1 + resolution)` (interval widths are measured in
    /// log space):
    ///
    /// - 1 max-rate trial and 1 trial at the guessed rate;
    /// - per goal, expanding steps from the guess, their width doubling from the resolution:
    ///   at most `e = ceil(log2(L / r + 1)) + 1` before the goal is bracketed or reaches
    ///   the minimum rate, then at most `e` bisections to narrow the last step to the
    ///   resolution;
    /// - per goal at most one re-measurement at the full trial duration (only once the DUT
    ///   has shown noise, which a clean DUT does not) and one verification.
    ///
    /// Hence `2 + 2 × (2e + 2)`. For 1 % and `top / min_rate` = 10⁴ that is 50; in practice
    /// a clean DUT needs 4 to 15 (docs/rfc2544.md). The hard limit is
    /// [`max_trials`](Self::max_trials) whatever the DUT does.
    pub fn clean_trial_bound(&self, top_pps: f64) -> u32 {
        let l = (top_pps / self.min_rate).max(1.0 + self.resolution).ln();
        let r = (1.0 + self.resolution).ln();
        let e = (l / r + 1.0).log2().ceil() as u32 + 1;
        2 + 2 * (2 * e + 2)
    }
}

/// Collects settings; [`build`](Self::build) validates them.
#[derive(Debug, Clone)]
pub struct SearchConfigBuilder {
    cfg: SearchConfig,
}

impl SearchConfigBuilder {
    /// `--pdr-loss` as a ratio, `0 <= ratio < 0.5` (0 makes the PDR the NDR).
    pub fn pdr_loss(mut self, ratio: f64) -> Self {
        self.cfg.pdr_loss = ratio;
        self
    }

    /// `--resolution` as a ratio, `0.0001 <= ratio <= 0.5`.
    pub fn resolution(mut self, ratio: f64) -> Self {
        self.cfg.resolution = ratio;
        self
    }

    /// `--trial-duration`, 10 ms to 24 h.
    pub fn trial_duration(mut self, d: Duration) -> Self {
        self.cfg.trial_duration = d;
        self
    }

    /// `--final-duration`, 10 ms to 24 h.
    pub fn final_duration(mut self, d: Duration) -> Self {
        self.cfg.final_duration = d;
        self
    }

    /// `--min-rate` in frames per second, at least 1 and below the maximum.
    pub fn min_rate(mut self, pps: f64) -> Self {
        self.cfg.min_rate = pps;
        self
    }

    /// `--max-rate` in frames per second; `None` to find it with an unpaced first trial.
    pub fn max_rate(mut self, pps: Option<f64>) -> Self {
        self.cfg.max_rate = pps;
        self
    }

    /// `--duration`: a cap on the whole search's time; `None` for no cap.
    pub fn duration_cap(mut self, cap: Option<Duration>) -> Self {
        self.cfg.duration_cap = cap;
        self
    }

    /// The hard limit on trials per frame size, at least 3.
    pub fn max_trials(mut self, n: u32) -> Self {
        self.cfg.max_trials = n;
        self
    }

    /// Learning frames before each trial (`frames_per_stream` may be 0; `settle` at most 60 s).
    pub fn learning(mut self, learning: Learning) -> Self {
        self.cfg.learning = learning;
        self
    }

    /// The wait for late frames (`max` and `quiet` at most 60 s, `quiet <= max`).
    pub fn flush(mut self, flush: Flush) -> Self {
        self.cfg.flush = flush;
        self
    }

    /// The settings, or the first one that the search cannot use.
    pub fn build(self) -> Result<SearchConfig, Error> {
        let c = self.cfg;
        if !(c.pdr_loss.is_finite() && (0.0..0.5).contains(&c.pdr_loss)) {
            return Err(Error::invalid(
                "--pdr-loss",
                percent(c.pdr_loss),
                "must be at least 0 % and below 50 %",
            ));
        }
        if !(c.resolution.is_finite() && (1e-4..=0.5).contains(&c.resolution)) {
            return Err(Error::invalid(
                "--resolution",
                percent(c.resolution),
                "must be between 0.01 % and 50 %",
            ));
        }
        for (option, d) in [
            ("--trial-duration", c.trial_duration),
            ("--final-duration", c.final_duration),
        ] {
            if d < Duration::from_millis(10) || d > MAX_DURATION {
                return Err(Error::invalid(
                    option,
                    format!("{} s", d.as_secs_f64()),
                    "must be between 0.01 s and 24 h",
                ));
            }
        }
        if !(c.min_rate.is_finite() && (1.0..MAX_RATE_PPS).contains(&c.min_rate)) {
            return Err(Error::invalid(
                "--min-rate",
                c.min_rate,
                "must be a rate of at least 1 frame/s",
            ));
        }
        if let Some(max) = c.max_rate {
            if !(max.is_finite() && max <= MAX_RATE_PPS) || max <= c.min_rate {
                return Err(Error::invalid(
                    "--max-rate",
                    max,
                    format!(
                        "must be a rate above the minimum rate ({} frames/s) and at most 10^12",
                        c.min_rate
                    ),
                ));
            }
        }
        if c.duration_cap == Some(Duration::ZERO) {
            return Err(Error::invalid(
                "--duration",
                "0 s",
                "a cap on the search must be longer than 0 s",
            ));
        }
        if c.max_trials < 3 {
            return Err(Error::invalid(
                "max trials",
                c.max_trials,
                "a search needs at least 3 trials (max rate, a search trial, a verification)",
            ));
        }
        let minute = Duration::from_secs(60);
        if c.learning.settle > minute || c.flush.max > minute || c.flush.quiet > c.flush.max {
            return Err(Error::invalid(
                "learning/flush",
                format!(
                    "settle {:?}, flush {:?}, quiet {:?}",
                    c.learning.settle, c.flush.max, c.flush.quiet
                ),
                "waits are at most 60 s and the quiet time at most the flush time",
            ));
        }
        Ok(c)
    }
}

fn percent(ratio: f64) -> String {
    format!("{} %", ratio * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_their_option() {
        assert_eq!(
            SearchConfig::builder().build().unwrap(),
            SearchConfig::default()
        );
        let err = |b: SearchConfigBuilder| b.build().unwrap_err().to_string();
        let b = SearchConfig::builder;
        assert!(err(b().pdr_loss(f64::NAN)).starts_with("--pdr-loss \"NaN %\""));
        assert!(err(b().pdr_loss(-0.1)).starts_with("--pdr-loss"));
        assert!(err(b().pdr_loss(0.5)).starts_with("--pdr-loss"));
        assert!(b().pdr_loss(0.0).build().is_ok());
        assert!(err(b().resolution(0.0)).starts_with("--resolution"));
        assert!(err(b().resolution(f64::INFINITY)).starts_with("--resolution"));
        assert!(err(b().trial_duration(Duration::ZERO)).starts_with("--trial-duration"));
        assert!(err(b().final_duration(Duration::from_secs(100_000))).starts_with("--final"));
        assert!(err(b().min_rate(0.0)).starts_with("--min-rate"));
        assert!(err(b().min_rate(f64::NAN)).starts_with("--min-rate"));
        assert!(err(b().max_rate(Some(f64::NAN))).starts_with("--max-rate"));
        assert!(err(b().max_rate(Some(500.0))).contains("above the minimum rate (1000"));
        assert!(err(b().duration_cap(Some(Duration::ZERO))).starts_with("--duration"));
        assert!(err(b().max_trials(2)).contains("at least 3"));
        let flush = Flush {
            max: Duration::from_millis(10),
            quiet: Duration::from_millis(20),
        };
        assert!(err(b().flush(flush)).contains("quiet time"));
    }

    /// Trial lengths by phase: 1/8 while wider than 8 × resolution, 1/2 while wider than 2 ×,
    /// then the full length; never below 100 ms unless the trial duration itself is.
    #[test]
    fn phases() {
        let c = SearchConfig::default();
        let s = Duration::from_secs_f64;
        assert_eq!(c.duration_for_width(None), s(1.25));
        assert_eq!(c.duration_for_width(Some(0.5)), s(1.25));
        assert_eq!(c.duration_for_width(Some(0.08)), s(5.0));
        assert_eq!(c.duration_for_width(Some(0.021)), s(5.0));
        assert_eq!(c.duration_for_width(Some(0.02)), s(10.0));
        assert_eq!(c.duration_for_width(Some(0.0)), s(10.0));
        let short = SearchConfig::builder()
            .trial_duration(s(0.4))
            .build()
            .unwrap();
        assert_eq!(short.coarse_duration(), s(0.1));
        let tiny = SearchConfig::builder()
            .trial_duration(s(0.05))
            .build()
            .unwrap();
        assert_eq!(tiny.coarse_duration(), s(0.05));
        assert_eq!(c.planned_wall(s(1.0)), s(3.1));
    }

    #[test]
    fn clean_bound_follows_the_formula() {
        let c = SearchConfig::default();
        // L = ln 1e4 = 9.21, r = ln 1.01 = 0.00995: log2(926.6) = 9.86 -> e = 11.
        assert_eq!(c.clean_trial_bound(1e7), 50);
        assert!(c.clean_trial_bound(1.0) >= 6);
        assert!(c.clean_trial_bound(1e12) <= DEFAULT_MAX_TRIALS);
    }
}
