//! The reports: `rfc2544.json` ([`Report`], a serde model), `rfc2544.html` ([`html`]), the
//! RFC 2544 §26 text table ([`table`]) and the per-trial progress line ([`progress_line`]).
//!
//! # `rfc2544.json`
//!
//! ```text
//! { "version": 1, "tool": "dpdk-app rfc2544",
//!   "config": { "pdr_loss", "resolution", "trial_duration_s", "final_duration_s", "min_rate_pps",
//!               "max_rate_pps", "duration_cap_s", "max_trials", "learning_frames_per_stream",
//!               "learning_settle_s", "flush_max_s", "flush_quiet_s" },
//!   "imix": { "sizes", "ratio", "mean_bytes", "pattern" },
//!   "line_rate_gbps": 10.0 | null,
//!   "results": [ { "size": 64 | "imix", "mean_frame_bytes", "max_rate_pps", "max_forwarding_pps",
//!                  "line_rate_pps",
//!                  "ndr": { "rate_pps", "l1_gbps", "l2_gbps", "loss_ratio",
//!                           "latency_ns": {"min","p50","p99","p999","max"} | null,
//!                           "verified", "upper_bound_pps", "percent_of_line_rate", "trial_id" } | null,
//!                  "pdr": { same } | null,
//!                  "ndr_status", "pdr_status": "verified" | "no-result" | "unfinished" | "searching",
//!                  "complete", "search_time_s",
//!                  "trials": [ { "id", "kind": "max-rate" | "search" | "final", "goal",
//!                                "requested_pps", "rate_pps", "duration_s", "planned_duration_s",
//!                                "sent", "received", "lost", "loss_ratio", "final",
//!                                "latency_ns", "ndr", "pdr": "pass" | "fail" | "unknown",
//!                                "informs": ["ndr", "pdr"], "generator_limited", "stopped_early",
//!                                "superseded": ["ndr"], "wall_s" } ],
//!                  "notes": [ ... ] } ],
//!   "deviations": [ ... ], "notes": [ ... ], "search_time_s", "complete" }
//! ```
//!
//! Rates are achieved rates (`sent / duration_s`), frames per second over all ports; `ndr` or
//! `pdr` is `null` when no rate down to the minimum met the goal (or none was found before the
//! search stopped, then `*_status` is `unfinished`). Ratios are ratios (0.001 = 0.1 %).

mod html;
mod svg;
mod text;

use serde::{Deserialize, Serialize};

pub use html::html;
pub use text::{progress_line, table};

use crate::frame::{FrameSize, IMIX_MEAN, IMIX_MIX, IMIX_PATTERN};
use crate::search::{
    Goal, GoalResult, GoalStatus, LatencySummary, SearchConfig, SearchResult, TrialKind,
    TrialRecord, Verdict,
};

/// The version of the JSON shape; bumped when a field changes meaning or goes away.
pub const REPORT_VERSION: u32 = 1;

/// `rfc2544.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_VERSION`].
    pub version: u32,
    /// `dpdk-app rfc2544`.
    pub tool: String,
    /// The settings of the search.
    pub config: ConfigEcho,
    /// The IMIX definition used for `"imix"` entries.
    pub imix: ImixEcho,
    /// The link's L1 speed, if known: the theoretical maximum per size.
    pub line_rate_gbps: Option<f64>,
    /// One entry per frame size, in the order searched.
    pub results: Vec<SizeReport>,
    /// Where this search departs from RFC 2544, for these settings.
    pub deviations: Vec<String>,
    /// Notes about the whole run (per-size notes are in each entry).
    pub notes: Vec<String>,
    /// Wall time of all trials, seconds.
    pub search_time_s: f64,
    /// Whether every size's search completed.
    pub complete: bool,
}

