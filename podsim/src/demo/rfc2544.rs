//! `dpdk-app demo --rfc2544`: the pods of `deployment/vdpa-dpdk-rfc2544.yaml` on this machine
//! (the search's generator pod and the macswap reflector pod, entrypoints as in the cluster)
//! over the relay, with short search settings so that it ends in a few minutes. The search's
//! own reports (`rfc2544.json`, `rfc2544.html`) go to the demo's `--report-dir`.

use std::path::Path;
use std::time::Duration;

use crate::placement::{Placement, Role};
use crate::run::{self, RunSpec};
use crate::{manifest, Simulation};

use super::{DemoError, Options};

/// The RFC 2544 manifest, next to the traffic test's.
pub const MANIFEST: &str = "vdpa-dpdk-rfc2544.yaml";
/// The demo's search: two sizes, 1 s trials, 2 s verifications, 5 % resolution. Appended to
/// the manifest's RFC2544_EXTRA_ARGS (the last occurrence of an option wins).
pub const SEARCH_ARGS: &[&str] = &[
    "--frame-sizes=64,1518",
    "--trial-duration=1",
    "--final-duration=2",
    "--resolution=5",
];
/// The cap on the whole search (`--duration`): the demo ends even on a noisy machine.
pub const CAP: Duration = Duration::from_secs(300);

/// Runs the search through the simulated pods; the table is printed, the reports written to
/// `report_dir`.
pub fn run(
    opts: &Options,
    binary: &Path,
    placement: &Placement,
    root: &Path,
    report_dir: &Path,
    abort: &dyn Fn() -> bool,
) -> Result<(), DemoError> {
    let manifest_path = opts
        .manifest
        .parent()
        .unwrap_or(Path::new("."))
        .join(MANIFEST);
    let nad_dir = manifest_path.parent().unwrap_or(Path::new("."));
    let overlay = super::overlay_for(opts.cluster, nad_dir);
    let nads = manifest::cluster_nads(nad_dir, overlay.as_deref())?;
    let sim_opts = crate::Options {
        manifest: manifest_path.clone(),
        nad_dir: nad_dir.to_path_buf(),
        root: root.to_path_buf(),
        hugepages: opts.hugepages,
        device_macs: opts.device_macs,
        overlay,
    };
    let pods = manifest::read_pods(&manifest_path)?;
    let sim = Simulation::materialise_pods(&sim_opts, pods, &nads, |_, _, nad| nad.segment())?;
    let report = report_dir.to_path_buf();
    let extra_args = move |role: Role, _app: netutil::App| -> Vec<String> {
        if role != Role::Generator {
            return Vec::new();
        }
        let mut words: Vec<String> = SEARCH_ARGS.iter().map(|s| s.to_string()).collect();
        words.push(format!("--report-dir={}", report.display()));
        words
    };
    let logs = report_dir.join("logs").join("rfc2544");
    let spec = RunSpec {
        binary,
        logs: &logs,
        placement,
        duration: CAP,
        extra_args: &extra_args,
    };
    println!(
        "RFC 2544 search: {} through the relay ({}); logs in {}",
        SEARCH_ARGS.join(" "),
        placement.describe(),
        logs.display()
    );
    // The generator writes its report even when the search did not settle (its --duration
    // cap, a signal): show what it found before saying it failed.
    let ran = run::run(&sim, &spec, abort);
    let json = report_dir.join("rfc2544.json");
    match std::fs::read_to_string(&json) {
        Ok(text) => {
            let r = rfc2544::report::Report::from_json(&text).map_err(|e| {
                DemoError::Usage(format!("{}: not an rfc2544 report: {e}", json.display()))
            })?;
            print!("\n{}", rfc2544::report::table(&r));
            println!("\nReport: {}", report_dir.join("rfc2544.html").display());
        }
        Err(source) if ran.is_ok() => return Err(DemoError::Io { path: json, source }),
        Err(_) => {}
    }
    ran?;
    Ok(())
}
