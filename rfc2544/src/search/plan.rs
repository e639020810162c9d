//! What the trial record says about a goal ([`View`]) and what to do next for it ([`Action`]).
//!
//! Bounds are a pure function of the trials: failures are solid (loss seen is loss), passes are
//! weighed by how long they lasted. Keeping no other bound state is what lets a failed
//! verification simply enter the record and the search carry on from the right interval.

use std::time::Duration;

use super::config::{SearchConfig, GENERATOR_TOLERANCE};
use super::types::{Goal, TrialKind, TrialRecord, Verdict};

/// A passing trial that bounds a goal from below.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Lo {
    /// Index into the trial record.
    pub idx: usize,
    /// Its achieved rate, capped at the highest rate searched (a pass above the generator's
    /// ceiling only says the goal holds at the ceiling).
    pub rate: f64,
}

/// A goal's interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct View {
    /// The lowest failing achieved rate, or the highest rate searched.
    pub upper: f64,
    /// Whether `upper` is a failure of a search or verification trial (rather than of the
    /// max-rate trial, or only the ceiling), i.e. whether it says where the edge is.
    pub upper_from_search: bool,
    /// The highest pass below `upper`, any duration.
    pub lo_any: Option<Lo>,
    /// The highest pass below `upper` lasting at least the trial duration.
    pub lo_long: Option<Lo>,
    /// The highest pass below `upper` lasting at least the final duration.
    pub lo_final: Option<Lo>,
    /// A trial asked for (or achieved) the minimum rate and failed.
    pub floor_failed: bool,
}

impl View {
    /// `upper / lower - 1` for the best lower bound; `None` without one.
    pub fn width(&self) -> Option<f64> {
        self.lo_any.map(|lo| self.upper / lo.rate - 1.0)
    }
}

/// The interval of `goal` given the trials and the ceiling `top`.
pub(super) fn view(trials: &[TrialRecord], goal: Goal, top: f64, cfg: &SearchConfig) -> View {
    let live = || {
        trials
            .iter()
            .enumerate()
            .filter(move |(_, t)| t.counts_for(goal))
    };
    let fail = live()
        .filter(|(_, t)| t.verdict(goal) == Verdict::Fail)
        .min_by(|a, b| a.1.achieved_pps.total_cmp(&b.1.achieved_pps));
    let (upper, upper_from_search) = match fail {
        Some((_, t)) if t.achieved_pps < top => (t.achieved_pps, t.spec.kind != TrialKind::MaxRate),
        _ => (top, false),
    };
    let hi_fail = fail.map_or(f64::INFINITY, |(_, t)| t.achieved_pps);
    let best = |min_duration: Duration| {
        live()
            .filter(|(_, t)| {
                t.verdict(goal) == Verdict::Pass
                    && t.achieved_pps < hi_fail
                    && t.spec.duration >= min_duration
            })
            .map(|(idx, t)| {
                (
                    Lo {
                        idx,
                        rate: t.achieved_pps.min(top),
                    },
                    t.spec.duration,
                )
            })
            // The highest rate; at equal (capped) rates the longest trial.
            .max_by(|a, b| a.0.rate.total_cmp(&b.0.rate).then(a.1.cmp(&b.1)))
            .map(|(lo, _)| lo)
    };
    let floor = cfg.min_rate() * (1.0 + GENERATOR_TOLERANCE);
    let floor_failed = live().any(|(_, t)| {
        t.verdict(goal) == Verdict::Fail
            && (t.achieved_pps <= floor || t.spec.rate_pps.is_some_and(|r| r <= floor))
    });
    View {
        upper,
        upper_from_search,
        floor_failed,
        lo_any: best(Duration::ZERO),
        lo_long: best(cfg.trial_duration()),
        lo_final: best(cfg.final_duration()),
    }
}

/// Whether `upper` is within the resolution of `lo` (with a rounding margin: a step of exactly
/// the resolution, as the first steps from the guess are, brackets the goal).
pub(super) fn resolved(cfg: &SearchConfig, lo: f64, upper: f64) -> bool {
    upper <= lo * (1.0 + cfg.resolution()) * (1.0 + 1e-9)
}

