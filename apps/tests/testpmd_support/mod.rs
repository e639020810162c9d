//! Shared by the testpmd integration tests: command lines for our testpmd and DPDK's, frames
//! and output helpers.
#![allow(dead_code)] // each test binary uses a subset

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use testkit::{describe, MemoryMode, Proc};

pub const APP: &str = env!("CARGO_BIN_EXE_dpdk-app");

/// EAL arguments shared by both testpmds: memory mode, no PCI, lcores, a unique prefix.
pub fn eal(mode: MemoryMode, lcores: &str, prefix: &str, vdevs: &[String]) -> Vec<String> {
    let mut args = mode.eal_args(256);
    args.extend(["--no-pci".into(), "-l".into(), lcores.into()]);
    args.extend(["--file-prefix".into(), prefix.into()]);
    args.extend(vdevs.iter().map(|v| format!("--vdev={v}")));
    args
}

/// `dpdk-app testpmd EAL -- APP` with a small pool and no memory locking.
pub fn ours(eal: &[String], app: &[&str]) -> Command {
    let mut cmd = Command::new(APP);
    cmd.arg("testpmd")
        .args(eal)
        .arg("--")
        .args(["--total-num-mbufs=8192", "--no-mlockall"])
        .args(app);
    cmd
}

/// DPDK's `dpdk-testpmd EAL -- APP` with a small pool (SIGPIPE ignored, see
/// [`testkit::dpdk_testpmd`]).
pub fn theirs(eal: &[String], app: &[&str]) -> Command {
    let mut cmd = testkit::dpdk_testpmd();
    cmd.args(eal)
        .arg("--")
        .args(["--total-num-mbufs=8192"])
        .args(app);
    cmd
}

/// Runs to completion (bounded), asserting success; returns stdout.
pub fn run_ok(name: &str, cmd: &mut Command, prefix: &str) -> String {
    let (out, killed) = Proc::spawn(name, cmd, Some(prefix)).wait(Duration::from_secs(60));
    testkit::assert_success(name, &out, killed);
    stdout(&out)
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stops a process with `signal` and returns its output, asserting exit status 0.
pub fn stop_ok(name: &str, p: Proc, signal: &str) -> Output {
    p.signal(signal);
    let (out, killed) = p.wait(Duration::from_secs(30));
    assert!(!killed && out.status.success(), "{}", describe(name, &out));
    out
}

pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", path.display()))
}

/// The MAC testpmd printed for port 0 (`Port 0: XX:XX:...`).
pub fn port0_mac(stdout: &str) -> [u8; 6] {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Port 0: "))
        .unwrap_or_else(|| panic!("no 'Port 0:' line in\n{stdout}"));
    let mut mac = [0u8; 6];
    for (b, part) in mac.iter_mut().zip(line.trim().split(':')) {
        *b = u8::from_str_radix(part, 16).unwrap();
    }
    mac
}

/// The first `max` frames of a capture (testkit's reader).
pub fn read_pcap(path: &Path, max: usize) -> Vec<Vec<u8>> {
    let mut frames = testkit::pcap::read(path);
    frames.truncate(max);
    frames
}

/// An Ethernet/IPv4/UDP frame of `len` bytes.
pub fn udp_frame(len: usize, tag: u8) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[0..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xaa]);
    f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xbb]);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f[14] = 0x45;
    f[16..18].copy_from_slice(&((len - 14) as u16).to_be_bytes());
    f[22] = 64;
    f[23] = 17;
    f[26..30].copy_from_slice(&[10, 0, 0, 1]);
    f[30..34].copy_from_slice(&[10, 0, 0, 2]);
    f[42] = tag;
    f
}

/// Probe fields of a frame: (stream, seq) if it carries our probe.
pub fn probe(frame: &[u8]) -> Option<(u16, u32)> {
    let p = frame.get(42..60)?;
    (p[0..4] == [0xA5, 0x0F, 0x7E, 0x57]).then(|| {
        (
            u16::from_le_bytes([p[4], p[5]]),
            u32::from_le_bytes([p[6], p[7], p[8], p[9]]),
        )
    })
}
