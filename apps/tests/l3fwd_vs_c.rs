//! Our l3fwd against DPDK 22.11's C l3fwd (built from /usr/share/dpdk/examples): the same
//! captures go through both over `net_pcap` ports, and every port must send the same frames
//! (as multisets). The captures hit every installed route, miss, carry TTL 0 and 1, bad
//! checksums, IP options, malformed headers, ARP, VLAN and QinQ tags, IPv6, TCP and ICMP.
//!
//! `net_pcap` classifies no packet types, so C runs with `--parse-ptype`; ours runs with it
//! and without it (then it parses in software by itself) and must match C either way.

mod sample_apps;

use sample_apps::frames::{arp, fix_ipv4_checksum, ipv4, ipv4_options, ipv6, tagged, udp4};
use sample_apps::{assert_same_frames, c_example, forward, Impl, Outcome, Scenario};
use testkit::{DpdkLock, ScratchDir};

/// Which input set: LPM-only frames are too short for C's EM key read, which would see stale
/// buffer bytes.
#[derive(Clone, Copy, PartialEq)]
enum Set {
    Lpm,
    Em,
}

fn v6(net: u16, host: u16) -> [u16; 8] {
    [0x2001, 0x200, 0, net, 0, 0, 0, host]
}

/// What arrives on port `p` of a two-port setup (`o` is the other port).
fn arriving(p: u8, set: Set) -> Vec<Vec<u8>> {
    let o = 1 - p;
    let (pu, ou) = (u16::from(p), u16::from(o));
    let host = [192, 0, 2, 7];
    let mut v = vec![
        udp4(host, [198, 18, o, 5]),
        udp4(host, [198, 18, p, 7]),
        udp4(host, [198, 18, 5, 1]), // route to a port outside the mask: not installed
        udp4(host, [10, 1, 2, 3]),
        ipv4(host, [198, 18, o, 9], 17, 1, (1, 2), 60),
        ipv4(host, [198, 18, o, 9], 17, 0, (1, 2), 60),
        ipv4(host, [198, 18, o, 9], 6, 64, (80, 443), 1514),
        ipv4_options(host, [198, 18, o, 1], 1),
        ipv4_options(host, [198, 18, o, 1], 10),
        arp(),
        tagged(&udp4(host, [198, 18, o, 5]), 0x8100, 100),
        tagged(&udp4(host, [198, 18, o, 5]), 0x88a8, 200),
        ipv6(v6(9, 1), v6(ou, 5), 17, (9, 9), 80),
        ipv6(v6(9, 1), v6(pu, 9), 6, (9, 9), 80),
        ipv6(v6(9, 1), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 17, (9, 9), 80),
        ipv6(v6(9, 1), v6(ou, 5), 58, (0x8000, 0), 70),
        {
            let mut f = ipv6(v6(9, 1), v6(ou, 5), 17, (9, 9), 70);
            f[21] = 1; // hop limit: l3fwd does not look at it
            f
        },
        {
            let mut f = vec![0x5au8; 60];
            f[12..14].copy_from_slice(&[0x88, 0xb5]);
            f
        },
    ];
    // The IPv4 header treatment: checksums are not verified, the increment wraps as C's does.
    for sum in [[0xde, 0xad], [0xff, 0xff], [0xff, 0x12], [0x00, 0xff]] {
        let mut f = udp4(host, [198, 18, o, 3]);
        f[24..26].copy_from_slice(&sum);
        v.push(f);
    }
    // Malformed headers: only 0x45..=0x4f with a total length of at least 20 are forwarded.
    for (vihl, total) in [
        (0x44, 46),
        (0x40, 46),
        (0x50, 46),
        (0x65, 46),
        (0x45, 19),
        (0x45, 0),
        (0x45, 1500),
        (0x4f, 46),
    ] {
        let mut f = udp4(host, [198, 18, o, 4]);
        f[14] = vihl;
        f[16..18].copy_from_slice(&u16::to_be_bytes(total));
        fix_ipv4_checksum(&mut f);
        v.push(f);
    }
    // Exact-match tuples (EM's default table: UDP 198.18.N.1:9 -> 198.18.N.0:9 to port N),
    // ten in a row so that whole groups of 8 are looked up together.
    let em_hit = |n: u8| ipv4([198, 18, n, 1], [198, 18, n, 0], 17, 64, (9, 9), 64);
    v.extend((0..10).map(|_| em_hit(o)));
    v.push(em_hit(p));
    v.push(ipv4([198, 18, o, 1], [198, 18, o, 0], 6, 64, (9, 9), 64)); // TCP: another tuple
    v.push(ipv4([198, 18, o, 1], [198, 18, o, 0], 17, 64, (9, 10), 64));
    v.push(ipv4(
        [198, 18, o, 1],
        [198, 18, o, 0],
        1,
        64,
        (0x0800, 0),
        64,
    )); // ICMP
    v.push(ipv6(v6(ou, 1), v6(ou, 0), 17, (9, 9), 80));
    v.push(ipv6(v6(pu, 1), v6(pu, 0), 17, (9, 9), 80));
    v.push(ipv6(v6(ou, 1), v6(ou, 0), 6, (9, 9), 80));
    if set == Set::Lpm {
        // A bare IPv4 header: C reads and writes nothing past byte 34 in LPM mode.
        let mut f = udp4(host, [198, 18, o, 8]);
        f.truncate(34);
        f[16..18].copy_from_slice(&20u16.to_be_bytes());
        fix_ipv4_checksum(&mut f);
        v.push(f);
    }
    v
}

