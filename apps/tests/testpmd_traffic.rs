//! Traffic between two processes over vhost-user/virtio-user (the pods' path): our generator
//! and sink, and DPDK's testpmd against ours in both directions, with sender TX equal to
//! receiver RX; paced generators report what they offered against `--tx-rate`; SIGINT and
//! SIGTERM end a run with status 0 and the final statistics.
//!
//! Counts are exact by construction, whatever the scheduler does. Between our apps the sender
//! is the vhost side (`net_vhost`), whose TX copies each frame into the receiver's virtio RX
//! ring before counting it (a full ring refuses the frame, counted as TX-dropped, not
//! TX-packets); the sender keeps the connection up for `quiesce::TX_LINGER` after its last
//! frame, and the receiver drains its ring on SIGINT until it stays quiet. DPDK's testpmd
//! drops what is in flight when a vhost-user connection closes under it, so against it the
//! connection stays up until the count is read: our generator (virtio) lingers until testpmd's
//! statistics show every frame, and testpmd as the generator is stopped with its interactive
//! `stop` (ports stay up) before our sink drains and counts. No test asserts a rate.

mod testpmd_support;

use std::path::PathBuf;
use std::time::Duration;

use testkit::{last_nic_rx, parse_forward_stats, DpdkLock, MemoryMode, Proc, ScratchDir};
use testpmd_support::*;

/// Start-up (EAL init, vhost-user negotiation) on a loaded machine.
const START: Duration = Duration::from_secs(60);

