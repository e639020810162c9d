//! Where discovery looks, taken from the environment or set by hand (tests, command-line flags).

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;
use crate::pcidevice::PREFIX;
use crate::App;

/// Variable naming the downward-API directory.
pub const PODNETINFO_DIR_VAR: &str = "PODNETINFO_DIR";
/// Variable naming the device-info root (with `dp/` and `cni/` below it).
pub const DEVINFO_DIR_VAR: &str = "DEVINFO_DIR";
/// Variable giving the longest wait for the network-status annotation, in seconds.
pub const WAIT_SECS_VAR: &str = "NETUTIL_WAIT_SECS";
/// Variable giving this container's name, to pick its hugepage files.
pub const CONTAINER_NAME_VAR: &str = "CONTAINER_NAME";

/// Variable selecting the app the entrypoint runs (testpmd, l2fwd, l3fwd, rfc2544).
pub const SAMPLE_APP_VAR: &str = "DPDK_SAMPLE_APP";
/// Variable setting the ring size of every virtio-user port (`queue_size=`); not in the
/// original, whose ports kept virtio-user's 256.
pub const QUEUE_SIZE_VAR: &str = "VIRTIO_QUEUE_SIZE";
/// Variable for the pod simulation only: `net1=MAC[,net2=MAC...]`, the MAC each interface's
/// simulated vDPA device owns. A real vhost-vdpa device keeps its own MAC whatever `mac=` asks
/// (virtio_user reads it back); the vhost-user socket that stands in for it cannot report one,
/// so the simulation tells the entrypoint, which then passes that MAC as `mac=`. Never set in
/// a cluster.
pub const SIMULATED_DEVICE_MACS_VAR: &str = "SIMULATED_DEVICE_MACS";

/// Parses [`SIMULATED_DEVICE_MACS_VAR`]: interface name to MAC.
pub fn parse_device_macs(value: &str) -> Result<BTreeMap<String, String>, Error> {
    let bad = |reason: String| Error::Env {
        var: SIMULATED_DEVICE_MACS_VAR,
        value: value.to_owned(),
        reason,
    };
    let mut macs = BTreeMap::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (iface, mac) = item
            .split_once('=')
            .ok_or_else(|| bad(format!("{item:?}: expected INTERFACE=MAC")))?;
        if !crate::plan::is_ethernet_mac(mac) {
            return Err(bad(format!("{item:?}: {mac:?} is not an Ethernet MAC")));
        }
        macs.insert(iface.to_owned(), mac.to_owned());
    }
    Ok(macs)
}

/// Variable asking the app to serve Prometheus metrics at `http://HOST:PORT/metrics`
/// (`--metrics-addr`); unset means off. `*_EXTRA_ARGS` may still override it.
pub const METRICS_ADDR_VAR: &str = "METRICS_ADDR";
/// What the original image ran when `DPDK_SAMPLE_APP` was unset (its `dpdk-app` was l3fwd).
pub const DEFAULT_APP: App = App::L3fwd;

/// The variable holding extra arguments for `app`.
pub fn extra_args_var(app: App) -> &'static str {
    match app {
        App::Testpmd => "TESTPMD_EXTRA_ARGS",
        App::L2fwd => "L2FWD_EXTRA_ARGS",
        App::L3fwd => "L3FWD_EXTRA_ARGS",
        App::Rfc2544 => "RFC2544_EXTRA_ARGS",
    }
}

/// The app `DPDK_SAMPLE_APP` selects (unset or empty: [`DEFAULT_APP`], as the original image).
pub fn selected_app(value: Option<&str>) -> Result<App, Error> {
    match value.map(str::trim) {
        None | Some("") => {
            tracing::info!(
                "{SAMPLE_APP_VAR} is not set: running {DEFAULT_APP}, as the original image did"
            );
            Ok(DEFAULT_APP)
        }
        Some(v) => v.parse().map_err(|_| Error::UnknownAppIn {
            var: SAMPLE_APP_VAR,
            given: v.to_owned(),
        }),
    }
}

