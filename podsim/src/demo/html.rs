//! `report.html`: the report as one self-contained page (inline CSS and SVG, nothing fetched),
//! with per phase a table, the rate over time of every network as the generator sent and the
//! sink received it, and the latency histogram.

use std::fmt::Write as _;

use super::report::{human_ns, Phase, Report, Series};

const W: f64 = 640.0;
const H: f64 = 240.0;
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 12.0;
const RIGHT: f64 = 12.0;
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// The page.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>dpdk-app demo report</title><style>\
         body{font-family:sans-serif;margin:2em;max-width:60em}\
         table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}\
         th:first-child,td:first-child{text-align:left}.fail{color:#b00}svg{display:block;margin:1em 0}\
         code{font-size:.85em;word-break:break-all}.legend{font-size:.8em}</style></head><body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>dpdk-app demo</h1>\n<p>{}</p>",
        esc(&report.topology)
    );
    let _ = writeln!(out, "<p>Frames of {} bytes.</p>", report.frame_size);
    for p in &report.phases {
        phase(&mut out, p);
    }
    out.push_str("</body></html>\n");
    out
}

fn phase(out: &mut String, p: &Phase) {
    let rate = match p.rate_pps_per_port {
        Some(r) => format!("paced at {r} packets/s per port"),
        None => "as fast as possible".into(),
    };
    let _ = writeln!(out, "<h2>Phase {}: {rate}</h2>", esc(&p.name));
    let placed: Vec<String> = p
        .placement
        .iter()
        .map(|x| {
            format!(
                "{} on CPU {} (idle sleep {} µs)",
                x.process, x.cpu, x.idle_sleep_us
            )
        })
        .collect();
    let _ = writeln!(out, "<p>CPU placement: {}</p>", esc(&placed.join("; ")));
    if !p.hugepages.is_empty() {
        let _ = writeln!(out, "<p>Memory: {}</p>", esc(&p.hugepages));
    }
    if let Some(c) = p.conditions() {
        let _ = writeln!(out, "<p>Conditions: {}</p>", esc(&c));
    }
    if let Some(e) = &p.error {
        let _ = writeln!(out, "<p class=\"fail\">This phase failed: {}</p>", esc(e));
        return;
    }
    out.push_str(
        "<table><tr><th>network</th><th>VLAN</th><th>sent</th><th>received</th><th>lost</th>\
         <th>Mpps</th><th>p50</th><th>p99</th><th>p99.9</th><th>max</th></tr>\n",
    );
    for n in &p.networks {
        let cells: Vec<String> = n
            .cells()
            .iter()
            .map(|c| format!("<td>{}</td>", esc(c)))
            .collect();
        let _ = writeln!(out, "<tr>{}</tr>", cells.concat());
    }
    out.push_str("</table>\n");
    for n in p
        .networks
        .iter()
        .filter(|n| n.lost > 0 || n.unaccounted != 0)
    {
        let _ = writeln!(
            out,
            "<p>{} lost {}:</p><pre>{}</pre>",
            esc(&n.name),
            n.lost,
            esc(&n.drop_lines().join("\n"))
        );
    }
    out.push_str("<h3>Rate over time</h3>\n");
    out.push_str(&rate_chart(&p.series));
    out.push_str("<h3>Latency histogram (all networks)</h3>\n");
    out.push_str(&histogram_chart(&p.latency_histogram));
    out.push_str("<details><summary>Pod command lines</summary><ul>");
    for (pod, cmd) in &p.commands {
        let _ = write!(out, "<li>{}: <code>{}</code></li>", esc(pod), esc(cmd));
    }
    out.push_str("</ul></details>\n");
}

