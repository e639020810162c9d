//! What the search and the engine exchange: the trial to run, what came of it, and the record
//! the search keeps of each trial.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::config::{Flush, Learning};
use crate::frame::FrameSize;

/// A searched goal: the NDR (no loss at all) or the PDR (loss ratio within `--pdr-loss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Goal {
    /// Non-drop rate: the highest rate at which no frame is lost (RFC 2544 §26.1 throughput).
    Ndr,
    /// Partial drop rate: the highest rate at which at most `--pdr-loss` of the frames are lost.
    Pdr,
}

impl Goal {
    /// Both goals, NDR first (the order in which ties are served).
    pub const ALL: [Goal; 2] = [Goal::Ndr, Goal::Pdr];

    /// `NDR` or `PDR`.
    pub fn name(self) -> &'static str {
        match self {
            Goal::Ndr => "NDR",
            Goal::Pdr => "PDR",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Why a trial runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum TrialKind {
    /// The first trial: unpaced (or at `--max-rate`) to learn the highest rate and the DUT's
    /// forwarding rate under overload, which is the first search point.
    MaxRate,
    /// A search trial (bracketing, bisection, or a re-measurement at the full trial duration).
    Search,
    /// The verification of a goal's result at `--final-duration`.
    Final {
        /// The goal being verified.
        goal: Goal,
    },
}

/// One trial the engine should run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrialSpec {
    /// Written into every probe of the trial; only frames carrying it count for it, so late
    /// frames of one trial never count for another. Never 0 (learning frames carry 0).
    pub id: u32,
    /// Frames per second to offer (all ports together); `None`: as fast as possible.
    pub rate_pps: Option<f64>,
    /// How long to send.
    pub duration: Duration,
    /// Why the trial runs.
    pub kind: TrialKind,
    /// The engine may stop sending once this many frames of the trial are known lost (a gap in
    /// sequence numbers with a later frame received, not frames still in flight): from then on
    /// no goal's verdict on this trial can change. Report `stopped_early`.
    pub abort_after_lost: Option<u64>,
    /// Learning frames before the trial.
    pub learning: Learning,
    /// The wait for late frames after it.
    pub flush: Flush,
}

impl TrialSpec {
    /// Frames the trial sends if the generator keeps the rate; `None` when unpaced.
    pub fn planned_frames(&self) -> Option<u64> {
        self.rate_pps
            .map(|r| (r * self.duration.as_secs_f64()).round().max(0.0) as u64)
    }

    /// The most wall time the trial takes: learning wait, sending, longest flush.
    pub fn planned_wall(&self) -> Duration {
        self.learning.settle + self.duration + self.flush.max
    }

    /// Whether this is a verification trial.
    pub fn is_final(&self) -> bool {
        matches!(self.kind, TrialKind::Final { .. })
    }
}

/// Latency percentiles of a trial, nanoseconds (RFC 8219: typical = p50, worst case = p99.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LatencySummary {
    /// The smallest.
    pub min: u64,
    /// The median.
    pub p50: u64,
    /// The 99th percentile.
    pub p99: u64,
    /// The 99.9th percentile.
    pub p999: u64,
    /// The largest.
    pub max: u64,
}

/// What the engine measured in one trial, counting only frames with the trial's id.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrialOutcome {
    /// Frames the ports accepted for sending.
    pub sent: u64,
    /// Distinct frames of this trial received back (duplicates not counted twice).
    pub received: u64,
    /// How long sending actually took, seconds: the achieved rate is `sent / duration_s`.
    pub duration_s: f64,
    /// The whole trial's wall time (learning, sending, flush), seconds, if measured; used for
    /// the duration cap and the ETA. `None`: estimated from the spec.
    pub wall_s: Option<f64>,
    /// Latency of the trial's frames, if measured.
    pub latency: Option<LatencySummary>,
    /// The engine stopped sending before `duration`, on `abort_after_lost` or otherwise.
    pub stopped_early: bool,
}

/// A goal's verdict on one trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The loss was within the goal's tolerance over the whole trial.
    Pass,
    /// The loss exceeded it (for a trial stopped early: the loss already seen exceeds it for
    /// the planned trial).
    Fail,
    /// No verdict: nothing was sent, or the trial stopped before enough was known.
    Unknown,
}

/// What the search keeps of a trial: the spec, the outcome, and what it concluded.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialRecord {
    /// The trial as planned.
    pub spec: TrialSpec,
    /// The outcome as recorded (a duration that was not a positive number replaced by the
    /// planned one).
    pub outcome: TrialOutcome,
    /// `sent / duration_s`: the offered rate the DUT actually saw, used for every decision.
    pub achieved_pps: f64,
    /// `sent - received`, 0 when more came back than was sent.
    pub lost: u64,
    /// `lost / sent` (0 when nothing was sent).
    pub loss_ratio: f64,
    /// The NDR verdict.
    pub ndr: Verdict,
    /// The PDR verdict.
    pub pdr: Verdict,
    /// The achieved rate fell more than 1 % short of the requested one: the generator, not the
    /// DUT, set the rate; rates above it are not searched.
    pub generator_limited: bool,
    /// Which goals the trial informs, `[NDR, PDR]`: the goal it was planned for, and every
    /// open goal whose interval held its rate when it was planned (lower bound included). A
    /// verdict outside a goal's interval is either no news or contradicts what is known (a
    /// frame lost in a 250-frame trial far below the PDR, say); it is shown, not used.
    pub informs: [bool; 2],
    /// Per goal, `[NDR, PDR]`: a later, longer trial at this rate that informs the goal
    /// replaced this one's verdict.
    pub superseded: [bool; 2],
    /// Wall time, seconds (measured, or estimated from the spec).
    pub wall_s: f64,
}

