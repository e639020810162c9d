//! The throughput search: a clock-free state machine that finds the NDR and the PDR of one
//! frame size in one pass, every trial informing both.
//!
//! The engine asks [`Search::next_trial`] for a [`TrialSpec`], runs it, and hands the
//! [`TrialOutcome`] to [`Search::record`], until `next_trial` returns `None`; [`Search::result`] then
//! holds the answer. The search never reads a clock: durations come from the outcomes, which is
//! what makes it testable against a simulated DUT and deterministic.
//!
//! # Algorithm
//!
//! 1. **Max-rate trial** (`--max-rate` unset: unpaced): its achieved rate becomes the ceiling,
//!    and the DUT's forwarding rate under that overload (received / duration) is the first
//!    guess, as TRex's `--opt-bin-search` and MLRsearch (MRR) do: a DUT that saturates forwards
//!    about its capacity.
//! 2. **Bounds** per goal are a function of the record: the upper bound is the lowest failing
//!    achieved rate, the lower bound the highest pass below it. Every trial has a verdict for
//!    both goals (NDR: no loss; PDR: loss ratio ≤ `--pdr-loss`), so both are searched at once.
//! 3. **Next rate** for the goal with the widest interval: the guess first; with no pass yet,
//!    steps down from the upper bound whose width doubles from the resolution; with a pass but
//!    nothing failed above it except the max-rate trial, steps up likewise; otherwise the
//!    geometric mean of the bounds.
//! 4. **Phases** (trial length by interval width W = upper/lower − 1, resolution R, trial
//!    duration T): W > 8R or unbracketed: T/8; 2R < W ≤ 8R: T/2; W ≤ 2R: T. A failure is solid
//!    at any length (loss seen is loss); a short pass is weak evidence, so a lower bound is
//!    accepted only when a trial of `--final-duration` confirms it, and once the DUT has shown
//!    noise (a pass above a failure, a failed verification) a lower bound from a trial shorter
//!    than T is first re-measured at T.
//! 5. **Verification** failure: the failing trial enters the record like any other, so it
//!    becomes the upper bound, and the search continues below it; a note says so.
//! 6. **Early stop**: each trial carries `abort_after_lost`, the loss at which no goal the trial
//!    can inform could pass any more (1 frame when only the NDR is open, ⌊pdr · frames⌋ + 1
//!    otherwise).
//! 7. **Achieved rates** decide everything; a trial more than 1 % short of its requested rate is
//!    generator-limited, lowers the ceiling and is noted.
//! 8. **Termination**: at most [`SearchConfig::max_trials`] trials (64 by default), and none that
//!    would overrun the duration cap; a clean DUT needs at most
//!    [`SearchConfig::clean_trial_bound`]. Goals that were not verified when the search stopped
//!    are reported from their best-known bounds, marked unverified, with a note.
//!
//! docs/rfc2544.md has the reasoning and the measured comparison with plain binary search,
//! TRex ndr_bench, NFVbench and MLRsearch.

mod config;
mod plan;
mod types;

use std::time::Duration;

pub use config::{
    Flush, Learning, SearchConfig, SearchConfigBuilder, COARSE_DIVISOR, COARSE_WIDTH,
    DEFAULT_FINAL_DURATION, DEFAULT_FLUSH_MAX, DEFAULT_FLUSH_QUIET, DEFAULT_LEARNING_FRAMES,
    DEFAULT_LEARNING_SETTLE, DEFAULT_MAX_TRIALS, DEFAULT_MIN_RATE_PPS, DEFAULT_PDR_LOSS,
    DEFAULT_RESOLUTION, DEFAULT_TRIAL_DURATION, GENERATOR_TOLERANCE, MID_DIVISOR, MID_WIDTH,
    MIN_SHORT_TRIAL,
};
pub use types::{
    Bounds, Goal, GoalResult, GoalStatus, LatencySummary, Progress, SearchResult, TrialKind,
    TrialOutcome, TrialRecord, TrialSpec, Verdict,
};

use crate::frame::FrameSize;
use crate::units::pps as fmt_pps;
use crate::Error;
use plan::{Action, Context, Plan, Step, Steps, View};

