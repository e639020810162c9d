//! `dpdk-app`: testpmd-, l2fwd- and l3fwd-style DPDK applications, the pod entrypoint that runs
//! them on the devices a Kubernetes pod was given, and the relay that plays a vDPA NIC's switch
//! on one machine. The single-machine demo and the pod simulation are the `podsim` crate (the
//! test rig); the binary offers `dpdk-app demo` when built with the `demo` feature (default;
//! the container image is built without it).
//!
//! The binary (`src/main.rs`) is a thin command-line front end over this library; benchmarks and
//! integration tests use the library directly.
#![forbid(unsafe_code)]

// The shared frame of every engine, re-exported so that `crate::runopts` and friends read as
// they always did.
pub use appkit::{
    cmdline, getopt, lcores, metrics, monitor, pacing, quiesce, runopts, sample_app, signal, stats,
};

pub mod inspect;
pub mod l2fwd;
pub mod l3fwd;
pub mod pod;
pub mod relay;
pub mod rfc2544;
pub mod sample_args;
pub mod testpmd;
pub mod txbuffer;
