//! `rfc2544.html`: the report as one self-contained page (inline CSS and SVG, nothing fetched):
//! the results table, throughput against frame size in Mpps and in L1 Gb/s with the NDR, PDR,
//! offered maximum and (if known) line-rate lines as RFC 2544 §26.1 asks, latency at the NDR
//! and the PDR, and per frame size the trial sequence coloured by verdict.

use std::fmt::Write as _;

use super::svg::{esc, Plot};
use super::{GoalReport, Report, SizeReport, TrialReport};
use crate::frame::L1_OVERHEAD;
use crate::search::{Goal, LatencySummary, Verdict};
use crate::units::{gbps, ns, pps};

const NDR: &str = "#2ca02c";
const PDR: &str = "#ff7f0e";
const FAIL: &str = "#d62728";
const OFFERED: &str = "#7f7f7f";
const LINE: &str = "#1f77b4";
const UNKNOWN: &str = "#bbbbbb";

/// The page.
pub fn html(r: &Report) -> String {
    let mut out = String::new();
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>dpdk-app rfc2544 report</title><style>\
         body{font-family:sans-serif;margin:2em;max-width:62em}\
         table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}\
         th:first-child,td:first-child{text-align:left}.unverified{color:#b60}.fail{color:#b00}\
         svg{display:block;margin:1em 0}.legend{font-size:.85em}li{margin:.2em 0}</style></head><body>\n",
    );
    let c = &r.config;
    let _ = writeln!(
        out,
        "<h1>RFC 2544 throughput</h1>\n<p>NDR: no frame lost. PDR: at most {} % lost. \
         Resolution {} % of the rate found; search trials up to {} s, verification trials {} s. \
         Rates are the offered rates the generator achieved, frames per second over all ports; \
         L1 counts 20 bytes of preamble and gap per frame, L2 the frame with its FCS.{}</p>",
        c.pdr_loss * 100.0,
        c.resolution * 100.0,
        c.trial_duration_s,
        c.final_duration_s,
        r.line_rate_gbps
            .map_or(" The line rate is not known.".into(), |g| format!(
                " Line rate {g} Gb/s (L1)."
            )),
    );
    let _ = writeln!(
        out,
        "<p>IMIX: {} bytes in the ratio {} (mean {:.2} B). Search time {:.0} s{}.</p>",
        join(&r.imix.sizes, "/"),
        join(&r.imix.ratio, ":"),
        r.imix.mean_bytes,
        r.search_time_s,
        if r.complete {
            ""
        } else {
            "; <b>the search did not complete</b> (see the notes)"
        }
    );
    results_table(&mut out, r);
    out.push_str("<h2>Throughput against frame size</h2>\n");
    out.push_str(&throughput_chart(r, "throughput-mpps", "Mpps", |_, v| {
        v / 1e6
    }));
    out.push_str(&throughput_chart(
        r,
        "throughput-gbps",
        "L1 Gb/s",
        |bytes, v| v * (bytes + f64::from(L1_OVERHEAD)) * 8.0 / 1e9,
    ));
    out.push_str(&legend(&[
        (NDR, "——— NDR"),
        (PDR, "——— PDR"),
        (OFFERED, "- - - highest offered rate"),
        (LINE, "· · · line rate"),
    ]));
    out.push_str("<h2>Latency at the NDR and the PDR</h2>\n");
    out.push_str(&latency_chart(r));
    out.push_str(&legend(&[
        (NDR, "NDR p50 ——— p99 - - -"),
        (PDR, "PDR p50 ——— p99 - - -"),
    ]));
    out.push_str("<h2>Trials</h2>\n");
    out.push_str(&legend(&[
        (NDR, "● no loss"),
        (PDR, "● loss within the PDR tolerance"),
        (FAIL, "● loss above it"),
        (UNKNOWN, "● no verdict"),
        ("#000", "■ verification trial (outlined square)"),
    ]));
    for s in &r.results {
        trials_section(&mut out, s);
    }
    if !r.deviations.is_empty() || !r.notes.is_empty() {
        out.push_str("<h2>Deviations from RFC 2544</h2>\n<ul>");
        for d in r.deviations.iter().chain(&r.notes) {
            let _ = write!(out, "<li>{}</li>", esc(d));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body></html>\n");
    out
}

fn join<T: ToString>(v: &[T], sep: &str) -> String {
    v.iter().map(T::to_string).collect::<Vec<_>>().join(sep)
}

fn legend(items: &[(&str, &str)]) -> String {
    let mut s = String::from("<p class=\"legend\">");
    for (colour, text) in items {
        let _ = write!(
            s,
            "<span style=\"color:{colour}\">{}</span> &nbsp; ",
            esc(text)
        );
    }
    s.push_str("</p>\n");
    s
}

fn goal_cells(g: Option<&GoalReport>) -> String {
    match g {
        None => "<td colspan=\"4\" class=\"fail\">none</td>".into(),
        Some(g) => {
            let class = if g.verified {
                ""
            } else {
                " class=\"unverified\""
            };
            let mark = if g.verified { "" } else { " (unverified)" };
            let lat = g.latency_ns;
            format!(
                "<td{class}>{}{mark}</td><td>{}</td><td>{}</td><td>{} / {}</td>",
                esc(&pps(g.rate_pps)),
                esc(&gbps(g.l1_gbps)),
                g.percent_of_line_rate
                    .map_or("-".into(), |p| format!("{p:.1} %")),
                esc(&ns(lat.map(|l| l.p50))),
                esc(&ns(lat.map(|l| l.p99))),
            )
        }
    }
}

fn results_table(out: &mut String, r: &Report) {
    out.push_str(
        "<table><tr><th rowspan=\"2\">frame size</th><th rowspan=\"2\">line rate</th>\
         <th rowspan=\"2\">highest offered</th><th colspan=\"4\">NDR</th><th colspan=\"4\">PDR</th>\
         <th rowspan=\"2\">trials</th><th rowspan=\"2\">time</th></tr>\
         <tr><th>rate</th><th>L1</th><th>% line</th><th>p50 / p99</th>\
         <th>rate</th><th>L1</th><th>% line</th><th>p50 / p99</th></tr>\n",
    );
    for s in &r.results {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td>{}{}<td>{}</td><td>{:.0} s</td></tr>",
            s.size,
            s.line_rate_pps.map_or("-".into(), |p| esc(&pps(p))),
            s.max_rate_pps.map_or("-".into(), |p| esc(&pps(p))),
            goal_cells(s.ndr.as_ref()),
            goal_cells(s.pdr.as_ref()),
            s.trials.len(),
            s.search_time_s
        );
    }
    out.push_str("</table>\n");
}