/// The search of one frame size.
#[derive(Debug, Clone)]
pub struct Search {
    cfg: SearchConfig,
    size: FrameSize,
    next_id: u32,
    trials: Vec<TrialRecord>,
    pending: Option<Pending>,
    goals: [GoalState; 2],
    /// The highest rate searched: the max-rate trial's (or `--max-rate`), lowered by
    /// generator-limited trials.
    top: Option<f64>,
    max_forwarding: Option<f64>,
    /// The first search point, until it has been tried.
    guess: Option<f64>,
    notes: Vec<String>,
    spent_s: f64,
    finished: bool,
    invalid_streak: u32,
    /// The DUT contradicted itself (a pass above a failure, a failed verification).
    noisy: bool,
}

/// The trial handed out and not yet recorded.
#[derive(Debug, Clone, Copy)]
struct Pending {
    spec: TrialSpec,
    plan: Plan,
    served: Goal,
    /// Another goal whose verification is this same trial.
    also: Option<Goal>,
    /// The goals the trial informs, decided when it was planned.
    informs: [bool; 2],
}

#[derive(Debug, Clone, Copy, Default)]
struct GoalState {
    done: Option<usize>,
    no_result: bool,
    unfinished: bool,
    steps: Steps,
}

impl GoalState {
    fn open(&self) -> bool {
        self.done.is_none() && !self.no_result && !self.unfinished
    }
}

impl Search {
    /// A search of `size` with trial ids from 1.
    pub fn new(cfg: SearchConfig, size: FrameSize) -> Search {
        Search::with_first_id(cfg, size, 1)
    }

    /// A search whose trial ids start at `first_id` (0 is skipped: learning frames carry it),
    /// so that the searches of a sweep never reuse an id.
    pub fn with_first_id(cfg: SearchConfig, size: FrameSize, first_id: u32) -> Search {
        Search {
            cfg,
            size,
            next_id: first_id.max(1),
            trials: Vec::new(),
            pending: None,
            goals: [GoalState::default(); 2],
            top: None,
            max_forwarding: None,
            guess: None,
            notes: Vec::new(),
            spent_s: 0.0,
            finished: false,
            invalid_streak: 0,
            noisy: false,
        }
    }

    /// The settings.
    pub fn config(&self) -> &SearchConfig {
        &self.cfg
    }

    /// The frame size searched.
    pub fn size(&self) -> FrameSize {
        self.size
    }

    /// The id the next trial will get.
    pub fn next_id(&self) -> u32 {
        self.next_id
    }

    /// The trials recorded so far.
    pub fn trials(&self) -> &[TrialRecord] {
        &self.trials
    }

    /// Wall time of the trials recorded so far, seconds.
    pub fn elapsed_s(&self) -> f64 {
        self.spent_s
    }

    /// Whether `next_trial` has returned `None` (and will again).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The next trial to run, or `None` when the search is over. Until its outcome is recorded,
    /// the same trial is returned again.
    pub fn next_trial(&mut self) -> Option<TrialSpec> {
        if let Some(p) = self.pending {
            return Some(p.spec);
        }
        if self.finished {
            return None;
        }
        let Some((served, plan, also)) = self.plan() else {
            self.finished = true;
            return None;
        };
        if self.trials.len() >= self.cfg.max_trials() as usize {
            self.stop(format!(
                "the trial limit ({}) was reached before every goal was verified",
                self.cfg.max_trials()
            ));
            return None;
        }
        let informs = self.informs(plan.rate, served, also);
        let abort_after_lost = match plan.rate {
            Some(rate) if plan.step != Step::MaxRate => {
                self.abort_threshold(rate, plan.duration, informs)
            }
            _ => None,
        };
        let spec = TrialSpec {
            id: self.next_id,
            rate_pps: plan.rate,
            duration: plan.duration,
            kind: match plan.step {
                Step::MaxRate => TrialKind::MaxRate,
                Step::Verify => TrialKind::Final { goal: served },
                _ => TrialKind::Search,
            },
            abort_after_lost,
            learning: self.cfg.learning(),
            flush: self.cfg.flush(),
        };
        if let Some(cap) = self.cfg.duration_cap() {
            let wall = self.spent_s + spec.planned_wall().as_secs_f64();
            if wall > cap.as_secs_f64() {
                self.stop(format!(
                    "the duration cap ({} s) left no time for the next trial ({} s at {})",
                    cap.as_secs_f64(),
                    spec.duration.as_secs_f64(),
                    spec.rate_pps.map_or("max rate".into(), fmt_pps),
                ));
                return None;
            }
        }
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        self.pending = Some(Pending {
            spec,
            plan,
            served,
            also,
            informs,
        });
        Some(spec)
    }

