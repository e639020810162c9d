//! The traffic test's pods on one machine: `deployment/vdpa-dpdk-traffic-test.yaml` run as
//! kubelet, Multus and the SR-IOV device plugin would run it, with the vhost-user relay
//! (`dpdk-app relay`) standing in for the vDPA NIC and its switch.
//!
//! [`Simulation::materialise`] reads the manifest and the NetworkAttachmentDefinitions and writes,
//! per pod, exactly what the pod would find: the downward-API volume ([`kubelet`]: annotations with
//! Multus's network-status ([`multus`]), labels, hugepage files), the device plugin's files and
//! variables ([`device_plugin`]), and the container's environment from the manifest. Each pod
//! network becomes one relay port (a vhost-user socket in place of `/dev/vhost-vdpa-N`), and
//! the ports of one VLAN form one relay segment ([`topology`]). [`run`] starts the relay and the
//! pods (`dpdk-app` with no arguments, pinned as [`placement`] says) and collects what they
//! report. The pod-simulation test and `dpdk-app demo` both drive the pods through this module.
//!
//! What differs from the cluster, on purpose: the hugepage files are scaled to what this
//! machine has free ([`hugepages`]); `PODNETINFO_DIR` and `DEVINFO_DIR` point at the simulated
//! directories instead of the mounts; the harness may append run-control options
//! (`--duration`, `--tx-rate`, `--stats-format json`, `--stats-file`, `--idle-sleep-us`) to the
//! app's `*_EXTRA_ARGS`; and it sets `VIRTIO_QUEUE_SIZE=1024` unless the manifest sets it (the
//! relay, unlike a NIC, shares CPUs with the pods). Everything else comes from the manifest.
#![forbid(unsafe_code)]

pub mod demo;
pub mod device_plugin;
pub mod hugepages;
pub mod kubelet;
pub mod ledger;
pub mod manifest;
pub mod multus;
pub mod placement;
pub mod process;
pub mod quantity;
pub mod run;
pub mod topology;

use std::path::{Path, PathBuf};

use hugepages::{HugepageMode, HugepagePlan};
use manifest::{Nad, Pod};
use topology::{DeviceMacs, Topology};

/// Errors of the pod simulation.
#[derive(Debug, thiserror::Error)]
pub enum PodsimError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {object}: {reason}")]
    Manifest {
        path: PathBuf,
        object: String,
        reason: String,
    },
    #[error("pod {pod}: {reason}")]
    Topology { pod: String, reason: String },
    #[error("cannot start {what}: {source}")]
    Spawn {
        what: String,
        source: std::io::Error,
    },
    #[error("cannot stop {what}: {source}")]
    Stop {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} failed: {reason}\n{logs}")]
    Process {
        what: String,
        reason: String,
        logs: String,
    },
    #[error("interrupted")]
    Interrupted,
}

/// Where the pod variables point the entrypoint.
pub const PODNETINFO_DIR_VAR: &str = netutil::config::PODNETINFO_DIR_VAR;
pub const DEVINFO_DIR_VAR: &str = netutil::config::DEVINFO_DIR_VAR;

/// One pod as this machine runs it.
#[derive(Debug, Clone)]
pub struct SimPod {
    pub pod: Pod,
    /// The downward-API volume (`/etc/podnetinfo` in the pod).
    pub podnetinfo: PathBuf,
    /// The device-info root of the pod's node (`/var/run/k8s.cni.cncf.io/devinfo`).
    pub devinfo: PathBuf,
    /// The container's environment, including `PODNETINFO_DIR` and `DEVINFO_DIR`.
    pub env: Vec<(String, String)>,
    /// What differs from the manifest on this machine (scaled hugepages), for the log.
    pub notes: Vec<String>,
}

impl SimPod {
    /// The value of `var` in the container's environment.
    pub fn env_var(&self, var: &str) -> Option<&str> {
        manifest::env_lookup(&self.env, var)
    }

    /// The environment with `words` appended (shell-quoted) to `var`, as a harness appends
    /// run-control options to the manifest's `*_EXTRA_ARGS`.
    pub fn env_appending(
        &self,
        var: &str,
        words: &[String],
    ) -> Result<Vec<(String, String)>, PodsimError> {
        let mut env = self.env.clone();
        let extra = shlex::try_join(words.iter().map(String::as_str)).map_err(|e| {
            PodsimError::Topology {
                pod: self.pod.name.clone(),
                reason: format!("cannot quote {words:?} for {var}: {e}"),
            }
        })?;
        match env.iter_mut().rev().find(|(k, _)| k == var) {
            Some((_, v)) if !v.trim().is_empty() => *v = format!("{v} {extra}"),
            Some((_, v)) => *v = extra,
            None => env.push((var.to_owned(), extra)),
        }
        Ok(env)
    }
}

