//! Text for the terminal and `kubectl logs`: the per-trial progress line and the final table in
//! the layout of RFC 2544's reporting section (§26: per frame size the rate in frames/s and
//! bits/s beside the theoretical maximum of the medium).

use std::fmt::Write as _;

use super::{GoalReport, Report};
use crate::search::{Bounds, GoalStatus, Progress, TrialKind};
use crate::units::{eta, ns, pps};

/// One line per trial: size, trial, offered (requested) and achieved rate, sent, received,
/// loss, latency p50/p99, verdict, both goals' bounds after the trial, ETA.
///
/// ```text
/// [64] #5 search  offered 2.000 Mpps achieved 1.998 Mpps | sent 2497500 recv 2497500 lost 0 (0.0000 %) | p50 4.1 us p99 9.8 us | pass | NDR 1.998..2.020 Mpps, PDR 1.998..2.020 Mpps | ETA 1m35s
/// ```
pub fn progress_line(p: &Progress) -> String {
    let t = &p.trial;
    let kind = match t.spec.kind {
        TrialKind::MaxRate => "max-rate".to_string(),
        TrialKind::Search => "search".to_string(),
        TrialKind::Final { goal } => format!("final {}", goal.name()),
    };
    let offered = t.spec.rate_pps.map_or("unpaced".into(), pps);
    let mut verdict = t.verdict_word().to_string();
    for (flag, word) in [
        (t.outcome.stopped_early, "stopped early"),
        (t.generator_limited, "generator-limited"),
    ] {
        if flag {
            let _ = write!(verdict, ", {word}");
        }
    }
    let lat = t.outcome.latency;
    format!(
        "[{}] #{} {kind}  offered {offered} achieved {} | sent {} recv {} lost {} ({:.4} %) | \
         p50 {} p99 {} | {verdict} | NDR {}, PDR {} | ETA {}",
        p.size,
        p.trial_no,
        pps(t.achieved_pps),
        t.outcome.sent,
        t.outcome.received,
        t.lost,
        t.loss_ratio * 100.0,
        ns(lat.map(|l| l.p50)),
        ns(lat.map(|l| l.p99)),
        bounds(&p.ndr),
        bounds(&p.pdr),
        eta(p.eta)
    )
}

fn bounds(b: &Bounds) -> String {
    let m = |v: f64| format!("{:.3}", v / 1e6);
    match (b.status, b.lower_pps, b.upper_pps) {
        (GoalStatus::NoResult, ..) => "none".into(),
        (GoalStatus::Verified, Some(lo), _) => format!("{} Mpps verified", m(lo)),
        (_, None, None) => "?".into(),
        (_, None, Some(hi)) => format!("<{} Mpps", m(hi)),
        (_, Some(lo), None) => format!(">={} Mpps", m(lo)),
        (_, Some(lo), Some(hi)) => format!("{}..{} Mpps", m(lo), m(hi)),
    }
}

/// `14,880,952`.
fn grouped(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < -0.5 {
        out.insert(0, '-');
    }
    out
}

fn goal_columns(g: Option<&GoalReport>) -> String {
    match g {
        None => format!("{:>12} {:>9} {:>9} {:>6}", "none", "-", "-", "-"),
        Some(g) => format!(
            "{:>12}{} {:>9.3} {:>9.3} {:>6}",
            grouped(g.rate_pps),
            if g.verified { " " } else { "*" },
            g.l1_gbps,
            g.l2_gbps,
            g.percent_of_line_rate
                .map_or("-".into(), |p| format!("{p:.1}"))
        ),
    }
}

fn latency_columns(g: Option<&GoalReport>) -> String {
    let l = g.and_then(|g| g.latency_ns);
    format!(
        "{:>9} {:>9} {:>9} {:>9}",
        ns(l.map(|l| l.p50)),
        ns(l.map(|l| l.p99)),
        ns(l.map(|l| l.p999)),
        ns(l.map(|l| l.max))
    )
}