    /// Records the outcome of trial `id` (the one `next_trial` returned) and says where the search
    /// stands. An outcome for any other id is refused and changes nothing.
    pub fn record(&mut self, id: u32, outcome: TrialOutcome) -> Result<Progress, Error> {
        let p = match self.pending {
            Some(p) if p.spec.id == id => p,
            other => {
                return Err(Error::UnexpectedTrial {
                    id,
                    pending: other.map(|p| p.spec.id),
                })
            }
        };
        self.pending = None;
        let mut rec = self.classify(&p.spec, outcome);
        rec.informs = p.informs;
        let idx = self.trials.len();
        let n = idx + 1;
        self.spent_s += rec.wall_s;

        if rec.outcome.sent == 0 {
            self.invalid_streak += 1;
            self.notes.push(format!(
                "trial {n} (id {}): the generator sent nothing; no verdict",
                p.spec.id
            ));
        } else {
            self.invalid_streak = 0;
        }
        if rec.generator_limited {
            let requested = p.spec.rate_pps.unwrap_or(f64::NAN);
            self.top = Some(
                self.top
                    .map_or(rec.achieved_pps, |t| t.min(rec.achieved_pps)),
            );
            self.notes.push(format!(
                "trial {n}: the generator offered {} of {} requested ({:.1} %): generator-limited; \
                 rates above {} are not searched",
                fmt_pps(rec.achieved_pps),
                fmt_pps(requested),
                100.0 * rec.achieved_pps / requested,
                fmt_pps(rec.achieved_pps)
            ));
        }
        if p.plan.step == Step::MaxRate && rec.outcome.sent > 0 {
            let top = match p.spec.rate_pps {
                Some(r) if !rec.generator_limited => r,
                _ => rec.achieved_pps,
            };
            self.top = Some(self.top.map_or(top, |t| t.min(top)));
            let fwd = rec.forwarding_pps();
            self.max_forwarding = Some(fwd);
            self.guess = (rec.lost > 0).then_some(fwd);
            self.notes.push(format!(
                "max-rate trial: offered {}{}, forwarded {} (loss {:.3} %){}",
                fmt_pps(rec.achieved_pps),
                if p.spec.rate_pps.is_none() {
                    " unpaced"
                } else {
                    ""
                },
                fmt_pps(fwd),
                100.0 * rec.loss_ratio,
                if rec.lost > 0 {
                    format!(": first search point near {}", fmt_pps(fwd))
                } else {
                    String::new()
                }
            ));
        }
        if p.plan.step == Step::Guess {
            self.guess = None;
        }
        let verdict = rec.verdict(p.served);
        if let Some(t) = p.plan.supersedes {
            // Only for the goals this trial informs with a verdict: another goal keeps the
            // old trial's verdict (a failure of the NDR must not vanish because the PDR
            // re-measured its own lower bound there).
            for goal in Goal::ALL {
                if rec.informs_goal(goal) && rec.verdict(goal) != Verdict::Unknown {
                    self.trials[t].superseded[goal.index()] = true;
                }
            }
        }
        let g = &mut self.goals[p.served.index()].steps;
        match (p.plan.step, verdict) {
            (Step::Down, Verdict::Fail) => g.down += 1,
            (Step::Up, Verdict::Pass) => g.up += 1,
            (Step::Bisect, Verdict::Pass | Verdict::Fail) => {
                if let Some((lo, hi)) = p.plan.bracket {
                    if rec.achieved_pps <= lo || rec.achieved_pps >= hi {
                        g.stalled = true;
                        self.notes.push(format!(
                            "trial {n}: asked for {}, offered {}, outside the {} interval {}..{}: \
                             the generator's rate accuracy limits the resolution; verifying the \
                             lower bound",
                            fmt_pps(p.spec.rate_pps.unwrap_or(f64::NAN)),
                            fmt_pps(rec.achieved_pps),
                            p.served.name(),
                            fmt_pps(lo),
                            fmt_pps(hi)
                        ));
                    }
                }
            }
            _ => {}
        }
        if p.plan.step == Step::Verify {
            self.verified(&p, &rec, idx);
        }
        for goal in Goal::ALL {
            self.note_contradiction(goal, &rec, n);
        }
        self.trials.push(rec);
        if self.invalid_streak >= 2 {
            self.stop("the generator sent nothing in two trials in a row".into());
        }
        Ok(self.progress())
    }