/// Every pod of the manifest materialised under one directory, with the relay's wiring.
#[derive(Debug)]
pub struct Simulation {
    /// Holds the pods' directories and the relay's sockets; removed on drop.
    pub root: PathBuf,
    pub pods: Vec<SimPod>,
    pub topology: Topology,
    pub hugepages: HugepagePlan,
}

/// What to simulate and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The traffic-test manifest.
    pub manifest: PathBuf,
    /// The directory with `netAttach-*.yaml`.
    pub nad_dir: PathBuf,
    /// A fresh directory to build the pods in (short: it holds Unix socket paths).
    pub root: PathBuf,
    pub hugepages: HugepageMode,
    /// Which MAC each simulated vDPA device owns.
    pub device_macs: DeviceMacs,
    /// A kustomize overlay whose NAD patches apply to `nad_dir`'s NADs (the switchdev
    /// variant: [`manifest::SWITCHDEV_OVERLAY`]); `None`: the legacy base as it is.
    pub overlay: Option<PathBuf>,
}

impl Options {
    /// The repository's traffic test, built under `root`.
    pub fn traffic_test(repo: &Path, root: PathBuf) -> Self {
        Options {
            manifest: repo.join(manifest::TRAFFIC_TEST),
            nad_dir: repo.join("deployment"),
            root,
            hugepages: HugepageMode::Fit,
            device_macs: DeviceMacs::NetworkStatus,
            overlay: None,
        }
    }
}

impl Simulation {
    /// Reads the manifest and NADs and writes every pod's files (see the module docs).
    pub fn materialise(opts: &Options) -> Result<Simulation, PodsimError> {
        let pods = manifest::read_pods(&opts.manifest)?;
        let nads = manifest::cluster_nads(&opts.nad_dir, opts.overlay.as_deref())?;
        Self::materialise_pods(opts, pods, &nads, |_, _, nad| nad.segment())
    }

    /// Materialises `pods` (from the manifest or derived from it) with relay segments named by
    /// `segment_of(pod, network index, nad)`.
    pub fn materialise_pods(
        opts: &Options,
        pods: Vec<Pod>,
        nads: &[Nad],
        segment_of: impl Fn(&Pod, usize, &Nad) -> String,
    ) -> Result<Simulation, PodsimError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PodsimError::Io { path, source }
        };
        std::fs::create_dir_all(&opts.root).map_err(io(&opts.root))?;
        // From here on the directory is ours: dropping the simulation removes it.
        let mut sim = Simulation {
            root: opts.root.clone(),
            pods: Vec::new(),
            topology: Topology {
                attachments: Vec::new(),
            },
            hugepages: HugepagePlan::for_machine(opts.hugepages, pods.len()),
        };
        let sockets = sim.socket_dir();
        std::fs::create_dir_all(&sockets).map_err(io(&sockets))?;
        sim.topology = Topology::build(&pods, nads, &sockets, segment_of)?;
        // The devices' MACs: the relay delivers unicast by them, and in `own` mode the
        // entrypoint is told them, as virtio_user would read them back from vhost-vdpa.
        for a in &mut sim.topology.attachments {
            let pod = &pods[a.pod];
            if pod.labels.get(run::ROLE_LABEL).map(String::as_str) == Some("fwd") {
                continue;
            }
            a.device_mac = match opts.device_macs {
                DeviceMacs::NetworkStatus => a.mac(),
                DeviceMacs::Own => Some(topology::own_mac(&pod.name, &a.interface)),
            };
        }
        tracing::info!("{}", sim.hugepages.note);
        for (i, pod) in pods.into_iter().enumerate() {
            let dir = sim.root.join(&pod.name);
            let podnetinfo = dir.join("podnetinfo");
            let devinfo = dir.join("devinfo");
            let attachments: Vec<_> = sim.topology.of_pod(i).collect();
            let annotations = kubelet::annotations(&pod, i, &attachments);
            let notes = kubelet::write_downward(&podnetinfo, &pod, &annotations, &sim.hugepages)?;
            for n in &notes {
                tracing::info!(pod = %pod.name, "{n}");
            }
            device_plugin::write_dp_files(&devinfo.join("dp"), attachments.iter().copied())?;
            let mut env = kubelet::env(&pod, device_plugin::env(attachments.iter().copied()));
            env.push((PODNETINFO_DIR_VAR.into(), podnetinfo.display().to_string()));
            env.push((DEVINFO_DIR_VAR.into(), devinfo.display().to_string()));
            if opts.device_macs == DeviceMacs::Own {
                let macs: Vec<String> = attachments
                    .iter()
                    .map(|a| {
                        format!(
                            "{}={}",
                            a.interface,
                            topology::own_mac(&pod.name, &a.interface)
                        )
                    })
                    .collect();
                env.push((
                    netutil::config::SIMULATED_DEVICE_MACS_VAR.into(),
                    macs.join(","),
                ));
            }
            // Every simulated pod shares this host's network namespace: the manifest's fixed
            // METRICS_ADDR port would be taken by the first; each serves on a free loopback
            // port instead (printed by the app).
            for (k, v) in env.iter_mut() {
                if k == "METRICS_ADDR" {
                    *v = "127.0.0.1:0".into();
                }
            }
            if let Ok(filter) = std::env::var("RUST_LOG") {
                env.push(("RUST_LOG".into(), filter));
            }
            sim.pods.push(SimPod {
                pod,
                podnetinfo,
                devinfo,
                env,
                notes,
            });
        }
        Ok(sim)
    }

    /// The directory of the relay's vhost-user sockets.
    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("vhost")
    }

    /// The pod named `name`.
    pub fn pod(&self, name: &str) -> Option<&SimPod> {
        self.pods.iter().find(|p| p.pod.name == name)
    }
}

