//! Observability with the ecosystem's own tools, against running apps: `/metrics` passes
//! `promtool check metrics` and a real Prometheus server scrapes it and answers queries with
//! the app's exact counters.
//!
//! The traffic is our paced generator (vhost-user) to our sink (virtio-user), as in
//! testpmd_traffic.rs: once the generator has exited its count is final, and the sink's
//! counters must reach exactly that count. No assertion depends on a rate or a timing;
//! waits are generous for a loaded two-core machine.

mod testpmd_support;

use std::net::SocketAddr;
use std::time::Duration;

use testkit::prometheus::{self, Server};
use testkit::{DpdkLock, MemoryMode, Proc, ScratchDir};
use testpmd_support::*;

const START: Duration = Duration::from_secs(60);

/// The address an app printed in `Serving Prometheus metrics on http://ADDR/metrics`.
fn metrics_addr(p: &mut Proc) -> SocketAddr {
    p.wait_for_line("Serving Prometheus metrics on http://", START);
    let out = p.stdout_so_far();
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("Serving Prometheus metrics on http://"))
        .expect("the line waited for");
    line.trim_end_matches("/metrics")
        .parse()
        .expect("an address")
}

/// The value of the sample `name{...labels}` in exposition `text` (labels as written).
fn sample(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

#[test]
fn prometheus_scrapes_exact_counters_that_promtool_accepts() {
    let _lock = DpdkLock::acquire();
    let (a, b) = testkit::two_cpus();
    let mode = MemoryMode::NoHuge;
    let dir = ScratchDir::new("obs-prom");
    let sock = dir.join("vhost.sock");
    let (sink_prefix, gen_prefix) = (
        testkit::unique_prefix("obs-sink"),
        testkit::unique_prefix("obs-gen"),
    );
    let gen_json = dir.join("gen.json");
    let mut gen = Proc::spawn(
        "generator",
        &mut ours(
            &eal(
                mode,
                &b.to_string(),
                &gen_prefix,
                &[format!("net_vhost0,iface={},queues=1", sock.display())],
            ),
            &[
                "--forward-mode=txonly",
                "--tx-rate=100000",
                "--duration=2",
                "--tx-first",
                "--metrics-addr=127.0.0.1:0",
                &format!("--stats-file={}", gen_json.display()),
            ],
        ),
        Some(&gen_prefix),
    );
    gen.wait_for_path(&sock, START);
    gen.wait_for_line("Checking link statuses", START);
    let mut sink = Proc::spawn(
        "sink",
        &mut ours(
            &eal(
                mode,
                &a.to_string(),
                &sink_prefix,
                &[format!("net_virtio_user0,path={},queues=1", sock.display())],
            ),
            &[
                "--forward-mode=rxonly",
                "--stats-period=0",
                "--idle-sleep-us=10",
                "--metrics-addr=127.0.0.1:0",
            ],
        ),
        Some(&sink_prefix),
    );
    let addr = metrics_addr(&mut sink);
    // The generator serves its own metrics while it runs.
    let gen_addr = metrics_addr(&mut gen);
    let gen_text = prometheus::get(gen_addr, "/metrics").map(|(_, b)| b);
    let (gen_out, killed) = gen.wait(START);
    testkit::assert_success("generator", &gen_out, killed);
    let sent = json(&gen_json)["totals"]["tx_packets"].as_u64().unwrap();
    assert!(sent > 0);
    if let Some(text) = gen_text {
        prometheus::promtool_check(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(
            text.contains("dpdk_app_port_tx_target_packets_per_second{app=\"testpmd\",mode=\"txonly\",port=\"0\"} 100000"),
            "{text}"
        );
    }

    // The sink's counters reach the generator's count exactly (it drains its ring).
    let rx = "dpdk_app_port_rx_packets_total{app=\"testpmd\",mode=\"rxonly\",port=\"0\"}";
    let deadline = std::time::Instant::now() + START;
    let text = loop {
        let (status, text) = prometheus::get(addr, "/metrics").expect("the sink answers");
        assert_eq!(status, 200, "{text}");
        if sample(&text, rx) == Some(sent as f64) {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{rx} never reached {sent}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let said = prometheus::promtool_check(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(said.trim().is_empty(), "promtool lint: {said}");
    // Probe figures reach /metrics through the monitor's copy (about once a second).
    let received =
        "dpdk_app_probe_received_packets_total{app=\"testpmd\",mode=\"rxonly\",port=\"0\",stream=\"0\"}";
    let deadline = std::time::Instant::now() + START;
    loop {
        let (_, text) = prometheus::get(addr, "/metrics").expect("the sink answers");
        if sample(&text, received) == Some(sent as f64) {
            assert_eq!(
                sample(&text, "dpdk_app_probe_lost_packets{app=\"testpmd\",mode=\"rxonly\",port=\"0\",stream=\"0\"}"),
                Some(0.0),
                "{text}"
            );
            assert_eq!(
                sample(
                    &text,
                    "dpdk_app_probe_latency_seconds_count{app=\"testpmd\",mode=\"rxonly\"}"
                ),
                Some(sent as f64),
                "{text}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{received} never reached {sent}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // DPDK's own client reads the same figures from our telemetry commands.
    let answers = telemetry(
        &sink_prefix,
        &["/dpdk_app/info", "/dpdk_app/stats", "/dpdk_app/probe"],
    );
    assert_eq!(
        answers[0]["/dpdk_app/info"]["app"], "testpmd",
        "{answers:?}"
    );
    assert_eq!(
        answers[0]["/dpdk_app/info"]["mode"], "rxonly",
        "{answers:?}"
    );
    assert_eq!(
        answers[1]["/dpdk_app/stats"]["port0/rx_packets"].as_u64(),
        Some(sent),
        "{answers:?}"
    );
    let probe = &answers[2]["/dpdk_app/probe"];
    assert_eq!(
        probe["port0/stream0/received"].as_u64(),
        Some(sent),
        "{answers:?}"
    );
    assert_eq!(probe["port0/stream0/lost"].as_u64(), Some(0), "{answers:?}");

    // A real Prometheus scrapes it; its query API returns the same exact count.
    let server = Server::start(addr, START);
    server.wait_for_value(
        "dpdk_app_port_rx_packets_total{app=\"testpmd\",port=\"0\"}",
        sent as f64,
        START,
    );
    server.wait_for_value(
        "sum(dpdk_app_probe_received_packets_total)",
        sent as f64,
        START,
    );
    server.wait_for_value("dpdk_app_build_info{app=\"testpmd\"}", 1.0, START);
    drop(server);
    stop_ok("sink", sink, "INT");
}

/// `dpdk-telemetry.py -f PREFIX` with `commands` on its stdin: one JSON answer per command.
fn telemetry(prefix: &str, commands: &[&str]) -> Vec<serde_json::Value> {
    use std::io::Write;
    let mut child = std::process::Command::new("dpdk-telemetry.py")
        .args(["-f", prefix])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dpdk-telemetry.py (package dpdk)");
    let mut stdin = child.stdin.take().expect("piped");
    for c in commands {
        writeln!(stdin, "{c}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let answers: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l.trim_start_matches("--> ")).ok())
        .filter(|v: &serde_json::Value| commands.iter().any(|c| v.get(c).is_some()))
        .collect();
    assert_eq!(
        answers.len(),
        commands.len(),
        "{}",
        testkit::describe("dpdk-telemetry.py", &out)
    );
    answers
}

/// `dpdk-dumpcap` attaches to a running app as a DPDK secondary process and has the app's
/// pdump server (`rte_pdump_init`) install its RX/TX callbacks: it lists our port and reports
/// the packets the app passed through them. The primary must use hugepages (a secondary cannot
/// attach to `--no-huge` memory).
///
/// What it cannot show here is the frames: on this machine Debian's dpdk-dumpcap 22.11 counts
/// every packet as dropped (received 0) even from DPDK's own dpdk-testpmd (net_null and
/// vhost-user set-ups tried), so the test asserts what holds for both.
#[test]
fn dpdk_dumpcap_attaches_and_sees_the_apps_packets() {
    let _lock = DpdkLock::acquire();
    if !MemoryMode::available(256).contains(&MemoryMode::Huge) {
        eprintln!("no free hugepages: dpdk-dumpcap cannot attach to a --no-huge app; skipped");
        return;
    }
    let (a, _) = testkit::two_cpus();
    let dir = ScratchDir::new("obs-cap");
    let prefix = testkit::unique_prefix("obs-cap");
    let mut app = Proc::spawn(
        "testpmd txonly",
        &mut ours(
            &eal(
                MemoryMode::Huge,
                &a.to_string(),
                &prefix,
                &["net_null0".into()],
            ),
            &[
                "--forward-mode=txonly",
                "--tx-rate=2000",
                "--stats-period=1",
                "--idle-sleep-us=100",
            ],
        ),
        Some(&prefix),
    );
    app.wait_for_line("Port statistics", START);
    let dumpcap = |args: &[&str]| {
        let out = std::process::Command::new("timeout")
            .args(["60", "dpdk-dumpcap", &format!("--file-prefix={prefix}")])
            .args(args)
            .output()
            .expect("dpdk-dumpcap (package dpdk)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "dpdk-dumpcap {args:?}: {text}");
        text
    };
    let list = dumpcap(&["-D"]);
    assert!(list.contains("net_null0"), "{list}");
    let file = dir.join("cap.pcapng");
    let report = dumpcap(&[
        "-i",
        "0",
        "-a",
        "duration:3",
        "-w",
        &file.display().to_string(),
    ]);
    let seen: u64 = report
        .lines()
        .find_map(|l| l.strip_prefix("Packets received/dropped on interface 'net_null0': "))
        .and_then(|rest| {
            let (counts, _) = rest.split_once(' ')?;
            let (r, d) = counts.split_once('/')?;
            Some(r.parse::<u64>().ok()? + d.parse::<u64>().ok()?)
        })
        .unwrap_or_else(|| panic!("no packet counts in {report}"));
    assert!(seen > 0, "the app's callbacks saw no packet: {report}");
    assert!(file.exists(), "{report}");
    stop_ok("testpmd txonly", app, "INT");
}

#[test]
fn a_bad_or_taken_metrics_address_is_a_clear_error() {
    let _lock = DpdkLock::acquire();
    let app = env!("CARGO_BIN_EXE_dpdk-app");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    for engine in ["testpmd", "l2fwd", "l3fwd"] {
        let prefix = testkit::unique_prefix("obs-bad");
        let port_mask: &[&str] = match engine {
            "testpmd" => &["--total-num-mbufs=8192", "--no-mlockall"],
            "l2fwd" => &["-p", "0x1"],
            _ => &["-p", "0x1", "--config=(0,0,0)"],
        };
        for (addr, want) in [("9091", "HOST:PORT"), (taken.as_str(), taken.as_str())] {
            let out = std::process::Command::new(app)
                .arg(engine)
                .args(MemoryMode::NoHuge.eal_args(256))
                .args(["--no-pci", "-l", "0", "--file-prefix", &prefix])
                .arg("--vdev=net_null0")
                .arg("--")
                .args(port_mask)
                .arg(format!("--metrics-addr={addr}"))
                .args(["--duration=1"])
                .output()
                .unwrap();
            testkit::remove_eal_files(&prefix);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                !out.status.success() && err.contains(want) && err.contains("metrics-addr"),
                "{engine} --metrics-addr={addr}: {}",
                testkit::describe(engine, &out)
            );
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}
