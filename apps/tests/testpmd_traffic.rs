//! Traffic between two processes over vhost-user/virtio-user (the pods' path): our generator
//! and sink count exactly and lose no probe at a paced rate; DPDK's testpmd interoperates in
//! both directions with sender TX equal to receiver RX; `--tx-rate` holds its rate; SIGINT and
//! SIGTERM end a run with status 0 and the final statistics.

mod testpmd_support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use testkit::{parse_forward_stats, DpdkLock, MemoryMode, Proc, ScratchDir};
use testpmd_support::*;

/// One side of a vhost-user pair: the vhost (server) side is the sink or the generator.
struct Pair {
    dir: ScratchDir,
    sock: PathBuf,
    mode: MemoryMode,
}

impl Pair {
    fn new(mode: MemoryMode) -> Self {
        let dir = ScratchDir::new("tp-pair");
        let sock = dir.join("vhost.sock");
        Pair { dir, sock, mode }
    }

    fn vhost_eal(&self, lcores: &str, prefix: &str) -> Vec<String> {
        eal(
            self.mode,
            lcores,
            prefix,
            &[format!("net_vhost0,iface={},queues=1", self.sock.display())],
        )
    }

    fn virtio_eal(&self, lcores: &str, prefix: &str) -> Vec<String> {
        eal(
            self.mode,
            lcores,
            prefix,
            &[format!(
                "net_virtio_user0,path={},queues=1",
                self.sock.display()
            )],
        )
    }

    /// Starts the vhost side and waits for its socket.
    fn start_vhost(&self, name: &str, cmd: &mut Command, prefix: &str) -> Proc {
        let p = Proc::spawn(name, cmd, Some(prefix));
        testkit::wait_for_path(&self.sock, Duration::from_secs(30)).expect("vhost-user socket");
        p
    }

