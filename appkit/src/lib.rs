//! What every `dpdk-app` engine (testpmd, l2fwd, l3fwd, the relay) is built from, around its
//! fast path: the options beyond the C applications ([`runopts`]), the stop flag armed by
//! signals and `--duration` ([`signal`]), one job per lcore next to a monitor ([`lcores`]),
//! single-writer counters and the reports built from them ([`stats`], [`monitor`]), draining
//! and lingering when stopping ([`quiesce`]), the C apps' option scanning ([`getopt`]) and
//! argument splitting ([`cmdline`]), and the EAL-to-exit frame of the sample apps
//! ([`sample_app`]), the TSC token bucket that paces generators ([`pacing`]), and the check of
//! each port's device MAC against the pod's network-status ([`portmacs`]).
#![forbid(unsafe_code)]

pub mod cmdline;
pub mod getopt;
pub mod lcores;
pub mod metrics;
pub mod monitor;
pub mod pacing;
pub mod portmacs;
pub mod quiesce;
pub mod runopts;
pub mod sample_app;
pub mod signal;
pub mod stats;
