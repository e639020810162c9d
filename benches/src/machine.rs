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
    /// The installed DPDK both sides ran on (`pkg-config --modversion libdpdk`: dpdk-app's build,
    /// the C references' build and `dpdk-testpmd`), e.g. `22.11.11` on Debian 12 or `24.11.8` in
    /// the Debian 13 root of `make test-dpdk24`.
    pub dpdk: String,
    /// The distribution (`PRETTY_NAME` of /etc/os-release), which says whose DPDK build it was.
    pub os: String,
    /// `hugepages (2 MiB)` or `--no-huge (4 KiB pages)`.
    pub memory: String,
}

impl Machine {
    /// Describes this machine; `memory` is how the benchmarks' EALs get memory.
    pub fn describe(memory: MemoryMode) -> Self {
        let info = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            info.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim().to_owned())
        };
        let mut cpu = field("model name").unwrap_or_else(|| "unknown CPU".into());
        if let (Some(family), Some(model)) = (field("cpu family"), field("model")) {
            cpu += &format!(" (family {family}, model {model})");
        }
        // Under a hypervisor, vCPUs may share physical cores with other guests' work.
        if field("flags").is_some_and(|f| f.split_whitespace().any(|f| f == "hypervisor")) {
            cpu += ", virtual machine";
        }
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
        let os = fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                    .map(|v| v.trim_matches('"').to_owned())
            })
            .unwrap_or_else(|| "unknown OS".into());
        let memory = match memory {
            MemoryMode::Huge => "hugepages (2 MiB)",
            MemoryMode::NoHuge => "--no-huge (4 KiB pages)",
        };
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            kernel,
            dpdk,
            os,
            memory: memory.into(),
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {} cores, Linux {}, DPDK {} ({}), {}",
            self.cpu, self.cores, self.kernel, self.dpdk, self.os, self.memory
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_this_machine() {
        let m = Machine::describe(MemoryMode::NoHuge);
        assert!(m.cores >= 1);
        let text = m.to_string();
        assert!(
            text.contains(" cores, Linux ") && text.ends_with("--no-huge (4 KiB pages)"),
            "{text}"
        );
        assert!(load_average() >= 0.0);
    }
}
