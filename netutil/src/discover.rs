//! Reading everything a pod was given: interfaces, CPUs and hugepages.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::classify::{classify, Interface, Origin};
use crate::config::{Config, DEVINFO_DIR_VAR, PODNETINFO_DIR_VAR};
use crate::cpus;
use crate::device_info::{Device, DeviceInfo, SpecVersion, VdpaDevice, VdpaDriver};
use crate::downward::{self, ANNOTATIONS_FILE, NETWORK_STATUS_KEY, OLD_NETWORK_STATUS_KEY};
use crate::dp_files::DpFiles;
use crate::error::{Error, FieldError};
use crate::hugepages::{self, Hugepages};
use crate::log::Log;
use crate::network_status;
use crate::pci;
use crate::pcidevice::{self, PciDeviceResource};

/// How often the annotations file is re-read while waiting for network-status.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// What the pod may use besides its interfaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resources {
    /// The CPUs this process may run on, ascending.
    pub cpus: Vec<u32>,
    /// Where `cpus` came from (a file and field, or `configuration`).
    pub cpus_from: String,
    /// Hugepage budget, mounts and free pages.
    pub hugepages: Hugepages,
}

/// Where discovery looked, for messages and for `discover --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sources {
    /// The annotations file.
    pub annotations: PathBuf,
    /// The annotation key network-status was read from, if any was present.
    pub network_status_key: Option<&'static str>,
    /// How long discovery waited for network-status, in milliseconds.
    pub waited_ms: u64,
    /// The device-info root.
    pub devinfo_dir: PathBuf,
    /// The `PCIDEVICE_*` variables found (with `_INFO` where present).
    pub pcidevice_vars: Vec<String>,
}

impl Sources {
    /// One line naming every place looked at, with the variables that choose them.
    pub fn describe(&self) -> String {
        let status = match self.network_status_key {
            Some(key) => format!("annotation {key}"),
            None => format!(
                "no {NETWORK_STATUS_KEY} annotation after {} ms",
                self.waited_ms
            ),
        };
        let vars = if self.pcidevice_vars.is_empty() {
            "none".to_owned()
        } else {
            self.pcidevice_vars.join(", ")
        };
        format!(
            "{} ({PODNETINFO_DIR_VAR}; {status}), {} ({DEVINFO_DIR_VAR}), PCIDEVICE_* variables: {vars}",
            self.annotations.display(),
            self.devinfo_dir.join("dp").display(),
        )
    }
}

/// The result of [`discover()`]: serializable so `dpdk-app discover --json` can print it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discovery {
    /// Interfaces in network-status order, then devices known only from `PCIDEVICE_*`.
    pub interfaces: Vec<Interface>,
    /// CPUs and hugepages.
    pub resources: Resources,
    /// The pod's host name (`HOSTNAME`, else the kernel's), for the EAL file prefix.
    pub hostname: String,
    /// Where discovery looked.
    pub sources: Sources,
    /// Each decision taken, in order (also logged with `tracing`).
    pub notes: Vec<String>,
    /// Things that look wrong but did not stop discovery.
    pub warnings: Vec<String>,
}

/// Reads the downward-API files, device-info files, `PCIDEVICE_*` variables, process affinity
/// and hugepage state named by `cfg`, and classifies the pod's interfaces.
///
/// Multus writes network-status after the container may already have started, so the
/// annotations file is re-read every 100 ms until the annotation appears or `cfg.wait` has
/// passed (the original slept a fixed 2 s and hoped). A pod without network-status is not an
/// error here: its `PCIDEVICE_*` devices are still found, and [`crate::plan()`] reports if nothing
/// usable remains.
///
/// # Errors
///
/// A missing downward-API directory or annotations file, any malformed input (line, JSON,
/// device-info type, version or field), and unreadable files, each naming the file or variable
/// and the field.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pod = tempfile::tempdir()?;
/// std::fs::write(pod.path().join("annotations"),
///     r#"k8s.v1.cni.cncf.io/network-status="[{\n    \"name\": \"cbr0\",\n    \"interface\": \"eth0\",\n    \"default\": true\n}]""#)?;
/// let mut cfg = netutil::Config::from_vars([("PODNETINFO_DIR", pod.path().to_str().unwrap())])?;
/// cfg.cpus = Some(vec![0, 1]);
/// let found = netutil::discover(&cfg)?;
/// assert_eq!(found.interfaces[0].kind, netutil::InterfaceType::Host);
/// # Ok(()) }
/// ```
pub fn discover(cfg: &Config) -> Result<Discovery, Error> {
    let mut log = Log::default();
    if !cfg.podnetinfo_dir.is_dir() {
        return Err(Error::MissingDir {
            what: "downward-API directory",
            var: PODNETINFO_DIR_VAR,
            path: cfg.podnetinfo_dir.clone(),
        });
    }
    let annotations_path = cfg.podnetinfo_dir.join(ANNOTATIONS_FILE);
    let (annotations, waited) = read_annotations(&annotations_path, cfg.wait)?;
    let key = [NETWORK_STATUS_KEY, OLD_NETWORK_STATUS_KEY]
        .into_iter()
        .find(|k| annotations.contains_key(*k));
    let statuses = match key {
        Some(key) => {
            log.note(format!(
                "network-status from annotation {key} in {}",
                annotations_path.display()
            ));
            network_status::parse(&annotations[key]).map_err(|e| {
                FieldError::new(format!("{key}{}", e.field), e.problem)
                    .in_input(annotations_path.display().to_string())
            })?
        }
        None => {
            log.warn(format!(
                "{} has no {NETWORK_STATUS_KEY} annotation after waiting {} ms: is Multus installed?",
                annotations_path.display(),
                waited.as_millis()
            ));
            Vec::new()
        }
    };

    let resources = pcidevice::from_env(&cfg.env)?;
    let dp_files = DpFiles::scan(&cfg.devinfo_dir)?;
    let interfaces = classify(
        statuses,
        &resources,
        |res, id| device_info_for(&dp_files, res, id),
        &mut log,
    )?;

    let sources = Sources {
        annotations: annotations_path,
        network_status_key: key,
        waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
        devinfo_dir: cfg.devinfo_dir.clone(),
        pcidevice_vars: pcidevice_vars(&cfg.env),
    };
    let resources = read_resources(cfg, &mut log)?;
    let hostname = hostname(cfg, &mut log);
    Ok(Discovery {
        interfaces,
        resources,
        hostname,
        sources,
        notes: log.notes,
        warnings: log.warnings,
    })
}