    /// Where the search stands, with the last trial (if any) as `trial`.
    pub fn progress(&self) -> Progress {
        let last = self.trials.last().cloned().unwrap_or(TrialRecord {
            spec: TrialSpec {
                id: 0,
                rate_pps: None,
                duration: Duration::ZERO,
                kind: TrialKind::MaxRate,
                abort_after_lost: None,
                learning: self.cfg.learning(),
                flush: self.cfg.flush(),
            },
            outcome: TrialOutcome::default(),
            achieved_pps: 0.0,
            lost: 0,
            loss_ratio: 0.0,
            ndr: Verdict::Unknown,
            pdr: Verdict::Unknown,
            generator_limited: false,
            informs: [false; 2],
            superseded: [false; 2],
            wall_s: 0.0,
        });
        Progress {
            size: self.size,
            trial: last,
            trial_no: self.trials.len(),
            ndr: self.bounds(Goal::Ndr),
            pdr: self.bounds(Goal::Pdr),
            pdr_loss: self.cfg.pdr_loss(),
            eta: self.eta(),
        }
    }

    /// A goal's interval and status now.
    pub fn bounds(&self, goal: Goal) -> Bounds {
        let st = self.goals[goal.index()];
        let status = self.status(goal);
        match self.top {
            None => Bounds {
                lower_pps: None,
                upper_pps: None,
                status,
            },
            Some(top) => {
                let v = self.view(goal, top);
                Bounds {
                    lower_pps: st
                        .done
                        .map(|i| self.trials[i].achieved_pps)
                        .or(v.lo_any.map(|lo| lo.rate)),
                    upper_pps: Some(v.upper),
                    status,
                }
            }
        }
    }

    /// An estimate of the wall time still needed, from the intervals' widths and the phases
    /// (goals with the same interval counted once). Zero once finished.
    pub fn eta(&self) -> Duration {
        if self.finished {
            return Duration::ZERO;
        }
        let Some(top) = self.top else {
            return fresh_estimate(&self.cfg);
        };
        let mut seen: Vec<(Option<usize>, u64)> = Vec::new();
        let mut total = 0.0;
        for goal in Goal::ALL {
            if !self.goals[goal.index()].open() {
                continue;
            }
            let v = self.view(goal, top);
            let key = (v.lo_any.map(|l| l.idx), v.upper.to_bits());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let remeasure = self.noisy && v.lo_long.is_none();
            total += plan::remaining_s(&self.cfg, v.width(), remeasure);
        }
        let total = match self.cfg.duration_cap() {
            Some(cap) => total.min((cap.as_secs_f64() - self.spent_s).max(0.0)),
            None => total,
        };
        Duration::try_from_secs_f64(total).unwrap_or(Duration::ZERO)
    }