/// How a trial came to be planned; the record step uses it to update the goal's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// The first trial.
    MaxRate,
    /// The first search trial, at the max-rate trial's forwarding rate.
    Guess,
    /// Below a failure with no pass known: widths double from the resolution.
    Down,
    /// Above a pass when nothing above it failed but the max-rate trial: widths double.
    Up,
    /// Between a pass and a failure, at their geometric mean.
    Bisect,
    /// The lower bound again at the full trial duration before it is verified (once the DUT
    /// has shown noise).
    Remeasure,
    /// The lower bound at the final duration.
    Verify,
}

impl Step {
    /// Search steps first, then re-measurements, then verifications: the expensive trials
    /// come last, when the intervals of both goals are as narrow as they get.
    pub fn rank(self) -> u8 {
        match self {
            Step::MaxRate | Step::Guess | Step::Down | Step::Up | Step::Bisect => 0,
            Step::Remeasure => 1,
            Step::Verify => 2,
        }
    }
}

/// What a goal needs next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Action {
    /// Verified: the trial at this index.
    Done(usize),
    /// Failed at the minimum rate: no result.
    NoResult,
    /// A trial.
    Trial(Plan),
}

/// A planned trial.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Plan {
    pub step: Step,
    pub rate: Option<f64>,
    pub duration: Duration,
    /// The trial whose verdicts this one replaces (re-measurement, verification).
    pub supersedes: Option<usize>,
    /// For a bisection: the interval it splits (a result outside it is a stall).
    pub bracket: Option<(f64, f64)>,
    /// The goal's interval width before the trial (∞ without a lower bound): the widest goal
    /// is served first.
    pub width: f64,
}

/// Counters of one goal that the trial record alone does not hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Steps {
    /// Failed downward steps so far.
    pub down: u32,
    /// Passed upward steps so far.
    pub up: u32,
    /// A bisection trial landed outside its interval (the generator cannot resolve it
    /// finer): verify the lower bound as if resolved.
    pub stalled: bool,
}

/// Inputs of [`action`] besides the view.
pub(super) struct Context<'a> {
    pub cfg: &'a SearchConfig,
    pub trials: &'a [TrialRecord],
    pub steps: Steps,
    /// The max-rate trial's forwarding rate, if the guess is still untried.
    pub guess: Option<f64>,
    /// The DUT has shown noise (a pass above a failure, a failed verification): lower bounds
    /// from short trials are re-measured at the full trial duration before verification.
    pub noisy: bool,
}