impl Drop for Simulation {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The materialised files are what netutil reads in a pod: two vDPA ports on the relay's
    /// sockets with the manifest's MACs, the device plugin's variables, the hugepage files.
    #[test]
    fn pods_discover_and_plan_from_the_simulated_files() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("sim");
        let mut opts = Options::traffic_test(&repo, root.clone());
        opts.hugepages = HugepageMode::Off;
        let sim = Simulation::materialise(&opts).unwrap();
        let sink = sim.pod("vdpa-pod-sink").unwrap();
        assert_eq!(sink.env_var("HOSTNAME"), Some("vdpa-pod-sink"));
        assert_eq!(sink.env_var("CONTAINER_NAME"), Some("vdpa-sink"));
        assert_eq!(
            sink.env_var("PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST"),
            Some("0000:66:00.2,0000:66:00.3")
        );
        let sock = sim.socket_dir().join("vdpa-pod-sink-net2.sock");
        assert!(sink
            .env_var("PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST_INFO")
            .unwrap()
            .contains(&format!("\"0000:66:00.3\":{{\"generic\":{{\"deviceID\":\"0000:66:00.3\"}},\"vdpa\":{{\"mount\":\"{}\"}}}}", sock.display())));
        let dp = std::fs::read_to_string(
            sink.devinfo
                .join("dp/intel.com-vdpa_mlx_vhost-0000:66:00.3-device.json"),
        )
        .unwrap();
        assert_eq!(
            dp,
            format!(
                "{{\"type\":\"vdpa\",\"version\":\"1.1.0\",\"vdpa\":{{\"parent-device\":\"vdpa1\",\"driver\":\"vhost\",\"path\":\"{}\",\"pci-address\":\"0000:66:00.3\"}}}}",
                sock.display()
            )
        );
        let free = sim.hugepages.free_mib;
        let limit =
            std::fs::read_to_string(sink.podnetinfo.join("hugepages_1G_limit_vdpa-sink")).unwrap();
        assert_eq!(
            limit,
            (free + 2).max(2048).to_string(),
            "Off asks for more than is free"
        );

        let appended = sink
            .env_appending(
                "TESTPMD_EXTRA_ARGS",
                &["--stats-file".into(), "/a b".into()],
            )
            .unwrap();
        let mut cfg = netutil::Config::from_vars(appended.clone()).unwrap();
        assert_eq!(
            cfg.env["TESTPMD_EXTRA_ARGS"],
            "--forward-mode=rxonly --announce --stats-file '/a b'"
        );
        // network-status mode: the devices own the annotation's MACs, and the relay knows them.
        let (_, relay) = sim.topology.relay_args();
        assert!(
            relay
                .windows(2)
                .any(|w| w == ["--port-mac", "2=0c:fe:c0:ff:ee:10"]),
            "{relay:?}"
        );
        assert_eq!(
            sink.env_var(netutil::config::SIMULATED_DEVICE_MACS_VAR),
            None
        );
        cfg.cpus = Some(vec![1]);
        let found = netutil::discover(&cfg).unwrap();
        // No relay runs here, so the sockets do not exist yet.
        let no_paths = netutil::PlanOptions {
            require_device_paths: false,
            ..netutil::PlanOptions::default()
        };
        let plan = netutil::plan(&found, netutil::App::Testpmd, &no_paths).unwrap();
        let devargs: Vec<&str> = plan.ports.iter().map(|p| p.devarg.as_str()).collect();
        assert_eq!(
            devargs,
            [
                format!(
                    "virtio_user0,path={},queues=1,mac=0c:fe:c0:ff:ee:10",
                    sim.socket_dir().join("vdpa-pod-sink-net1.sock").display()
                ),
                format!(
                    "virtio_user1,path={},queues=1,mac=0c:fe:c0:ff:ee:11",
                    sock.display()
                ),
            ]
        );
        assert!(
            matches!(plan.memory, netutil::Memory::NoHuge { .. }),
            "{:?}",
            plan.memory
        );
        let budget = found.resources.hugepages.budget.unwrap();
        assert_eq!(budget.container.as_deref(), Some("vdpa-sink"));
        drop(sim);
        assert!(!root.exists(), "the simulation removes its directory");
    }
}
