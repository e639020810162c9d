//! l2fwd and l3fwd (LPM, EM) against DPDK's C examples, as the issue sets them up: one lcore
//! (CPU 1) forwarding between two `net_pcap` ports that replay a one-frame capture forever
//! (`infinite_rx=1`) and drop what is sent. With only `rx_pcap` given, net_pcap's TX frees
//! the mbufs and counts them (no file is written): the cheapest sink both sides can share.
//! The result is what the ports sent, i.e. what was forwarded.
//!
//! Each port's frame is a 64-byte UDP/IPv4 frame (testpmd's txonly template) from
//! 198.18.N.1:9 to 198.18.N.0:9, N being the other port: l3fwd's default LPM route
//! (198.18.N.0/24) and EM entry both send it there, so every packet crosses over, as in
//! l2fwd's port pairing.

use std::net::Ipv4Addr;
use std::path::Path;

use dpdk::MacAddr;
use packet::template::{Addresses, Template};
use testkit::MemoryMode;

use crate::measure::{Counter, Setup};
use crate::tools::{eal, Group, Program, Side, Tools};

const FRAME_LEN: usize = 64;
const L3FWD_CONFIG: &str = "--config=(0,0,1),(1,0,1)";

/// The frame port `rx` replays: addressed to be routed out of the other port.
pub fn frame(rx: u8) -> Vec<u8> {
    let to = 1 - rx;
    let addrs = Addresses {
        src_mac: MacAddr::locally_administered(0x10 + rx),
        dst_mac: MacAddr::locally_administered(rx),
        src_ip: Ipv4Addr::new(198, 18, to, 1),
        dst_ip: Ipv4Addr::new(198, 18, to, 0),
        src_port: 9,
        dst_port: 9,
    };
    Template::txonly(addrs, FRAME_LEN, None).bytes().to_vec()
}

/// l2fwd, l3fwd-lpm and l3fwd-em, with their captures written into `dir`.
pub fn groups(tools: &Tools, memory: MemoryMode, dir: &Path) -> Vec<Group> {
    let mut vdevs = Vec::new();
    for port in 0..2u8 {
        let capture = dir.join(format!("port{port}.pcap"));
        testkit::pcap::write(&capture, &[frame(port)]);
        vdevs.push(format!(
            "--vdev=net_pcap{port},rx_pcap={},infinite_rx=1",
            capture.display()
        ));
    }
    let setup = |side: Side, program: Program, app: &[&str]| {
        let mut eal = eal(memory, &["-l", "1"]);
        eal.extend(vdevs.iter().cloned());
        let launch = tools.launch(
            side,
            program,
            eal,
            app.iter().map(|s| (*s).to_owned()).collect(),
        );
        Setup {
            label: launch.name.clone(),
            processes: vec![launch],
            counted: 0,
            ports: vec![0, 1],
            counter: Counter::Sent,
        }
    };
    let group = |name: &'static str, program: Program, app: &[&str]| Group {
        name,
        reference: setup(Side::C, program, app),
        ours: vec![(name.to_owned(), setup(Side::Ours, program, app))],
    };
    vec![
        // -q 2: C l2fwd polls one port per lcore by default and would need two lcores.
        group(
            "l2fwd",
            Program::L2fwd,
            &["-p", "0x3", "-q", "2", "-T", "0"],
        ),
        // net_pcap classifies no packet types: C needs --parse-ptype (ours would choose it).
        group(
            "l3fwd-lpm",
            Program::L3fwd,
            &["-p", "0x3", "--lookup=lpm", L3FWD_CONFIG, "--parse-ptype"],
        ),
        group(
            "l3fwd-em",
            Program::L3fwd,
            &["-p", "0x3", "--lookup=em", L3FWD_CONFIG, "--parse-ptype"],
        ),
    ]
}