/// Default downward-API directory, as in the traffic-test pods and app-netutil.
pub const DEFAULT_PODNETINFO_DIR: &str = "/etc/podnetinfo";
/// Default device-info root, as in the Device Information Specification.
pub const DEFAULT_DEVINFO_DIR: &str = "/var/run/k8s.cni.cncf.io/devinfo";
/// Default wait for the network-status annotation.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// Everything [`crate::discover()`] reads, so tests can point it at fixtures and inject an
/// environment without touching the real one.
///
/// ```
/// use std::time::Duration;
/// let cfg = netutil::Config::from_vars([
///     ("PODNETINFO_DIR", "/tmp/pod"),
///     ("NETUTIL_WAIT_SECS", "0.5"),
///     ("PCIDEVICE_INTEL_COM_SRIOV", "0000:18:02.2"),
/// ]).unwrap();
/// assert_eq!(cfg.podnetinfo_dir, std::path::Path::new("/tmp/pod"));
/// assert_eq!(cfg.wait, Duration::from_millis(500));
/// assert!(cfg.env.contains_key("PCIDEVICE_INTEL_COM_SRIOV"));
///
/// let err = netutil::Config::from_vars([("NETUTIL_WAIT_SECS", "abc")]).unwrap_err();
/// assert!(err.to_string().contains("NETUTIL_WAIT_SECS"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The downward-API volume (`annotations`, `labels`, `hugepages_*`).
    pub podnetinfo_dir: PathBuf,
    /// The device-info root; device-plugin files are in its `dp/`.
    pub devinfo_dir: PathBuf,
    /// How long to wait for Multus to write network-status (0: look once).
    pub wait: Duration,
    /// The process environment, for `PCIDEVICE_*` and `HOSTNAME`.
    pub env: BTreeMap<String, String>,
    /// This container's name (`CONTAINER_NAME`).
    pub container_name: Option<String>,
    /// Use these CPUs instead of reading the process affinity.
    pub cpus: Option<Vec<u32>>,
    /// `/proc/self/status`, for `Cpus_allowed_list`.
    pub proc_status: PathBuf,
    /// `/proc/mounts`, for hugetlbfs mounts.
    pub proc_mounts: PathBuf,
    /// `/sys/kernel/mm/hugepages`, for free hugepages per size.
    pub hugepages_sysfs: PathBuf,
    /// `/proc/sys/kernel/hostname`, read when `HOSTNAME` is not in `env`.
    pub hostname_file: PathBuf,
}

impl Default for Config {
    /// The defaults with an empty environment.
    fn default() -> Self {
        Self {
            podnetinfo_dir: DEFAULT_PODNETINFO_DIR.into(),
            devinfo_dir: DEFAULT_DEVINFO_DIR.into(),
            wait: DEFAULT_WAIT,
            env: BTreeMap::new(),
            container_name: None,
            cpus: None,
            proc_status: "/proc/self/status".into(),
            proc_mounts: "/proc/mounts".into(),
            hugepages_sysfs: "/sys/kernel/mm/hugepages".into(),
            hostname_file: "/proc/sys/kernel/hostname".into(),
        }
    }
}

impl Config {
    /// Builds the configuration from the real process environment.
    ///
    /// A variable whose name or value is not UTF-8 is an error ([`Error::NotUnicode`]) if
    /// discovery reads it (the variables above, `HOSTNAME`, `PCIDEVICE_*`); others are left
    /// out of the snapshot.
    pub fn from_env() -> Result<Self, Error> {
        let mut vars = Vec::new();
        for (name, value) in std::env::vars_os() {
            match (name.to_str(), value.to_str()) {
                (Some(n), Some(v)) => vars.push((n.to_owned(), v.to_owned())),
                _ if read_by_discovery(name.as_bytes()) => {
                    return Err(Error::NotUnicode { name, value })
                }
                _ => {}
            }
        }
        Self::from_vars(vars)
    }

    /// Builds the configuration from the given variables, as if they were the environment.
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Result<Self, Error>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let env: BTreeMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let non_empty = |var: &'static str| -> Result<Option<&String>, Error> {
            match env.get(var) {
                Some(v) if v.trim().is_empty() => Err(Error::Env {
                    var,
                    value: v.clone(),
                    reason: "must not be empty".into(),
                }),
                other => Ok(other),
            }
        };
        let mut cfg = Self::default();
        if let Some(dir) = non_empty(PODNETINFO_DIR_VAR)? {
            cfg.podnetinfo_dir = dir.into();
        }
        if let Some(dir) = non_empty(DEVINFO_DIR_VAR)? {
            cfg.devinfo_dir = dir.into();
        }
        if let Some(secs) = non_empty(WAIT_SECS_VAR)? {
            cfg.wait = parse_wait(secs).map_err(|reason| Error::Env {
                var: WAIT_SECS_VAR,
                value: secs.clone(),
                reason,
            })?;
        }
        cfg.container_name = non_empty(CONTAINER_NAME_VAR)?.cloned();
        cfg.env = env;
        Ok(cfg)
    }
}

