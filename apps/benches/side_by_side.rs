//! `cargo bench`: dpdk-app's testpmd, l2fwd and l3fwd against DPDK's C programs, one table.
//! The runner is `dpdk_benches`; this target only knows where cargo put the binary it built
//! with the bench profile. `make bench`, `make bench-quick`; docs/benchmarks.md.
#![forbid(unsafe_code)]

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp");
    dpdk_benches::main(Path::new(env!("CARGO_BIN_EXE_dpdk-app")), target)
}
