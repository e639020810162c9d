//! Finds DPDK 22.11 with pkg-config, compiles the fast-path shim with DPDK's own cflags and
//! generates the bindings with bindgen.

use std::env;
use std::path::PathBuf;

/// The shim and the safe layer are written against this ABI (librte_*.so.23).
const REQUIRED_SERIES: &str = "22.11";
const DEBIAN_PACKAGES: &str = "libdpdk-dev dpdk pkg-config clang libclang-dev";

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=shim.h");
    println!("cargo:rerun-if-changed=shim.c");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    let dpdk = match pkg_config::Config::new()
        .cargo_metadata(true)
        .probe("libdpdk")
    {
        Ok(lib) => lib,
        Err(e) => fail(&format!(
            "libdpdk was not found by pkg-config ({e}).\n\
             On Debian 12 install it with: apt-get install {DEBIAN_PACKAGES}\n\
             (or run scripts/install-deps.sh)"
        )),
    };
    if !dpdk.version.starts_with(&format!("{REQUIRED_SERIES}.")) && dpdk.version != REQUIRED_SERIES
    {
        fail(&format!(
            "found libdpdk {} but this crate needs DPDK {REQUIRED_SERIES}.x (Debian 12's LTS). \
             Install it with: apt-get install {DEBIAN_PACKAGES}",
            dpdk.version
        ));
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

fn pkg_config_cflags() -> Vec<String> {
    let output =
        std::process::Command::new(env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into()))
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