fn inputs(set: Set) -> Vec<Vec<Vec<u8>>> {
    vec![arriving(0, set), arriving(1, set)]
}

/// Sanity on C's output, so that a comparison of two empty outputs cannot pass.
fn assert_forwarded_and_dropped(c: &Outcome, inputs: &[Vec<Vec<u8>>]) {
    let sent: usize = c.sent.iter().map(Vec::len).sum();
    let received: usize = inputs.iter().map(Vec::len).sum();
    assert!(
        c.sent.iter().all(|p| !p.is_empty()) && sent < received,
        "C sent {sent} of {received} frames: the setup is broken\n{}",
        c.log
    );
}

const PORTS: &str = "0x3";
const CONFIG: &str = "--config=(0,0,1),(1,0,1)";

/// Runs C l3fwd with `c_args`, then ours with each of `ours_args`, on `sc`; every run of ours
/// must send what C sent. Returns C's outcome and ours.
fn compare(
    test: &str,
    sc: &Scenario,
    c_args: &[&str],
    ours_args: &[&[&str]],
) -> (Outcome, Vec<Outcome>) {
    let _lock = DpdkLock::acquire();
    let c_l3fwd = Impl::C(c_example("l3fwd"));
    let dir = ScratchDir::new(test);
    let c = forward(&c_l3fwd, c_args, sc, &dir);
    let ours: Vec<Outcome> = ours_args
        .iter()
        .map(|args| forward(&Impl::Ours("l3fwd"), args, sc, &dir))
        .collect();
    for (run, args) in ours.iter().zip(ours_args) {
        let what = format!("{test}: ours with {}", args.join(" "));
        for (port, (a, b)) in run.sent.iter().zip(&c.sent).enumerate() {
            assert_same_frames(&what, port, a, b);
        }
    }
    (c, ours)
}

#[test]
fn lpm_matches_c() {
    let inputs = inputs(Set::Lpm);
    let args = ["-p", PORTS, "-L", CONFIG, "--parse-ptype"];
    let (c, ours) = compare(
        "l3fwd-lpm",
        &Scenario::new(&inputs),
        &args,
        &[
            &args,
            &["-p", PORTS, CONFIG],
            &["-p", PORTS, CONFIG, "--per-port-pool"],
        ],
    );
    assert_forwarded_and_dropped(&c, &inputs);
    assert!(
        ours[1].log.contains("parsing them in software"),
        "{}",
        ours[1].log
    );
}

