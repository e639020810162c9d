//! Loading the pod fixtures in `tests/fixtures/<case>/` on a host profile in
//! `tests/fixtures/hosts/<host>/`.
//!
//! A case holds what a pod sees: `podnetinfo/` (the downward-API volume), optionally `devinfo/`
//! (device-plugin files) and `env` (one `KEY=VALUE` per line). A host profile holds the
//! `/proc` and `/sys` files the process reads for CPUs and hugepages.
#![allow(dead_code)] // each test binary uses its own part

use std::path::PathBuf;

use netutil::{Config, PlanOptions};

/// The fixtures directory.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The variables of a case's `env` file.
pub fn env_of(case: &str) -> Vec<(String, String)> {
    let path = fixtures().join(case).join("env");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("{}: bad line {l:?}", path.display()));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// The configuration for `case` on `host`, as `Config::from_vars` builds it from the case's
/// environment plus the directory variables, with the host's `/proc` and `/sys` files and no
/// waiting.
pub fn config(case: &str, host: &str) -> Config {
    let dir = fixtures().join(case);
    let mut vars = env_of(case);
    vars.push((
        "PODNETINFO_DIR".into(),
        dir.join("podnetinfo").display().to_string(),
    ));
    vars.push((
        "DEVINFO_DIR".into(),
        dir.join("devinfo").display().to_string(),
    ));
    vars.push(("NETUTIL_WAIT_SECS".into(), "0".into()));
    let mut cfg = Config::from_vars(vars).expect("fixture environment is valid");
    on_host(&mut cfg, host);
    cfg
}

/// Points `cfg` at a host profile's `/proc` and `/sys` files.
pub fn on_host(cfg: &mut Config, host: &str) {
    let host = fixtures().join("hosts").join(host);
    cfg.proc_status = host.join("proc/self/status");
    cfg.proc_mounts = host.join("proc/mounts");
    cfg.hugepages_sysfs = host.join("sys/kernel/mm/hugepages");
    cfg.hostname_file = host.join("proc/sys/kernel/hostname");
}

/// Plan options for fixtures: a fixed file prefix, and device paths such as `/dev/vhost-vdpa-0`
/// need not exist on the test machine.
pub fn fixture_opts() -> PlanOptions {
    PlanOptions {
        file_prefix: Some("fixture".into()),
        require_device_paths: false,
        ..PlanOptions::default()
    }
}

/// Splits a command line on spaces into argv elements.
pub fn argv(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

/// A device argument as DPDK reads it: the device name (up to the first `,`, as
/// `rte_devargs_parse` takes it) and the pairs `rte_kvargs_parse` makes of the rest.
pub fn dpdk_devarg(devarg: &str) -> (String, Vec<(String, Option<String>)>) {
    match devarg.split_once(',') {
        Some((name, params)) => (name.to_owned(), rte_kvargs(params)),
        None => (devarg.to_owned(), Vec::new()),
    }
}

/// `rte_kvargs_tokenize` of DPDK 22.11 to 24.11, step by step: a key ends at *every* `=` (so
/// in `a=b=c` the key is `b`), a pair at a `,` outside `[...]` or at the end, the value is what
/// follows the last `=`, and empty pairs are dropped.
pub fn rte_kvargs(params: &str) -> Vec<(String, Option<String>)> {
    let s: Vec<char> = params.chars().collect();
    let mut pairs = Vec::new();
    let (mut key, mut value): (Option<String>, Option<String>) = (None, None);
    let (mut in_list, mut end_key) = (false, false);
    let mut start = 0;
    let mut i = 0;
    loop {
        let c = s.get(i).copied();
        let (mut save, mut end_value, mut end_pair) = (false, false, false);
        match c {
            Some('=') => {
                end_key = true;
                save = true;
            }
            // A `,` outside a list, or the end of the string.
            Some(',') | None if c.is_none() || !in_list => {
                if end_key {
                    end_value = true;
                } else {
                    end_key = true;
                }
                save = true;
                end_pair = true;
            }
            Some('[') => in_list = true,
            Some(']') => in_list = false,
            _ => {}
        }
        if !save {
            i += 1;
            continue;
        }
        let text: String = s[start..i].iter().collect();
        if end_value {
            value = Some(text);
        } else if end_key {
            key = Some(text);
        }
        if end_pair {
            // DPDK counts the pair if it has a value or its text is not empty.
            if end_value || i != start {
                pairs.push((key.take().unwrap_or_default(), value.take()));
            }
            key = None;
            value = None;
            end_key = false;
        }
        if c.is_none() {
            return pairs;
        }
        i += 1;
        start = i;
    }
}
