//! The benchmarks: groups of set-ups, each a reference (DPDK's C program) and ours in its
//! place, measured alternately.

use std::path::{Path, PathBuf};

use testkit::MemoryMode;

use crate::measure::{Launch, Setup};
use crate::{sample_apps, testpmd};

/// MiB of memory per EAL: pools of 8192 mbufs and l3fwd's LPM tables fit.
pub const EAL_MIB: u32 = 512;

/// The programs compared.
#[derive(Debug, Clone)]
pub struct Tools {
    /// Our `dpdk-app`, optimised as it ships.
    pub app: PathBuf,
    /// Debian's `dpdk-testpmd`.
    pub testpmd: PathBuf,
    /// DPDK's C examples (`testkit::c_examples`).
    pub l2fwd: PathBuf,
    pub l3fwd: PathBuf,
}

/// Which implementation a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    C,
    Ours,
}

/// The three programs each side has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    Testpmd,
    L2fwd,
    L3fwd,
}

impl Tools {
    /// A process of `program` on `side`, with `eal` and `app` arguments.
    pub fn launch(
        &self,
        side: Side,
        program: Program,
        eal: Vec<String>,
        app: Vec<String>,
    ) -> Launch {
        let (path, subcommand) = match program {
            Program::Testpmd => (&self.testpmd, "testpmd"),
            Program::L2fwd => (&self.l2fwd, "l2fwd"),
            Program::L3fwd => (&self.l3fwd, "l3fwd"),
        };
        let (program, leading) = match side {
            Side::C => (path.clone(), vec![]),
            Side::Ours => (self.app.clone(), vec![subcommand.to_owned()]),
        };
        Launch {
            name: format!("{} {subcommand}", side.name()),
            program,
            leading,
            eal,
            app,
            ready: None,
        }
    }
}

impl Side {
    /// How tables and messages call it.
    pub fn name(self) -> &'static str {
        match self {
            Side::C => "C",
            Side::Ours => "dpdk-app",
        }
    }
}

/// A reference set-up and set-ups of ours, each compared with it (one table row each).
#[derive(Debug, Clone)]
pub struct Group {
    /// What filters select, e.g. `l3fwd-em`.
    pub name: &'static str,
    pub reference: Setup,
    /// (benchmark name, set-up).
    pub ours: Vec<(String, Setup)>,
}

impl Group {
    /// Whether `filters` (substrings of group names; none: all) select this group.
    pub fn selected(&self, filters: &[String]) -> bool {
        filters.is_empty() || filters.iter().any(|f| self.name.contains(f.as_str()))
    }
}

/// Every benchmark, with its files (sockets, captures) in `dir`.
pub fn groups(tools: &Tools, memory: MemoryMode, dir: &Path) -> Vec<Group> {
    let mut groups = vec![
        testpmd::group(tools, memory, dir),
        testpmd::metrics_group(tools, memory, dir),
    ];
    groups.extend(sample_apps::groups(tools, memory, dir));
    groups
}

/// EAL arguments shared by every process: memory, no PCI scan, lcores.
pub fn eal(memory: MemoryMode, lcores: &[&str]) -> Vec<String> {
    let mut args = memory.eal_args(EAL_MIB);
    args.push("--no-pci".into());
    args.extend(lcores.iter().map(|s| (*s).to_owned()));
    args
}