/// Frame sizes are categories: one x position each, in the order searched. `value` turns
/// (mean frame bytes, frames/s) into the plotted unit.
fn throughput_chart(
    r: &Report,
    id: &str,
    unit_label: &str,
    value: impl Fn(f64, f64) -> f64,
) -> String {
    let n = r.results.len();
    let v = |s: &SizeReport, pps: f64| value(s.mean_frame_bytes, pps);
    let series = |f: &dyn Fn(&SizeReport) -> Option<f64>| -> Vec<(f64, f64)> {
        r.results
            .iter()
            .enumerate()
            .filter_map(|(i, s)| f(s).map(|p| (i as f64 + 0.5, v(s, p))))
            .collect()
    };
    let ndr = series(&|s| s.ndr.as_ref().map(|g| g.rate_pps));
    let pdr = series(&|s| s.pdr.as_ref().map(|g| g.rate_pps));
    let offered = series(&|s| s.max_rate_pps);
    let line = series(&|s| s.line_rate_pps);
    let y_max = [&ndr, &pdr, &offered, &line]
        .iter()
        .flat_map(|s| s.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let mut p = Plot::new(id, "frame size (bytes)", unit_label, n.max(1) as f64, y_max);
    for (i, s) in r.results.iter().enumerate() {
        p.x_tick(i as f64 + 0.5, &s.size.to_string());
    }
    p.line("line-rate", &line, LINE, "2 3", "line rate");
    p.line("offered", &offered, OFFERED, "6 4", "highest offered rate");
    p.line("pdr", &pdr, PDR, "", "PDR");
    p.line("ndr", &ndr, NDR, "", "NDR");
    for (pts, colour, name) in [(&pdr, PDR, "PDR"), (&ndr, NDR, "NDR")] {
        for &(x, y) in pts.iter() {
            p.dot(
                "point",
                x,
                y,
                3.5,
                colour,
                &format!("{name} {y:.3} {unit_label}"),
            );
        }
    }
    p.finish()
}

fn latency_chart(r: &Report) -> String {
    let n = r.results.len();
    let pick = |goal: Goal, q: fn(&LatencySummary) -> u64| {
        r.results
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                s.goal(goal)
                    .and_then(|g| g.latency_ns)
                    .map(|l| (i as f64 + 0.5, q(&l) as f64 / 1e3))
            })
            .collect::<Vec<_>>()
    };
    let lines = [
        (pick(Goal::Ndr, |l| l.p50), NDR, "", "NDR p50"),
        (pick(Goal::Ndr, |l| l.p99), NDR, "6 4", "NDR p99"),
        (pick(Goal::Pdr, |l| l.p50), PDR, "", "PDR p50"),
        (pick(Goal::Pdr, |l| l.p99), PDR, "6 4", "PDR p99"),
    ];
    let y_max = lines
        .iter()
        .flat_map(|l| l.0.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let mut p = Plot::new(
        "latency",
        "frame size (bytes)",
        "latency (µs)",
        n.max(1) as f64,
        y_max,
    );
    for (i, s) in r.results.iter().enumerate() {
        p.x_tick(i as f64 + 0.5, &s.size.to_string());
    }
    for (pts, colour, dash, name) in &lines {
        p.line("latency", pts, colour, dash, name);
        for &(x, y) in pts {
            p.dot("point", x, y, 3.0, colour, &format!("{name} {y:.1} µs"));
        }
    }
    p.finish()
}

