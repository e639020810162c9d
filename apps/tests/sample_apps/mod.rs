//! Shared by the l2fwd and l3fwd tests: DPDK's C examples built from Debian's dpdk-doc sources
//! (cached under `target/c-examples/`), runs of either implementation over `net_pcap` ports,
//! test frames and multiset comparison of what each port sent.
#![allow(dead_code)] // each test binary uses a subset

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use testkit::telemetry::{self, Telemetry};
use testkit::{pcap, remove_eal_files, unique_prefix, MemoryMode, ScratchDir};

pub const APP: &str = env!("CARGO_BIN_EXE_dpdk-app");

/// The C example binary `name` (l2fwd or l3fwd), built by testkit and cached under
/// `target/c-examples/` (shared with the benchmarks).
pub fn c_example(name: &str) -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("c-examples");
    testkit::c_examples::build(name, &target)
}

/// Which implementation to run.
#[derive(Debug, Clone)]
pub enum Impl {
    /// DPDK's C example binary.
    C(PathBuf),
    /// `dpdk-app <subcommand>`.
    Ours(&'static str),
}

impl Impl {
    fn command(&self) -> Command {
        match self {
            Impl::C(path) => Command::new(path),
            Impl::Ours(sub) => {
                let mut cmd = Command::new(APP);
                cmd.arg(sub);
                cmd
            }
        }
    }

    pub fn name(&self) -> String {
        match self {
            Impl::C(path) => format!("C {}", path.file_name().unwrap().to_string_lossy()),
            Impl::Ours(sub) => format!("dpdk-app {sub}"),
        }
    }
}

/// A forwarding run over `net_pcap` ports: port `p` reads `inputs[p]` and writes what it sends
/// to one capture per TX queue.
#[derive(Debug, Clone)]
pub struct Scenario<'a> {
    pub inputs: &'a [Vec<Vec<u8>>],
    /// EAL `-l`.
    pub lcores: &'a str,
    /// RX queues per port: each port's input is dealt round-robin into this many captures.
    pub rx_queues: usize,
    /// TX queues per port (captures per port).
    pub tx_queues: usize,
    /// Lcores that print "entering main loop" before the input may be sent.
    pub pollers: usize,
    /// How long to let the app run after it forwarded everything (for periodic statistics).
    pub settle: Duration,
}

impl Scenario<'_> {
    pub fn new(inputs: &[Vec<Vec<u8>>]) -> Scenario<'_> {
        Scenario {
            inputs,
            lcores: "1",
            rx_queues: 1,
            tx_queues: 1,
            pollers: 1,
            settle: Duration::ZERO,
        }
    }
}

/// What a run produced: each port's frames and the app's output (stdout and stderr).
#[derive(Debug)]
pub struct Outcome {
    pub sent: Vec<Vec<Vec<u8>>>,
    pub log: String,
}

/// A running app, killed (and its EAL files removed) if the test fails before it stops.
struct Running {
    name: String,
    child: Option<Child>,
    prefix: String,
    log: PathBuf,
}

