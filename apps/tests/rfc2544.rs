//! `dpdk-app rfc2544` end to end: the search against a reflector over vhost-user/virtio-user
//! (the pods' path), our testpmd macswap and DPDK's, with the report checked for internal
//! consistency. Nothing here asserts a rate or a time: the machine may be loaded, and then
//! the NDR is low, not wrong.

mod testpmd_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use testkit::{DpdkLock, MemoryMode, Proc, ScratchDir};
use testpmd_support::*;

/// Start-up (EAL init, vhost-user negotiation) on a loaded machine.
const START: Duration = Duration::from_secs(60);
/// The whole search, bounded by `--duration` below plus the path wait and start-up.
const SEARCH: Duration = Duration::from_secs(240);

/// The search settings of every run here: two sizes, short trials, a coarse resolution.
const SEARCH_ARGS: &[&str] = &[
    "--frame-sizes=64,1518",
    "--trial-duration=0.5",
    "--final-duration=1",
    "--resolution=10",
    "--duration=120",
];

/// Runs the search against `reflector` (a testpmd command without arguments); `c_testpmd`:
/// DPDK's testpmd forwards on a worker lcore, so it gets both CPUs with its main lcore (which
/// only waits) on the generator's. Asserts that the search ended by itself: settled (exit 0),
/// or stopped by `--duration` with the unsettled goals reported as unfinished (exit 1), which
/// a loaded machine can cause: a noisy DUT makes the search confirm and retreat more often.
fn run_search(
    reflector: &mut Command,
    c_testpmd: bool,
    tag: &str,
) -> (String, PathBuf, ScratchDir) {
    let (out, killed, report_dir, dir) = search(reflector, c_testpmd, tag, SEARCH_ARGS, None);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let capped = !killed
            && out.status.code() == Some(1)
            && err.contains("no verified result")
            && json(&report_dir.join("rfc2544.json"))["complete"] == false;
        assert!(capped, "{}", testkit::describe("rfc2544", &out));
    }
    (stdout(&out), report_dir, dir)
}

/// The search with `args`; with `interrupt`, that signal is sent once this line is printed.
fn search(
    reflector: &mut Command,
    c_testpmd: bool,
    tag: &str,
    args: &[&str],
    interrupt: Option<(&str, &str)>,
) -> (std::process::Output, bool, PathBuf, ScratchDir) {
    let dir = ScratchDir::new(tag);
    let sock = dir.join("vhost.sock");
    let (a, b) = testkit::two_cpus();
    let mode = MemoryMode::NoHuge;
    let refl_prefix = testkit::unique_prefix(&format!("{tag}-refl"));
    let gen_prefix = testkit::unique_prefix(&format!("{tag}-gen"));
    let lcores = if c_testpmd {
        format!("{a},{b}")
    } else {
        a.to_string()
    };
    reflector.args(eal(
        mode,
        &lcores,
        &refl_prefix,
        &[format!("net_vhost0,iface={},queues=1", sock.display())],
    ));
    if c_testpmd && a != b {
        reflector.arg(format!("--main-lcore={b}"));
    }
    // With a statistics period, DPDK's testpmd forwards until signalled instead of reading
    // "Press enter to exit" from stdin (closed here).
    reflector.arg("--").args([
        "--forward-mode=macswap",
        "--stats-period=1",
        "--total-num-mbufs=8192",
        "--no-mlockall",
    ]);
    let mut refl = Proc::spawn("reflector", reflector, Some(&refl_prefix));
    refl.wait_for_path(&sock, START);
    refl.wait_for_line("Checking link statuses", START);
    let report_dir = dir.join("report");
    let mut cmd = Command::new(APP);
    cmd.arg("rfc2544")
        .args(eal(
            mode,
            &b.to_string(),
            &gen_prefix,
            &[format!(
                "net_virtio_user0,path={},queues=1,queue_size=1024",
                sock.display()
            )],
        ))
        .arg("--")
        .args(args)
        .arg(format!("--report-dir={}", report_dir.display()));
    let mut gen = Proc::spawn("rfc2544", &mut cmd, Some(&gen_prefix));
    if let Some((line, signal)) = interrupt {
        gen.wait_for_line(line, START);
        gen.signal(signal);
    }
    let (out, killed) = gen.wait(SEARCH);
    refl.signal("INT");
    let _ = refl.wait(Duration::from_secs(30));
    (out, killed, report_dir, dir)
}

