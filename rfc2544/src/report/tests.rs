use serde_json::Value;

use super::*;
use crate::search::{LatencySummary, Search, TrialOutcome};

/// A search of `size` against a DUT carrying `capacity` (the generator sends 10 Mpps
/// unpaced); `lossy` adds one lost frame to every trial (no NDR).
fn searched(size: FrameSize, capacity: f64, lossy: bool) -> SearchResult {
    let mut s = Search::new(SearchConfig::default(), size);
    while let Some(spec) = s.next_trial() {
        let d = spec.duration.as_secs_f64();
        let sent = (spec.rate_pps.unwrap_or(10e6) * d).round() as u64;
        let received = sent.min((capacity * d).round() as u64) - u64::from(lossy);
        let o = TrialOutcome {
            sent,
            received,
            duration_s: d,
            wall_s: Some(d + 0.2),
            latency: Some(LatencySummary {
                min: 900,
                p50: 2_000,
                p99: 7_500,
                p999: 12_000,
                max: 30_000,
            }),
            stopped_early: false,
        };
        s.record(spec.id, o).unwrap();
    }
    s.result()
}

fn report() -> Report {
    let results = [
        searched(FrameSize::Fixed(64), 2e6, false),
        searched(FrameSize::Imix, 1.5e6, true),
    ];
    Report::new(&SearchConfig::default(), &results, Some(10.0))
}

#[test]
fn json_has_the_documented_fields() {
    let r = report();
    let v: Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(v["version"], REPORT_VERSION);
    assert_eq!(v["config"]["pdr_loss"], 0.001);
    assert_eq!(v["config"]["final_duration_s"], 60.0);
    assert_eq!(v["imix"]["sizes"], serde_json::json!([64, 594, 1518]));
    assert!(v["search_time_s"].as_f64().unwrap() > 60.0);
    assert!(v["notes"].is_array() && v["deviations"].as_array().unwrap().len() >= 4);
    let e = &v["results"][0];
    assert_eq!(e["size"], 64);
    assert_eq!(e["max_rate_pps"], 10e6);
    for goal in ["ndr", "pdr"] {
        for k in [
            "rate_pps",
            "l1_gbps",
            "l2_gbps",
            "loss_ratio",
            "verified",
            "upper_bound_pps",
        ] {
            assert!(!e[goal][k].is_null(), "{goal}.{k}");
        }
        for k in ["min", "p50", "p99", "p999", "max"] {
            assert!(e[goal]["latency_ns"][k].is_u64(), "{goal}.latency_ns.{k}");
        }
    }
    let ndr = e["ndr"]["rate_pps"].as_f64().unwrap();
    assert!((e["ndr"]["l1_gbps"].as_f64().unwrap() - ndr * 84.0 * 8.0 / 1e9).abs() < 1e-9);
    assert!((e["ndr"]["l2_gbps"].as_f64().unwrap() - ndr * 64.0 * 8.0 / 1e9).abs() < 1e-9);
    assert!((e["line_rate_pps"].as_f64().unwrap() - 14_880_952.38).abs() < 1.0);
    let t = &e["trials"][0];
    for k in [
        "rate_pps",
        "duration_s",
        "sent",
        "received",
        "loss_ratio",
        "final",
        "latency_ns",
    ] {
        assert!(!t[k].is_null(), "trials[].{k}");
    }
    assert_eq!(t["kind"], "max-rate");
    assert_eq!(t["requested_pps"], Value::Null);
    assert_eq!(t["final"], false);
    let finals: Vec<&Value> = e["trials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["final"] == true)
        .collect();
    assert!(!finals.is_empty() && finals.iter().all(|t| t["kind"] == "final"));
    assert_eq!(finals[0]["goal"], "ndr");
    // The IMIX entry: no NDR (one frame lost in every trial) is null, with its status.
    let imix = &v["results"][1];
    assert_eq!(imix["size"], "imix");
    assert_eq!(imix["ndr"], Value::Null);
    assert_eq!(imix["ndr_status"], "no-result");
    assert_eq!(imix["pdr_status"], "verified");
    assert!((imix["mean_frame_bytes"].as_f64().unwrap() - 361.833).abs() < 1e-3);
}

/// Equal up to the last bit of a float (serde_json parses decimals to within an ulp).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn json_round_trips() {
    let r = report();
    let json = r.to_json();
    let back = Report::from_json(&json).unwrap();
    assert_eq!(back.results.len(), 2);
    let (a, b): (Value, Value) = (
        serde_json::from_str(&json).unwrap(),
        serde_json::from_str(&back.to_json()).unwrap(),
    );
    assert!(same(&a, &b));
}