/// The next action for a goal with interval `v`.
pub(super) fn action(v: &View, cx: &Context<'_>) -> Action {
    let cfg = cx.cfg;
    let level = |lo: Lo| cx.trials[lo.idx].spec.duration;
    let verify = |lo: Lo| {
        if level(lo) >= cfg.final_duration() {
            Action::Done(lo.idx)
        } else if level(lo) >= cfg.trial_duration() || !cx.noisy {
            Action::Trial(Plan {
                step: Step::Verify,
                rate: Some(lo.rate),
                duration: cfg.final_duration(),
                supersedes: Some(lo.idx),
                bracket: None,
                width: 0.0,
            })
        } else {
            Action::Trial(Plan {
                step: Step::Remeasure,
                rate: Some(lo.rate),
                duration: cfg.trial_duration(),
                supersedes: Some(lo.idx),
                bracket: None,
                width: 0.0,
            })
        }
    };
    let ok = |lo: &Lo| resolved(cfg, lo.rate, v.upper);
    if cx.steps.stalled {
        if let Some(lo) = v.lo_any {
            return verify(lo);
        }
    }
    for lo in [v.lo_final, v.lo_long, v.lo_any].into_iter().flatten() {
        if ok(&lo) {
            return verify(lo);
        }
    }
    let w0 = cfg.resolution();
    let coarse = cfg.coarse_duration();
    let Some(lo) = v.lo_any else {
        // No pass yet: step down from the upper bound.
        if v.floor_failed || v.upper <= cfg.min_rate() * (1.0 + GENERATOR_TOLERANCE) {
            return Action::NoResult;
        }
        let floor = v.upper * (1.0 - w0);
        let (step, rate) = match cx.guess {
            Some(g) => (Step::Guess, g.min(floor)),
            None => {
                let w = (w0 * 2f64.powi(cx.steps.down.min(60) as i32)).min(1.0);
                (Step::Down, v.upper * (1.0 - w))
            }
        };
        return Action::Trial(Plan {
            step,
            rate: Some(rate.max(cfg.min_rate())),
            duration: coarse,
            supersedes: None,
            bracket: None,
            width: f64::INFINITY,
        });
    };
    let width = v.upper / lo.rate - 1.0;
    let mid = (lo.rate * v.upper).sqrt();
    if !v.upper_from_search {
        // Nothing failed above the lower bound but the max-rate trial (an overload, which says
        // little about where the edge is): step up from the lower bound, widths doubling, as
        // long as that is below the midpoint.
        let up = lo.rate * (1.0 + w0 * 2f64.powi(cx.steps.up.min(60) as i32));
        if up < mid {
            return Action::Trial(Plan {
                step: Step::Up,
                rate: Some(up),
                duration: coarse,
                supersedes: None,
                bracket: None,
                width,
            });
        }
    }
    Action::Trial(Plan {
        step: Step::Bisect,
        rate: Some(mid),
        duration: cfg.duration_for_width(Some(width)),
        supersedes: None,
        bracket: Some((lo.rate, v.upper)),
        width,
    })
}

/// Bisections (in log space) to narrow a relative width `from` to `to`.
pub(super) fn halvings(from: f64, to: f64) -> u32 {
    if from.is_nan() || from <= to || to <= 0.0 {
        return 0;
    }
    ((1.0 + from).ln() / (1.0 + to).ln()).log2().ceil().max(0.0) as u32
}

/// The time a goal at `width` (or with no lower bound) still needs, roughly: the bisections by
/// phase, a re-measurement if one is due, and the verification.
pub(super) fn remaining_s(cfg: &SearchConfig, width: Option<f64>, remeasure: bool) -> f64 {
    let over = (cfg.learning().settle + cfg.flush().quiet).as_secs_f64();
    let res = cfg.resolution();
    let d = |w: f64| cfg.duration_for_width(Some(w)).as_secs_f64() + over;
    let w8 = super::config::COARSE_WIDTH * res;
    let w2 = super::config::MID_WIDTH * res;
    let (coarse, mid, full) = (d(f64::INFINITY), d(w8), d(res));
    let fin = cfg.final_duration().as_secs_f64() + over;
    let search = match width {
        // Typically two steps to bracket, then the phases from 8 × resolution down.
        None => {
            2.0 * coarse + f64::from(halvings(w8, w2)) * mid + f64::from(halvings(w2, res)) * full
        }
        Some(w) => {
            f64::from(halvings(w, w8)) * coarse
                + f64::from(halvings(w.min(w8), w2)) * mid
                + f64::from(halvings(w.min(w2), res)) * full
        }
    };
    search + if remeasure { full } else { 0.0 } + fin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halvings_count_log_space_bisections() {
        assert_eq!(halvings(0.01, 0.01), 0);
        assert_eq!(halvings(0.02, 0.01), 1);
        assert_eq!(halvings(0.08, 0.01), 3);
        assert_eq!(halvings(f64::NAN, 0.01), 0);
        assert_eq!(halvings(1.0, 0.0), 0);
    }

    #[test]
    fn remaining_time_shrinks_with_the_interval() {
        let c = SearchConfig::default();
        let wide = remaining_s(&c, None, true);
        let narrow = remaining_s(&c, Some(0.015), true);
        let verify_only = remaining_s(&c, Some(0.005), false);
        assert!(wide > narrow && narrow > verify_only);
        assert!((verify_only - 60.2).abs() < 1e-9, "{verify_only}");
    }
}
