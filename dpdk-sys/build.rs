//! Finds DPDK with pkg-config (22.11, 23.11 or 24.11 LTS), compiles the fast-path shim with
//! DPDK's own cflags, generates the bindings with bindgen, and tells the crate which DPDK it was
//! built against through `cfg`s:
//!
//! * `dpdk_series = "22.11" | "23.11" | "24.11"`: the LTS series found;
//! * `dpdk_mbuf_unions`: `struct rte_mbuf` groups `data_off..port` and `packet_type..buf_len` in
//!   anonymous unions (24.11 replaced 22.11's zero-size `RTE_MARKER` fields with them), so
//!   bindgen nests those fields in `__bindgen_anon_*` members. Offsets are unchanged;
//! * `dpdk_eth_link_union`: `struct rte_eth_link`'s fields sit in an anonymous union with
//!   `val64` (24.11).
//!
//! The series is also passed to dependents as `DEP_DPDK_SERIES` and `DEP_DPDK_VERSION` (this
//! crate `links = "dpdk"`).

use std::env;
use std::path::PathBuf;
use std::process::Command;

/// The LTS series the shim, the layout assertions and the safe layer are written for.
const SUPPORTED_SERIES: &[&str] = &["22.11", "23.11", "24.11"];
const DEBIAN_PACKAGES: &str = "libdpdk-dev dpdk pkg-config clang libclang-dev";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=shim.h");
    println!("cargo:rerun-if-changed=shim.c");
    // Switching DPDK (another pkg-config path, another root) must rebuild the bindings.
    for var in [
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!(
        "cargo::rustc-check-cfg=cfg(dpdk_series, values({}))",
        SUPPORTED_SERIES
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("cargo::rustc-check-cfg=cfg(dpdk_mbuf_unions)");
    println!("cargo::rustc-check-cfg=cfg(dpdk_eth_link_union)");

    let dpdk = match pkg_config::Config::new()
        .cargo_metadata(true)
        .probe("libdpdk")
    {
        Ok(lib) => lib,
        Err(e) => fail(&format!(
            "libdpdk was not found by pkg-config ({e}).\n\
             Supported DPDK versions: {}.x. On Debian 12 (DPDK 22.11) or Debian 13 (DPDK 24.11) \
             install it with: apt-get install {DEBIAN_PACKAGES}\n\
             (or run scripts/install-deps.sh)",
            SUPPORTED_SERIES.join(".x, ")
        )),
    };
    let series = series_of(&dpdk.version).unwrap_or_else(|| {
        fail(&format!(
            "found libdpdk {} (pkg-config --modversion libdpdk), but this crate supports only \
             DPDK {}.x (the LTS releases of Debian 12, Ubuntu 24.04 and Debian 13). \
             Install one of them (Debian: apt-get install {DEBIAN_PACKAGES}), or point \
             PKG_CONFIG_PATH at one.",
            dpdk.version,
            SUPPORTED_SERIES.join(".x, ")
        ))
    });
    println!("cargo:rustc-cfg=dpdk_series=\"{series}\"");
    if series == "24.11" {
        println!("cargo:rustc-cfg=dpdk_mbuf_unions");
        println!("cargo:rustc-cfg=dpdk_eth_link_union");
    }
    println!("cargo:series={series}");
    println!("cargo:version={}", dpdk.version);

    // The headers that define the layouts and the version: a DPDK upgrade in place (same .pc
    // path, new contents) must rebuild too.
    if let Some(pc_dir) = pkg_config_output(&["--variable=pcfiledir", "libdpdk"]) {
        println!("cargo:rerun-if-changed={pc_dir}/libdpdk.pc");
    }
    for dir in &dpdk.include_paths {
        for header in ["rte_build_config.h", "rte_version.h", "rte_mbuf_core.h"] {
            let path = dir.join(header);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }

    // The cflags carry `-include rte_config.h` and `-march=corei7`; without them the inline
    // functions in rte_memcpy.h fail to build ("target specific option mismatch").
    let cflags = pkg_config_cflags();

    let mut shim = cc::Build::new();
    shim.file("shim.c").include(".").opt_level(3).warnings(true);
    for flag in &cflags {
        shim.flag(flag);
    }
    shim.compile("dpdk_shim");

    let bindings = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_args(&cflags)
        .clang_arg("-I.")
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .allowlist_function("(rte|shim)_.*")
        .allowlist_type("rte_.*")
        .allowlist_var("(RTE|rte)_.*")
        // Packed structs containing aligned members (E0588) or packed bitfields (no Debug);
        // reached through rte_ethdev.h -> rte_flow.h. We never touch them.
        .opaque_type("rte_l2tpv2_combined_msg_hdr")
        .opaque_type("rte_gtp_psc_generic_hdr")
        .opaque_type("rte_arp_ipv4")
        .opaque_type("rte_arp_hdr")
        // Flags defined with RTE_BIT64() are function-like macros: only clang's evaluation
        // recovers them (typed by value, so callers widen them to u64).
        .clang_macro_fallback()
        .derive_default(true)
        .layout_tests(true)
        .default_enum_style(bindgen::EnumVariation::ModuleConsts)
        .generate_comments(false)
        .generate()
        .unwrap_or_else(|e| fail(&format!("bindgen failed on wrapper.h: {e}")));

    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings
        .write_to_file(out.join("bindings.rs"))
        .unwrap_or_else(|e| fail(&format!("cannot write bindings: {e}")));
}

/// `22.11.11` -> `22.11`, if that series is supported.
fn series_of(version: &str) -> Option<&'static str> {
    let mut parts = version.trim().split('.');
    let (major, minor) = (parts.next()?, parts.next()?);
    SUPPORTED_SERIES
        .iter()
        .copied()
        .find(|s| *s == format!("{major}.{minor}"))
}

fn pkg_config() -> Command {
    Command::new(env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into()))
}

fn pkg_config_output(args: &[&str]) -> Option<String> {
    let output = pkg_config().args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn pkg_config_cflags() -> Vec<String> {
    let output = pkg_config()
        .args(["--cflags", "libdpdk"])
        .output()
        .unwrap_or_else(|e| fail(&format!("cannot run pkg-config: {e}")));
    if !output.status.success() {
        fail(&format!(
            "pkg-config --cflags libdpdk failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // `-include rte_config.h` is two words that must stay together, in order.
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn fail(msg: &str) -> ! {
    eprintln!("error: dpdk-sys: {msg}");
    std::process::exit(1);
}
