//! Writes a sample rfc2544.json/html/txt from a simulated DUT into the directory given (for
//! looking at the report; not a test).

use rfc2544::report;
use rfc2544::search::{LatencySummary, SearchConfig, TrialOutcome};
use rfc2544::sweep::Sweep;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let cfg = SearchConfig::builder()
        .trial_duration(std::time::Duration::from_secs(2))
        .build()?;
    let sizes = rfc2544::frame::parse_frame_sizes("64,128,256,512,1024,1280,1518,imix")?;
    let mut sweep = Sweep::new(cfg, sizes)?;
    while let Some(t) = sweep.next_trial() {
        let spec = t.spec;
        let d = spec.duration.as_secs_f64();
        let line = t.size.line_rate_pps(10.0).unwrap_or(1e6);
        // A DUT forwarding 4 Mpps or 60 % of line rate, losing from 80 % of that.
        let cap = (0.6 * line).min(4e6);
        let offered = spec.rate_pps.unwrap_or(line);
        let sent = (offered * d) as u64;
        let knee = 0.8 * cap;
        let ratio = if offered <= knee {
            0.0
        } else {
            1.0 - (1.0 - 0.005 * ((offered.min(cap) - knee) / (cap - knee)))
                * (cap / offered).min(1.0)
        };
        let lost = (sent as f64 * ratio).ceil() as u64;
        let load = (offered / cap).min(1.0);
        let o = TrialOutcome {
            sent,
            received: sent - lost,
            duration_s: d,
            wall_s: Some(d + 0.2),
            latency: Some(LatencySummary {
                min: 3_000,
                p50: 6_000 + (6_000.0 * load) as u64 + u64::from(t.size.max_len()),
                p99: 12_000 + (60_000.0 * load * load) as u64,
                p999: 20_000 + (90_000.0 * load * load) as u64,
                max: 80_000,
            }),
            stopped_early: false,
        };
        let p = sweep.record(spec.id, o)?;
        println!("{}", report::progress_line(&p));
    }
    let r = sweep.report(Some(10.0));
    std::fs::write(format!("{dir}/rfc2544.json"), r.to_json())?;
    std::fs::write(format!("{dir}/rfc2544.html"), report::html(&r))?;
    std::fs::write(format!("{dir}/rfc2544.txt"), report::table(&r))?;
    print!("{}", report::table(&r));
    Ok(())
}