    fn file(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

fn cpus() -> (String, String) {
    let (a, b) = testkit::two_cpus();
    (a.to_string(), b.to_string())
}

#[test]
fn our_generator_to_our_sink_counts_exactly_without_probe_loss() {
    let _lock = DpdkLock::acquire();
    let (a, b) = cpus();
    for mode in MemoryMode::available(1024) {
        let pair = Pair::new(mode);
        let (sink_prefix, gen_prefix) = (
            testkit::unique_prefix("tp-sink"),
            testkit::unique_prefix("tp-gen"),
        );
        let (sink_json, gen_json) = (pair.file("sink.json"), pair.file("gen.json"));
        let sink = pair.start_vhost(
            "sink",
            &mut ours(
                &pair.vhost_eal(&a, &sink_prefix),
                &[
                    "--forward-mode=rxonly",
                    "--stats-period=1",
                    "--stats-format=json",
                    "--idle-sleep-us=10",
                    &format!("--stats-file={sink_json}"),
                ],
            ),
            &sink_prefix,
        );
        let gen_out = run_ok(
            "generator",
            &mut ours(
                &pair.virtio_eal(&b, &gen_prefix),
                &[
                    "--forward-mode=txonly",
                    "--tx-rate=300000",
                    "--duration=2",
                    "--tx-first",
                    &format!("--stats-file={gen_json}"),
                ],
            ),
            &gen_prefix,
        );
        std::thread::sleep(Duration::from_millis(300));
        let sink_out = stop_ok("sink", sink, "INT");
        let (gen, sink) = (
            json(pair.dir.join("gen.json").as_path()),
            json(pair.dir.join("sink.json").as_path()),
        );
        let sent = gen["totals"]["tx_packets"].as_u64().unwrap();
        assert!(sent > 400_000, "{}: {gen}", mode.name());
        assert_eq!(
            sink["totals"]["rx_packets"].as_u64(),
            Some(sent),
            "{}: sink received what the generator sent\n{gen}\n{sink}",
            mode.name()
        );
        let probe = &sink["probe"]["totals"];
        assert_eq!(probe["received"].as_u64(), Some(sent), "{probe}");
        assert_eq!(probe["lost"], 0, "{probe}");
        assert_eq!(probe["duplicated"], 0, "{probe}");
        assert_eq!(probe["reordered"], 0, "{probe}");
        assert_eq!(gen["probe"]["totals"]["sent"].as_u64(), Some(sent));
        let lat = &probe["latency_ns"];
        assert!(
            lat["samples"].as_u64() == Some(sent) && lat["p50"].as_u64() > Some(0),
            "same host: latency measured for every packet: {probe}"
        );
        // The text blocks agree with the JSON.
        assert_eq!(parse_forward_stats(&gen_out)[&0].tx_packets, sent);
        let sink_text = stdout(&sink_out);
        assert_eq!(parse_forward_stats(&sink_text)[&0].rx_packets, sent);
        // Periodic JSON reports carry the lcores' probe state as it grows.
        let periods: Vec<serde_json::Value> = sink_text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["kind"] == "period")
            .collect();
        let received: Vec<u64> = periods
            .iter()
            .map(|p| p["probe"]["totals"]["received"].as_u64().unwrap())
            .collect();
        assert!(
            received.len() >= 2 && received.windows(2).all(|w| w[0] <= w[1]),
            "{received:?}"
        );
        assert!(received.iter().any(|&r| r > 0 && r < sent), "{received:?}");
        assert!(periods.iter().all(|p| p["probe"]["totals"]["lost"] == 0));
        assert!(
            gen_out.contains("Port 0 Link up at"),
            "--tx-first waits for links: {gen_out}"
        );
    }
}

#[test]
fn interoperates_with_dpdk_testpmd_both_ways() {
    let _lock = DpdkLock::acquire();
    let (a, b) = cpus();
    let mode = MemoryMode::NoHuge;

    // Our generator to testpmd's rxonly (testpmd needs a worker lcore: it forwards on `b`).
    let pair = Pair::new(mode);
    let (sink_prefix, gen_prefix) = (
        testkit::unique_prefix("tp-tsink"),
        testkit::unique_prefix("tp-ogen"),
    );
    let gen_json = pair.file("gen.json");
    let sink = pair.start_vhost(
        "dpdk-testpmd rxonly",
        &mut theirs(
            &pair.vhost_eal(&format!("{a},{b}"), &sink_prefix),
            &["--forward-mode=rxonly", "--stats-period=60"],
        ),
        &sink_prefix,
    );
    run_ok(
        "our generator",
        &mut ours(
            &pair.virtio_eal(&a, &gen_prefix),
            &[
                "--forward-mode=txonly",
                "--tx-rate=300000",
                "--duration=1.5",
                &format!("--stats-file={gen_json}"),
            ],
        ),
        &gen_prefix,
    );
    std::thread::sleep(Duration::from_millis(300));
    let sink_out = stdout(&stop_ok("dpdk-testpmd rxonly", sink, "INT"));
    let sent = json(pair.dir.join("gen.json").as_path())["totals"]["tx_packets"]
        .as_u64()
        .unwrap();
    assert!(sent > 100_000);
    assert_eq!(
        parse_forward_stats(&sink_out)[&0].rx_packets,
        sent,
        "testpmd received what we sent:\n{sink_out}"
    );

    // testpmd's txonly to our rxonly.
    let pair = Pair::new(mode);
    let (sink_prefix, gen_prefix) = (
        testkit::unique_prefix("tp-osink"),
        testkit::unique_prefix("tp-tgen"),
    );
    let sink_json = pair.file("sink.json");
    let sink = pair.start_vhost(
        "our sink",
        &mut ours(
            &pair.vhost_eal(&a, &sink_prefix),
            &[
                "--forward-mode=rxonly",
                "--stats-period=60",
                &format!("--stats-file={sink_json}"),
            ],
        ),
        &sink_prefix,
    );
    let gen = Proc::spawn(
        "dpdk-testpmd txonly",
        &mut theirs(
            &pair.virtio_eal(&format!("{b},{a}"), &gen_prefix),
            &["--forward-mode=txonly", "--stats-period=60"],
        ),
        Some(&gen_prefix),
    );
    std::thread::sleep(Duration::from_millis(2500));
    let gen_out = stdout(&stop_ok("dpdk-testpmd txonly", gen, "INT"));
    std::thread::sleep(Duration::from_millis(300));
    let sink_out = stdout(&stop_ok("our sink", sink, "TERM"));
    let sent = parse_forward_stats(&gen_out)[&0].tx_packets;
    assert!(sent > 100_000, "{gen_out}");
    let sink = json(pair.dir.join("sink.json").as_path());
    assert_eq!(
        sink["totals"]["rx_packets"].as_u64(),
        Some(sent),
        "we received what testpmd sent\n{gen_out}\n{sink_out}"
    );
    assert_eq!(parse_forward_stats(&sink_out)[&0].rx_packets, sent);
    assert_eq!(
        sink["probe"]["totals"]["received"], 0,
        "testpmd sends no probes"
    );
}

/// The same start-up, periodic and final text as DPDK's testpmd. Numbers and MACs are masked
/// (digits and upper-case hex letters become 0, runs of them and of spaces collapse, since
/// counts differ in width); the exact paddings are checked against captured testpmd text in
/// the unit tests of `testpmd::output`.
#[test]
fn text_output_matches_dpdk_testpmd() {
    let _lock = DpdkLock::acquire();
    let mask = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with("Primary:"))
            .map(|l| {
                let mut out = String::new();
                for c in l.chars() {
                    let c = match c {
                        '0'..='9' | 'A'..='F' => '0',
                        c => c,
                    };
                    if !((c == '0' || c == ' ') && out.ends_with(c)) {
                        out.push(c);
                    }
                }
                out
            })
            .collect()
    };
    let run = |theirs_or_ours: bool| -> Vec<String> {
        let prefix = testkit::unique_prefix("tp-text");
        let eal = eal(
            MemoryMode::NoHuge,
            "0,1",
            &prefix,
            &["net_null0".into(), "net_null1".into()],
        );
        let app = [
            "--forward-mode=io",
            "--rxq=2",
            "--txq=2",
            "--stats-period=1",
            "--record-burst-stats",
        ];
        let mut cmd = if theirs_or_ours {
            theirs(&eal, &app)
        } else {
            ours(&eal, &app)
        };
        let p = Proc::spawn("testpmd", &mut cmd, Some(&prefix));
        std::thread::sleep(Duration::from_millis(2500));
        mask(&stdout(&stop_ok("testpmd", p, "TERM")))
    };
    let (theirs, ours) = (run(true), run(false));
    // Periodic blocks may number differently: compare the start-up lines, one periodic block
    // and the final blocks.
    let split = |lines: &[String]| -> (Vec<String>, Vec<String>, Vec<String>) {
        let first = lines
            .iter()
            .position(|l| l.contains("Port statistics"))
            .expect("a periodic block");
        let stop = lines
            .iter()
            .position(|l| l == "Telling cores to stop...")
            .expect("stop lines");
        let block_end = lines[first..]
            .iter()
            .position(|l| l.trim_start().starts_with('#') && !l.contains("statistics"))
            .map(|i| first + i + 1)
            .expect("end of block");
        (
            lines[..first].to_vec(),
            lines[first..block_end].to_vec(),
            lines[stop..].to_vec(),
        )
    };
    let (t, o) = (split(&theirs), split(&ours));
    assert_eq!(o.0, t.0, "start-up lines");
    assert_eq!(o.1, t.1, "periodic block");
    // Final blocks up to "Done.", then (after our probe summary) the port shutdown lines.
    let done = |l: &[String]| l.iter().position(|l| l == "0one.").expect("Done.") + 1;
    assert_eq!(o.2[..done(&o.2)], t.2[..done(&t.2)], "final blocks");
    let shutdown = |l: &[String]| {
        let i = l
            .iter()
            .position(|l| l.starts_with("Stopping port"))
            .expect("shutdown");
        l[i..].to_vec()
    };
    assert_eq!(shutdown(&o.2), shutdown(&t.2), "shutdown lines");
    assert!(o.2[done(&o.2)..]
        .iter()
        .any(|l| l.contains("Probe statistics")));
}