    /// What the search found so far; final once `next_trial` returned `None`.
    pub fn result(&self) -> SearchResult {
        let mut notes = self.notes.clone();
        let top = self.top.unwrap_or(0.0);
        let goal_result = |goal: Goal| -> Option<GoalResult> {
            let st = self.goals[goal.index()];
            if st.no_result || self.top.is_none() {
                return None;
            }
            let v = self.view(goal, top);
            // Verified means accepted by the search: resolved and confirmed by a trial of the
            // final duration. Otherwise the best-known lower bound, unverified.
            let (idx, verified) = match st.done {
                Some(i) => (i, true),
                None => (v.lo_any?.idx, false),
            };
            let t = &self.trials[idx];
            Some(GoalResult {
                goal,
                size: self.size,
                rate_pps: t.achieved_pps,
                upper_pps: Some(v.upper),
                loss_ratio: t.loss_ratio,
                latency: t.outcome.latency,
                verified,
                trial_id: t.spec.id,
            })
        };
        let ndr = goal_result(Goal::Ndr);
        let mut pdr = goal_result(Goal::Pdr);
        let mut status = [self.status(Goal::Ndr), self.status(Goal::Pdr)];
        if let Some(n) = ndr {
            if pdr.is_none_or(|p| p.rate_pps < n.rate_pps) {
                status[1] = status[0];
                // A trial without loss satisfies the PDR too: the PDR is at least the NDR.
                notes.push(format!(
                    "PDR taken from the NDR's trial at {} (a trial without loss meets the PDR \
                     tolerance too){}",
                    fmt_pps(n.rate_pps),
                    pdr.map_or(String::new(), |p| format!(
                        "; the PDR search ended lower, at {}: a noisy DUT",
                        fmt_pps(p.rate_pps)
                    ))
                ));
                pdr = Some(GoalResult {
                    goal: Goal::Pdr,
                    upper_pps: pdr.and_then(|p| p.upper_pps).or(n.upper_pps),
                    ..n
                });
            }
        }
        for (goal, r) in [(Goal::Ndr, &ndr), (Goal::Pdr, &pdr)] {
            if r.is_none() && status[goal.index()] == GoalStatus::NoResult {
                notes.push(format!(
                    "no {}: frames were lost at every rate down to the minimum ({})",
                    goal.name(),
                    fmt_pps(self.cfg.min_rate())
                ));
            } else if let Some(r) = r.filter(|r| !r.verified) {
                notes.push(format!(
                    "{} {} is a lower bound from an unverified trial (id {}), not a result \
                     confirmed at {} s",
                    goal.name(),
                    fmt_pps(r.rate_pps),
                    r.trial_id,
                    self.cfg.final_duration().as_secs_f64()
                ));
            }
        }
        SearchResult {
            size: self.size,
            max_rate_pps: self
                .trials
                .iter()
                .filter(|t| t.outcome.sent > 0)
                .map(|t| t.achieved_pps)
                .reduce(f64::max),
            max_forwarding_pps: self.max_forwarding,
            ndr,
            pdr,
            status,
            trials: self.trials.clone(),
            notes,
            complete: self.finished
                && status
                    .iter()
                    .all(|s| matches!(s, GoalStatus::Verified | GoalStatus::NoResult)),
            search_time_s: self.spent_s,
        }
    }

    fn status(&self, goal: Goal) -> GoalStatus {
        let st = self.goals[goal.index()];
        if st.done.is_some() {
            GoalStatus::Verified
        } else if st.no_result {
            GoalStatus::NoResult
        } else if st.unfinished {
            GoalStatus::Unfinished
        } else {
            GoalStatus::Searching
        }
    }

    fn view(&self, goal: Goal, top: f64) -> View {
        plan::view(&self.trials, goal, top, &self.cfg)
    }

    /// The next trial: the max-rate trial first, then the most urgent goal's step. Settles
    /// goals that need no trial (verified, or no result) on the way.
    fn plan(&mut self) -> Option<(Goal, Plan, Option<Goal>)> {
        let Some(top) = self.top else {
            let plan = Plan {
                step: Step::MaxRate,
                rate: self.cfg.max_rate(),
                duration: self.cfg.coarse_duration(),
                supersedes: None,
                bracket: None,
                width: f64::INFINITY,
            };
            return Some((Goal::Ndr, plan, None));
        };
        let mut wanted: Vec<(Goal, Plan)> = Vec::new();
        for goal in Goal::ALL {
            if !self.goals[goal.index()].open() {
                continue;
            }
            let v = self.view(goal, top);
            let cx = Context {
                cfg: &self.cfg,
                trials: &self.trials,
                steps: self.goals[goal.index()].steps,
                guess: self.guess,
                noisy: self.noisy,
            };
            match plan::action(&v, &cx) {
                Action::Done(i) => {
                    self.goals[goal.index()].done = Some(i);
                    let t = &self.trials[i];
                    self.notes.push(format!(
                        "{} verified at {} (trial id {}, {} s, loss {:.4} %)",
                        goal.name(),
                        fmt_pps(t.achieved_pps),
                        t.spec.id,
                        t.spec.duration.as_secs_f64(),
                        100.0 * t.loss_ratio
                    ));
                }
                Action::NoResult => self.goals[goal.index()].no_result = true,
                Action::Trial(p) => wanted.push((goal, p)),
            }
        }
        // Cheapest stage first, then the widest interval, then NDR before PDR.
        let (goal, plan) = wanted.iter().copied().min_by(|a, b| {
            (a.1.step.rank().cmp(&b.1.step.rank()))
                .then(b.1.width.total_cmp(&a.1.width))
                .then(a.0.cmp(&b.0))
        })?;
        let also = wanted
            .iter()
            .find(|(g, p)| {
                *g != goal
                    && matches!(plan.step, Step::Verify | Step::Remeasure)
                    && p.step == plan.step
                    && p.supersedes == plan.supersedes
            })
            .map(|(g, _)| *g);
        Some((goal, plan, also))
    }