/// The settings, as the report states them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigEcho {
    /// PDR loss tolerance, ratio.
    pub pdr_loss: f64,
    /// Resolution, ratio of the found rate.
    pub resolution: f64,
    /// Search trial length at the finest phase, seconds.
    pub trial_duration_s: f64,
    /// Verification trial length, seconds.
    pub final_duration_s: f64,
    /// Lowest rate searched.
    pub min_rate_pps: f64,
    /// Highest rate searched, if set (else found by an unpaced trial).
    pub max_rate_pps: Option<f64>,
    /// Cap on the whole search, seconds.
    pub duration_cap_s: Option<f64>,
    /// Trial limit per frame size.
    pub max_trials: u32,
    /// Learning frames per stream before each trial.
    pub learning_frames_per_stream: u32,
    /// Wait after them, seconds.
    pub learning_settle_s: f64,
    /// Longest wait for late frames, seconds.
    pub flush_max_s: f64,
    /// The wait ends after this long without a frame, seconds.
    pub flush_quiet_s: f64,
}

impl From<&SearchConfig> for ConfigEcho {
    fn from(c: &SearchConfig) -> ConfigEcho {
        ConfigEcho {
            pdr_loss: c.pdr_loss(),
            resolution: c.resolution(),
            trial_duration_s: c.trial_duration().as_secs_f64(),
            final_duration_s: c.final_duration().as_secs_f64(),
            min_rate_pps: c.min_rate(),
            max_rate_pps: c.max_rate(),
            duration_cap_s: c.duration_cap().map(|d| d.as_secs_f64()),
            max_trials: c.max_trials(),
            learning_frames_per_stream: c.learning().frames_per_stream,
            learning_settle_s: c.learning().settle.as_secs_f64(),
            flush_max_s: c.flush().max.as_secs_f64(),
            flush_quiet_s: c.flush().quiet.as_secs_f64(),
        }
    }
}

/// The IMIX definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImixEcho {
    /// Frame sizes, FCS included.
    pub sizes: Vec<u16>,
    /// Their shares.
    pub ratio: Vec<u32>,
    /// Mean frame size, bytes.
    pub mean_bytes: f64,
    /// The cycle the generator sends.
    pub pattern: Vec<u16>,
}

impl Default for ImixEcho {
    fn default() -> ImixEcho {
        ImixEcho {
            sizes: IMIX_MIX.iter().map(|m| m.0).collect(),
            ratio: IMIX_MIX.iter().map(|m| m.1).collect(),
            mean_bytes: IMIX_MEAN,
            pattern: IMIX_PATTERN.to_vec(),
        }
    }
}

/// One frame size's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeReport {
    /// `64` or `"imix"`.
    pub size: FrameSize,
    /// Mean frame size, bytes (the size itself, or the IMIX mean).
    pub mean_frame_bytes: f64,
    /// The highest offered rate (the max-rate trial's achieved rate, normally).
    pub max_rate_pps: Option<f64>,
    /// The DUT's forwarding rate in the max-rate trial.
    pub max_forwarding_pps: Option<f64>,
    /// The theoretical maximum at the line rate, if known.
    pub line_rate_pps: Option<f64>,
    /// The NDR, or `null` when none.
    pub ndr: Option<GoalReport>,
    /// The PDR, or `null` when none.
    pub pdr: Option<GoalReport>,
    /// Where the NDR search ended.
    pub ndr_status: GoalStatus,
    /// Where the PDR search ended.
    pub pdr_status: GoalStatus,
    /// Both goals verified or definitely absent.
    pub complete: bool,
    /// Wall time of this size's trials, seconds.
    pub search_time_s: f64,
    /// Every trial in order.
    pub trials: Vec<TrialReport>,
    /// What happened, in order.
    pub notes: Vec<String>,
}