fn rate(v: &Value) -> f64 {
    v["rate_pps"]
        .as_f64()
        .unwrap_or_else(|| panic!("no rate_pps in {v}"))
}

/// What must hold whatever the machine's load: every goal of every size verified (or shown to
/// have no rate above the minimum), NDR ≤ PDR ≤ the highest offered rate, the verifications
/// listed with latency, the NDR's lost nothing, and unless the NDR is the maximum, a
/// trial above it lost frames (the search's upper bound); ids unique; one progress line per
/// trial (when the progress went to `stdout`); the table and the HTML written.
fn check_report(stdout: &str, progress_on_stdout: bool, dir: &Path) {
    let report = json(&dir.join("rfc2544.json"));
    let ctx = format!("{stdout}\n{report:#}");
    assert_eq!(report["version"], 1, "{ctx}");
    let complete = report["complete"] == true;
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{ctx}");
    let mut ids = Vec::new();
    for (r, size) in results.iter().zip([64, 1518]) {
        assert_eq!(r["size"], size, "{ctx}");
        // A goal is verified, or shown to have no rate above --min-rate (a loaded machine can
        // lose frames even there); either way it is settled and reported as such.
        let trials = r["trials"].as_array().unwrap();
        let max = r["max_rate_pps"].as_f64().unwrap();
        for goal in ["ndr", "pdr"] {
            match r[format!("{goal}_status")].as_str() {
                Some("verified") => {
                    let g = &r[goal];
                    assert_eq!(g["verified"], true, "{goal}: {ctx}");
                    assert!(rate(g) <= max, "{goal} ≤ max: {ctx}");
                    let v = trials
                        .iter()
                        .find(|t| t["id"] == g["trial_id"])
                        .unwrap_or_else(|| panic!("{goal} trial not listed: {ctx}"));
                    assert_eq!(v["kind"], "final", "{goal}: {ctx}");
                    assert!(v["sent"].as_u64().unwrap() > 0, "{ctx}");
                    assert!(
                        !v["latency_ns"].is_null(),
                        "same host: latency measured: {ctx}"
                    );
                }
                Some("no-result") => assert!(r[goal].is_null(), "{goal}: {ctx}"),
                // Only when --duration ended the search (see run_search).
                Some("unfinished") => assert!(!complete, "{goal}: {ctx}"),
                other => panic!("{goal} status {other:?}: {ctx}"),
            }
        }
        let (ndr, pdr) = (&r["ndr"], &r["pdr"]);
        if !ndr.is_null() {
            assert!(!pdr.is_null() && rate(ndr) <= rate(pdr), "NDR ≤ PDR: {ctx}");
            let v = trials.iter().find(|t| t["id"] == ndr["trial_id"]).unwrap();
            assert_eq!(v["lost"], 0, "the NDR's verification lost nothing: {ctx}");
            let above_lost = trials
                .iter()
                .any(|t| rate(t) > rate(ndr) && t["lost"].as_u64().unwrap() > 0);
            assert!(
                above_lost || rate(ndr) >= max,
                "a trial above the NDR lost frames, or the NDR is the maximum: {ctx}"
            );
        }
        for t in trials {
            let id = t["id"].as_u64().unwrap();
            assert!(
                id != 0 && !ids.contains(&id),
                "trial ids unique, never 0: {ctx}"
            );
            ids.push(id);
            assert!(t["received"].as_u64() <= t["sent"].as_u64(), "{ctx}");
        }
    }
    if progress_on_stdout {
        let progress = stdout.lines().filter(|l| l.starts_with('[')).count();
        assert_eq!(progress, ids.len(), "one progress line per trial: {ctx}");
    }
    assert!(stdout.contains("RFC 2544 throughput"), "{ctx}");
    let html = std::fs::read_to_string(dir.join("rfc2544.html")).unwrap();
    assert!(html.contains("<svg"), "the HTML report has its plots");
}

