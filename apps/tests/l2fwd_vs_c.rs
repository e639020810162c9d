//! Our l2fwd against DPDK 22.11's C l2fwd (built from /usr/share/dpdk/examples): the same
//! captures through both over `net_pcap` ports; every port must send the same frames (as
//! multisets) and the statistics blocks must read the same.

mod sample_apps;

use std::time::Duration;

use sample_apps::frames::{arp, ipv4_options, ipv6, tagged, udp4};
use sample_apps::{assert_same_frames, c_example, forward, Impl, Outcome, Scenario};
use testkit::{DpdkLock, ScratchDir};

/// A mix of frames arriving on port `p`: l2fwd looks at none of their contents, so runts
/// (C writes the whole address block past their end, where it is not part of the frame) are
/// included too.
fn arriving(p: u8) -> Vec<Vec<u8>> {
    let mut v = vec![
        udp4([10, 0, 0, p], [10, 0, 1, 1]),
        ipv4_options([10, 0, 0, p], [10, 0, 1, 1], 2),
        ipv6(
            [0xfe80, 0, 0, 0, 0, 0, 0, 1],
            [0xff02, 0, 0, 0, 0, 0, 0, 1],
            58,
            (0, 0),
            86,
        ),
        arp(),
        tagged(&udp4([10, 0, 0, p], [10, 0, 1, 1]), 0x8100, 7),
        vec![p; 1514],
        vec![0xab; 13],
        vec![0xcd; 6],
    ];
    v.extend((0..40u8).map(|i| udp4([10, 0, 0, p], [10, 0, 2, i])));
    v
}

fn assert_same(what: &str, ours: &Outcome, c: &Outcome) {
    assert_eq!(ours.sent.len(), c.sent.len());
    for (port, (a, b)) in ours.sent.iter().zip(&c.sent).enumerate() {
        assert_same_frames(what, port, a, b);
    }
}

/// The last statistics block of a log (from the clear-screen escape to the closing rule).
fn last_block(log: &str) -> &str {
    let start = log
        .rfind("\x1b[2J")
        .unwrap_or_else(|| panic!("no statistics block in\n{log}"));
    let rule = "\n====================================================\n";
    let end = log[start..].find(rule).expect("block end") + rule.len();
    &log[start..start + end]
}

#[test]
fn mac_updating_matches_c() {
    let _lock = DpdkLock::acquire();
    let c_l2fwd = Impl::C(c_example("l2fwd"));
    let dir = ScratchDir::new("l2fwd-mac");
    let inputs = vec![arriving(0), arriving(1)];
    // Long enough for C's 1 s statistics timer to print the final counts.
    let sc = Scenario {
        settle: Duration::from_millis(1600),
        ..Scenario::new(&inputs)
    };
    // One lcore: C needs -q 2 to poll both ports; ours shares the ports by itself.
    let c = forward(&c_l2fwd, &["-p", "0x3", "-q", "2", "-T", "1"], &sc, &dir);
    assert!(
        c.sent.iter().all(|p| p.len() == inputs[0].len()),
        "{}",
        c.log
    );
    let ours = forward(&Impl::Ours("l2fwd"), &["-p", "0x3", "-T", "1"], &sc, &dir);
    assert_same("l2fwd", &ours, &c);
    assert_eq!(last_block(&ours.log), last_block(&c.log));
    assert!(last_block(&c.log).contains(&format!(
        "Total packets received: {:14}",
        2 * inputs[0].len()
    )));
    assert!(ours.log.contains("MAC updating enabled\n") && ours.log.contains("Bye...\n"));
}

#[test]
fn odd_port_count_and_portmap_match_c() {
    let _lock = DpdkLock::acquire();
    let c_l2fwd = Impl::C(c_example("l2fwd"));
    let dir = ScratchDir::new("l2fwd-odd");
    let inputs = vec![arriving(0), arriving(1), arriving(2)];
    let sc = Scenario::new(&inputs);
    // Ports 0 and 1 pair up, port 2 forwards to itself; frames go out unchanged.
    let c = forward(
        &c_l2fwd,
        &["-p", "0x7", "-q", "3", "--no-mac-updating"],
        &sc,
        &dir,
    );
    assert!(c.log.contains("Notice: odd number of ports in portmask."));
    assert_eq!(c.sent[2].len(), inputs[2].len(), "{}", c.log);
    let ours = forward(
        &Impl::Ours("l2fwd"),
        &["-p", "0x7", "--no-mac-updating"],
        &sc,
        &dir,
    );
    assert!(ours
        .log
        .contains("Notice: odd number of ports in portmask."));
    assert_same("l2fwd --no-mac-updating, 3 ports", &ours, &c);

    // An explicit map leaves port 1 unused: nothing is read from it or sent to it.
    let args = ["-p", "0x7", "-q", "3", "--portmap=\"(0,2)\""];
    let c = forward(&c_l2fwd, &args, &sc, &dir);
    assert!(c.sent[1].is_empty() && !c.sent[0].is_empty(), "{}", c.log);
    let ours = forward(&Impl::Ours("l2fwd"), &args, &sc, &dir);
    assert_same("l2fwd --portmap", &ours, &c);
}