/// A vhost-user pair: the vhost (server) side sends, the virtio-user side receives.
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

    /// Starts the vhost side and waits until its port is started (testpmd, ours or DPDK's,
    /// then checks the links). A virtio peer that connects while the vhost port is still being
    /// set up can find its queues never enabled on DPDK 22.11's vhost PMD (measured on a
    /// loaded machine: the sender's TX was refused for the whole run).
    fn start_vhost(&self, mut p: Proc) -> Proc {
        p.wait_for_path(&self.sock, START);
        p.wait_for_line("Checking link statuses", START);
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
        let gen = pair.start_vhost(Proc::spawn(
            "generator",
            &mut ours(
                &pair.vhost_eal(&b, &gen_prefix),
                &[
                    "--forward-mode=txonly",
                    "--tx-rate=300000",
                    "--duration=2",
                    "--tx-first",
                    &format!("--stats-file={gen_json}"),
                ],
            ),
            Some(&gen_prefix),
        ));
        let mut sink = Proc::spawn(
            "sink",
            &mut ours(
                &pair.virtio_eal(&a, &sink_prefix),
                &[
                    "--forward-mode=rxonly",
                    "--stats-period=1",
                    "--stats-format=json",
                    "--idle-sleep-us=10",
                    &format!("--stats-file={sink_json}"),
                ],
            ),
            Some(&sink_prefix),
        );
        sink.wait_for_line("start packet forwarding", START);
        let (gen_out, killed) = gen.wait(START);
        testkit::assert_success("generator", &gen_out, killed);
        let gen_out = stdout(&gen_out);
        let sink_out = stop_ok("sink", sink, "INT");
        let (gen, sink) = (
            json(pair.dir.join("gen.json").as_path()),
            json(pair.dir.join("sink.json").as_path()),
        );
        let ctx = format!("{}\n{gen}\n{sink}", mode.name());
        // Named counters: the generator's PMD-accepted tx_packets against the sink's
        // rx_packets; the frames the sink's full ring refused are the generator's tx_dropped.
        let sent = gen["totals"]["tx_packets"].as_u64().unwrap();
        assert!(sent > 0, "{ctx}");
        assert_eq!(
            sink["totals"]["rx_packets"].as_u64(),
            Some(sent),
            "sink rx_packets against generator tx_packets: {ctx}"
        );
        let probe = &sink["probe"]["totals"];
        assert_eq!(probe["received"].as_u64(), Some(sent), "{ctx}");
        assert_eq!(probe["lost"], 0, "probe sequence gaps: {ctx}");
        assert_eq!(probe["duplicated"], 0, "{ctx}");
        assert_eq!(probe["reordered"], 0, "{ctx}");
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
            !received.is_empty() && received.windows(2).all(|w| w[0] <= w[1]),
            "{received:?}"
        );
        assert!(received.iter().all(|&r| r <= sent), "{received:?}");
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

    // Our generator (virtio-user) to testpmd's rxonly (vhost; it needs a worker lcore: it
    // forwards on `b`). Our generator keeps its port open for quiesce::TX_LINGER after its
    // last frame, so that testpmd dequeues everything; it is stopped once its statistics
    // show every frame we sent.
    let pair = Pair::new(mode);
    let (sink_prefix, gen_prefix) = (
        testkit::unique_prefix("tp-tsink"),
        testkit::unique_prefix("tp-ogen"),
    );
    let gen_json = pair.file("gen.json");
    let mut sink = pair.start_vhost(Proc::spawn(
        "dpdk-testpmd rxonly",
        &mut theirs(
            &pair.vhost_eal(&format!("{a},{b}"), &sink_prefix),
            // testpmd flushes its RX queues when forwarding starts: it must count every frame.
            &["--forward-mode=rxonly", "--stats-period=1", "--no-flush-rx"],
        ),
        Some(&sink_prefix),
    ));
    let (out, killed) = Proc::spawn(
        "our generator",
        &mut ours(
            &pair.virtio_eal(&a, &gen_prefix),
            &[
                "--forward-mode=txonly",
                "--tx-rate=300000",
                "--duration=1.5",
                "--tx-first",
                &format!("--stats-file={gen_json}"),
            ],
        ),
        Some(&gen_prefix),
    )
    .wait(START);
    testkit::assert_success("our generator", &out, killed);
    let sent = json(pair.dir.join("gen.json").as_path())["totals"]["tx_packets"]
        .as_u64()
        .unwrap();
    assert!(sent > 0, "{}", testkit::describe("our generator", &out));
    sink.wait_for_output(
        &format!("RX-packets: {sent} in testpmd's statistics"),
        START,
        |out| last_nic_rx(out, 0) >= Some(sent),
    );
    let sink_out = stdout(&stop_ok("dpdk-testpmd rxonly", sink, "INT"));
    assert_eq!(
        parse_forward_stats(&sink_out)[&0].rx_packets,
        sent,
        "testpmd's RX-packets against our tx_packets:\n{sink_out}"
    );

    // testpmd's txonly (vhost, interactive) to our rxonly (virtio): testpmd's `stop` ends its
    // sending with the ports up, so every frame it counted is in our ring while we drain.
    let pair = Pair::new(mode);
    let (sink_prefix, gen_prefix) = (
        testkit::unique_prefix("tp-osink"),
        testkit::unique_prefix("tp-tgen"),
    );
    let sink_json = pair.file("sink.json");
    let mut gen = pair.start_vhost(Proc::spawn_interactive(
        "dpdk-testpmd txonly",
        &mut theirs(
            &pair.vhost_eal(&format!("{b},{a}"), &gen_prefix),
            &["-i", "--forward-mode=txonly"],
        ),
        Some(&gen_prefix),
    ));
    let mut sink = Proc::spawn(
        "our sink",
        &mut ours(
            &pair.virtio_eal(&a, &sink_prefix),
            &[
                "--forward-mode=rxonly",
                "--stats-period=1",
                &format!("--stats-file={sink_json}"),
            ],
        ),
        Some(&sink_prefix),
    );
    sink.wait_for_line("start packet forwarding", START);
    gen.send_line("start");
    sink.wait_for_output("received packets", START, |out| {
        last_nic_rx(out, 0).is_some_and(|n| n > 0)
    });
    gen.send_line("stop");
    gen.wait_for_output("testpmd's forward statistics", START, |out| {
        out.contains("Accumulated forward statistics for all ports")
    });
    let sent = parse_forward_stats(&gen.stdout_so_far())[&0].tx_packets;
    let sink_out = stdout(&stop_ok("our sink", sink, "TERM"));
    gen.send_line("quit");
    let (gen_out, killed) = gen.wait(START);
    testkit::assert_success("dpdk-testpmd txonly", &gen_out, killed);
    let gen_out = stdout(&gen_out);
    assert!(sent > 0, "{gen_out}\n{sink_out}");
    let sink = json(pair.dir.join("sink.json").as_path());
    assert_eq!(
        sink["totals"]["rx_packets"].as_u64(),
        Some(sent),
        "our rx_packets against testpmd's TX-packets\n{gen_out}\n{sink_out}"
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
        let mut p = Proc::spawn("testpmd", &mut cmd, Some(&prefix));
        p.wait_for_output("two periodic blocks", START, |out| {
            out.matches("Port statistics").count() >= 2
        });
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

/// A paced generator says what it offered against `--tx-rate`, in the periodic and final JSON
/// and, when a period falls short, with a warning under the text block. The rate asked for
/// here (10^9 packets/s on one lcore) is out of reach of any machine, so the shortfall does
/// not depend on the scheduler; how exactly the rate is held is the token bucket's property,
/// tested on a simulated clock in `testpmd::pacing`.
#[test]
fn paced_generators_report_what_they_offered_against_the_target() {
    let _lock = DpdkLock::acquire();
    const TARGET: u64 = 1_000_000_000;
    let run = |format: &str| -> (String, String) {
        let prefix = testkit::unique_prefix("tp-rate");
        let dir = ScratchDir::new("tp-rate");
        let stats = dir.join("stats.json");
        let eal = eal(MemoryMode::NoHuge, "0", &prefix, &["net_null0".into()]);
        let mut p = Proc::spawn(
            "paced txonly",
            &mut ours(
                &eal,
                &[
                    "--forward-mode=txonly",
                    &format!("--tx-rate={TARGET}"),
                    "--stats-period=1",
                    &format!("--stats-format={format}"),
                    &format!("--stats-file={}", stats.display()),
                ],
            ),
            Some(&prefix),
        );
        let periods = if format == "json" {
            "\"kind\":\"period\""
        } else {
            "Port statistics"
        };
        p.wait_for_output("three periods", START, |out| {
            out.matches(periods).count() >= 3
        });
        let out = stdout(&stop_ok("paced txonly", p, "INT"));
        (out, std::fs::read_to_string(stats).unwrap())
    };

    let (out, summary) = run("json");
    let reports: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .chain(std::iter::once(serde_json::from_str(&summary).unwrap()))
        .collect();
    assert!(reports.len() >= 3, "{out}");
    for r in &reports {
        let pacing = &r["pacing"];
        assert_eq!(pacing["target_pps"], TARGET, "{r}");
        let port = &pacing["ports"][0];
        assert_eq!(
            (port["port"].as_u64(), port["target_pps"].as_u64()),
            (Some(0), Some(TARGET))
        );
        let offered = pacing["offered_pps"].as_f64().unwrap();
        let measured =
            r["totals"]["tx_packets"].as_f64().unwrap() / r["duration_s"].as_f64().unwrap();
        assert!(
            (offered - measured).abs() <= 1e-6 * measured.max(1.0),
            "{r}"
        );
        assert!(offered < TARGET as f64, "{r}");
        assert!(pacing["longest_stall_ms"].as_f64().unwrap() >= 0.0, "{r}");
    }

    let (out, _) = run("text");
    let warning = out
        .lines()
        .find(|l| l.starts_with("Warning: port 0 offered"))
        .unwrap_or_else(|| panic!("no shortfall warning in\n{out}"));
    assert!(
        warning.contains("below --tx-rate 1000000000") && warning.contains("longest stall"),
        "{warning}"
    );
}

#[test]
fn sigint_and_sigterm_end_with_status_0_and_the_final_statistics() {
    let _lock = DpdkLock::acquire();
    for signal in ["INT", "TERM"] {
        let prefix = testkit::unique_prefix("tp-sig");
        let eal = eal(MemoryMode::NoHuge, "0", &prefix, &["net_null0".into()]);
        let mut p = Proc::spawn(
            "testpmd",
            &mut ours(&eal, &["--forward-mode=rxonly", "--stats-period=1"]),
            Some(&prefix),
        );
        p.wait_for_line("Port statistics", START);
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