#[test]
fn finds_ndr_and_pdr_against_our_testpmd_macswap() {
    let _lock = DpdkLock::acquire();
    let mut refl = Command::new(APP);
    refl.arg("testpmd");
    let (stdout, report, _dir) = run_search(&mut refl, false, "r2544-ours");
    check_report(&stdout, true, &report);
}

#[test]
fn finds_ndr_and_pdr_against_dpdk_testpmd_macswap() {
    let _lock = DpdkLock::acquire();
    let mut refl = testkit::dpdk_testpmd();
    let (stdout, report, _dir) = run_search(&mut refl, true, "r2544-c");
    check_report(&stdout, true, &report);
}

/// SIGTERM (how Kubernetes stops a pod) ends the search cleanly: the trial in progress is
/// dropped, the partial report is printed and written, and the exit status says it is not a
/// result.
#[test]
fn sigterm_writes_a_partial_report_and_fails() {
    let _lock = DpdkLock::acquire();
    let mut refl = Command::new(APP);
    refl.arg("testpmd");
    let args = [
        "--frame-sizes=64,1518",
        "--trial-duration=2",
        "--final-duration=60",
    ];
    let (out, killed, report, _dir) = search(
        &mut refl,
        false,
        "r2544-term",
        &args,
        Some(("[64] #1 ", "TERM")),
    );
    let (text, err) = (stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(!killed && out.status.code() == Some(1), "{text}\n{err}");
    assert!(err.contains("stopped by a signal"), "{err}");
    assert!(
        text.contains("RFC 2544 throughput"),
        "the partial table: {text}"
    );
    let r = json(&report.join("rfc2544.json"));
    assert_eq!(r["complete"], false, "{r}");
    assert!(
        !r["results"][0]["trials"].as_array().unwrap().is_empty(),
        "the trials run so far are kept: {r}"
    );
    assert!(report.join("rfc2544.html").exists());
}

/// `dpdk-app demo --rfc2544`: deployment/vdpa-dpdk-rfc2544.yaml's pods through the relay, as
/// in the cluster (entrypoint, RFC2544_EXTRA_ARGS, DPDK_SAMPLE_APP=rfc2544), to a consistent
/// report.
#[test]
fn demo_runs_the_rfc2544_manifest_through_the_relay() {
    let _lock = DpdkLock::acquire();
    let dir = ScratchDir::new("r2544-demo");
    let report = dir.join("report");
    let out = Command::new(APP)
        .args(["demo", "--rfc2544", "--report-dir"])
        .arg(&report)
        .output()
        .unwrap();
    // As in run_search: settled, or ended by the demo's --duration cap on a loaded machine.
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let capped = out.status.code() == Some(1)
            && err.contains("no verified result")
            && json(&report.join("rfc2544.json"))["complete"] == false;
        assert!(capped, "{}", testkit::describe("demo", &out));
    }
    let text = stdout(&out);
    assert!(text.contains("RFC 2544 throughput"), "{text}");
    check_report(&text, false, &report);
}

/// Bad options are refused before DPDK starts, naming the option; `--help` states the
/// defaults.
#[test]
fn options_are_checked_and_help_states_defaults() {
    let help = Command::new(APP)
        .args(["rfc2544", "--", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success());
    let text = stdout(&help);
    for needle in [
        "(default 60, RFC 2544 §24)",
        "--eth-peer",
        "--report-dir",
        "imix",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    for (arg, want) in [
        ("--frame-sizes=64,10", "--frame-sizes"),
        ("--pdr-loss=-1", "--pdr-loss"),
        ("--final-duration=0", "--final-duration"),
        ("--frobnicate", "--frobnicate"),
    ] {
        let out = Command::new(APP)
            .args(["rfc2544", "--", arg])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{arg}");
        assert!(
            err.contains("dpdk-app rfc2544: error") && err.contains(want),
            "{arg}: {err}"
        );
    }
}
