//! The traffic-test manifest's pods, simulated on this machine (issue 7): their downward-API
//! files, device-plugin files and environment as kubelet, Multus and the SR-IOV device plugin
//! would give them, with the vhost-user relay standing in for the vDPA NIC and its VLANs.
//!
//! * Each pod's files plan as expected (`dpdk-app discover --json`).
//! * The pods run as in the cluster (`dpdk-app` with no arguments) and every frame the
//!   generator sent on each network is counted exactly: delivered to the sink or held by a
//!   named drop counter on the way (`podsim::ledger`), with VLAN 1000 and 2000 kept apart.
//!   Whether anything was lost depends on the scheduler and is not asserted; the demo's report
//!   shows it with the conditions it was measured under.
//! * The manifest's env decides what runs: a copy with other values runs other things.
//!
//! The harness appends only run-control options to the manifest's `TESTPMD_EXTRA_ARGS`
//! (`--stats-format json`, `--stats-file`, `--idle-sleep-us`, `--duration`, `--tx-rate`).

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use podsim::hugepages::HugepageMode;
use podsim::ledger;
use podsim::placement::{Placement, Role};
use podsim::run::{self, RunOutcome, RunSpec};
use podsim::{Options, SimPod, Simulation};
use serde_json::Value;
use testkit::{DpdkLock, MemoryMode, ScratchDir};

const APP: &str = env!("CARGO_BIN_EXE_dpdk-app");
/// Paced rate per port: the demo's default, loss-free on 2 busy cores (docs/demo.md).
const RATE: u64 = 50_000;
const SECONDS: f64 = 3.0;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn simulate(dir: &ScratchDir, manifest: Option<PathBuf>, hugepages: HugepageMode) -> Simulation {
    let mut opts = Options::traffic_test(&repo(), dir.join("sim"));
    if let Some(m) = manifest {
        opts.manifest = m;
    }
    opts.hugepages = hugepages;
    Simulation::materialise(&opts).expect("the manifest materialises")
}

/// Listening sockets where the relay's will be: the devices exist when a pod starts, and
/// planning needs no relay.
fn stand_in_sockets(sim: &Simulation) -> Vec<UnixListener> {
    sim.topology
        .attachments
        .iter()
        .map(|a| UnixListener::bind(&a.socket).unwrap())
        .collect()
}

