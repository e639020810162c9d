//! Test support for tests that run real DPDK processes on a small machine.
//!
//! * [`DpdkLock`] serialises busy-polling tests across test binaries and concurrent `cargo test`
//!   invocations (two busy pollers on a 2-core machine starve each other).
//! * [`MemoryMode`] lists the EAL memory set-ups to run each scenario in: always `--no-huge`,
//!   and hugepages when enough are mounted and free.
//! * [`Proc`] is a child process that is killed on drop and whose EAL files are removed, so a
//!   failing test leaves no poller, socket or hugepage file behind.
//! * [`c_examples`] builds DPDK's C l2fwd and l3fwd, the peers of ours.
//! * [`telemetry`] reads any DPDK process's port counters through its telemetry socket.
#![forbid(unsafe_code)]

pub mod c_examples;
pub mod pcap;
pub mod process;
pub mod prometheus;
pub mod telemetry;
pub use process::remove_eal_files;

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Lock file shared by every DPDK test on the machine.
const LOCK_PATH: &str = "/tmp/dpdk-rs-tests.lock";

/// Exclusive right to run busy-polling DPDK processes; released on drop.
#[derive(Debug)]
pub struct DpdkLock {
    _file: File,
}

impl DpdkLock {
    /// Blocks until no other DPDK test runs.
    pub fn acquire() -> Self {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK_PATH)
            .unwrap_or_else(|e| panic!("cannot open {LOCK_PATH}: {e}"));
        file.lock()
            .unwrap_or_else(|e| panic!("cannot lock {LOCK_PATH}: {e}"));
        DpdkLock { _file: file }
    }
}

/// How EAL gets its memory in a test run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryMode {
    /// `--no-huge -m <MiB>`: anonymous memory, works everywhere.
    NoHuge,
    /// Hugepages from a mounted hugetlbfs, with `--single-file-segments` (virtio-user over
    /// vhost-user can share at most 8 memory regions).
    Huge,
}

impl MemoryMode {
    /// The modes to test on this machine: `DPDK_TEST_MEMORY=nohuge|huge|all` chooses; by
    /// default `NoHuge`, plus `Huge` when `free_mib` MiB of 2 MiB hugepages are free and mounted.
    pub fn available(free_mib: u64) -> Vec<MemoryMode> {
        let huge_ok = free_hugepage_mib() >= free_mib && hugetlbfs_mounted();
        match std::env::var("DPDK_TEST_MEMORY").as_deref() {
            Ok("nohuge") => vec![MemoryMode::NoHuge],
            Ok("huge") => {
                assert!(
                    huge_ok,
                    "DPDK_TEST_MEMORY=huge but {free_mib} MiB of hugepages are not free"
                );
                vec![MemoryMode::Huge]
            }
            Ok("all") => {
                assert!(
                    huge_ok,
                    "DPDK_TEST_MEMORY=all but {free_mib} MiB of hugepages are not free"
                );
                vec![MemoryMode::NoHuge, MemoryMode::Huge]
            }
            _ if huge_ok => vec![MemoryMode::NoHuge, MemoryMode::Huge],
            _ => {
                eprintln!("testkit: hugepages not available, testing with --no-huge only");
                vec![MemoryMode::NoHuge]
            }
        }
    }

    /// EAL arguments for `mib` MiB of memory.
    pub fn eal_args(self, mib: u32) -> Vec<String> {
        match self {
            MemoryMode::NoHuge => vec!["--no-huge".into(), "-m".into(), mib.to_string()],
            MemoryMode::Huge => vec![
                "-m".into(),
                mib.to_string(),
                "--single-file-segments".into(),
            ],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MemoryMode::NoHuge => "nohuge",
            MemoryMode::Huge => "huge",
        }
    }
}

fn hugetlbfs_mounted() -> bool {
    fs::read_to_string("/proc/mounts")
        .map(|m| {
            m.lines()
                .any(|l| l.split_whitespace().nth(2) == Some("hugetlbfs"))
        })
        .unwrap_or(false)
}

