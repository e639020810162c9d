//! `dpdk-app`: testpmd-, l2fwd- and l3fwd-style DPDK applications, the pod entrypoint that runs
//! them on the devices a Kubernetes pod was given, and the single-machine demo.
//!
//! The binary (`src/main.rs`) is a thin command-line front end over this library; benchmarks and
//! integration tests use the library directly.
#![forbid(unsafe_code)]

pub mod cmdline;
pub mod demo;
pub mod getopt;
pub mod inspect;
pub mod l2fwd;
pub mod l3fwd;
pub mod lcores;
pub mod monitor;
pub mod pod;
pub mod podsim;
pub mod quiesce;
pub mod relay;
pub mod runopts;
pub mod sample_app;
pub mod sample_args;
pub mod signal;
pub mod stats;
pub mod testpmd;
pub mod txbuffer;