/// `dpdk-app discover --json` in the pod's environment, pinned to CPU 1 like a pod with one CPU.
fn discover(pod: &SimPod) -> Value {
    let out = Command::new("taskset")
        .args(["-c", "1", APP, "discover", "--json"])
        .env_clear()
        .envs(pod.env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        testkit::describe("discover", &out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn each_pod_discovers_and_plans_from_its_simulated_files() {
    let dir = ScratchDir::new("podsim-plan");
    for mode in [HugepageMode::Off, HugepageMode::Fit] {
        let sim = simulate(&dir, None, mode);
        let _sockets = stand_in_sockets(&sim);
        for (pod, macs, extra) in [
            (
                "vdpa-pod-gen",
                ["0c:fe:c0:ff:ee:00", "0c:fe:c0:ff:ee:01"],
                "--forward-mode=txonly --eth-peer=0,auto --eth-peer=1,auto",
            ),
            (
                "vdpa-pod-sink",
                ["0c:fe:c0:ff:ee:10", "0c:fe:c0:ff:ee:11"],
                "--forward-mode=rxonly --announce",
            ),
        ] {
            let p = sim.pod(pod).unwrap();
            let plan = discover(p);
            assert_eq!(plan["app"], "testpmd", "{pod}");
            // eth0 (the cluster network) first, as Multus lists it; then the two VFs.
            let names: Vec<&str> = plan["interfaces"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["interface"].as_str().unwrap_or("-"))
                .collect();
            assert_eq!(names, ["eth0", "net1", "net2"], "{pod}: {plan}");
            let sock = |net: &str| sim.socket_dir().join(format!("{pod}-{net}.sock"));
            let devargs: Vec<String> = plan["plan"]["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["devarg"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(
                devargs,
                [
                    format!(
                        "virtio_user0,path={},queues=1,mac={}",
                        sock("net1").display(),
                        macs[0]
                    ),
                    format!(
                        "virtio_user1,path={},queues=1,mac={}",
                        sock("net2").display(),
                        macs[1]
                    ),
                ],
                "{pod}"
            );
            let eal = strings(&plan["eal_args"]);
            let has = |w: &[&str]| eal.windows(w.len()).any(|x| x == w);
            assert!(
                has(&["-l", "1", "--main-lcore", "1"]),
                "{pod} CPUs from taskset: {eal:?}"
            );
            assert!(has(&["--no-pci"]) && has(&["--iova-mode=va"]), "{eal:?}");
            assert!(
                eal.iter()
                    .any(|a| a.starts_with(&format!("--file-prefix=testpmd-{pod}-"))),
                "HOSTNAME is the pod name: {eal:?}"
            );
            let memory = &plan["plan"]["memory"];
            if sim.hugepages.uses_hugepages() {
                assert_eq!(
                    memory["mode"], "hugepages",
                    "{}: {memory}",
                    sim.hugepages.note
                );
                assert!(
                    has(&["--single-file-segments"]),
                    "vhost-user sockets: {eal:?}"
                );
            } else {
                assert_eq!(
                    memory["mode"], "no-huge",
                    "{}: {memory}",
                    sim.hugepages.note
                );
                assert!(has(&["--no-huge", "-m", "1024"]), "{eal:?}");
            }
            let container = pod
                .strip_prefix("vdpa-pod-")
                .map(|s| format!("vdpa-{s}"))
                .unwrap();
            let budget = &plan["resources"]["hugepages"]["budget"];
            assert_eq!(budget["container"], container.as_str(), "{budget}");
            // METRICS_ADDR (the manifest's, made a free loopback port by the simulation) comes
            // before the manifest's *_EXTRA_ARGS.
            let mut expected: Vec<String> = [
                "--auto-start",
                "--tx-first",
                "--stats-period",
                "2",
                "--metrics-addr=127.0.0.1:0",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            expected.extend(extra.split(' ').map(str::to_owned));
            assert_eq!(
                strings(&plan["app_args"]),
                expected,
                "{pod}: defaults + manifest"
            );
            assert!(plan["command"]
                .as_str()
                .unwrap()
                .starts_with("dpdk-app testpmd "));
        }
        drop(sim);
    }
}

/// Runs the simulation once at `RATE`, holding the DPDK lock.
fn run_once(sim: &Simulation, logs: &Path) -> RunOutcome {
    let placement = Placement::for_this_machine();
    let extra = |role: Role, _: netutil::App| match role {
        Role::Generator => vec!["--tx-rate".to_owned(), RATE.to_string()],
        _ => Vec::new(),
    };
    let spec = RunSpec {
        binary: Path::new(APP),
        logs,
        placement: &placement,
        duration: Duration::from_secs_f64(SECONDS),
        extra_args: &extra,
    };
    run::run(sim, &spec, &|| false).unwrap_or_else(|e| panic!("{e}"))
}

fn port(summary: &Value, port: u64, key: &str) -> u64 {
    summary["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["port"] == port)
        .unwrap_or_else(|| panic!("port {port} in {summary}"))[key]
        .as_u64()
        .unwrap()
}

#[test]
fn every_frame_the_generator_sent_is_delivered_or_counted_on_each_vlan() {
    let _lock = DpdkLock::acquire();
    for memory in MemoryMode::available(1024) {
        let dir = ScratchDir::new("podsim-run");
        let mode = match memory {
            MemoryMode::NoHuge => HugepageMode::Off,
            MemoryMode::Huge => HugepageMode::Fit,
        };
        let sim = simulate(&dir, None, mode);
        let out = run_once(&sim, &dir.join("logs"));
        let gen = out.pod(Role::Generator).unwrap();
        let sink = out.pod(Role::Sink).unwrap();
        let ctx = format!("{} ({})", memory.name(), sim.hugepages.note);
        let cmd = gen.command.as_deref().unwrap();
        assert!(
            cmd.contains("--forward-mode=txonly --eth-peer=0,auto --eth-peer=1,auto")
                && cmd.contains("vdpa-pod-gen-net1.sock"),
            "the generator ran the manifest's testpmd on the relay: {cmd}"
        );
        assert_eq!(
            cmd.contains("--no-huge"),
            mode == HugepageMode::Off || !sim.hugepages.uses_hugepages(),
            "{ctx}: {cmd}"
        );

        // Port 0 is net1 (VLAN 1000) in both pods, port 1 net2 (VLAN 2000). Every frame the
        // generator's PMD accepted is delivered to the sink or counted where it stopped.
        let ledgers = ledger::ledgers(&sim.topology, &out).unwrap();
        assert_eq!(ledgers.len(), 2, "{ledgers:?}");
        for (p, l) in ledgers.iter().enumerate() {
            let what = l.describe();
            assert_eq!(l.unaccounted(), 0, "{ctx}: {what}");
            assert!(l.sent > 0, "{ctx}: {what}");
            assert_eq!(
                l.delivered,
                port(&sink.summary, p as u64, "rx_packets"),
                "{ctx}"
            );
            assert_eq!(l.sent, port(&gen.summary, p as u64, "tx_packets"), "{ctx}");
        }
        // The sink's probes agree with its port counters: what it received of each stream plus
        // the sequence gaps it saw are no more than the stream sent.
        let probe = &sink.summary["probe"];
        let received: u64 = ledgers.iter().map(|l| l.delivered).sum();
        assert_eq!(
            probe["totals"]["received"].as_u64(),
            Some(received),
            "{ctx}: {probe}"
        );
        // Streams stay in their VLAN: what the generator sent out of port p arrives at sink
        // port p only.
        for s in gen.summary["probe"]["streams"].as_array().unwrap() {
            let (id, p, sent) = (&s["stream"], &s["port"], s["sent"].as_u64().unwrap());
            let seen: Vec<&Value> = probe["streams"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| &r["stream"] == id && r["received"].as_u64() > Some(0))
                .collect();
            assert!(
                seen.len() == 1
                    && &seen[0]["port"] == p
                    && seen[0]["received"].as_u64().unwrap() + seen[0]["lost"].as_u64().unwrap()
                        <= sent,
                "{ctx}: stream {id} sent {sent} on port {p}, sink saw {seen:?}"
            );
        }
        // The relay switched VLAN 1000 between ports 0 and 2 and VLAN 2000 between 1 and 3
        // (both ways: the sink's --tx-first burst goes back), every frame it took leaving it
        // or counted as dropped.
        let relay = &out.relay.summary;
        for (a, b) in [(0, 2), (1, 3)] {
            assert_eq!(
                port(relay, a, "rx_packets") + port(relay, b, "rx_packets"),
                port(relay, a, "tx_packets")
                    + port(relay, b, "tx_packets")
                    + ["tx_dropped", "rx_dropped"]
                        .iter()
                        .map(|k| port(relay, a, k) + port(relay, b, k))
                        .sum::<u64>(),
                "{ctx}: relay {relay}"
            );
        }
        let pids_prefixes: Vec<String> = out
            .pods
            .iter()
            .filter_map(|p| p.command.as_deref())
            .filter_map(|c| c.split("--file-prefix=").nth(1))
            .map(|rest| rest.split(' ').next().unwrap().to_owned())
            .collect();
        drop(sim);
        for prefix in pids_prefixes {
            assert!(
                !Path::new("/var/run/dpdk").join(&prefix).exists(),
                "{prefix} cleaned up"
            );
        }
        assert!(!dir.join("sim").exists(), "sockets and pod files removed");
    }
}

#[test]
fn the_manifest_env_decides_what_runs() {
    let dir = ScratchDir::new("podsim-env");
    let text = std::fs::read_to_string(repo().join(podsim::manifest::TRAFFIC_TEST)).unwrap();
    // Bigger frames from the generator; in a second copy, both pods switched to l2fwd.
    let changed = text.replacen(
        "value: --forward-mode=txonly ",
        "value: --forward-mode=txonly --txpkts=256 ",
        1,
    );
    assert_ne!(changed, text);
    let manifest = dir.join("traffic-test.yaml");
    std::fs::write(&manifest, &changed).unwrap();
    // The NADs stay where the manifest names them.
    let mut opts = Options::traffic_test(&repo(), dir.join("sim"));
    opts.manifest = manifest.clone();
    opts.hugepages = HugepageMode::Off;

    let l2fwd = changed.replacen("value: testpmd", "value: l2fwd", 2);
    let l2fwd_manifest = dir.join("l2fwd.yaml");
    std::fs::write(&l2fwd_manifest, l2fwd).unwrap();
    let mut l2 = opts.clone();
    l2.manifest = l2fwd_manifest;
    l2.root = dir.join("sim-l2");
    let sim = Simulation::materialise(&l2).unwrap();
    let _sockets = stand_in_sockets(&sim);
    let plan = discover(sim.pod("vdpa-pod-sink").unwrap());
    assert_eq!(plan["app"], "l2fwd");
    assert_eq!(
        strings(&plan["app_args"]),
        [
            "-p",
            "0x3",
            "-T",
            "120",
            "--no-mac-updating",
            "--metrics-addr=127.0.0.1:0"
        ]
    );
    drop(sim);

    let _lock = DpdkLock::acquire();
    let sim = Simulation::materialise(&opts).unwrap();
    let out = run_once(&sim, &dir.join("logs"));
    let gen = out.pod(Role::Generator).unwrap();
    assert!(gen.command.as_deref().unwrap().contains("--txpkts=256"));
    let sink = out.pod(Role::Sink).unwrap();
    for p in [0, 1] {
        let packets = port(&sink.summary, p, "rx_packets");
        assert!(packets > 0);
        assert_eq!(
            port(&sink.summary, p, "rx_bytes"),
            256 * packets,
            "port {p}: the generator sent the manifest's 256-byte frames"
        );
    }
}

/// `--device-macs own`: every simulated vDPA device owns a MAC other than network-status's and
/// the relay delivers unicast only to the owner, as on a legacy SR-IOV cluster. The shipped
/// manifest (generator `--eth-peer=P,auto`, sink `--announce`) still gets its frames through,
/// exactly accounted; the old fixed `--eth-peer` to the annotation MACs gets nothing through
/// (every frame filtered at the relay, none unaccounted), and the sink says why.
#[test]
fn with_devices_owning_their_macs_only_learned_peers_get_through() {
    let dir = ScratchDir::new("podsim-own");
    let text = std::fs::read_to_string(repo().join(podsim::manifest::TRAFFIC_TEST)).unwrap();
    let auto = "--eth-peer=0,auto --eth-peer=1,auto";
    assert!(text.contains(auto) && text.contains("--forward-mode=rxonly --announce"));
    // The old wiring, with a 1 s silence warning instead of 10 s so that a short run shows it.
    let fixed = text
        .replacen(
            auto,
            "--eth-peer=0,0C:FE:C0:FF:EE:10 --eth-peer=1,0C:FE:C0:FF:EE:11",
            1,
        )
        .replacen(
            "--forward-mode=rxonly --announce",
            "--forward-mode=rxonly --announce --no-rx-warn=1",
            1,
        );
    let fixed_manifest = dir.join("fixed-peers.yaml");
    std::fs::write(&fixed_manifest, fixed).unwrap();
    let own = |manifest: PathBuf, root: &str| {
        let mut opts = Options::traffic_test(&repo(), dir.join(root));
        opts.manifest = manifest;
        opts.hugepages = HugepageMode::Off;
        opts.device_macs = podsim::topology::DeviceMacs::Own;
        Simulation::materialise(&opts).unwrap()
    };
    let _lock = DpdkLock::acquire();

    let sim = own(repo().join(podsim::manifest::TRAFFIC_TEST), "sim-auto");
    let out = run_once(&sim, &dir.join("logs-auto"));
    let ledgers = ledger::ledgers(&sim.topology, &out).unwrap();
    assert_eq!(ledgers.len(), 2);
    for l in &ledgers {
        assert_eq!(l.unaccounted(), 0, "{}", l.describe());
        assert!(l.sent > 0 && l.delivered > 0, "{}", l.describe());
    }
    let gen = out.pod(Role::Generator).unwrap();
    let gen_log = std::fs::read_to_string(&gen.stdout).unwrap();
    let sink = out.pod(Role::Sink).unwrap();
    for p in 0..2u16 {
        let mac = podsim::topology::own_mac("vdpa-pod-sink", &format!("net{}", p + 1));
        assert!(
            gen_log.contains(&format!(
                "Port {p}: peer MAC {} learned",
                mac.to_ascii_uppercase()
            )),
            "{gen_log}"
        );
    }
    let sink_err = std::fs::read_to_string(&sink.stderr).unwrap();
    assert!(
        sink_err.contains("the device owns MAC") && sink_err.contains("network-status says"),
        "each port's MAC mismatch is a warning: {sink_err}"
    );
    drop(sim);

    let sim = own(fixed_manifest, "sim-fixed");
    let out = run_once(&sim, &dir.join("logs-fixed"));
    let ledgers = ledger::ledgers(&sim.topology, &out).unwrap();
    for l in &ledgers {
        assert_eq!(l.unaccounted(), 0, "{}", l.describe());
        assert!(l.sent > 0, "{}", l.describe());
        assert_eq!(l.delivered, 0, "{}", l.describe());
        assert!(
            l.drops.iter().any(|d| d.counter == "filtered"),
            "{}",
            l.describe()
        );
    }
    let sink = out.pod(Role::Sink).unwrap();
    for p in [0, 1] {
        assert_eq!(port(&sink.summary, p, "rx_packets"), 0);
    }
    let sink_err = std::fs::read_to_string(&sink.stderr).unwrap();
    for needle in [
        "Port 0 has received nothing for 1 s",
        "Port 1 has received nothing for 1 s",
        "vdpa dev show",
        "VLAN",
    ] {
        assert!(sink_err.contains(needle), "{needle}: {sink_err}");
    }
}
