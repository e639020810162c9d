//! One measurement: start a set-up's DPDK processes, wait until packets flow, let them warm up,
//! read a port counter over a fixed window through telemetry, stop them.
//!
//! C and ours are measured by exactly the same code from the outside, so neither's own
//! statistics (or their cost) enter the numbers. Each measurement holds the machine-wide DPDK
//! lock: no test or other benchmark polls at the same time.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use testkit::{unique_prefix, DpdkLock, Proc, ScratchDir};

use testkit::telemetry::{self, PortStats, Telemetry, TelemetryError};

/// How long a process may take to start (EAL memory set-up, `mlockall`) or to stop.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// Lines of a process's log quoted when it fails.
const LOG_TAIL: usize = 30;

/// Why a measurement failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{name} exited before the measurement ended; its output ends with:\n{log}")]
    Exited { name: String, log: String },
    #[error("{name}: {what} within {timeout:?}; its output ends with:\n{log}")]
    Timeout {
        name: String,
        what: &'static str,
        timeout: Duration,
        log: String,
    },
    #[error(transparent)]
    Telemetry(#[from] TelemetryError),
}

/// One DPDK process of a set-up: `program [leading] EAL --file-prefix=<unique> -- app`.
#[derive(Debug, Clone)]
pub struct Launch {
    /// For messages, e.g. `dpdk-testpmd rxonly`.
    pub name: String,
    pub program: PathBuf,
    /// Arguments before the EAL's (`dpdk-app`'s subcommand).
    pub leading: Vec<String>,
    pub eal: Vec<String>,
    pub app: Vec<String>,
    /// A path the process creates when the next one may start (a vhost-user socket); removed
    /// before it starts.
    pub ready: Option<PathBuf>,
}

/// Which counter of which process is the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// `ipackets` of a receiver's port.
    Received,
    /// `opackets` of a forwarder's ports: what it forwarded.
    Sent,
}

/// Processes started in order, and what is counted.
#[derive(Debug, Clone)]
pub struct Setup {
    /// e.g. `testpmd txonly -> dpdk-app rxonly`.
    pub label: String,
    pub processes: Vec<Launch>,
    /// Index in `processes` of the process whose ports are counted.
    pub counted: usize,
    pub ports: Vec<u16>,
    pub counter: Counter,
}

/// Warm-up and measurement window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub warmup: Duration,
    pub window: Duration,
}

/// The result of one measurement.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Sample {
    pub mpps: f64,
    /// CPU time each process used per second of the window: about 1.0 for a process with one
    /// busy-polling lcore that had its CPU to itself, less when something else ran there.
    pub cpu: Vec<f64>,
}

impl Sample {
    /// Whether a process polled less than 90% of the window: another process took its CPU,
    /// and the number understates what the code can do.
    pub fn contended(&self) -> bool {
        self.cpu.iter().any(|&c| c < 0.9)
    }
}

/// A started process with its prefix and log.
struct Running {
    name: String,
    proc: Proc,
    prefix: String,
    log: PathBuf,
}