/// The final table, in the layout of RFC 2544 §26: per frame size the theoretical maximum of
/// the medium, then the NDR (RFC 2544's throughput) and the PDR in frames/s and in L1 and L2
/// Gb/s; then latency at each and the search's cost; then the notes and deviations.
pub fn table(r: &Report) -> String {
    let c = &r.config;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "RFC 2544 throughput ({}; report version {})\n\
         NDR: no frame lost (RFC 2544 §26.1 throughput). PDR: at most {} % lost. Resolution {} %.\n\
         Search trials up to {} s; results verified by {} s trials (* = not verified).\n\
         {}\n\
         Rates: offered frames/s the generator achieved, all ports; L1 adds 20 B/frame \
         (preamble + gap), L2 counts the FCS.",
        r.tool,
        r.version,
        c.pdr_loss * 100.0,
        c.resolution * 100.0,
        c.trial_duration_s,
        c.final_duration_s,
        r.line_rate_gbps.map_or(
            "Line rate unknown: no theoretical maximum.".into(),
            |g| format!("Theoretical maximum: frames/s at a line rate of {g} Gb/s (L1).")
        )
    );
    let _ = writeln!(
        out,
        "\n{:>6} {:>13} | {:^40} | {:^40}",
        "frame",
        "theoretical",
        "NDR (no loss)",
        format!("PDR (loss <= {} %)", c.pdr_loss * 100.0)
    );
    let _ = writeln!(
        out,
        "{:>6} {:>13} | {:>13} {:>9} {:>9} {:>6} | {:>13} {:>9} {:>9} {:>6}",
        "bytes",
        "max frames/s",
        "frames/s",
        "L1 Gb/s",
        "L2 Gb/s",
        "% max",
        "frames/s",
        "L1 Gb/s",
        "L2 Gb/s",
        "% max"
    );
    for s in &r.results {
        let _ = writeln!(
            out,
            "{:>6} {:>13} | {} | {}",
            s.size.to_string(),
            s.line_rate_pps.map_or("-".into(), grouped),
            goal_columns(s.ndr.as_ref()),
            goal_columns(s.pdr.as_ref())
        );
    }
    let _ = writeln!(
        out,
        "\n{:>6} | {:^39} | {:^39} | {:>6} {:>7}",
        "frame", "latency at NDR", "latency at PDR", "trials", "time"
    );
    let _ = writeln!(
        out,
        "{:>6} | {:>9} {:>9} {:>9} {:>9} | {:>9} {:>9} {:>9} {:>9} |",
        "bytes", "p50", "p99", "p99.9", "max", "p50", "p99", "p99.9", "max"
    );
    for s in &r.results {
        let _ = writeln!(
            out,
            "{:>6} | {} | {} | {:>6} {:>6.0}s",
            s.size.to_string(),
            latency_columns(s.ndr.as_ref()),
            latency_columns(s.pdr.as_ref()),
            s.trials.len(),
            s.search_time_s
        );
    }
    let _ = writeln!(
        out,
        "\nSearch time {:.0} s{}.",
        r.search_time_s,
        if r.complete {
            ""
        } else {
            "; the search did not complete"
        }
    );
    for s in &r.results {
        for n in &s.notes {
            let _ = writeln!(out, "  [{}] {n}", s.size);
        }
    }
    if !r.deviations.is_empty() {
        out.push_str("Deviations from RFC 2544:\n");
        for d in &r.deviations {
            let _ = writeln!(out, "  - {d}");
        }
    }
    out.lines().map(|l| format!("{}\n", l.trim_end())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping() {
        assert_eq!(grouped(14_880_952.4), "14,880,952");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(1000.0), "1,000");
        assert_eq!(grouped(0.0), "0");
        assert_eq!(grouped(f64::NAN), "-");
        assert_eq!(grouped(-1234.0), "-1,234");
    }

    #[test]
    fn bounds_words() {
        let b = |status, lower_pps, upper_pps| {
            bounds(&Bounds {
                lower_pps,
                upper_pps,
                status,
            })
        };
        assert_eq!(b(GoalStatus::NoResult, None, Some(1e6)), "none");
        assert_eq!(b(GoalStatus::Searching, None, None), "?");
        assert_eq!(b(GoalStatus::Searching, None, Some(2e6)), "<2.000 Mpps");
        assert_eq!(
            b(GoalStatus::Searching, Some(1e6), Some(2e6)),
            "1.000..2.000 Mpps"
        );
        assert_eq!(
            b(GoalStatus::Verified, Some(1.5e6), Some(2e6)),
            "1.500 Mpps verified"
        );
    }
}
