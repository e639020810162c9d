//! Our l2fwd as pods run it: `--help` and argument errors without DPDK, the JSON statistics,
//! `--duration` and `--stats-file`, and the pod's command line on virtio-user ports with one
//! lcore for two ports (where C l2fwd exits with "Not enough cores").

mod sample_apps;

use std::process::Command;
use std::time::Duration;

use sample_apps::frames::udp4;
use sample_apps::{
    app, json_reports, pcap_vdevs, rejected, run_on_virtio, summary, vhost_peer, APP,
};
use testkit::{assert_success, describe, DpdkLock, MemoryMode, Proc, ScratchDir};

#[test]
fn help_and_argument_errors_need_no_dpdk() {
    for args in [&["--help"][..], &["-l", "1", "--", "-h"]] {
        let out = app("l2fwd", args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", describe("l2fwd --help", &out));
        assert!(stdout.contains("Usage: dpdk-app l2fwd"), "{stdout}");
        assert!(stdout.contains("Differences from the C l2fwd"), "{stdout}");
    }
    let cases: [(&[&str], &str); 5] = [
        (&["--", "-T", "5"], "-p PORTMASK is required"),
        (&["--", "-p", "0x0"], "invalid portmask \"0x0\""),
        (
            &["--", "-p", "3", "-q", "16"],
            "invalid queue number \"16\"",
        ),
        (
            &["--", "-p", "3", "-T", "86400"],
            "invalid timer period \"86400\"",
        ),
        (
            &["--", "-p", "3", "--portmap=(0,2)"],
            "port 2 is not enabled in port mask 0x3",
        ),
    ];
    for (args, expected) in cases {
        let stderr = rejected("l2fwd", args);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn json_statistics_duration_and_stats_file() {
    let _lock = DpdkLock::acquire();
    let dir = ScratchDir::new("l2fwd-json");
    let prefix = testkit::unique_prefix("l2fwd-json");
    let inputs: Vec<Vec<Vec<u8>>> = [(0u8, 30u8), (1, 12)]
        .into_iter()
        .map(|(port, count)| {
            (0..count)
                .map(|i| udp4([10, 0, port, i], [10, 9, 9, 9]))
                .collect()
        })
        .collect();
    let vdevs = pcap_vdevs(&dir, &inputs);
    let stats = dir.join("stats.json");
    let mut cmd = Command::new(APP);
    cmd.args(["l2fwd", "--no-huge", "-m", "256", "--no-pci", "-l", "1"])
        .arg(format!("--file-prefix={prefix}"))
        .args(&vdevs)
        .args(["--", "-p", "0x3", "-T", "1", "--duration", "2.5"])
        .args(["--stats-format", "json", "--stats-file"])
        .arg(&stats);
    let (out, killed) = Proc::spawn("l2fwd", &mut cmd, Some(&prefix)).wait(Duration::from_secs(60));
    assert_success("l2fwd --duration", &out, killed);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("\x1b[2J"),
        "text blocks in JSON mode:\n{stdout}"
    );
    let reports = json_reports(&stdout);
    let periods: u64 = reports
        .iter()
        .filter(|r| r["kind"] == "period")
        .map(|r| r["totals"]["rx_packets"].as_u64().unwrap())
        .sum();
    assert!(reports.len() >= 2, "{stdout}");
    let file = summary(&stats);
    assert_eq!(&file, reports.last().unwrap());
    assert_eq!(file["mode"], "mac-updating");
    assert!(file["duration_s"].as_f64().unwrap() >= 2.5);
    let port = |p: usize, key: &str| file["ports"][p][key].as_u64().unwrap();
    assert_eq!((port(0, "rx_packets"), port(0, "tx_packets")), (30, 12));
    assert_eq!((port(1, "rx_packets"), port(1, "tx_packets")), (12, 30));
    assert_eq!(port(1, "tx_bytes"), 30 * 60);
    assert!(periods <= 42, "periods count deltas, not totals: {periods}");
}

#[test]
fn pod_command_line_on_virtio_user_ports() {
    let _lock = DpdkLock::acquire();
    let mode = *MemoryMode::available(2048).last().unwrap();
    let (peer_cpu, cpu) = testkit::two_cpus();
    let dir = ScratchDir::new("l2fwd-virtio");
    let (peer, socks) = vhost_peer(&dir, mode, peer_cpu);
    let stats = dir.join("stats.json");
    let stdout = run_on_virtio(
        "l2fwd",
        mode,
        cpu,
        &socks,
        &[
            "-p",
            "0x3",
            "-T",
            "120",
            "--no-mac-updating",
            "-P",
            "--duration",
            "3",
        ],
        &stats,
    );
    assert!(
        stdout.contains(&format!("Lcore {cpu}: RX port 1 TX port 0")),
        "{stdout}"
    );
    // The text block of the summary, as C l2fwd prints its periodic ones.
    assert!(stdout.contains("\nAggregate statistics ==============================="));
    let file = summary(&stats);
    for p in 0..2 {
        let rx = file["ports"][p]["rx_packets"].as_u64().unwrap();
        let tx = file["ports"][1 - p]["tx_packets"].as_u64().unwrap();
        let dropped = file["ports"][1 - p]["tx_dropped"].as_u64().unwrap();
        assert!(rx > 0, "port {p}: rx {rx}\n{stdout}");
        assert_eq!(
            rx,
            tx + dropped,
            "port {p}'s packets all went to port {}",
            1 - p
        );
    }
    drop(peer);
}