/// An NDR or PDR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoalReport {
    /// Frames per second (achieved rate of the establishing trial).
    pub rate_pps: f64,
    /// L1 Gb/s (preamble and gap included).
    pub l1_gbps: f64,
    /// L2 Gb/s (FCS included).
    pub l2_gbps: f64,
    /// The establishing trial's loss ratio.
    pub loss_ratio: f64,
    /// Its latency, nanoseconds.
    pub latency_ns: Option<LatencySummary>,
    /// Whether a trial of the final duration confirmed it.
    pub verified: bool,
    /// The lowest failing rate above it (or the highest searched).
    pub upper_bound_pps: Option<f64>,
    /// Share of the theoretical maximum, percent, if the line rate is known.
    pub percent_of_line_rate: Option<f64>,
    /// The establishing trial.
    pub trial_id: u32,
}

/// One trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialReport {
    /// The trial id carried by its probes.
    pub id: u32,
    /// `max-rate`, `search` or `final`.
    pub kind: String,
    /// The goal verified, for `final` trials.
    pub goal: Option<Goal>,
    /// The rate asked for (`null`: unpaced).
    pub requested_pps: Option<f64>,
    /// The achieved offered rate, `sent / duration_s`.
    pub rate_pps: f64,
    /// How long it sent, seconds.
    pub duration_s: f64,
    /// How long it was planned to send, seconds.
    pub planned_duration_s: f64,
    /// Frames sent.
    pub sent: u64,
    /// Frames of this trial received.
    pub received: u64,
    /// `sent - received` (0 if more came back).
    pub lost: u64,
    /// `lost / sent`.
    pub loss_ratio: f64,
    /// A verification trial.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Latency, nanoseconds.
    pub latency_ns: Option<LatencySummary>,
    /// NDR verdict.
    pub ndr: Verdict,
    /// PDR verdict.
    pub pdr: Verdict,
    /// The generator fell more than 1 % short of the requested rate.
    pub generator_limited: bool,
    /// Stopped before its duration (loss already decided it).
    pub stopped_early: bool,
    /// The goals whose search used its verdict.
    pub informs: Vec<Goal>,
    /// The goals for which a longer trial at its rate replaced its verdict.
    pub superseded: Vec<Goal>,
    /// Wall time including learning and flush, seconds.
    pub wall_s: f64,
}

impl From<&TrialRecord> for TrialReport {
    fn from(t: &TrialRecord) -> TrialReport {
        let (kind, goal) = match t.spec.kind {
            TrialKind::MaxRate => ("max-rate", None),
            TrialKind::Search => ("search", None),
            TrialKind::Final { goal } => ("final", Some(goal)),
        };
        TrialReport {
            id: t.spec.id,
            kind: kind.into(),
            goal,
            requested_pps: t.spec.rate_pps,
            rate_pps: t.achieved_pps,
            duration_s: t.outcome.duration_s,
            planned_duration_s: t.spec.duration.as_secs_f64(),
            sent: t.outcome.sent,
            received: t.outcome.received,
            lost: t.lost,
            loss_ratio: t.loss_ratio,
            is_final: t.spec.is_final(),
            latency_ns: t.outcome.latency,
            ndr: t.ndr,
            pdr: t.pdr,
            generator_limited: t.generator_limited,
            stopped_early: t.outcome.stopped_early,
            informs: Goal::ALL
                .into_iter()
                .filter(|&g| t.informs_goal(g))
                .collect(),
            superseded: Goal::ALL
                .into_iter()
                .filter(|&g| t.superseded_for(g))
                .collect(),
            wall_s: t.wall_s,
        }
    }
}

impl GoalReport {
    fn of(r: &GoalResult, line_pps: Option<f64>) -> GoalReport {
        GoalReport {
            rate_pps: r.rate_pps,
            l1_gbps: r.l1_gbps(),
            l2_gbps: r.l2_gbps(),
            loss_ratio: r.loss_ratio,
            latency_ns: r.latency,
            verified: r.verified,
            upper_bound_pps: r.upper_pps,
            percent_of_line_rate: line_pps.map(|l| 100.0 * r.rate_pps / l),
            trial_id: r.trial_id,
        }
    }
}