/// Whether discovery reads the variable `name`.
fn read_by_discovery(name: &[u8]) -> bool {
    [
        PODNETINFO_DIR_VAR,
        DEVINFO_DIR_VAR,
        WAIT_SECS_VAR,
        CONTAINER_NAME_VAR,
        "HOSTNAME",
    ]
    .iter()
    .any(|v| v.as_bytes() == name)
        || name.starts_with(PREFIX.as_bytes())
}

/// The value of the process environment's variable `name`, which must be UTF-8 when set: the
/// same rule as [`Config::from_env`], for the variables its caller reads.
///
/// # Errors
///
/// [`Error::NotUnicode`], naming the variable and showing its value escaped.
pub fn env_var(name: &str) -> Result<Option<String>, Error> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(value) => value
            .into_string()
            .map(Some)
            .map_err(|value| Error::NotUnicode {
                name: name.into(),
                value,
            }),
    }
}

/// Parses a wait in seconds: a non-negative decimal number such as `10` or `0.5`.
pub fn parse_wait(secs: &str) -> Result<Duration, String> {
    let value: f64 = secs
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds, such as 10 or 0.5".to_owned())?;
    if value > 24.0 * 3600.0 {
        return Err("more than a day is surely a mistake".into());
    }
    Duration::try_from_secs_f64(value)
        .map_err(|_| "expected a non-negative, finite number of seconds".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_device_macs() {
        let m = parse_device_macs("net1=02:00:00:00:00:01, net2=02:00:00:00:00:02").unwrap();
        assert_eq!(m["net1"], "02:00:00:00:00:01");
        assert_eq!(m.len(), 2);
        for (bad, needle) in [
            ("net1", "INTERFACE=MAC"),
            ("net1=zz", "not an Ethernet MAC"),
        ] {
            let e = parse_device_macs(bad).unwrap_err().to_string();
            assert!(
                e.contains(needle) && e.contains(SIMULATED_DEVICE_MACS_VAR),
                "{e}"
            );
        }
    }

    #[test]
    fn defaults() {
        let cfg = Config::from_vars(Vec::<(String, String)>::new()).unwrap();
        assert_eq!(cfg, Config::default());
        assert_eq!(cfg.wait, Duration::from_secs(10));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            (WAIT_SECS_VAR, "abc"),
            (WAIT_SECS_VAR, "-1"),
            (WAIT_SECS_VAR, "NaN"),
            (WAIT_SECS_VAR, "inf"),
            (PODNETINFO_DIR_VAR, ""),
            (CONTAINER_NAME_VAR, " "),
        ] {
            let err = Config::from_vars([(var, value)]).unwrap_err();
            assert!(
                matches!(&err, Error::Env { var: v, .. } if *v == var),
                "{err}"
            );
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn variables_discovery_reads_must_be_utf8() {
        for name in [
            "PODNETINFO_DIR",
            "HOSTNAME",
            "PCIDEVICE_X",
            "PCIDEVICE_X_INFO",
        ] {
            assert!(read_by_discovery(name.as_bytes()), "{name}");
        }
        assert!(read_by_discovery(b"PCIDEVICE_\xff"));
        for name in ["PATH", "PCIDEVICE", "HOSTNAME2", "\u{ff}"] {
            assert!(!read_by_discovery(name.as_bytes()), "{name}");
        }
        let err = Error::NotUnicode {
            name: "PCIDEVICE_A".into(),
            value: std::ffi::OsStr::from_bytes(b"0000:65:00.2\xff\n").to_os_string(),
        };
        assert_eq!(
            err.to_string(),
            r#"environment variable PCIDEVICE_A is not valid UTF-8: "0000:65:00.2\xff\n""#
        );
    }

    #[test]
    fn all_variables() {
        let cfg = Config::from_vars([
            (PODNETINFO_DIR_VAR, "/p"),
            (DEVINFO_DIR_VAR, "/d"),
            (WAIT_SECS_VAR, "0"),
            (CONTAINER_NAME_VAR, "vdpa-dpd-app"),
        ])
        .unwrap();
        assert_eq!(cfg.devinfo_dir, PathBuf::from("/d"));
        assert_eq!(cfg.wait, Duration::ZERO);
        assert_eq!(cfg.container_name.as_deref(), Some("vdpa-dpd-app"));
        assert_eq!(cfg.env.len(), 4);
    }
}