    /// The goals a trial at `rate` (`None`: unpaced) informs: the goal served (and another one
    /// verified by the same trial), and every open goal with `lower <= rate < upper` or whose
    /// lower bound it re-tests.
    fn informs(&self, rate: Option<f64>, served: Goal, also: Option<Goal>) -> [bool; 2] {
        let mut informs = [false; 2];
        for goal in Goal::ALL {
            let open = self.goals[goal.index()].open();
            informs[goal.index()] = open
                && (goal == served
                    || also == Some(goal)
                    || match (rate, self.top) {
                        (Some(rate), Some(top)) => {
                            let v = self.view(goal, top);
                            let lo = v.lo_any.map_or(0.0, |l| l.rate);
                            lo <= rate && (rate < v.upper || rate == lo)
                        }
                        _ => true,
                    });
        }
        informs
    }

    /// The loss at which no goal this trial informs could pass any more: the largest of the
    /// NDR's (1 frame) and the PDR's (⌊pdr × frames⌋ + 1, frames with the generator's 1 %
    /// tolerance on top) over those goals.
    fn abort_threshold(&self, rate: f64, duration: Duration, informs: [bool; 2]) -> Option<u64> {
        Goal::ALL
            .iter()
            .filter(|g| informs[g.index()])
            .map(|g| match g {
                Goal::Ndr => 1,
                Goal::Pdr => pdr_threshold(self.cfg.pdr_loss(), rate, duration),
            })
            .max()
    }

    /// The record of a trial: sanitised outcome, achieved rate, verdicts.
    fn classify(&mut self, spec: &TrialSpec, outcome: TrialOutcome) -> TrialRecord {
        let n = self.trials.len() + 1;
        let mut o = outcome;
        if !(o.duration_s.is_finite() && o.duration_s > 0.0) {
            if o.sent > 0 {
                self.notes.push(format!(
                    "trial {n}: the engine reported a duration of {} s; the planned {} s is used",
                    o.duration_s,
                    spec.duration.as_secs_f64()
                ));
            }
            o.duration_s = spec.duration.as_secs_f64();
        }
        if o.received > o.sent {
            self.notes.push(format!(
                "trial {n}: {} more frames received than sent (duplicates?); loss counted as 0",
                o.received - o.sent
            ));
        }
        let lost = o.sent.saturating_sub(o.received);
        let sent = o.sent as f64;
        let achieved = sent / o.duration_s;
        let loss_ratio = if o.sent > 0 { lost as f64 / sent } else { 0.0 };
        let (ndr, pdr) = if o.sent == 0 {
            (Verdict::Unknown, Verdict::Unknown)
        } else if o.stopped_early {
            let pdr_fail = spec
                .rate_pps
                .is_some_and(|r| lost >= pdr_threshold(self.cfg.pdr_loss(), r, spec.duration));
            (
                if lost > 0 {
                    Verdict::Fail
                } else {
                    Verdict::Unknown
                },
                if pdr_fail {
                    Verdict::Fail
                } else {
                    Verdict::Unknown
                },
            )
        } else {
            (
                if lost == 0 {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                },
                if lost as f64 <= self.cfg.pdr_loss() * sent {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                },
            )
        };
        let generator_limited = o.sent > 0
            && spec
                .rate_pps
                .is_some_and(|r| achieved < r * (1.0 - GENERATOR_TOLERANCE));
        let estimate = (spec.learning.settle + spec.flush.quiet).as_secs_f64() + o.duration_s;
        let wall_s = o
            .wall_s
            .filter(|w| w.is_finite() && *w >= 0.0)
            .unwrap_or(estimate);
        TrialRecord {
            spec: *spec,
            outcome: o,
            achieved_pps: achieved,
            lost,
            loss_ratio,
            ndr,
            pdr,
            generator_limited,
            informs: [true; 2],
            superseded: [false; 2],
            wall_s,
        }
    }

