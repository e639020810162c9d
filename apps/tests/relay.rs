//! The relay switches frames between vhost-user ports within a segment only, and accounts for
//! every frame: DPDK's own testpmd generates on one segment through virtio-user, another testpmd
//! receives on both segments.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use testkit::{assert_success, describe, parse_forward_stats, DpdkLock, Proc, ScratchDir};

const APP: &str = env!("CARGO_BIN_EXE_dpdk-app");
/// Start-up (EAL init, vhost-user negotiation) on a loaded machine.
const START: Duration = Duration::from_secs(60);
/// Drain, final statistics and exit.
const STOP: Duration = Duration::from_secs(30);

fn testpmd(prefix: &str, lcores: &str, main: &str, vdevs: &[String], app: &[&str]) -> Command {
    let mut cmd = testkit::dpdk_testpmd();
    cmd.args([
        "--no-huge",
        "-m",
        "256",
        "--no-pci",
        "-l",
        lcores,
        "--main-lcore",
        main,
        "--file-prefix",
        prefix,
    ]);
    cmd.args(vdevs.iter().map(|v| format!("--vdev={v}")));
    cmd.arg("--")
        .args([
            "--total-num-mbufs=8192",
            "--stats-period",
            "1",
            "--no-flush-rx",
        ])
        .args(app);
    cmd
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn relay_switches_within_segments_and_counts_every_frame() {
    let _lock = DpdkLock::acquire();
    let dir = ScratchDir::new("relay");
    let sock = |i: usize| dir.join(&format!("s{i}.sock"));
    let stats_file = dir.join("relay.json");

    let relay_prefix = testkit::unique_prefix("relay");
    let mut relay = Command::new(APP);
    relay.args([
        "relay",
        "--no-huge",
        "-m",
        "512",
        "--no-pci",
        "-l",
        "0",
        "--file-prefix",
        &relay_prefix,
    ]);
    for i in 0..4 {
        relay.arg(format!(
            "--vdev=net_vhost{i},iface={},queues=1",
            sock(i).display()
        ));
    }
    relay
        .args([
            "--",
            "--segment",
            "vlan1000=0,2",
            "--segment",
            "vlan2000=1,3",
            "--idle-sleep-us",
            "10",
            "--stats-file",
        ])
        .arg(&stats_file);
    let relay = Proc::spawn("relay", &mut relay, Some(&relay_prefix));
    for i in 0..4 {
        testkit::wait_for_path(&sock(i), Duration::from_secs(30)).expect("relay socket");
    }

    let vdev =
        |k: usize, s: usize| format!("net_virtio_user{k},path={},queues=1", sock(s).display());
    let sink_prefix = testkit::unique_prefix("sink");
    let mut sink = Proc::spawn(
        "sink testpmd",
        &mut testpmd(
            &sink_prefix,
            "1,0",
            "1",
            &[vdev(0, 2), vdev(1, 3)],
            &["--forward-mode=rxonly"],
        ),
        Some(&sink_prefix),
    );
    sink.wait_for_line("start packet forwarding", START);
    let gen_prefix = testkit::unique_prefix("gen");
    let mut gen = Proc::spawn(
        "generator testpmd",
        &mut testpmd(
            &gen_prefix,
            "0,1",
            "0",
            &[vdev(0, 0), vdev(1, 1)],
            &["--forward-mode=txonly", "--portmask=0x1"],
        ),
        Some(&gen_prefix),
    );
    gen.wait_for_output("frames sent", START, |out| {
        testkit::last_nic_tx(out, 0).is_some_and(|n| n > 0)
    });

    // Stop in the order of the path: the generator, then the relay (it delivers what it
    // still holds), then the sink once its statistics show all the relay delivered.
    gen.signal("INT");
    let (gen_out, killed) = gen.wait(STOP);
    assert!(!killed, "{}", describe("generator", &gen_out));
    relay.signal("INT");
    let (relay_out, killed) = relay.wait(STOP);
    assert_success("relay", &relay_out, killed);
    let relay_stats = json(&stats_file);
    let port = |p: u64, key: &str| {
        let entry = relay_stats["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["port"] == p)
            .expect("port in report");
        entry[key].as_u64().unwrap()
    };
    let delivered = port(2, "tx_packets");
    sink.wait_for_output(&format!("RX-packets: {delivered}"), START, |out| {
        testkit::last_nic_rx(out, 0) >= Some(delivered)
    });
    sink.signal("INT");
    let (sink_out, killed) = sink.wait(STOP);
    assert!(!killed, "{}", describe("sink", &sink_out));

    let gen_stats = parse_forward_stats(&String::from_utf8_lossy(&gen_out.stdout));
    let sink_stats = parse_forward_stats(&String::from_utf8_lossy(&sink_out.stdout));
    let sent = gen_stats[&0].tx_packets;
    eprintln!("generator sent {sent}, relay {relay_stats}, sink {sink_stats:?}");

    // DPDK's testpmd closes its port without waiting for the relay to take what is still in
    // its TX ring: at most that is missing at the relay.
    assert!(
        port(0, "rx_packets") > 0 && port(0, "rx_packets") <= sent,
        "relay received what was sent on vlan1000, less what stayed in testpmd's ring"
    );
    assert_eq!(
        port(0, "rx_packets"),
        port(2, "tx_packets") + port(2, "tx_dropped") + port(0, "rx_dropped"),
        "every frame forwarded or counted as dropped: {relay_stats}"
    );
    let drops = &relay_stats["drops"];
    assert!(
        drops.as_array().is_some_and(|d| d.len() == 4),
        "{relay_stats}"
    );
    assert_eq!(
        sink_stats[&0].rx_packets,
        port(2, "tx_packets"),
        "sink received exactly what the relay delivered"
    );
    for (what, value) in [
        (
            "relay rx on vlan2000",
            port(1, "rx_packets") + port(3, "rx_packets"),
        ),
        (
            "relay tx on vlan2000",
            port(1, "tx_packets") + port(3, "tx_packets"),
        ),
        ("sink rx on vlan2000", sink_stats[&1].rx_packets),
        (
            "generator tx on port 1",
            gen_stats.get(&1).map_or(0, |s| s.tx_packets),
        ),
    ] {
        assert_eq!(value, 0, "{what}: segments must stay apart");
    }
}

#[test]
fn relay_rejects_bad_segments() {
    let out = Command::new(APP)
        .args(["relay", "--", "--segment", "vlan1000=0,x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--segment") && err.contains("\"x\""), "{err}");

    let _lock = DpdkLock::acquire();
    let prefix = testkit::unique_prefix("relay-bad");
    let out = Command::new(APP)
        .args([
            "relay",
            "--no-huge",
            "-m",
            "128",
            "--no-pci",
            "-l",
            "0",
            "--file-prefix",
            &prefix,
            "--vdev=net_null0",
        ])
        .args(["--", "--segment", "a=0,1"])
        .output()
        .unwrap();
    testkit::remove_eal_files(&prefix);
    assert_eq!(out.status.code(), Some(1), "{}", describe("relay", &out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("port 1"),
        "{}",
        describe("relay", &out)
    );
}
