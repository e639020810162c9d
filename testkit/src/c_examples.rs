//! DPDK's C sample applications (l2fwd, l3fwd), built from the sources Debian's dpdk-doc
//! installs, as the peers our re-implementations are checked and benchmarked against.
//!
//! Tests and benchmarks share one build: binaries are cached under a directory the caller
//! names (the workspace's `target/c-examples/`), keyed by a hash of the sources and of the
//! installed libdpdk version, so a DPDK upgrade or an edited example rebuilds them.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::unique_prefix;

/// Where Debian's dpdk-doc puts the example sources.
pub const EXAMPLES: &str = "/usr/share/dpdk/examples";

/// The C example binary `name` (l2fwd or l3fwd), built with `make` against the installed
/// libdpdk the first time and cached in `cache`. l3fwd's forced `RTE_ETH_RX_OFFLOAD_CHECKSUM`
/// is removed so that it can start on ports without it (net_pcap, virtio).
///
/// Panics, saying what is missing, when the sources are not installed or the build fails.
pub fn build(name: &str, cache: &Path) -> PathBuf {
    let src = Path::new(EXAMPLES);
    assert!(
        src.join(name).join("main.c").exists(),
        "{EXAMPLES}/{name} is missing: install dpdk-doc (scripts/install-deps.sh)"
    );
    let mut hasher = DefaultHasher::new();
    for dir in ["common", name] {
        hash_dir(&src.join(dir), &mut hasher);
    }
    let version = Command::new("pkg-config")
        .args(["--modversion", "libdpdk"])
        .output()
        .expect("pkg-config");
    version.stdout.hash(&mut hasher);
    let built = cache.join(format!("{name}-{:016x}", hasher.finish()));
    let binary = built.join(name).join("build").join(name);
    if binary.exists() {
        return binary;
    }
    // Build in a private copy, then move it into place: concurrent test binaries may race.
    let work = cache.join(unique_prefix(&format!("build-{name}")));
    fs::create_dir_all(&work).unwrap_or_else(|e| panic!("{}: {e}", work.display()));
    for dir in ["common", name] {
        let status = Command::new("cp")
            .args(["-r"])
            .arg(src.join(dir))
            .arg(&work)
            .status()
            .expect("cp");
        assert!(status.success(), "cannot copy {EXAMPLES}/{dir}");
    }
    if name == "l3fwd" {
        let main = work.join("l3fwd/main.c");
        let text = fs::read_to_string(&main).unwrap_or_else(|e| panic!("{}: {e}", main.display()));
        let forced = "\t\t.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,\n";
        assert!(
            text.contains(forced),
            "l3fwd/main.c no longer forces RX checksum offload"
        );
        fs::write(&main, text.replace(forced, ""))
            .unwrap_or_else(|e| panic!("{}: {e}", main.display()));
    }
    let out = Command::new("make")
        .arg("-C")
        .arg(work.join(name))
        .output()
        .expect("make");
    assert!(
        out.status.success(),
        "building the C {name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if fs::rename(&work, &built).is_err() {
        let _ = fs::remove_dir_all(&work); // another process built it meanwhile
    }
    assert!(binary.exists(), "{} was not built", binary.display());
    binary
}

fn hash_dir(dir: &Path, hasher: &mut impl Hasher) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        path.file_name().hash(hasher);
        if path.is_dir() {
            hash_dir(&path, hasher);
        } else {
            fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .hash(hasher);
        }
    }
}