impl Running {
    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_for(&mut self, marker: &str, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if log.matches(marker).count() >= count {
                return;
            }
            let exited = self.child.as_mut().unwrap().try_wait().unwrap();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "{} did not print {marker:?} ({exited:?}):\n{log}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the app's ports received input and their counters stopped moving, read
    /// through DPDK telemetry (C and ours alike), instead of guessing how long forwarding takes
    /// on a loaded machine. `net_pcap` hands a port its whole input in the first polls and the
    /// lcore drains its TX buffers every 100 µs of its own time; `TX_STABLE` of wall time
    /// without a change covers the longest scheduler pause measured under load (20 ms) many
    /// times over.
    fn wait_until_forwarded(&mut self, sc: &Scenario) {
        const TX_STABLE: Duration = Duration::from_millis(200);
        let path = telemetry::socket_path(&self.prefix);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last: Option<(Vec<u64>, Instant)> = None;
        loop {
            let counts = Telemetry::connect(&path).and_then(|t| {
                (0..sc.inputs.len() as u16)
                    .map(|p| t.port_stats(p))
                    .collect::<Result<Vec<_>, _>>()
            });
            if let Ok(stats) = &counts {
                // Ports the app does not poll (an odd one out) never count their input.
                let received =
                    stats.iter().any(|s| s.ipackets > 0) || sc.inputs.iter().all(Vec::is_empty);
                let sent: Vec<u64> = stats
                    .iter()
                    .flat_map(|s| [s.ipackets, s.opackets])
                    .collect();
                match &last {
                    Some((before, since)) if received && *before == sent => {
                        if since.elapsed() >= TX_STABLE {
                            return;
                        }
                    }
                    _ => last = Some((sent, Instant::now())),
                }
            }
            let exited = self.child.as_mut().unwrap().try_wait().unwrap();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "{} did not forward its input ({exited:?}; telemetry: {counts:?}):\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then the exit status must be 0 within 20 s.
    fn stop(mut self) -> String {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{} ignored SIGTERM:\n{}", self.name, self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let log = self.log();
        assert!(
            status.success(),
            "{} exited with {status}:\n{log}",
            self.name
        );
        log
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        remove_eal_files(&self.prefix);
    }
}

/// Runs `app` with `args` (after `--`) on the scenario's ports until it has had time to
/// forward everything, stops it with SIGTERM and collects each port's output.
pub fn forward(app: &Impl, args: &[&str], sc: &Scenario, dir: &ScratchDir) -> Outcome {
    let tag = match app {
        Impl::C(_) => "c",
        Impl::Ours(_) => "rs",
    };
    let prefix = unique_prefix(&format!("fwd-{tag}"));
    let mut eal: Vec<String> = ["--no-huge", "-m", "1024", "--no-pci", "-l", sc.lcores]
        .map(String::from)
        .into();
    eal.push(format!("--file-prefix={prefix}"));
    let mut outputs = Vec::new();
    for (port, frames) in sc.inputs.iter().enumerate() {
        let mut vdev = format!("--vdev=net_pcap{port}");
        for q in 0..sc.rx_queues {
            let input = dir.join(&format!("{prefix}-in{port}-{q}.pcap"));
            let dealt: Vec<Vec<u8>> = frames
                .iter()
                .skip(q)
                .step_by(sc.rx_queues)
                .cloned()
                .collect();
            pcap::write(&input, &dealt);
            vdev.push_str(&format!(",rx_pcap={}", input.display()));
        }
        let mut queues = Vec::new();
        for q in 0..sc.tx_queues {
            let out = dir.join(&format!("{prefix}-out{port}-{q}.pcap"));
            vdev.push_str(&format!(",tx_pcap={}", out.display()));
            queues.push(out);
        }
        eal.push(vdev);
        outputs.push(queues);
    }
    let log = dir.join(&format!("{prefix}.log"));
    let file = File::create(&log).unwrap();
    let child = app
        .command()
        .args(&eal)
        .arg("--")
        .args(args)
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", app.name()));
    let mut running = Running {
        name: format!("{} {}", app.name(), args.join(" ")),
        child: Some(child),
        prefix,
        log,
    };
    running.wait_for("entering main loop", sc.pollers, Duration::from_secs(60));
    running.wait_until_forwarded(sc);
    std::thread::sleep(sc.settle);
    let log = running.stop();
    let sent = outputs
        .iter()
        .map(|queues| queues.iter().flat_map(|q| pcap::read(q)).collect())
        .collect();
    Outcome { sent, log }
}

/// Asserts that two ports sent the same frames, in any order.
pub fn assert_same_frames(what: &str, port: usize, ours: &[Vec<u8>], theirs: &[Vec<u8>]) {
    let count = |frames: &[Vec<u8>]| {
        let mut m: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
        for f in frames {
            *m.entry(f.clone()).or_default() += 1;
        }
        m
    };
    let (a, b) = (count(ours), count(theirs));
    if a == b {
        return;
    }
    let mut report = format!(
        "{what}, port {port}: ours sent {} frames, C sent {}\n",
        ours.len(),
        theirs.len()
    );
    for (frame, n) in &a {
        let m = b.get(frame).copied().unwrap_or(0);
        if *n != m {
            report += &format!("  ours x{n}, C x{m}: {}\n", hex(frame));
        }
    }
    for (frame, m) in &b {
        if !a.contains_key(frame) {
            report += &format!("  ours x0, C x{m}: {}\n", hex(frame));
        }
    }
    panic!("{report}");
}

fn hex(frame: &[u8]) -> String {
    let shown: String = frame.iter().take(48).map(|b| format!("{b:02x}")).collect();
    format!("[{} bytes] {shown}...", frame.len())
}

/// Frames for the tests, built field by field.
pub mod frames {
    use packet::checksum::checksum;

    fn ether(ethertype: u16) -> Vec<u8> {
        let mut f = vec![
            0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55,
        ];
        f.extend_from_slice(&ethertype.to_be_bytes());
        f
    }

    /// IPv4 with a correct checksum: `len` bytes in all (at least 14 + 20 + 8), a UDP/TCP-like
    /// port pair right after the header, the rest a pattern.
    pub fn ipv4(
        src: [u8; 4],
        dst: [u8; 4],
        proto: u8,
        ttl: u8,
        ports: (u16, u16),
        len: usize,
    ) -> Vec<u8> {
        let mut f = ether(0x0800);
        let total = (len - 14) as u16;
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&[0x12, 0x34, 0x40, 0, ttl, proto, 0, 0]);
        f.extend_from_slice(&src);
        f.extend_from_slice(&dst);
        f.extend_from_slice(&ports.0.to_be_bytes());
        f.extend_from_slice(&ports.1.to_be_bytes());
        while f.len() < len {
            f.push(f.len() as u8);
        }
        fix_ipv4_checksum(&mut f);
        f
    }

    /// UDP/IPv4 of 60 bytes.
    pub fn udp4(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        ipv4(src, dst, 17, 64, (9, 9), 60)
    }

    pub fn fix_ipv4_checksum(f: &mut [u8]) {
        let header_len = usize::from(f[14] & 0x0f) * 4;
        let end = (14 + header_len.max(20)).min(f.len());
        f[24..26].copy_from_slice(&[0, 0]);
        let c = checksum(&f[14..end]);
        f[24..26].copy_from_slice(&c.to_be_bytes());
    }

    /// IPv4 with `words` 32-bit words of options (NOPs) before the ports.
    pub fn ipv4_options(src: [u8; 4], dst: [u8; 4], words: usize) -> Vec<u8> {
        let mut f = udp4(src, dst);
        f[14] = 0x45 + words as u8;
        let at = 34;
        f.splice(at..at, std::iter::repeat_n(1u8, words * 4));
        let total = (f.len() - 14) as u16;
        f[16..18].copy_from_slice(&total.to_be_bytes());
        fix_ipv4_checksum(&mut f);
        f
    }

    /// IPv6 with next header `next`, hop limit 64, a port pair and padding to `len` bytes.
    pub fn ipv6(src: [u16; 8], dst: [u16; 8], next: u8, ports: (u16, u16), len: usize) -> Vec<u8> {
        let mut f = ether(0x86dd);
        f.extend_from_slice(&[0x60, 0, 0, 0]);
        f.extend_from_slice(&((len - 54) as u16).to_be_bytes());
        f.extend_from_slice(&[next, 64]);
        for w in src.iter().chain(&dst) {
            f.extend_from_slice(&w.to_be_bytes());
        }
        f.extend_from_slice(&ports.0.to_be_bytes());
        f.extend_from_slice(&ports.1.to_be_bytes());
        while f.len() < len {
            f.push(f.len() as u8);
        }
        f
    }

    /// An ARP request (42 bytes, unpadded).
    pub fn arp() -> Vec<u8> {
        let mut f = ether(0x0806);
        f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        f.extend_from_slice(&[0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 10, 0, 0, 1]);
        f.extend_from_slice(&[0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
        f
    }

    /// `inner` with an 802.1Q tag (or an 802.1ad one) inserted after the addresses.
    pub fn tagged(inner: &[u8], tpid: u16, vid: u16) -> Vec<u8> {
        let mut f = inner[..12].to_vec();
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&vid.to_be_bytes());
        f.extend_from_slice(&inner[12..]);
        f
    }
}

/// DPDK's testpmd on two `net_vhost` ports (vhost-user servers `dir/vhost0`, `dir/vhost1`) in
/// flowgen mode: it sends UDP to 10.253.0.x on both ports and drops what comes back, a
/// traffic source and sink for an app on virtio-user ports (what a vDPA pod sees). It runs
/// on CPU `cpu` (main and forwarding lcore alike) and is killed when the guard drops.
pub fn vhost_peer(dir: &ScratchDir, mode: MemoryMode, cpu: usize) -> (testkit::Proc, [PathBuf; 2]) {
    let socks = [dir.join("vhost0"), dir.join("vhost1")];
    let prefix = unique_prefix("vhost-peer");
    let mut cmd = Command::new("dpdk-testpmd");
    cmd.args(mode.eal_args(1024))
        .args(["--no-pci", "--lcores", &format!("0@{cpu},1@{cpu}")])
        .arg(format!("--file-prefix={prefix}"));
    for (i, sock) in socks.iter().enumerate() {
        cmd.arg(format!(
            "--vdev=net_vhost{i},iface={},queues=1",
            sock.display()
        ));
    }
    cmd.args([
        "--",
        "--forward-mode=flowgen",
        "--stats-period=60",
        "--total-num-mbufs=8192",
    ]);
    let peer = testkit::Proc::spawn("dpdk-testpmd (vhost peer)", &mut cmd, Some(&prefix));
    for sock in &socks {
        testkit::wait_for_path(sock, Duration::from_secs(30)).expect("vhost-user socket");
    }
    (peer, socks)
}

/// EAL arguments of a pod-like app on virtio-user ports connected to `socks`, on CPU `cpu`.
pub fn virtio_eal(mode: MemoryMode, cpu: usize, socks: &[PathBuf], prefix: &str) -> Vec<String> {
    let mut eal = mode.eal_args(1024);
    eal.extend(
        [
            "-n",
            "4",
            "-l",
            &cpu.to_string(),
            "--main-lcore",
            &cpu.to_string(),
        ]
        .map(String::from),
    );
    for (i, sock) in socks.iter().enumerate() {
        eal.push(format!(
            "--vdev=virtio_user{i},path={},queues=1,mac=02:fe:00:00:00:0{i}",
            sock.display()
        ));
    }
    eal.extend(["--no-pci".to_owned(), format!("--file-prefix={prefix}")]);
    eal
}

/// Reads a `--stats-file` summary.
pub fn summary(path: &Path) -> serde_json::Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", path.display()))
}

/// `dpdk-app <sub> <args>`, waited for.
pub fn app(sub: &str, args: &[&str]) -> std::process::Output {
    Command::new(APP)
        .arg(sub)
        .args(args)
        .output()
        .expect("dpdk-app")
}

/// Runs `dpdk-app <sub> <args>` on bad input: asserts exit status 1 before the EAL started and
/// returns what it printed on stderr.
pub fn rejected(sub: &str, args: &[&str]) -> String {
    let out = app(sub, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        testkit::describe(sub, &out)
    );
    assert!(
        !stderr.contains("EAL:"),
        "the EAL started for {args:?}: {stderr}"
    );
    stderr
}

/// Writes `inputs[p]` to `dir/in<p>.pcap` and returns one `--vdev=net_pcap<p>` argument per
/// port, reading that capture and writing what the port sends to `dir/out<p>.pcap`.
pub fn pcap_vdevs(dir: &ScratchDir, inputs: &[Vec<Vec<u8>>]) -> Vec<String> {
    inputs
        .iter()
        .enumerate()
        .map(|(port, frames)| {
            let input = dir.join(&format!("in{port}.pcap"));
            pcap::write(&input, frames);
            format!(
                "--vdev=net_pcap{port},rx_pcap={},tx_pcap={}",
                input.display(),
                dir.join(&format!("out{port}.pcap")).display()
            )
        })
        .collect()
}

/// The JSON objects an app printed on stdout with `--stats-format json`, one per line.
pub fn json_reports(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Runs `dpdk-app <sub>` as a pod does, on virtio-user ports connected to the vhost peer's
/// `socks`, on CPU `cpu`, with `app_args` and `--stats-file stats`; asserts a clean exit and
/// that virtio-user's refusal of promiscuous mode was only a warning. Returns stdout.
pub fn run_on_virtio(
    sub: &str,
    mode: MemoryMode,
    cpu: usize,
    socks: &[PathBuf],
    app_args: &[&str],
    stats: &Path,
) -> String {
    let prefix = unique_prefix(&format!("{sub}-virtio"));
    let mut cmd = Command::new(APP);
    cmd.arg(sub)
        .args(virtio_eal(mode, cpu, socks, &prefix))
        .arg("--")
        .args(app_args)
        .arg("--stats-file")
        .arg(stats);
    let what = format!("{sub} on virtio-user");
    let (out, killed) =
        testkit::Proc::spawn(&what, &mut cmd, Some(&prefix)).wait(Duration::from_secs(60));
    testkit::assert_success(&what, &out, killed);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("promiscuous mode is not supported"),
        "{stdout}"
    );
    stdout
}
