//! testpmd txonly -> rxonly over one vhost-user pair (the testpmd benchmark): the
//! receiver serves a `net_vhost` port, the sender a `virtio_user` port connected to it, as a
//! pod's virtio-user port talks to a vhost-user switch. Each process forwards on one lcore of
//! its own CPU: the sender on CPU 0, the receiver on CPU 1, their main lcores (which only
//! sleep) on the other CPU. Both sides get the same EAL and testpmd arguments; ours keeps
//! its probes on (the default), so every packet carries and is checked for a sequence number
//! and timestamp.

use std::path::Path;

use testkit::MemoryMode;

use crate::measure::{Counter, Launch, Setup};
use crate::tools::{eal, Group, Program, Side, Tools};

/// 64-byte frames; a small pool, as the tests use (the default pool is 160k mbufs).
const TESTPMD_ARGS: [&str; 3] = [
    "--txpkts=64",
    "--total-num-mbufs=8192",
    // Non-interactive testpmd without a period exits at end of stdin; with one it runs until
    // a signal. Nothing is printed within an hour.
    "--stats-period=3600",
];

/// Where the metrics row's receiver serves `/metrics` (loopback; benchmarks run one at a time).
const METRICS_ADDR: &str = "127.0.0.1:19091";

/// Scrapes `METRICS_ADDR` once a second, like a Prometheus with `scrape_interval: 1s` (15-60 s
/// is usual, so this is the heavy end); started after the receiver, it retries until it answers.
const SCRAPER: &str = concat!(
    "import time, urllib.request\n",
    "while True:\n",
    "    try: urllib.request.urlopen('http://127.0.0.1:19091/metrics', timeout=5).read()\n",
    "    except OSError: pass\n",
    "    time.sleep(1)\n",
);

/// The cost of `--metrics-addr`: ours to ours as in [`group`], with metrics off (the
/// reference) and on in both processes with the receiver scraped every second (the row).
pub fn metrics_group(tools: &Tools, memory: MemoryMode, dir: &Path) -> Group {
    let base = group(tools, memory, dir);
    let (_, plain) = base
        .ours
        .into_iter()
        .find(|(_, s)| s.label == "dpdk-app -> dpdk-app")
        .expect("the ours -> ours pair");
    let mut reference = plain.clone();
    reference.label = "dpdk-app -> dpdk-app, metrics off".into();
    let mut on = plain;
    on.label = "dpdk-app -> dpdk-app, metrics on".into();
    on.processes[0]
        .app
        .push(format!("--metrics-addr={METRICS_ADDR}"));
    on.processes[1]
        .app
        .push("--metrics-addr=127.0.0.1:0".into());
    on.processes.push(Launch {
        name: "scraper".into(),
        program: "python3".into(),
        leading: vec!["-c".into(), SCRAPER.into()],
        eal: vec![],
        app: vec![],
        ready: None,
    });
    Group {
        name: "metrics",
        reference,
        ours: vec![(
            "testpmd txonly->rxonly, --metrics-addr scraped 1/s".into(),
            on,
        )],
    }
}

/// The four pairs: testpmd to testpmd (the reference), and ours as sender, receiver, both.
pub fn group(tools: &Tools, memory: MemoryMode, dir: &Path) -> Group {
    let socket = dir.join("vhost-user.sock");
    // The forwarding lcore is the one that is not the main lcore: on CPU 1 for the
    // receiver, CPU 0 for the sender.
    let process = |side: Side, mode: &str, main_lcore: &str, vdev: String| {
        let mut eal = eal(memory, &["-l", "0,1", "--main-lcore", main_lcore]);
        eal.push(vdev);
        let mut app = vec![format!("--forward-mode={mode}")];
        app.extend(TESTPMD_ARGS.map(String::from));
        let mut launch = tools.launch(side, Program::Testpmd, eal, app);
        launch.name = format!("{} {mode}", launch.name);
        launch
    };
    let setup = |sender: Side, receiver: Side| {
        let mut rx = process(
            receiver,
            "rxonly",
            "0",
            format!("--vdev=net_vhost0,iface={},queues=1", socket.display()),
        );
        rx.ready = Some(socket.clone());
        let tx = process(
            sender,
            "txonly",
            "1",
            format!("--vdev=virtio_user0,path={},queues=1", socket.display()),
        );
        let name = |side| match side {
            Side::C => "testpmd",
            Side::Ours => "dpdk-app",
        };
        Setup {
            label: format!("{} -> {}", name(sender), name(receiver)),
            processes: vec![rx, tx],
            counted: 0,
            ports: vec![0],
            counter: Counter::Received,
        }
    };
    let row = |sender, receiver| {
        let s: Setup = setup(sender, receiver);
        (format!("testpmd txonly->rxonly {}", s.label), s)
    };
    Group {
        name: "testpmd",
        reference: setup(Side::C, Side::C),
        ours: vec![
            row(Side::Ours, Side::C),
            row(Side::C, Side::Ours),
            row(Side::Ours, Side::Ours),
        ],
    }
}