fn verdict_colour(t: &TrialReport) -> &'static str {
    match (t.ndr, t.pdr) {
        (Verdict::Pass, _) => NDR,
        (_, Verdict::Pass) => PDR,
        (Verdict::Fail, _) | (_, Verdict::Fail) => FAIL,
        _ => UNKNOWN,
    }
}

fn trials_section(out: &mut String, s: &SizeReport) {
    let _ = writeln!(
        out,
        "<h3>{} bytes: {} trials, {:.0} s</h3>",
        s.size,
        s.trials.len(),
        s.search_time_s
    );
    // Zoom on the search: the max-rate trial (often far above) is pinned to the top.
    let searched: Vec<f64> = s
        .trials
        .iter()
        .filter(|t| t.kind != "max-rate")
        .map(|t| t.rate_pps / 1e6)
        .collect();
    let all_max = s
        .trials
        .iter()
        .map(|t| t.rate_pps / 1e6)
        .fold(0.0, f64::max);
    let (lo, hi) = match searched.iter().copied().reduce(f64::min) {
        Some(lo) => (
            lo * 0.95,
            searched.iter().copied().fold(0.0, f64::max) * 1.05,
        ),
        None => (0.0, all_max),
    };
    let id = format!("trials-{}", s.size);
    let x_max = s.trials.len() as f64 + 1.0;
    let mut p = Plot::zoomed(&id, "trial", "offered Mpps", x_max, lo, hi);
    for (i, _) in s.trials.iter().enumerate() {
        p.x_tick(i as f64 + 1.0, &(i + 1).to_string());
    }
    if let Some(g) = &s.pdr {
        p.hline(
            "pdr-level",
            g.rate_pps / 1e6,
            PDR,
            &format!("PDR {}", pps(g.rate_pps)),
        );
    }
    if let Some(g) = &s.ndr {
        p.hline(
            "ndr-level",
            g.rate_pps / 1e6,
            NDR,
            &format!("NDR {}", pps(g.rate_pps)),
        );
    }
    for (i, t) in s.trials.iter().enumerate() {
        let title = format!(
            "trial {} ({}{}): {} for {:.2} s, sent {}, lost {} ({:.4} %)",
            i + 1,
            t.kind,
            t.goal.map_or(String::new(), |g| format!(" {}", g.name())),
            pps(t.rate_pps),
            t.duration_s,
            t.sent,
            t.lost,
            t.loss_ratio * 100.0
        );
        let (x, y, colour) = (i as f64 + 1.0, t.rate_pps / 1e6, verdict_colour(t));
        if t.is_final {
            p.square("trial", x, y, 5.0, colour, &title);
        } else {
            p.dot("trial", x, y, 4.0, colour, &title);
        }
        if p.above(y) {
            p.label(x, y, &format!("↑ {}", pps(t.rate_pps)));
        }
    }
    out.push_str(&p.finish());
    out.push_str(
        "<details><summary>Trial table and notes</summary><table><tr><th>#</th><th>kind</th>\
         <th>requested</th><th>achieved</th><th>s</th><th>sent</th><th>received</th><th>loss</th>\
         <th>p50 / p99</th><th>NDR</th><th>PDR</th><th>flags</th></tr>\n",
    );
    for (i, t) in s.trials.iter().enumerate() {
        let flags: Vec<&str> = [
            (t.generator_limited, "generator-limited"),
            (t.stopped_early, "stopped early"),
            (!t.superseded.is_empty(), "superseded"),
        ]
        .iter()
        .filter(|f| f.0)
        .map(|f| f.1)
        .collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{}</td>\
             <td>{:.4} %</td><td>{} / {}</td><td>{:?}</td><td>{:?}</td><td>{}</td></tr>",
            i + 1,
            t.kind,
            t.goal.map_or(String::new(), |g| format!(" {}", g.name())),
            t.requested_pps.map_or("unpaced".into(), pps),
            pps(t.rate_pps),
            t.duration_s,
            t.sent,
            t.received,
            t.loss_ratio * 100.0,
            esc(&ns(t.latency_ns.map(|l| l.p50))),
            esc(&ns(t.latency_ns.map(|l| l.p99))),
            t.ndr,
            t.pdr,
            flags.join(", ")
        );
    }
    out.push_str("</table><ul>");
    for n in &s.notes {
        let _ = write!(out, "<li>{}</li>", esc(n));
    }
    out.push_str("</ul></details>\n");
}