#[test]
fn html_is_self_contained_with_every_chart() {
    let page = html(&report());
    assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
    for id in [
        "throughput-mpps",
        "throughput-gbps",
        "latency",
        "trials-64",
        "trials-imix",
    ] {
        assert!(page.contains(&format!("<svg id=\"{id}\"")), "{id}");
    }
    assert!(page.contains("<polyline class=\"ndr\"") && page.contains("<polyline class=\"pdr\""));
    assert!(page.contains("<polyline class=\"line-rate\""));
    assert!(
        page.contains("<rect class=\"trial\""),
        "verification trials as squares"
    );
    assert!(page.contains("<circle class=\"trial\""));
    assert!(page.contains(">none</td>"), "the IMIX has no NDR");
    assert!(
        !page.contains("src=") && !page.contains("href="),
        "nothing external"
    );
    assert!(!page.contains("NaN") && !page.contains("inf\""));
    // An empty report renders too.
    let empty = Report::new(&SearchConfig::default(), &[], None);
    assert!(html(&empty).contains("The line rate is not known"));
}

#[test]
fn table_has_the_rfc2544_layout() {
    let t = table(&report());
    assert!(t.contains("Theoretical maximum: frames/s at a line rate of 10 Gb/s"));
    assert!(t.contains("max frames/s") && t.contains("L1 Gb/s") && t.contains("L2 Gb/s"));
    let row64 = t
        .lines()
        .find(|l| l.trim_start().starts_with("64 "))
        .unwrap();
    assert!(row64.contains("14,880,952"), "{row64}");
    let imix = t
        .lines()
        .find(|l| l.trim_start().starts_with("imix"))
        .unwrap();
    assert!(imix.contains("none"), "{imix}");
    assert!(t.contains("latency at NDR") && t.contains("p99.9"));
    assert!(t.contains("Deviations from RFC 2544:"));
    assert!(t.lines().all(|l| l == l.trim_end()), "no trailing blanks");
    let no_line = Report::new(&SearchConfig::default(), &[], None);
    assert!(table(&no_line).contains("Line rate unknown"));
}

#[test]
fn progress_lines_say_everything_the_issue_asks() {
    let mut s = Search::new(SearchConfig::default(), FrameSize::Fixed(64));
    let spec = s.next_trial().unwrap();
    let p = s
        .record(
            spec.id,
            TrialOutcome {
                sent: 12_500_000,
                received: 2_500_000,
                duration_s: 1.25,
                latency: Some(LatencySummary {
                    min: 1,
                    p50: 4_100,
                    p99: 9_800,
                    p999: 10_000,
                    max: 20_000,
                }),
                ..Default::default()
            },
        )
        .unwrap();
    let line = progress_line(&p);
    for part in [
        "[64] #1 max-rate",
        "offered unpaced achieved 10.000 Mpps",
        "sent 12500000 recv 2500000 lost 10000000 (80.0000 %)",
        "p50 4.1 us p99 9.8 us",
        "| fail |",
        "NDR <10.000 Mpps, PDR <10.000 Mpps",
        "ETA ",
    ] {
        assert!(line.contains(part), "{part:?} in {line}");
    }
}