impl TrialRecord {
    /// The verdict for `goal`.
    pub fn verdict(&self, goal: Goal) -> Verdict {
        match goal {
            Goal::Ndr => self.ndr,
            Goal::Pdr => self.pdr,
        }
    }

    /// Whether the trial informs `goal` (see [`informs`](Self::informs)).
    pub fn informs_goal(&self, goal: Goal) -> bool {
        self.informs[goal.index()]
    }

    /// Whether a longer trial replaced this one's verdict for `goal`.
    pub fn superseded_for(&self, goal: Goal) -> bool {
        self.superseded[goal.index()]
    }

    /// Whether the search uses this trial's verdict for `goal`: it informs the goal, was not
    /// superseded for it, and sent something.
    pub fn counts_for(&self, goal: Goal) -> bool {
        self.informs_goal(goal) && !self.superseded_for(goal) && self.outcome.sent > 0
    }

    /// Frames per second the DUT forwarded: `received / duration_s`.
    pub fn forwarding_pps(&self) -> f64 {
        self.outcome.received as f64 / self.outcome.duration_s
    }

    /// A short word for the verdicts: `pass` (no loss), `pdr-only` (loss within the PDR
    /// tolerance), `fail`, or `unknown`.
    pub fn verdict_word(&self) -> &'static str {
        match (self.ndr, self.pdr) {
            (Verdict::Pass, _) => "pass",
            (_, Verdict::Pass) => "pdr-only",
            (Verdict::Fail, _) | (_, Verdict::Fail) => "fail",
            _ => "unknown",
        }
    }
}

/// Where a goal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GoalStatus {
    /// Still being searched.
    Searching,
    /// Found and confirmed by a trial of at least `--final-duration`.
    Verified,
    /// Frames were lost even at the minimum rate: no such rate.
    NoResult,
    /// The search stopped (duration cap, trial limit, generator failure) before verifying it;
    /// the result is the best-known lower bound.
    Unfinished,
}

/// A goal's interval as the search knows it now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// The highest rate that passed (not contradicted by a failure below it), if any.
    pub lower_pps: Option<f64>,
    /// The lowest rate that failed, or the highest rate searched; `None` before the first trial.
    pub upper_pps: Option<f64>,
    /// Where the goal stands.
    pub status: GoalStatus,
}

/// A goal's answer for one frame size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GoalResult {
    /// Which goal.
    pub goal: Goal,
    /// The frame size, for the bit rates.
    pub size: FrameSize,
    /// The achieved rate of the trial that established it (its verification when verified).
    pub rate_pps: f64,
    /// The lowest failing rate above it (or the highest searched), when known.
    pub upper_pps: Option<f64>,
    /// That trial's loss ratio.
    pub loss_ratio: f64,
    /// That trial's latency.
    pub latency: Option<LatencySummary>,
    /// Whether a trial of at least `--final-duration` confirmed it.
    pub verified: bool,
    /// The id of that trial.
    pub trial_id: u32,
}

impl GoalResult {
    /// L1 Gb/s at the result (preamble and inter-frame gap included).
    pub fn l1_gbps(&self) -> f64 {
        self.size.l1_gbps(self.rate_pps)
    }

    /// L2 Gb/s at the result (FCS included).
    pub fn l2_gbps(&self) -> f64 {
        self.size.l2_gbps(self.rate_pps)
    }
}

/// Everything a search found for one frame size.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// The frame size.
    pub size: FrameSize,
    /// The highest offered rate of any trial (normally the max-rate trial's); `None` when no
    /// trial sent anything.
    pub max_rate_pps: Option<f64>,
    /// The DUT's forwarding rate in the max-rate trial (received / duration).
    pub max_forwarding_pps: Option<f64>,
    /// The NDR; `None` when frames were lost even at the minimum rate (or nothing passed
    /// before the search stopped).
    pub ndr: Option<GoalResult>,
    /// The PDR; `None` likewise.
    pub pdr: Option<GoalResult>,
    /// Where each goal ended, NDR then PDR.
    pub status: [GoalStatus; 2],
    /// Every trial in order.
    pub trials: Vec<TrialRecord>,
    /// What happened that a reader should know, in order.
    pub notes: Vec<String>,
    /// Whether both goals reached a verified result or a definite "none".
    pub complete: bool,
    /// The sum of the trials' wall times, seconds.
    pub search_time_s: f64,
}

impl SearchResult {
    /// The result for `goal`.
    pub fn goal(&self, goal: Goal) -> Option<&GoalResult> {
        match goal {
            Goal::Ndr => self.ndr.as_ref(),
            Goal::Pdr => self.pdr.as_ref(),
        }
    }
}

/// What the engine prints after each trial: the trial and where the search stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The frame size being searched.
    pub size: FrameSize,
    /// The trial just recorded.
    pub trial: TrialRecord,
    /// Its number within the frame size's search, from 1.
    pub trial_no: usize,
    /// NDR bounds after it.
    pub ndr: Bounds,
    /// PDR bounds after it.
    pub pdr: Bounds,
    /// The PDR tolerance, for the line.
    pub pdr_loss: f64,
    /// An estimate of the time still needed (this frame size, or the whole sweep).
    pub eta: Duration,
}