/// Reads and parses the annotations file, re-reading until network-status is in it or `wait`
/// has passed. Returns the annotations and the time spent waiting.
fn read_annotations(
    path: &Path,
    wait: Duration,
) -> Result<(BTreeMap<String, String>, Duration), Error> {
    let start = Instant::now();
    loop {
        let waited = start.elapsed();
        match fs::read(path) {
            Ok(bytes) => {
                let map =
                    downward::parse(&bytes).map_err(|e| e.in_input(path.display().to_string()))?;
                if waited >= wait
                    || map.contains_key(NETWORK_STATUS_KEY)
                    || map.contains_key(OLD_NETWORK_STATUS_KEY)
                {
                    return Ok((map, waited));
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound && waited < wait => {}
            Err(source) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
        thread::sleep(POLL_INTERVAL.min(wait.saturating_sub(waited)));
    }
}

/// Device-info for a device-plugin ID that network-status does not describe: its device-plugin
/// file, else a vhost vDPA device built from the `_INFO` variable's `vdpa.mount`.
fn device_info_for(
    dp_files: &DpFiles,
    res: &PciDeviceResource,
    id: &str,
) -> Result<Option<(DeviceInfo, Origin)>, Error> {
    if let Some((path, info)) = dp_files.find(id, &res.var)? {
        return Ok(Some((info, Origin::DevicePluginFile { path })));
    }
    Ok(res.vdpa_mount(id).map(|mount| {
        let info = DeviceInfo {
            version: SpecVersion::V1_1_0,
            device: Device::Vdpa(VdpaDevice {
                parent_device: None,
                driver: VdpaDriver::Vhost,
                path: Some(mount.to_owned()),
                pci_address: pci::normalize(id),
                pf_pci_address: None,
                representor_device: None,
            }),
        };
        let var = format!("{}_INFO", res.var);
        (info, Origin::PcideviceInfo { var })
    }))
}

fn pcidevice_vars(env: &BTreeMap<String, String>) -> Vec<String> {
    env.keys()
        .filter(|k| k.starts_with(pcidevice::PREFIX))
        .cloned()
        .collect()
}

fn read_resources(cfg: &Config, log: &mut Log) -> Result<Resources, Error> {
    let read = |path: &Path| {
        fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let (cpus, cpus_from) = match &cfg.cpus {
        Some(cpus) => {
            let mut cpus = cpus.clone();
            cpus.sort_unstable();
            cpus.dedup();
            (cpus, "configuration".to_owned())
        }
        None => {
            let status = read(&cfg.proc_status)?;
            let cpus = cpus::from_status(&status)
                .map_err(|e| e.in_input(cfg.proc_status.display().to_string()))?;
            (
                cpus,
                format!("{} {}", cfg.proc_status.display(), cpus::STATUS_FIELD),
            )
        }
    };
    log.note(format!(
        "usable CPUs {} from {cpus_from}",
        cpus::format_list(&cpus)
    ));

    let budget = hugepages::read_budget(&cfg.podnetinfo_dir, cfg.container_name.as_deref())?;
    match budget.as_ref().and_then(|b| b.mib().map(|mib| (b, mib))) {
        Some((b, mib)) => log.note(format!(
            "hugepage budget {mib} MiB from {} files{}",
            cfg.podnetinfo_dir.display(),
            b.container
                .as_ref()
                .map(|c| format!(" of container {c}"))
                .unwrap_or_default()
        )),
        None => log.note(format!(
            "no hugepage budget in {} (no non-zero hugepages_* file)",
            cfg.podnetinfo_dir.display()
        )),
    }
    let mounts = hugepages::parse_mounts(&read(&cfg.proc_mounts)?)
        .map_err(|e| e.in_input(cfg.proc_mounts.display().to_string()))?;
    let pools = hugepages::read_pools(&cfg.hugepages_sysfs)?;
    Ok(Resources {
        cpus,
        cpus_from,
        hugepages: Hugepages {
            budget,
            mounts,
            pools,
        },
    })
}

fn hostname(cfg: &Config, log: &mut Log) -> String {
    if let Some(name) = cfg.env.get("HOSTNAME").filter(|h| !h.trim().is_empty()) {
        return name.trim().to_owned();
    }
    match fs::read_to_string(&cfg.hostname_file) {
        Ok(name) if !name.trim().is_empty() => name.trim().to_owned(),
        _ => {
            log.warn(format!(
                "no HOSTNAME and no {}: host name taken as localhost",
                cfg.hostname_file.display()
            ));
            "localhost".to_owned()
        }
    }
}
