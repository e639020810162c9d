//! testpmd txonly -> rxonly over one vhost-user pair (the testpmd benchmark): the
//! receiver serves a `net_vhost` port, the sender a `virtio_user` port connected to it, as a
//! pod's virtio-user port talks to a vhost-user switch. Each process forwards on one lcore of
//! its own CPU: the sender on CPU 0, the receiver on CPU 1, their main lcores (which only
//! sleep) on the other CPU. Both sides get the same EAL and testpmd arguments; ours keeps
//! its probes on (the default), so every packet carries and is checked for a sequence number
//! and timestamp.

use std::path::Path;

use testkit::MemoryMode;

use crate::measure::{Counter, Setup};
use crate::tools::{eal, Group, Program, Side, Tools};

/// 64-byte frames; a small pool, as the tests use (the default pool is 160k mbufs).
const TESTPMD_ARGS: [&str; 3] = [
    "--txpkts=64",
    "--total-num-mbufs=8192",
    // Non-interactive testpmd without a period exits at end of stdin; with one it runs until
    // a signal. Nothing is printed within an hour.
    "--stats-period=3600",
];

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
