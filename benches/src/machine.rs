//! What a table of numbers was measured on: without it the numbers mean little.

use std::fmt;
use std::fs;
use std::process::Command;

use serde::Serialize;
use testkit::MemoryMode;

/// The machine and set-up of a benchmark run.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub kernel: String,
    pub dpdk: String,
    /// `hugepages (2 MiB)` or `--no-huge (4 KiB pages)`.
    pub memory: String,
}

impl Machine {
    /// Describes this machine; `memory` is how the benchmarks' EALs get memory.
    pub fn describe(memory: MemoryMode) -> Self {
        let cpu = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into());
        let dpdk = Command::new("pkg-config")
            .args(["--modversion", "libdpdk"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let memory = match memory {
            MemoryMode::Huge => "hugepages (2 MiB)",
            MemoryMode::NoHuge => "--no-huge (4 KiB pages)",
        };
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            kernel,
            dpdk,
            memory: memory.into(),
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {} cores, Linux {}, DPDK {}, {}",
            self.cpu, self.cores, self.kernel, self.dpdk, self.memory
        )
    }
}

/// The 1-minute load average: how busy the machine was around a run (other engineers'
/// builds and tests share it).
pub fn load_average() -> f64 {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}
