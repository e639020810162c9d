//! How much hugepage memory the simulated pods get.
//!
//! In the cluster kubelet only starts a pod whose `hugepages-1Gi: 2Gi` it can reserve, and the
//! downward-API files then say 2048 (MiB). One small machine cannot give every pod of the test
//! that much, so the simulation writes the same files with values scaled to an equal share of
//! the hugepages this machine has free in mounted sizes (never more than the manifest asks). The
//! entrypoint then plans `-m <share>` from hugepages exactly as it would plan `-m 2048` on a
//! node. When the share is too small to run a pod, the files keep the manifest's values, which
//! exceed what is free, and the entrypoint falls back to `--no-huge` by itself; that is also how
//! [`HugepageMode::Off`] simulates a node whose hugepages are taken.

use std::path::Path;

use super::quantity::Quantity;

/// The least hugepage memory worth giving a pod: its mbuf pool and rings fit with room to
/// spare (testpmd's default pool for two ports is about 180 MiB).
pub const MIN_POD_MIB: u64 = 384;

/// Whether the pods may use this machine's hugepages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HugepageMode {
    /// An equal share of the free hugepages when it is at least [`MIN_POD_MIB`], else
    /// `--no-huge`.
    #[default]
    Fit,
    /// `--no-huge`: the budget files ask for more than is free.
    Off,
}

/// What the hugepage files of every pod say, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HugepagePlan {
    /// The cap on each pod's request and limit, in MiB: the scaled share, or (to force
    /// `--no-huge`) a floor above what is free.
    pub cap: Cap,
    /// Free MiB in mounted hugepage sizes when the plan was made.
    pub free_mib: u64,
    /// One line for the log and the report.
    pub note: String,
}

/// How a manifest's hugepage quantity becomes the file's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// At most this many MiB: the pod's share of this machine.
    AtMost(u64),
    /// At least this many MiB: more than is free, so the pod runs `--no-huge`.
    AtLeast(u64),
}

impl HugepagePlan {
    /// Plans for `pods` pods given `free_mib` free in mounted sizes of `page_mib`.
    pub fn new(mode: HugepageMode, free_mib: u64, page_mib: u64, pods: usize) -> Self {
        let page = page_mib.max(1);
        let share = free_mib / pods.max(1) as u64 / page * page;
        match mode {
            HugepageMode::Fit if share >= MIN_POD_MIB => HugepagePlan {
                cap: Cap::AtMost(share),
                free_mib,
                note: format!(
                    "hugepages: {free_mib} MiB free; each of {pods} pods gets at most {share} MiB \
                     (the manifest's hugepage request and limit, scaled to this machine)"
                ),
            },
            HugepageMode::Fit => HugepagePlan {
                cap: Cap::AtLeast(free_mib + page),
                free_mib,
                note: format!(
                    "hugepages: {free_mib} MiB free is less than {MIN_POD_MIB} MiB for each of \
                     {pods} pods; the hugepage files keep values above that, so the pods run --no-huge"
                ),
            },
            HugepageMode::Off => HugepagePlan {
                cap: Cap::AtLeast(free_mib + page),
                free_mib,
                note: format!(
                    "hugepages off: the hugepage files ask for more than the {free_mib} MiB free, \
                     so the pods run --no-huge as on a node whose hugepages are taken"
                ),
            },
        }
    }

    /// Plans from this machine's mounts and pools.
    pub fn for_machine(mode: HugepageMode, pods: usize) -> Self {
        let mounts = std::fs::read_to_string("/proc/mounts")
            .ok()
            .and_then(|t| netutil::hugepages::parse_mounts(&t).ok())
            .unwrap_or_default();
        let pools = netutil::hugepages::read_pools(Path::new("/sys/kernel/mm/hugepages"))
            .unwrap_or_default();
        let page_mib = pools
            .iter()
            .filter(|p| {
                mounts
                    .iter()
                    .any(|m| m.page_size_kib.is_none_or(|s| s == p.page_size_kib))
            })
            .map(|p| p.page_size_kib / 1024)
            .max()
            .unwrap_or(2);
        let hp = netutil::Hugepages {
            budget: None,
            mounts,
            pools,
        };
        Self::new(mode, hp.free_mounted_mib(), page_mib, pods)
    }

    /// The value a hugepage quantity of the manifest is written as.
    pub fn apply(&self, q: Quantity) -> Quantity {
        match self.cap {
            Cap::AtMost(mib) => q.min(Quantity::mib(mib)),
            Cap::AtLeast(mib) => q.max(Quantity::mib(mib)),
        }
    }

    /// Whether the pods are expected to run from hugepages.
    pub fn uses_hugepages(&self) -> bool {
        matches!(self.cap, Cap::AtMost(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_to_an_equal_share_or_falls_back() {
        let two_gib = Quantity::mib(2048);
        let p = HugepagePlan::new(HugepageMode::Fit, 1536, 2, 2);
        assert_eq!(p.cap, Cap::AtMost(768));
        assert_eq!(p.apply(two_gib), Quantity::mib(768));
        assert_eq!(
            p.apply(Quantity::mib(100)),
            Quantity::mib(100),
            "never more than asked"
        );
        assert!(p.uses_hugepages() && p.note.contains("768"));

        let p = HugepagePlan::new(HugepageMode::Fit, 4096, 1024, 3);
        assert_eq!(p.cap, Cap::AtMost(1024), "whole 1 GiB pages");

        let p = HugepagePlan::new(HugepageMode::Fit, 500, 2, 2);
        assert_eq!(
            p.apply(Quantity::mib(10)),
            Quantity::mib(502),
            "above what is free"
        );
        assert!(!p.uses_hugepages() && p.note.contains("--no-huge"));

        let p = HugepagePlan::new(HugepageMode::Off, 8192, 2, 2);
        assert_eq!(p.apply(two_gib), Quantity::mib(8194));
        assert!(!p.uses_hugepages());
        assert_eq!(
            HugepagePlan::new(HugepageMode::Fit, 0, 2, 2).cap,
            Cap::AtLeast(2)
        );
    }
}