    /// A verification trial came back: a pass settles the goal (and another goal verified by
    /// the same trial), a failure is noted and the search goes on below it.
    fn verified(&mut self, p: &Pending, rec: &TrialRecord, idx: usize) {
        let rate = fmt_pps(rec.achieved_pps);
        let secs = p.spec.duration.as_secs_f64();
        for goal in std::iter::once(p.served).chain(p.also) {
            match rec.verdict(goal) {
                Verdict::Pass => {
                    self.goals[goal.index()].done = Some(idx);
                    self.notes.push(format!(
                        "{} verified at {rate} ({secs} s, loss {:.4} %)",
                        goal.name(),
                        100.0 * rec.loss_ratio
                    ));
                }
                Verdict::Fail => {
                    self.goals[goal.index()].steps.stalled = false;
                    self.noisy = true;
                    self.notes.push(format!(
                        "verification of {} at {rate} lost {} frames{}: {} upper bound lowered to \
                         {rate}, search continues below",
                        goal.name(),
                        rec.lost,
                        if rec.outcome.stopped_early {
                            format!(" (stopped after {:.1} s)", rec.outcome.duration_s)
                        } else {
                            format!(" in {secs} s")
                        },
                        goal.name()
                    ));
                }
                Verdict::Unknown => self.notes.push(format!(
                    "verification of {} at {rate} gave no verdict; it will be repeated",
                    goal.name()
                )),
            }
        }
    }

    /// A pass above a failure: the DUT is noisy. The failure stands (bounds take the lowest
    /// failure), and the note says so.
    fn note_contradiction(&mut self, goal: Goal, rec: &TrialRecord, n: usize) {
        if rec.verdict(goal) != Verdict::Pass || !rec.informs_goal(goal) {
            return;
        }
        let below = self.trials.iter().position(|t| {
            t.counts_for(goal)
                && t.verdict(goal) == Verdict::Fail
                && t.achieved_pps < rec.achieved_pps
        });
        if let Some(i) = below {
            self.noisy = true;
            self.notes.push(format!(
                "trial {n} passed {} at {} above a failure at {} (trial {}): noisy DUT; the \
                 failure stands",
                goal.name(),
                fmt_pps(rec.achieved_pps),
                fmt_pps(self.trials[i].achieved_pps),
                i + 1
            ));
        }
    }

    /// Ends the search early: open goals become unfinished.
    fn stop(&mut self, why: String) {
        self.finished = true;
        let open: Vec<&str> = Goal::ALL
            .iter()
            .filter(|g| self.goals[g.index()].open())
            .map(|g| g.name())
            .collect();
        for g in &mut self.goals {
            if g.open() {
                g.unfinished = true;
            }
        }
        if !open.is_empty() {
            self.notes.push(format!(
                "search stopped: {why}; {} reported from the best-known bounds, unverified",
                open.join(" and ")
            ));
        }
    }
}

/// ⌊pdr × planned frames × 1.01⌋ + 1: lost frames beyond which the PDR fails even if the
/// generator overshoots by its 1 % tolerance.
fn pdr_threshold(pdr_loss: f64, rate: f64, duration: Duration) -> u64 {
    let frames = rate * duration.as_secs_f64() * (1.0 + GENERATOR_TOLERANCE);
    let t = (pdr_loss * frames).floor();
    if t.is_finite() && t >= 0.0 {
        (t as u64).saturating_add(1)
    } else {
        1
    }
}

/// The time a whole search of one frame size takes, roughly, before anything is known: the
/// max-rate trial, two goals searched from scratch (shared trials not counted twice: one
/// search and two verifications).
pub fn fresh_estimate(cfg: &SearchConfig) -> Duration {
    let over = (cfg.learning().settle + cfg.flush().quiet).as_secs_f64();
    let s = cfg.coarse_duration().as_secs_f64()
        + over
        + plan::remaining_s(cfg, None, false)
        + cfg.final_duration().as_secs_f64()
        + over;
    Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests;
