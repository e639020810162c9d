//! The `dpdk-app` binary.
#![forbid(unsafe_code)]

fn main() {}
