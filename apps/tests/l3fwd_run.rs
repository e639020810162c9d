//! Our l3fwd as pods run it: `--help` and argument errors without DPDK, the JSON statistics,
//! `--duration` and `--stats-file`, and forwarding on virtio-user ports (no RX checksum
//! offload, no packet type classification, no promiscuous mode), where C l3fwd 22.11 cannot
//! start.

mod sample_apps;

use std::process::Command;
use std::time::Duration;

use sample_apps::frames::udp4;
use sample_apps::{
    app, json_reports, pcap_vdevs, rejected, run_on_virtio, summary, vhost_peer, APP,
};
use testkit::pcap;
use testkit::{assert_success, describe, DpdkLock, MemoryMode, Proc, ScratchDir};

#[test]
fn help_and_argument_errors_need_no_dpdk() {
    for args in [
        &["--help"][..],
        &["-l", "1", "--", "-h"],
        &["--", "-p", "3", "--help"],
    ] {
        let out = app("l3fwd", args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", describe("l3fwd --help", &out));
        assert!(stdout.contains("Usage: dpdk-app l3fwd"), "{stdout}");
        assert!(stdout.contains("Differences from the C l3fwd"), "{stdout}");
    }
    let dir = ScratchDir::new("l3fwd-args");
    let rules = dir.join("bad.cfg");
    std::fs::write(&rules, "# routes\nR198.18.0.0/24 0\nR198.18.1.0/24 x\n").unwrap();
    let rule4 = format!("--rule_ipv4={}", rules.display());
    let rule6 = format!("--rule_ipv6={}", rules.display());
    let cases: [(&[&str], String); 5] = [
        (
            &["--", "--config=(0,0,1)"],
            "-p PORTMASK is required".into(),
        ),
        (
            &["--", "-p", "3", "--config=(0,0)"],
            "2 fields, expected 3".into(),
        ),
        (
            &["--", "-p", "3", "-E", "-L"],
            "Only one lookup mode".into(),
        ),
        (
            &["--", "-p", "1", "--config=(0,0,1)", "--lookup=acl"],
            "--lookup \"acl\"".into(),
        ),
        (
            &["--", "-p", "1", "--config=(0,0,1)", &rule4, &rule6],
            format!("{}:3: invalid port \"x\"", rules.display()),
        ),
    ];
    for (args, expected) in cases {
        let stderr = rejected("l3fwd", args);
        assert!(stderr.contains(&expected), "{args:?}: {stderr}");
    }
}

#[test]
fn json_statistics_duration_and_stats_file() {
    let _lock = DpdkLock::acquire();
    let dir = ScratchDir::new("l3fwd-json");
    // Port 0 receives 20 frames for port 1 and 5 for itself, port 1 receives 7 for port 0 and
    // 3 with a bad first byte (dropped).
    let host = [192, 0, 2, 1];
    let mut in0: Vec<Vec<u8>> = (0..20).map(|i| udp4(host, [198, 18, 1, i])).collect();
    in0.extend((0..5).map(|i| udp4(host, [198, 18, 0, i])));
    let mut in1: Vec<Vec<u8>> = (0..7).map(|i| udp4(host, [198, 18, 0, i])).collect();
    in1.extend((0..3).map(|_| {
        let mut f = udp4(host, [198, 18, 0, 9]);
        f[14] = 0x44;
        f
    }));
    let prefix = testkit::unique_prefix("l3fwd-json");
    let vdevs = pcap_vdevs(&dir, &[in0, in1]);
    let stats = dir.join("stats.json");
    let mut cmd = Command::new(APP);
    cmd.args(["l3fwd", "--no-huge", "-m", "512", "--no-pci", "-l", "1"])
        .arg(format!("--file-prefix={prefix}"))
        .args(&vdevs)
        .args([
            "--",
            "-p",
            "0x3",
            "--config=(0,0,1),(1,0,1)",
            "--duration",
            "2.5",
        ])
        .args([
            "--stats-period",
            "1",
            "--stats-format",
            "json",
            "--stats-file",
        ])
        .arg(&stats);
    let (out, killed) = Proc::spawn("l3fwd", &mut cmd, Some(&prefix)).wait(Duration::from_secs(60));
    assert_success("l3fwd --duration", &out, killed);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let reports = json_reports(&stdout);
    assert!(
        reports.iter().filter(|r| r["kind"] == "period").count() >= 1,
        "no periodic report in\n{stdout}"
    );
    let last = reports.last().expect("JSON reports");
    assert_eq!(last["kind"], "summary");
    assert!(stdout.contains("Bye..."), "{stdout}");
    let file = summary(&stats);
    assert_eq!(&file, last, "the stats file holds the printed summary");
    assert_eq!(
        (file["app"].as_str(), file["mode"].as_str()),
        (Some("l3fwd"), Some("lpm"))
    );
    let port = |p: usize, key: &str| file["ports"][p][key].as_u64().unwrap();
    assert_eq!((port(0, "rx_packets"), port(0, "tx_packets")), (25, 12));
    assert_eq!((port(1, "rx_packets"), port(1, "tx_packets")), (10, 20));
    assert_eq!((port(1, "rx_dropped"), port(0, "rx_dropped")), (3, 0));
    assert_eq!(port(0, "rx_bytes"), 25 * 60);
    assert_eq!(port(1, "tx_bytes"), 20 * 60);
    assert_eq!(pcap::read(&dir.join("out1.pcap")).len(), 20);
}

#[test]
fn runs_on_virtio_user_ports() {
    let _lock = DpdkLock::acquire();
    let mode = *MemoryMode::available(2048).last().unwrap();
    let (peer_cpu, cpu) = testkit::two_cpus();
    let dir = ScratchDir::new("l3fwd-virtio");
    let (peer, socks) = vhost_peer(&dir, mode, peer_cpu);
    // The pod entrypoint's command line, literal quotes around the --config tuples included.
    let config = format!("--config=\"(0,0,{cpu}),(1,0,{cpu})\"");
    for (lookup, parse_ptype) in [("-L", true), ("-E", false)] {
        let stats = dir.join("stats.json");
        let mut args = vec!["-p", "0x3", "-P", lookup, &config];
        args.extend(parse_ptype.then_some("--parse-ptype"));
        args.extend(["--duration", "3", "--stats-format", "json"]);
        let stdout = run_on_virtio("l3fwd", mode, cpu, &socks, &args, &stats);
        assert_eq!(
            stdout.contains("parsing them in software"),
            !parse_ptype,
            "{stdout}"
        );
        let file = summary(&stats);
        for p in 0..2 {
            let rx = file["ports"][p]["rx_packets"].as_u64().unwrap();
            let tx = file["ports"][p]["tx_packets"].as_u64().unwrap();
            // flowgen's 10.253.0.x misses every route: each port sends back what it received.
            assert!(rx > 0 && tx > 0, "port {p}: rx {rx} tx {tx}\n{stdout}");
            let dropped = file["ports"][p]["tx_dropped"].as_u64().unwrap()
                + file["ports"][p]["rx_dropped"].as_u64().unwrap();
            assert_eq!(rx, tx + dropped, "port {p}: rx = tx + dropped\n{stdout}");
        }
    }
    drop(peer);
}
