//! `dpdk-app demo` with a short duration, as CI runs it: both phases complete, the paced phase
//! loses nothing, `report.json` has the documented shape and `report.html` holds both plots,
//! and nothing the demo started is left behind.

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

#[test]
fn demo_reports_both_phases_with_zero_loss_when_paced() {
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
            for key in ["sent", "received", "lost"] {
                assert!(n[key].is_u64(), "{key} in {n}");
            }
            assert!(n["mpps"].as_f64().unwrap() > 0.0, "{n}");
            assert_eq!(
                n["sent"].as_u64().unwrap() - n["received"].as_u64().unwrap(),
                n["lost"].as_u64().unwrap(),
                "{n}"
            );
            // Even at max rate, with the generator's TX ring full when its --duration ends,
            // the relay takes every frame before the generator closes its port.
            assert_eq!(
                n["relay_received"], n["sent"],
                "nothing stranded at exit: {n}"
            );
        }
        for key in ["p50", "p99", "p999", "max"] {
            assert!(p["latency_ns"][key].as_u64().unwrap() > 0, "{key} in {p}");
        }
        let l = &p["latency_ns"];
        assert!(l["p50"].as_u64() <= l["p99"].as_u64() && l["p999"].as_u64() <= l["max"].as_u64());
    }
    let paced = &phases[0];
    for n in paced["networks"].as_array().unwrap() {
        assert_eq!(n["lost"], 0, "paced phase loses nothing: {n}");
        assert!(
            n["sent"].as_u64().unwrap() > 80_000,
            "paced at 50 kpps for 2 s: {n}"
        );
    }
    let paced_mpps: f64 = paced["networks"][0]["mpps"].as_f64().unwrap();
    assert!(
        (0.04..0.055).contains(&paced_mpps),
        "paced at 50 kpps per port: {paced_mpps}"
    );

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
    // A copy of deployment/ whose manifest names a network no NAD defines.
    let dir = ScratchDir::new("demo-bad");
    let deployment = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deployment");
    for entry in std::fs::read_dir(&deployment).unwrap().flatten() {
        std::fs::copy(entry.path(), dir.join(&entry.file_name().to_string_lossy())).unwrap();
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
        // VLAN 1000 through the forwarder, VLAN 2000 direct: both deliver every frame.
        for n in paced["networks"].as_array().unwrap() {
            assert!(n["sent"].as_u64().unwrap() > 25_000, "{app}: {n}");
            assert_eq!(n["lost"], 0, "{app}: {n}");
        }
    }
}
