//! Shared by the DPDK integration tests: the role protocol and packets of known content.
#![allow(dead_code)] // each test program uses a subset

use std::process::Command;

use dpdk::{Mbuf, Mempool};

/// Environment variable telling a re-executed test program which role to play.
pub const ROLE_VAR: &str = "DPDK_RS_TEST_ROLE";

/// The role of this process, `None` for the orchestrator.
pub fn role() -> Option<String> {
    std::env::var(ROLE_VAR).ok()
}

/// The EAL argv a child got: everything after the program name.
pub fn child_eal_args() -> Vec<String> {
    std::env::args().collect()
}

/// A command re-running this test program as `role` with `eal_args`.
pub fn self_command(role: &str, eal_args: &[String]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("current_exe"));
    cmd.env(ROLE_VAR, role).args(eal_args);
    cmd
}

/// Exits cleanly when cargo asks a harness-less test for its list of tests.
pub fn handle_list(name: &str) {
    if std::env::args().any(|a| a == "--list") {
        println!("{name}: test");
        std::process::exit(0);
    }
}

/// Frame length of packet `seq` (64..=1514 bytes, varying).
pub fn frame_len(seq: u32) -> usize {
    64 + (seq as usize * 37) % (1514 - 64 + 1)
}

/// Builds packet `seq` of a stream tagged `tag`: an Ethernet header (local experimental
/// ethertype 0x88B5), the tag, the sequence number, then a pattern derived from both.
pub fn build(pool: &Mempool, tag: [u8; 4], seq: u32) -> Mbuf {
    let mut m = pool.alloc().expect("mbuf");
    let len = frame_len(seq);
    let data = m.append(len).expect("frame fits in one mbuf");
    fill(data, tag, seq);
    m
}

fn fill(data: &mut [u8], tag: [u8; 4], seq: u32) {
    data[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 1]);
    data[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 2]);
    data[12..14].copy_from_slice(&[0x88, 0xB5]);
    data[14..18].copy_from_slice(&tag);
    data[18..22].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in data[22..].iter_mut().enumerate() {
        *b = (i as u32).wrapping_mul(7).wrapping_add(seq) as u8;
    }
}

/// Checks a received packet and returns its sequence number; panics with what is wrong.
pub fn verify(m: &Mbuf, tag: [u8; 4]) -> u32 {
    let bytes = m.to_vec();
    assert!(bytes.len() >= 22, "runt packet of {} bytes", bytes.len());
    assert_eq!(bytes[14..18], tag, "wrong stream tag");
    let seq = u32::from_be_bytes(bytes[18..22].try_into().unwrap());
    assert_eq!(bytes.len(), frame_len(seq), "packet {seq}: wrong length");
    let mut expected = vec![0u8; bytes.len()];
    fill(&mut expected, tag, seq);
    assert!(bytes == expected, "packet {seq}: content differs");
    seq
}

/// Tracks which sequence numbers arrived, exactly once each.
#[derive(Debug)]
pub struct Arrivals {
    seen: Vec<bool>,
    pub count: usize,
}

impl Arrivals {
    pub fn new(n: usize) -> Self {
        Arrivals {
            seen: vec![false; n],
            count: 0,
        }
    }

    pub fn record(&mut self, seq: u32) {
        let slot = self
            .seen
            .get_mut(seq as usize)
            .unwrap_or_else(|| panic!("unexpected sequence {seq}"));
        assert!(!*slot, "sequence {seq} arrived twice");
        *slot = true;
        self.count += 1;
    }

    pub fn complete(&self) -> bool {
        self.count == self.seen.len()
    }
}