/// Lines of packets per second over time: solid for received, dashed for sent.
fn rate_chart(series: &[Series]) -> String {
    let t_max = series
        .iter()
        .flat_map(|s| s.t.iter().copied())
        .fold(0.0, f64::max)
        .max(1.0);
    let y_max = nice_ceiling(
        series
            .iter()
            .flat_map(|s| s.pps.iter().copied())
            .fold(0.0, f64::max),
    );
    let mut svg = axes(
        "rate-over-time",
        "seconds since the pod started forwarding",
        t_max,
        y_max,
        "Mpps",
        1e6,
    );
    let networks: Vec<&str> = {
        let mut v: Vec<&str> = series.iter().map(|s| s.network.as_str()).collect();
        v.dedup();
        v
    };
    let mut legend = String::from("<p class=\"legend\">");
    for (i, s) in series.iter().enumerate() {
        let colour =
            COLOURS[networks.iter().position(|n| *n == s.network).unwrap_or(i) % COLOURS.len()];
        let points: Vec<String> =
            s.t.iter()
                .zip(&s.pps)
                .map(|(t, y)| format!("{:.1},{:.1}", x_px(*t, t_max), y_px(*y, y_max)))
                .collect();
        let dash = if s.direction == "sent" {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = write!(
            svg,
            "<polyline class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{dash} points=\"{}\"><title>{} {}</title></polyline>",
            points.join(" "),
            esc(&s.network),
            s.direction
        );
        let _ = write!(
            legend,
            "<span style=\"color:{colour}\">{} {} {}</span> ",
            if s.direction == "sent" {
                "- - -"
            } else {
                "———"
            },
            esc(&s.network),
            s.direction
        );
    }
    svg.push_str("</svg>\n");
    svg.push_str(&legend);
    svg.push_str("</p>\n");
    svg
}

/// Bars of latency samples per doubling bucket, on a log-2 axis.
fn histogram_chart(buckets: &[serde_json::Value]) -> String {
    let bars: Vec<(u64, u64)> = buckets
        .iter()
        .filter_map(|b| Some((b["le_ns"].as_u64()?, b["count"].as_u64()?)))
        .collect();
    let n = bars.len().max(1) as f64;
    let y_max = nice_ceiling(bars.iter().map(|b| b.1 as f64).fold(0.0, f64::max));
    let mut svg = axes(
        "latency-histogram",
        "latency (upper bound of each bucket)",
        n,
        y_max,
        "samples",
        1.0,
    );
    let bw = (W - LEFT - RIGHT) / n;
    for (i, (le, count)) in bars.iter().enumerate() {
        let y = y_px(*count as f64, y_max);
        let _ = write!(
            svg,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#1f77b4\"><title>≤ {}: {count}</title></rect>",
            LEFT + bw * i as f64 + 1.0,
            (bw - 2.0).max(1.0),
            H - BOTTOM - y,
            human_ns(Some(*le))
        );
        if i % 2 == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.0}\" font-size=\"9\" text-anchor=\"middle\">{}</text>",
                LEFT + bw * (i as f64 + 0.5),
                H - BOTTOM + 12.0,
                human_ns(Some(*le))
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// An SVG with axes, y ticks (values divided by `unit`) and axis labels; the caller closes it.
fn axes(id: &str, x_label: &str, x_max: f64, y_max: f64, y_label: &str, unit: f64) -> String {
    let mut svg = format!(
        "<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\">\
         <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{b}\" stroke=\"#333\"/>\
         <line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#333\"/>\
         <text x=\"{cx}\" y=\"{lx}\" font-size=\"11\" text-anchor=\"middle\">{x_label}</text>\
         <text x=\"12\" y=\"{cy}\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 12 {cy})\">{y_label}</text>",
        b = H - BOTTOM,
        r = W - RIGHT,
        cx = (LEFT + W - RIGHT) / 2.0,
        cy = (TOP + H - BOTTOM) / 2.0,
        lx = H - 6.0,
    );
    for k in 0..=4 {
        let v = y_max * f64::from(k) / 4.0;
        let y = y_px(v, y_max);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.0}\" y2=\"{y:.1}\" stroke=\"#eee\"/>\
             <text x=\"{:.0}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 4.0,
            y + 3.0,
            short(v / unit)
        );
    }
    if unit != 1.0 {
        for k in 0..=4 {
            let t = x_max * f64::from(k) / 4.0;
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.0}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
                x_px(t, x_max),
                H - BOTTOM + 12.0,
                short(t)
            );
        }
    }
    svg
}

fn x_px(x: f64, x_max: f64) -> f64 {
    LEFT + (W - LEFT - RIGHT) * x / x_max
}

fn y_px(y: f64, y_max: f64) -> f64 {
    H - BOTTOM - (H - BOTTOM - TOP) * y / y_max
}

/// 1, 2 or 5 times a power of ten, at least `v` (and at least 1).
fn nice_ceiling(v: f64) -> f64 {
    let mut step = 1.0;
    loop {
        for m in [1.0, 2.0, 5.0] {
            if step * m >= v {
                return step * m;
            }
        }
        step *= 10.0;
    }
}

fn short(v: f64) -> String {
    if v >= 1000.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::super::report::{LatencyNs, Network};
    use super::*;

    #[test]
    fn page_is_self_contained_with_both_plots() {
        let phase = Phase {
            name: "paced".into(),
            networks: vec![Network {
                name: "vdpa-mlx-vhost-net-1000".into(),
                vlan: Some(1000),
                sent: 10,
                received: 10,
                lost: 0,
                mpps: 0.1,
                latency_ns: LatencyNs::default(),
                probe_lost: 0,
                relay_received: 10,
                drops: Vec::new(),
                unaccounted: 0,
                offered_pps: Some(99_000.0),
            }],
            latency_ns: LatencyNs::default(),
            error: None,
            rate_pps_per_port: Some(100_000),
            duration_s: 2.0,
            placement: Vec::new(),
            hugepages: String::new(),
            latency_histogram: vec![
                serde_json::json!({"le_ns": 1000, "count": 3}),
                serde_json::json!({"le_ns": 2000, "count": 7}),
            ],
            series: vec![Series {
                network: "vdpa-mlx-vhost-net-1000".into(),
                direction: "sent",
                t: vec![1.0, 2.0],
                pps: vec![100_000.0, 99_000.0],
            }],
            commands: vec![("vdpa-pod-gen".into(), "dpdk-app testpmd <x>".into())],
            longest_stall_ms: Some(3.5),
            load_average: Some([1.0, 0.5, 0.25]),
        };
        let page = render(&Report {
            phases: vec![
                phase,
                Phase::failed("max-rate", None, Vec::new(), "a < b".into()),
            ],
            app: "testpmd".into(),
            topology: "gen -> relay -> sink".into(),
            frame_size: 64,
        });
        assert!(page.contains("<svg id=\"rate-over-time\"") && page.contains("<polyline"));
        assert!(
            page.contains("<svg id=\"latency-histogram\"")
                && page.matches("<rect class=\"bar\"").count() == 2
        );
        assert!(page.contains("dpdk-app testpmd &lt;x&gt;") && page.contains("failed: a &lt; b"));
        assert!(
            !page.contains("src=") && !page.contains("href="),
            "nothing external"
        );
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(130_000.0), 200_000.0);
    }
}