impl SizeReport {
    /// The entry of one search result.
    pub fn new(r: &SearchResult, line_rate_gbps: Option<f64>) -> SizeReport {
        let line = line_rate_gbps.and_then(|g| r.size.line_rate_pps(g));
        SizeReport {
            size: r.size,
            mean_frame_bytes: r.size.mean_bytes(),
            max_rate_pps: r.max_rate_pps,
            max_forwarding_pps: r.max_forwarding_pps,
            line_rate_pps: line,
            ndr: r.ndr.as_ref().map(|g| GoalReport::of(g, line)),
            pdr: r.pdr.as_ref().map(|g| GoalReport::of(g, line)),
            ndr_status: r.status[0],
            pdr_status: r.status[1],
            complete: r.complete,
            search_time_s: r.search_time_s,
            trials: r.trials.iter().map(TrialReport::from).collect(),
            notes: r.notes.clone(),
        }
    }

    /// The result for `goal`.
    pub fn goal(&self, goal: Goal) -> Option<&GoalReport> {
        match goal {
            Goal::Ndr => self.ndr.as_ref(),
            Goal::Pdr => self.pdr.as_ref(),
        }
    }
}

impl Report {
    /// The report of `results` searched with `cfg`; `line_rate_gbps` is the link's L1 speed if
    /// known.
    pub fn new(
        cfg: &SearchConfig,
        results: &[SearchResult],
        line_rate_gbps: Option<f64>,
    ) -> Report {
        let line_rate_gbps = line_rate_gbps.filter(|g| g.is_finite() && *g > 0.0);
        let results: Vec<SizeReport> = results
            .iter()
            .map(|r| SizeReport::new(r, line_rate_gbps))
            .collect();
        Report {
            version: REPORT_VERSION,
            tool: "dpdk-app rfc2544".into(),
            config: ConfigEcho::from(cfg),
            imix: ImixEcho::default(),
            line_rate_gbps,
            search_time_s: results.iter().map(|r| r.search_time_s).sum(),
            complete: !results.is_empty() && results.iter().all(|r| r.complete),
            results,
            deviations: deviations(cfg),
            notes: Vec::new(),
        }
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // A struct of plain fields and finite-or-null numbers cannot fail to serialise; NaN
        // and infinities become null.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a report back.
    pub fn from_json(s: &str) -> Result<Report, serde_json::Error> {
        serde_json::from_str(s)
    }
}

/// Where a search with `cfg` departs from RFC 2544 (and RFC 8219), stated in every report.
pub fn deviations(cfg: &SearchConfig) -> Vec<String> {
    let mut d = vec![
        format!(
            "§24: search trials last {} s or less (1/8 and 1/2 of it while the interval is wide); \
             only the verification trial at each result lasts the final duration",
            cfg.trial_duration().as_secs_f64()
        ),
        format!(
            "§23: after each trial the wait for late frames ends once every frame arrived or none \
             arrived for {} s (at most {} s), instead of a fixed 2 s; frames carry the trial's id, \
             so a later arrival can never count for another trial",
            cfg.flush().quiet.as_secs_f64(),
            cfg.flush().max.as_secs_f64()
        ),
        format!(
            "§26.1: the search stops when the failing rate is within {} % of the passing one, \
             not at the generator's finest step",
            cfg.resolution() * 100.0
        ),
        "§26.2: latency is the percentiles (RFC 8219: p50 typical, p99.9 worst case) of every \
         frame of the verification trial at the result, not 20 timestamped frames over 120 s"
            .into(),
        "RFC 8219 §7: the search runs once per frame size; no repetitions, median or spread".into(),
        format!(
            "a PDR with loss tolerance {} % is reported beside the RFC 2544 throughput (the NDR)",
            cfg.pdr_loss() * 100.0
        ),
    ];
    if cfg.final_duration() < std::time::Duration::from_secs(60) {
        d.push(format!(
            "§24: the final trial lasts {} s, below the 60 s RFC 2544 asks for",
            cfg.final_duration().as_secs_f64()
        ));
    }
    d
}

#[cfg(test)]
mod tests;