impl Running {
    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n")
    }

    fn exited(&self) -> RunError {
        RunError::Exited {
            name: self.name.clone(),
            log: self.log_tail(),
        }
    }

    fn timeout(&self, what: &'static str, timeout: Duration) -> RunError {
        RunError::Timeout {
            name: self.name.clone(),
            what,
            timeout,
            log: self.log_tail(),
        }
    }

    /// Waits for `path` to appear while the process lives.
    fn wait_for(&mut self, path: &Path, what: &'static str) -> Result<(), RunError> {
        let deadline = Instant::now() + START_TIMEOUT;
        while !path.exists() {
            if self.proc.has_exited() {
                return Err(self.exited());
            }
            if Instant::now() > deadline {
                return Err(self.timeout(what, START_TIMEOUT));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// CPU time of all the process's threads so far.
    fn cpu_time(&self) -> Duration {
        cpu_time(self.proc.pid())
    }
}

/// Runs `setup` once and returns the rate of its counter over `timing.window`.
pub fn measure(setup: &Setup, timing: Timing, scratch: &ScratchDir) -> Result<Sample, RunError> {
    let _lock = DpdkLock::acquire();
    let mut running: Vec<Running> = Vec::with_capacity(setup.processes.len());
    for launch in &setup.processes {
        let mut r = start(launch, scratch);
        if let Some(path) = &launch.ready {
            r.wait_for(path, "did not create its socket")?;
        }
        running.push(r);
    }
    let result = sample(setup, timing, &mut running);
    stop(running);
    result
}

fn start(launch: &Launch, scratch: &ScratchDir) -> Running {
    let prefix = unique_prefix("bench");
    if let Some(path) = &launch.ready {
        let _ = fs::remove_file(path);
    }
    let log = scratch.join(&format!("{prefix}.log"));
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.leading)
        .args(&launch.eal)
        .arg(format!("--file-prefix={prefix}"))
        .arg("--")
        .args(&launch.app);
    let proc = Proc::spawn_logged(&launch.name, &mut cmd, Some(&prefix), &log);
    Running {
        name: launch.name.clone(),
        proc,
        prefix,
        log,
    }
}

fn sample(setup: &Setup, timing: Timing, running: &mut [Running]) -> Result<Sample, RunError> {
    let counted = &mut running[setup.counted];
    let path = telemetry::socket_path(&counted.prefix);
    counted.wait_for(&path, "did not open its telemetry socket")?;
    let telemetry = Telemetry::connect(&path)?;
    let read = |t: &Telemetry| -> Result<(u64, Instant), RunError> {
        let before = Instant::now();
        let mut total = 0;
        for &port in &setup.ports {
            let PortStats {
                ipackets, opackets, ..
            } = t.port_stats(port)?;
            total += match setup.counter {
                Counter::Received => ipackets,
                Counter::Sent => opackets,
            };
        }
        // The counters were read somewhere between the two instants.
        Ok((total, before + (Instant::now() - before) / 2))
    };
    let deadline = Instant::now() + START_TIMEOUT;
    while read(&telemetry)?.0 == 0 {
        all_alive(running)?;
        if Instant::now() > deadline {
            return Err(running[setup.counted].timeout("no packet counted", START_TIMEOUT));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(timing.warmup);
    let cpu0: Vec<Duration> = running.iter().map(Running::cpu_time).collect();
    let (n0, t0) = read(&telemetry)?;
    std::thread::sleep(timing.window);
    let (n1, t1) = read(&telemetry)?;
    let cpu1: Vec<Duration> = running.iter().map(Running::cpu_time).collect();
    all_alive(running)?;
    let secs = (t1 - t0).as_secs_f64();
    Ok(Sample {
        mpps: n1.saturating_sub(n0) as f64 / secs / 1e6,
        cpu: cpu0
            .iter()
            .zip(&cpu1)
            .map(|(a, b)| (b.saturating_sub(*a)).as_secs_f64() / secs)
            .collect(),
    })
}

fn all_alive(running: &mut [Running]) -> Result<(), RunError> {
    match running
        .iter_mut()
        .find_map(|r| r.proc.has_exited().then(|| r.exited()))
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// SIGINT to each process, last started first (senders before the receivers whose sockets
/// they use); whatever ignores it is killed.
fn stop(running: Vec<Running>) {
    for mut r in running.into_iter().rev() {
        if !r.proc.has_exited() {
            r.proc.signal("INT");
        }
        let _ = r.proc.wait(STOP_TIMEOUT);
    }
}

/// CPU time the threads of process `pid` have run, from `/proc/<pid>/task/*/schedstat`
/// (nanoseconds on CPU first); zero once the process is gone.
fn cpu_time(pid: u32) -> Duration {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Duration::ZERO;
    };
    let ns: u64 = tasks
        .flatten()
        .filter_map(|t| fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ns)
}