#[test]
fn tx_rate_is_held_within_one_percent() {
    let _lock = DpdkLock::acquire();
    let prefix = testkit::unique_prefix("tp-rate");
    let eal = eal(MemoryMode::NoHuge, "0", &prefix, &["net_null0".into()]);
    let out = run_ok(
        "paced txonly",
        &mut ours(
            &eal,
            &[
                "--forward-mode=txonly",
                "--tx-rate=100000",
                "--stats-period=1",
                "--stats-format=json",
                "--duration=3.6",
            ],
        ),
        &prefix,
    );
    let periods: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "period")
        .collect();
    assert!(periods.len() >= 3, "{out}");
    // The first second includes start-up; the next ones are steady.
    for p in &periods[1..3] {
        let rate = p["totals"]["tx_packets"].as_f64().unwrap() / p["duration_s"].as_f64().unwrap();
        assert!(
            (99_000.0..=101_000.0).contains(&rate),
            "rate {rate:.0} pps is not within 1% of 100000: {p}"
        );
    }
}

#[test]
fn sigint_and_sigterm_end_with_status_0_and_the_final_statistics() {
    let _lock = DpdkLock::acquire();
    for signal in ["INT", "TERM"] {
        let prefix = testkit::unique_prefix("tp-sig");
        let eal = eal(MemoryMode::NoHuge, "0", &prefix, &["net_null0".into()]);
        let p = Proc::spawn(
            "testpmd",
            &mut ours(&eal, &["--forward-mode=rxonly", "--stats-period=1"]),
            Some(&prefix),
        );
        std::thread::sleep(Duration::from_millis(1500));
        let out = stdout(&stop_ok("testpmd", p, signal));
        for needle in [
            "Telling cores to stop...",
            "Accumulated forward statistics for all ports",
            "Done.",
            "Probe statistics",
            "Bye...",
        ] {
            assert!(out.contains(needle), "SIG{signal}: no {needle:?} in\n{out}");
        }
        assert!(parse_forward_stats(&out)[&0].rx_packets > 0);
    }
}
