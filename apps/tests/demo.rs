//! `dpdk-app demo` with a short duration, as CI runs it: both phases complete, every frame is
//! accounted for (delivered, or counted by a named drop counter on the way), `report.json` has
//! the documented shape with the conditions of the run and `report.html` holds both plots, and
//! nothing the demo started is left behind. Whether a phase lost frames depends on what else
//! the machine runs and is the report's business, not the tests'.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use testkit::{describe, DpdkLock, ScratchDir};

const APP: &str = env!("CARGO_BIN_EXE_dpdk-app");

fn demo(report: &Path, extra: &[&str]) -> (std::process::Output, Value, String) {
    let out = Command::new(APP)
        .args(["demo", "--duration", "2", "--report-dir"])
        .arg(report)
        .args(extra)
        .output()
        .unwrap();
    let json = std::fs::read_to_string(report.join("report.json"))
        .unwrap_or_else(|e| panic!("report.json: {e}\n{}", describe("demo", &out)));
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    (out, serde_json::from_str(&json).unwrap(), html)
}

/// Every network of a phase: sent = received + named drops, exactly.
fn assert_accounted(phase: &Value) {
    for n in phase["networks"].as_array().unwrap() {
        let (sent, received, lost) = (
            n["sent"].as_u64().unwrap(),
            n["received"].as_u64().unwrap(),
            n["lost"].as_u64().unwrap(),
        );
        assert_eq!(sent - received, lost, "{n}");
        let dropped: u64 = n["drops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["packets"].as_u64().unwrap())
            .sum();
        assert_eq!(n["unaccounted"], 0, "every frame delivered or counted: {n}");
        assert_eq!(dropped, lost, "the drops name every lost frame: {n}");
        assert!(sent > 0, "{n}");
    }
}

#[test]
fn demo_reports_both_phases_with_every_frame_accounted_for() {
    let _lock = DpdkLock::acquire();
    let dir = ScratchDir::new("demo");
    let report = dir.join("report");
    let (out, json, html) = demo(&report, &[]);
    assert!(out.status.success(), "{}", describe("demo", &out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("Report: {}", report.display())),
        "{stdout}"
    );
    assert!(stdout.contains("Conditions: load average"), "{stdout}");

    let phases = json["phases"].as_array().unwrap();
    let names: Vec<&str> = phases.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["paced", "max-rate"]);
    for p in phases {
        assert!(p.get("error").is_none(), "{p}");
        let networks = p["networks"].as_array().unwrap();
        let nets: Vec<&str> = networks
            .iter()
            .map(|n| n["name"].as_str().unwrap())
            .collect();
        assert_eq!(nets, ["vdpa-mlx-vhost-net-1000", "vdpa-mlx-vhost-net-2000"]);
        for n in networks {
            for key in ["sent", "received", "lost", "relay_received"] {
                assert!(n[key].is_u64(), "{key} in {n}");
            }
            assert!(n["mpps"].as_f64().unwrap() > 0.0, "{n}");
        }
        assert_accounted(p);
        for key in ["p50", "p99", "p999", "max"] {
            assert!(p["latency_ns"][key].as_u64().unwrap() > 0, "{key} in {p}");
        }
        let l = &p["latency_ns"];
        assert!(l["p50"].as_u64() <= l["p99"].as_u64() && l["p999"].as_u64() <= l["max"].as_u64());
        assert_eq!(p["load_average"].as_array().map(Vec::len), Some(3), "{p}");
    }
    // The paced phase records what was asked and what the generator offered.
    let paced = &phases[0];
    assert_eq!(paced["rate_pps_per_port"], 50_000);
    assert!(paced["longest_stall_ms"].as_f64().is_some(), "{paced}");
    for n in paced["networks"].as_array().unwrap() {
        assert!(n["offered_pps"].as_f64().unwrap() > 0.0, "{n}");
    }
    assert!(phases[1]["rate_pps_per_port"].is_null());

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        html.matches("<svg id=\"rate-over-time\"").count(),
        2,
        "a rate plot per phase"
    );
    assert_eq!(html.matches("<svg id=\"latency-histogram\"").count(), 2);
    assert!(html.contains("<polyline") && html.contains("<rect class=\"bar\""));
    assert!(
        !html.contains("src=") && !html.contains("href="),
        "self-contained"
    );

    // Nothing left: no pod or relay runtime directory, no hugepage file, no socket directory.
    let leftovers = |dir: &str, needle: &str| {
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.contains(needle))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    for (dir, needle) in [
        ("/var/run/dpdk", "vdpa-pod-"),
        ("/var/run/dpdk", "podsim-relay-"),
        ("/dev/hugepages", "vdpa-pod-"),
        ("/tmp", "dpdk-app-demo-"),
    ] {
        assert_eq!(leftovers(dir, needle), Vec::<String>::new(), "{dir}");
    }
}

#[test]
fn a_failing_phase_says_why() {
    // A copy of deployment/'s manifests (not its kustomize components) whose traffic test
    // names a network no NAD defines.
    let dir = ScratchDir::new("demo-bad");
    let deployment = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deployment");
    for entry in std::fs::read_dir(&deployment).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.join(&entry.file_name().to_string_lossy())).unwrap();
        }
    }
    let manifest = dir.join("vdpa-dpdk-traffic-test.yaml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("vdpa-mlx-vhost-net-2000", "no-such-network");
    std::fs::write(&manifest, text).unwrap();
    let _lock = DpdkLock::acquire();
    let report = dir.join("report");
    let (out, json, html) = demo(&report, &["--manifest", manifest.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", describe("demo", &out));
    let err = json["phases"][0]["error"].as_str().unwrap();
    assert!(err.contains("no-such-network"), "{err}");
    assert!(html.contains("This phase failed"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-network"));
}

#[test]
fn forwarder_pods_carry_vlan_1000_with_l2fwd_and_l3fwd() {
    let _lock = DpdkLock::acquire();
    for app in ["l2fwd", "l3fwd"] {
        let dir = ScratchDir::new("demo-fwd");
        let report = dir.join("report");
        let args = ["--app", app, "--duration", "1"];
        let (out, json, _) = demo(&report, &args);
        assert!(out.status.success(), "{app}: {}", describe("demo", &out));
        let paced = &json["phases"][0];
        let commands = paced["commands"].as_array().unwrap();
        assert!(
            commands.iter().any(|c| c[0] == "vdpa-pod-fwd"
                && c[1]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("dpdk-app {app} "))),
            "{app}: the forwarder pod ran {app}: {commands:?}"
        );
        // VLAN 1000 through the forwarder, VLAN 2000 direct: every frame is accounted for on
        // both paths, hop by hop through the forwarder.
        assert_accounted(paced);
    }
}