fn free_hugepage_mib() -> u64 {
    fs::read_to_string("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(0, |pages| pages * 2)
}

/// A `--file-prefix` unique to this process and call.
pub fn unique_prefix(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "rs-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A scratch directory under /tmp, removed on drop (Unix socket paths must stay short).
///
/// Created with `mkdtemp` (a random name, exclusively, mode 0700): the tests run as root, and
/// a predictable name would let another user plant a symlink where they write and listen.
#[derive(Debug)]
pub struct ScratchDir(tempfile::TempDir);

impl ScratchDir {
    pub fn new(tag: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix(&format!("rs-{tag}-"))
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in("/tmp")
            .unwrap_or_else(|e| panic!("cannot create a scratch directory in /tmp: {e}"));
        ScratchDir(dir)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

/// A child process that is killed (and its EAL files removed) if still running on drop.
///
/// Its stdout and stderr are read as they come (by one thread each), so a test can wait for
/// what the process says ([`Proc::wait_for_output`]) instead of sleeping and hoping it got
/// there: on a loaded machine start-up alone can take seconds.
#[derive(Debug)]
pub struct Proc {
    name: String,
    child: Option<Child>,
    prefix: Option<String>,
    capture: Option<Capture>,
    stdin: Option<std::process::ChildStdin>,
}

/// The output read so far, and the threads reading it.
#[derive(Debug)]
struct Capture {
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Capture {
    fn start(child: &mut Child) -> Capture {
        let (stdout, stderr) = (Arc::default(), Arc::default());
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(Self::reader(out, Arc::clone(&stdout)));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(Self::reader(err, Arc::clone(&stderr)));
        }
        Capture {
            stdout,
            stderr,
            readers,
        }
    }

    fn reader(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                into.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&buf[..n]);
            }
        })
    }

    fn text(buf: &Mutex<Vec<u8>>) -> String {
        String::from_utf8_lossy(&buf.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    /// Waits for the readers (the process has exited, so they reach end of file).
    fn finish(self) -> (Vec<u8>, Vec<u8>) {
        for r in self.readers {
            let _ = r.join();
        }
        let take = |b: Arc<Mutex<Vec<u8>>>| {
            std::mem::take(&mut *b.lock().unwrap_or_else(|e| e.into_inner()))
        };
        (take(self.stdout), take(self.stderr))
    }
}

impl Proc {
    /// Spawns `cmd` with stdout and stderr captured. `prefix` is its EAL `--file-prefix`, if any.
    pub fn spawn(name: &str, cmd: &mut Command, prefix: Option<&str>) -> Self {
        cmd.stdin(Stdio::null());
        let mut p = Self::spawn_with(name, cmd, prefix, Stdio::piped(), Stdio::piped());
        let child = p.child.as_mut().expect("just spawned");
        p.capture = Some(Capture::start(child));
        p
    }

    /// Like [`Proc::spawn`], with stdin open for [`Proc::send_line`] (an interactive program
    /// such as `dpdk-testpmd -i`).
    pub fn spawn_interactive(name: &str, cmd: &mut Command, prefix: Option<&str>) -> Self {
        cmd.stdin(Stdio::piped());
        let mut p = Self::spawn_with(name, cmd, prefix, Stdio::piped(), Stdio::piped());
        let child = p.child.as_mut().expect("just spawned");
        p.stdin = child.stdin.take();
        p.capture = Some(Capture::start(child));
        p
    }

    /// Writes `line` and a newline to the process's stdin (see [`Proc::spawn_interactive`]).
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("spawned with spawn_interactive");
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("{}: cannot write {line:?} to stdin: {e}", self.name));
    }

    /// Spawns `cmd` with stdout and stderr written to `log` (for long runs whose output is
    /// read from the file afterwards).
    pub fn spawn_logged(name: &str, cmd: &mut Command, prefix: Option<&str>, log: &Path) -> Self {
        cmd.stdin(Stdio::null());
        let file = File::create(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = file
            .try_clone()
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        Self::spawn_with(name, cmd, prefix, file.into(), err.into())
    }

    fn spawn_with(
        name: &str,
        cmd: &mut Command,
        prefix: Option<&str>,
        stdout: Stdio,
        stderr: Stdio,
    ) -> Self {
        let child = cmd
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {name} ({cmd:?}): {e}"));
        Proc {
            name: name.to_owned(),
            child: Some(child),
            prefix: prefix.map(str::to_owned),
            capture: None,
            stdin: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Whether the process has exited (without reaping its output).
    pub fn has_exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    /// What the process wrote to stdout so far (empty for [`Proc::spawn_logged`]).
    pub fn stdout_so_far(&self) -> String {
        self.capture
            .as_ref()
            .map(|c| Capture::text(&c.stdout))
            .unwrap_or_default()
    }

    /// What the process wrote to stderr so far (empty for [`Proc::spawn_logged`]).
    pub fn stderr_so_far(&self) -> String {
        self.capture
            .as_ref()
            .map(|c| Capture::text(&c.stderr))
            .unwrap_or_default()
    }

    /// Waits until stderr contains `needle` (see [`Proc::wait_for_output`]).
    pub fn wait_for_stderr_line(&mut self, needle: &str, timeout: Duration) {
        self.wait_until(&format!("{needle:?} on stderr"), timeout, |p| {
            p.stderr_so_far().contains(needle)
        });
    }

    /// Waits until `ready` holds for the stdout so far; fails with the process's output if it
    /// exits first or after `timeout` (`what` says what was awaited).
    pub fn wait_for_output(&mut self, what: &str, timeout: Duration, ready: impl Fn(&str) -> bool) {
        self.wait_until(what, timeout, |p| ready(&p.stdout_so_far()));
    }

    fn wait_until(&mut self, what: &str, timeout: Duration, ready: impl Fn(&Proc) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if ready(self) {
                return;
            }
            let exited = self.has_exited();
            if exited || Instant::now() >= deadline {
                let name = self.name.clone();
                let (output, _) = self.take().wait(Duration::from_secs(5));
                panic!(
                    "{name}: no {what} {}\n{}",
                    if exited {
                        "before it exited"
                    } else {
                        "in time"
                    },
                    describe(&name, &output)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until stdout contains `needle`.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) {
        self.wait_for_output(&format!("{needle:?}"), timeout, |out| out.contains(needle));
    }

    /// Moves the process out of `self` (which is left without one).
    fn take(&mut self) -> Proc {
        Proc {
            name: self.name.clone(),
            child: self.child.take(),
            prefix: self.prefix.clone(),
            capture: self.capture.take(),
            stdin: self.stdin.take(),
        }
    }

    /// Waits up to `timeout` for the process to exit; kills it after that. Returns its output
    /// and whether it had to be killed.
    pub fn wait(mut self, timeout: Duration) -> (Output, bool) {
        drop(self.stdin.take());
        let mut child = self.child.take().expect("process already waited for");
        let deadline = Instant::now() + timeout;
        let mut killed = false;
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() >= deadline {
                eprintln!(
                    "testkit: {} still running after {timeout:?}: killing it",
                    self.name
                );
                let _ = child.kill();
                killed = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut output = child
            .wait_with_output()
            .expect("cannot collect child output");
        if let Some(capture) = self.capture.take() {
            (output.stdout, output.stderr) = capture.finish();
        }
        if let Some(prefix) = &self.prefix {
            remove_eal_files(prefix);
        }
        (output, killed)
    }

    /// Waits until `path` exists (a socket this process creates), up to `timeout`; fails at once,
    /// with the process's output, if the process exits first.
    pub fn wait_for_path(&mut self, path: &Path, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !path.exists() {
            if self.has_exited() {
                let name = self.name.clone();
                let (output, _) = self.take().wait(Duration::from_secs(1));
                panic!(
                    "{} exited before creating {}\n{}",
                    name,
                    path.display(),
                    describe(&name, &output)
                );
            }
            assert!(
                Instant::now() < deadline,
                "{}: {} did not appear within {timeout:?}",
                self.name,
                path.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal ("INT", "TERM", "KILL", "HUP", "USR1") to the process.
    pub fn signal(&self, signal: &str) {
        let sig = process::Signal::from_name(signal)
            .unwrap_or_else(|| panic!("testkit: unknown signal {signal:?}"));
        let child = self.child.as_ref().expect("the process is running");
        process::send(child, sig).unwrap_or_else(|e| {
            panic!("kill -{signal} {} ({}) failed: {e}", self.pid(), self.name)
        });
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(prefix) = &self.prefix {
            remove_eal_files(prefix);
        }
    }
}

/// Formats a finished process's output for an assertion message.
pub fn describe(name: &str, output: &Output) -> String {
    format!(
        "{name} exited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts that a process exited successfully, printing its output otherwise.
pub fn assert_success(name: &str, output: &Output, killed: bool) {
    assert!(
        !killed && output.status.success(),
        "{}",
        describe(name, output)
    );
}

/// Waits until `path` exists (a socket a peer creates), up to `timeout`.
pub fn wait_for_path(path: &Path, timeout: Duration) -> io::Result<()> {
    let deadline = Instant::now() + timeout;
    while !path.exists() {
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{} did not appear", path.display()),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// A command that runs DPDK's `dpdk-testpmd` with SIGPIPE ignored and stdout line-buffered.
///
/// DPDK's virtio-user writes to its vhost-user socket with a plain `sendmsg`: a testpmd on the
/// virtio side that closes its port after the vhost side exited dies of SIGPIPE instead of
/// printing its last lines (our apps ignore SIGPIPE, as every Rust program does). A disposition
/// of "ignore" survives `exec`, so a shell sets it and execs testpmd; signals sent to the
/// child reach testpmd itself. `stdbuf -oL` makes what it prints to a pipe visible line by
/// line (interactive commands' output is otherwise held until exit).
pub fn dpdk_testpmd() -> Command {
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "trap '' PIPE; exec stdbuf -oL \"$@\"",
        "sh",
        "dpdk-testpmd",
    ]);
    cmd
}

/// The `RX-packets` of port `port`'s last "NIC statistics" block testpmd (C or ours) printed.
pub fn last_nic_rx(stdout: &str, port: u16) -> Option<u64> {
    last_nic_counter(stdout, port, "RX-packets:")
}

/// The `TX-packets` of port `port`'s last "NIC statistics" block.
pub fn last_nic_tx(stdout: &str, port: u16) -> Option<u64> {
    last_nic_counter(stdout, port, "TX-packets:")
}

fn last_nic_counter(stdout: &str, port: u16, label: &str) -> Option<u64> {
    let header = format!("NIC statistics for port {port} ");
    let block = &stdout[stdout.rfind(&header)? + header.len()..];
    let block = &block[..block.find("NIC statistics for port").unwrap_or(block.len())];
    block
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix(label))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .next()
}

/// Two CPUs for two busy-polling processes: distinct when the machine has them.
pub fn two_cpus() -> (usize, usize) {
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    (0, 1 % n)
}

/// A DPDK release, e.g. 24.11.8 (year, month, patch level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DpdkVersion {
    pub year: u32,
    pub month: u32,
    pub patch: u32,
}

impl DpdkVersion {
    /// The installed DPDK (`pkg-config --modversion libdpdk`): the one `dpdk-app` was built
    /// against and whose C programs (`dpdk-testpmd`, the examples) the tests run as peers. The
    /// tests know the few places where the C programs of another release behave differently
    /// from 22.11's (docs/dpdk-versions.md); this tells them which release they face.
    ///
    /// Panics if pkg-config cannot say.
    pub fn installed() -> Self {
        static INSTALLED: std::sync::OnceLock<DpdkVersion> = std::sync::OnceLock::new();
        *INSTALLED.get_or_init(|| {
            let out = Command::new("pkg-config")
                .args(["--modversion", "libdpdk"])
                .output()
                .expect("cannot run pkg-config");
            let text = String::from_utf8_lossy(&out.stdout);
            Self::parse(text.trim())
                .unwrap_or_else(|| panic!("pkg-config --modversion libdpdk: unexpected {text:?}"))
        })
    }

    /// Parses `22.11.11` or `24.11`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.').map(|p| p.parse::<u32>().ok());
        Some(DpdkVersion {
            year: parts.next()??,
            month: parts.next()??,
            patch: parts.next().unwrap_or(Some(0))?,
        })
    }

    /// Whether this is release `year.month` or later.
    pub fn at_least(self, year: u32, month: u32) -> bool {
        (self.year, self.month) >= (year, month)
    }
}

impl std::fmt::Display for DpdkVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}.{}", self.year, self.month, self.patch)
    }
}

/// Packet counts of one port in testpmd's final "Forward statistics for port N" block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardStats {
    pub rx_packets: u64,
    pub rx_dropped: u64,
    pub tx_packets: u64,
    pub tx_dropped: u64,
}

/// Parses every "Forward statistics for port N" block of testpmd's output (ours or DPDK's),
/// word by word as log parsers do: `RX-packets: A RX-dropped: B RX-total: C` and the TX line.
pub fn parse_forward_stats(output: &str) -> std::collections::BTreeMap<u16, ForwardStats> {
    let mut out = std::collections::BTreeMap::new();
    let mut current: Option<u16> = None;
    for line in output.lines() {
        if let Some(rest) = line.split("Forward statistics for port").nth(1) {
            current = rest.split_whitespace().next().and_then(|p| p.parse().ok());
            continue;
        }
        let Some(port) = current else { continue };
        let words: Vec<&str> = line.split_whitespace().collect();
        let value = |i: usize| {
            words
                .get(i)
                .and_then(|w| w.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let entry: &mut ForwardStats = out.entry(port).or_default();
        match words.first() {
            Some(&"RX-packets:") => {
                entry.rx_packets = value(1);
                entry.rx_dropped = value(3);
            }
            Some(&"TX-packets:") => {
                entry.tx_packets = value(1);
                entry.tx_dropped = value(3);
                current = None;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_last_nic_statistics_of_a_port() {
        let block = |port: u16, rx: u64, tx: u64| {
            format!(
                "  ######################## NIC statistics for port {port}  ########################\n\
                 \x20 RX-packets: {rx:<10} RX-missed: 0          RX-bytes:  0\n\
                 \x20 TX-packets: {tx:<10} TX-errors: 0          TX-bytes:  0\n"
            )
        };
        let out = [
            block(0, 5, 1),
            block(1, 7, 2),
            block(0, 9, 3),
            block(1, 0, 4),
        ]
        .concat();
        assert_eq!(last_nic_rx(&out, 0), Some(9));
        assert_eq!(last_nic_tx(&out, 0), Some(3));
        assert_eq!(last_nic_rx(&out, 1), Some(0));
        assert_eq!(last_nic_rx(&out, 2), None);
    }

    #[test]
    fn scratch_directories_are_private_and_unpredictable() {
        use std::os::unix::fs::PermissionsExt;
        let (a, b) = (ScratchDir::new("t"), ScratchDir::new("t"));
        assert_ne!(a.path(), b.path());
        let meta = std::fs::symlink_metadata(a.path()).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        let path = a.path().to_owned();
        drop(a);
        assert!(!path.exists());
    }

    #[test]
    fn dpdk_versions_parse_and_compare() {
        let v = DpdkVersion::parse("24.11.8").unwrap();
        assert_eq!((v.year, v.month, v.patch), (24, 11, 8));
        assert_eq!(v.to_string(), "24.11.8");
        assert!(v.at_least(23, 7) && v.at_least(24, 11) && !v.at_least(25, 3));
        assert!(!DpdkVersion::parse("22.11.11").unwrap().at_least(23, 7));
        assert_eq!(DpdkVersion::parse("23.11").unwrap().patch, 0);
        assert_eq!(DpdkVersion::parse("x"), None);
        assert!(DpdkVersion::installed().at_least(22, 11));
    }

    #[test]
    fn parses_testpmd_forward_stats() {
        let text = "\
  ---------------------- Forward statistics for port 0  ----------------------
  RX-packets: 12             RX-dropped: 3             RX-total: 15
  TX-packets: 1000           TX-dropped: 7             TX-total: 1007
  ----------------------------------------------------------------------------

  ---------------------- Forward statistics for port 1  ----------------------
  RX-packets: 5              RX-dropped: 0             RX-total: 5
  TX-packets: 0              TX-dropped: 0             TX-total: 0
  ----------------------------------------------------------------------------
";
        let stats = parse_forward_stats(text);
        assert_eq!(
            stats[&0],
            ForwardStats {
                rx_packets: 12,
                rx_dropped: 3,
                tx_packets: 1000,
                tx_dropped: 7
            }
        );
        assert_eq!(stats[&1].rx_packets, 5);
        assert_eq!(stats.len(), 2);
    }
}