#[test]
fn em_matches_c() {
    let inputs = inputs(Set::Em);
    let args = ["-p", PORTS, "-E", CONFIG, "--parse-ptype"];
    let (c, _) = compare(
        "l3fwd-em",
        &Scenario::new(&inputs),
        &args,
        &[&args, &["-p", PORTS, "--lookup=em", CONFIG]],
    );
    assert_forwarded_and_dropped(&c, &inputs);
}

#[test]
fn em_ipv6_matches_c() {
    let inputs = inputs(Set::Em);
    let args = [
        "-p",
        PORTS,
        "-E",
        "--ipv6",
        CONFIG,
        "--parse-ptype",
        "--eth-dest=1,0c:fe:c0:ff:ee:01",
        "--max-pkt-len=1518",
    ];
    let (c, _) = compare("l3fwd-em6", &Scenario::new(&inputs), &args, &[&args]);
    assert_forwarded_and_dropped(&c, &inputs);
}

#[test]
fn rule_files_match_c() {
    let dir = ScratchDir::new("l3fwd-rule-files");
    // Overlapping prefixes of several depths (tbl8 groups for those beyond /24), a default
    // route, a route to a port outside the mask, comments and blank lines.
    let v4_rules = dir.join("v4.cfg");
    std::fs::write(
        &v4_rules,
        "# 22.11 LPM rules\nR0.0.0.0/1 1\nR198.18.0.0/16 0\nR198.18.1.0/24 1\n\
         R198.18.1.128/25 0\nR198.18.1.200/32 1\n\nR10.0.0.0/8 7\n",
    )
    .unwrap();
    let v6_rules = dir.join("v6.cfg");
    std::fs::write(
        &v6_rules,
        "R2001:200::/48 1\nR2001:200:0:1::/64 0\nR2001:200:0:1::5/128 1\n",
    )
    .unwrap();
    let host = [192, 0, 2, 7];
    let arriving = |p: u8| -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = [
            [198, 18, 1, 1],
            [198, 18, 1, 129],
            [198, 18, 1, 200],
            [198, 18, 1, 201],
            [198, 18, 9, 9],
            [10, 0, 0, 1],
            [100, 0, 0, 1],
            [200, 0, 0, 1],
        ]
        .iter()
        .map(|&dst| udp4(host, dst))
        .collect();
        for dst in [
            v6(1, 5),
            v6(1, 6),
            v6(2, 1),
            [0x2001, 0x201, 0, 0, 0, 0, 0, 1],
        ] {
            v.push(ipv6(v6(9, u16::from(p)), dst, 17, (9, 9), 80));
        }
        v
    };
    let inputs = vec![arriving(0), arriving(1)];
    let rule4 = format!("--rule_ipv4={}", v4_rules.display());
    let rule6 = format!("--rule_ipv6={}", v6_rules.display());
    let args = ["-p", PORTS, "-L", CONFIG, "--parse-ptype", &rule4, &rule6];
    let (c, ours) = compare("l3fwd-rules", &Scenario::new(&inputs), &args, &[&args]);
    for log in [&c.log, &ours[0].log] {
        assert!(
            log.contains("LPM: Adding route 198.18.1.200 / 32 (1)"),
            "{log}"
        );
        assert!(
            !log.contains("10.0.0.0 / 8"),
            "route to port 7 installed:\n{log}"
        );
    }
}

#[test]
fn two_lcores_two_queues_match_c() {
    let inputs = inputs(Set::Lpm);
    let sc = Scenario {
        lcores: "0,1",
        rx_queues: 2,
        tx_queues: 2,
        pollers: 2,
        ..Scenario::new(&inputs)
    };
    let args = [
        "-p",
        PORTS,
        "--config=(0,0,0),(0,1,1),(1,0,1),(1,1,0)",
        "--parse-ptype",
    ];
    let (c, _) = compare("l3fwd-2lcores", &sc, &args, &[&args]);
    assert_forwarded_and_dropped(&c, &inputs);
}
