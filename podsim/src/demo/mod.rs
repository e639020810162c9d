//! `dpdk-app demo`: the Kubernetes vDPA traffic test on one machine, with a report.
//!
//! The pods of `deployment/vdpa-dpdk-traffic-test.yaml` run as in the cluster (entrypoint with
//! no arguments, environment from the manifest, discovery from a simulated downward-API
//! directory; see [`crate`]) over the vhost-user relay that plays the vDPA NIC and its
//! switch, in two phases: `paced` (a rate this machine sustains without loss) and `max-rate`.
//! With `--app l2fwd|l3fwd` a forwarder pod sits in the VLAN 1000 network ([`forwarder`]).
//! `--device-macs own` gives each simulated vDPA device a MAC other than network-status's, as
//! on legacy SR-IOV clusters; the manifest's generator finds the sink's by its announcements.
//! The report ([`report`], [`html`]) goes to `--report-dir`.

pub mod forwarder;
pub mod html;
pub mod report;
pub mod rfc2544;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use netutil::App;

use crate::hugepages::HugepageMode;
use crate::manifest::{self, Pod};
use crate::placement::{Placement, Role};
use crate::run::{self, role_of, RunSpec};
use crate::topology::{self, DeviceMacs};
use crate::{self as sim, PodsimError, Simulation};
use report::{Phase, Placed, Report};

/// The paced rate per port. On the 2-core development machine, with other engineers' builds
/// running, 50 kpps per port (0.1 Mpps through the relay) was loss-free in every run, in both
/// topologies; 100 kpps was loss-free in all but one run, which lost 0.1% when a parallel
/// release build held a CPU for 18 ms (docs/demo.md).
pub const DEFAULT_RATE: u64 = 50_000;
/// Seconds each phase sends.
pub const DEFAULT_DURATION: f64 = 10.0;
/// testpmd's default packet length (`--txpkts 64`).
pub const DEFAULT_FRAME: u16 = 64;

/// Errors of the demo.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The command line (clap's message, which names the option).
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Podsim(#[from] PodsimError),
    #[error("interrupted; the report so far is in {0}")]
    Interrupted(PathBuf),
    #[error("phase {0} failed (see the report in {1})")]
    PhaseFailed(String, PathBuf),
}

/// Runs the vDPA traffic test of deployment/vdpa-dpdk-traffic-test.yaml on this machine: the
/// generator and sink pods as in the cluster (entrypoint, env from the manifest, simulated
/// downward-API files), the vhost-user relay standing in for the vDPA NIC and its VLANs. Two
/// phases, paced and max-rate; writes report.json and report.html.
#[derive(Debug, Clone, PartialEq, clap::Parser)]
#[command(
    name = "dpdk-app demo",
    version,
    disable_version_flag = true,
    args_override_self = true
)]
pub struct Options {
    /// How long each phase sends, in seconds (more than 0, at most 3600).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_duration)]
    pub duration: Duration,
    /// Paced phase: packets per second per port.
    #[arg(long, value_name = "PPS", default_value_t = DEFAULT_RATE,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rate: u64,
    /// Frame length in bytes without FCS, as testpmd's --txpkts (64 to 1518).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_FRAME,
          value_parser = clap::value_parser!(u16).range(64..=1518))]
    pub frame_size: u16,
    /// testpmd (generator straight to sink), or l2fwd / l3fwd: a forwarder pod running that
    /// app in the VLAN 1000 path.
    #[arg(long, value_name = "APP", default_value = "testpmd", value_parser = parse_app)]
    pub app: App,
    /// Where the report goes.
    #[arg(long, value_name = "DIR", default_value = "demo-report")]
    pub report_dir: PathBuf,
    /// The traffic-test manifest (default deployment/vdpa-dpdk-traffic-test.yaml).
    #[arg(long, value_name = "FILE", default_value_os_t = default_manifest())]
    pub manifest: PathBuf,
    /// auto: the pods share the free hugepages, else --no-huge; off: always --no-huge.
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = parse_hugepages)]
    pub hugepages: HugepageMode,
    /// Which MAC each simulated vDPA device owns: network-status (the annotation's, as with
    /// ovs-cni), or own (one of its own, as an mlx5 vDPA device under sriov-cni keeps the MAC
    /// of `vdpa dev add`); the relay delivers unicast only to the owner, like the NIC's switch.
    #[arg(long, value_name = "MODE", default_value = "network-status")]
    pub device_macs: DeviceMacs,
    /// legacy (deployment/: sriov-cni NADs) or switchdev (overlays/switchdev beside the
    /// manifest's directory: ovs-cni NADs); the simulated pods see the variant's NADs.
    #[arg(long, value_name = "VARIANT", default_value = "legacy", value_parser = parse_cluster)]
    pub cluster: Cluster,
    /// Run deployment/vdpa-dpdk-rfc2544.yaml instead (next to --manifest): the RFC 2544
    /// search's generator pod against a macswap reflector pod, sizes 64 and 1518, 1 s trials,
    /// 2 s verifications; --duration, --rate, --frame-size and --app do not apply.
    #[arg(long)]
    pub rfc2544: bool,
}

/// The kustomize overlay of `cluster` for the manifests in `nad_dir`, if any: it sits beside
/// deployment/ (kustomize refuses an overlay inside its base).
fn overlay_for(cluster: Cluster, nad_dir: &Path) -> Option<PathBuf> {
    (cluster == Cluster::Switchdev).then(|| nad_dir.join("..").join(manifest::SWITCHDEV_OVERLAY))
}

/// Which cluster path the NADs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cluster {
    Legacy,
    Switchdev,
}

fn parse_cluster(v: &str) -> Result<Cluster, String> {
    match v {
        "legacy" => Ok(Cluster::Legacy),
        "switchdev" => Ok(Cluster::Switchdev),
        _ => Err("expected legacy or switchdev".into()),
    }
}

fn parse_duration(v: &str) -> Result<Duration, String> {
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| "expected seconds, more than 0 and at most 3600".into())
}

fn parse_app(v: &str) -> Result<App, String> {
    v.parse()
        .map_err(|_| "expected testpmd, l2fwd or l3fwd".into())
}

fn parse_hugepages(v: &str) -> Result<HugepageMode, String> {
    match v {
        "auto" => Ok(HugepageMode::Fit),
        "off" => Ok(HugepageMode::Off),
        _ => Err("expected auto or off".into()),
    }
}

impl Options {
    /// Parses the demo's arguments (everything after `demo`); `Ok(None)` after printing
    /// `--help`.
    pub fn parse(args: &[String]) -> Result<Option<Options>, DemoError> {
        use clap::Parser;
        match Options::try_parse_from(
            std::iter::once("dpdk-app demo").chain(args.iter().map(String::as_str)),
        ) {
            Ok(o) => Ok(Some(o)),
            Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
                print!("{e}");
                Ok(None)
            }
            Err(e) => Err(DemoError::Usage(
                e.render().to_string().trim_end().to_owned(),
            )),
        }
    }
}

/// `deployment/...` under the working directory, else in the source tree this was built from.
fn default_manifest() -> PathBuf {
    let here = PathBuf::from(manifest::TRAFFIC_TEST);
    if here.exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(manifest::TRAFFIC_TEST)
}

/// Entry point: `argv` is everything after `demo`.
pub fn run(argv: &[String]) -> Result<(), DemoError> {
    let Some(opts) = Options::parse(argv)? else {
        return Ok(());
    };
    // Ctrl-C (and SIGTERM/SIGHUP) end the current phase; every process and file is removed
    // and the report so far is written.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, stop.clone())
            .map_err(|e| DemoError::Usage(format!("cannot install signal handlers: {e}")))?;
    }
    let abort = || stop.load(Ordering::Relaxed);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DemoError::Io { path, source }
    };
    std::fs::create_dir_all(&opts.report_dir).map_err(io(&opts.report_dir))?;
    let report_dir = opts
        .report_dir
        .canonicalize()
        .map_err(io(&opts.report_dir))?;
    let binary = std::env::current_exe().map_err(io(Path::new("/proc/self/exe")))?;
    let placement = Placement::for_this_machine();
    // Socket paths must stay short: the pods' files live under /tmp, the logs in the report.
    let work_dir = private_work_dir().map_err(io(&std::env::temp_dir()))?;
    let work = work_dir.path().to_path_buf();
    if opts.rfc2544 {
        let root = work.join("rfc2544");
        return rfc2544::run(&opts, &binary, &placement, &root, &report_dir, &abort);
    }

    let mut phases = Vec::new();
    for (name, rate) in [("paced", Some(opts.rate)), ("max-rate", None)] {
        if abort() {
            let placed = placed(&placement, opts.app);
            phases.push(Phase::failed(name, rate, placed, "interrupted".into()));
            continue;
        }
        println!("Phase {name}: starting the relay and the pods ...");
        let logs = report_dir.join("logs").join(name);
        let phase = match run_phase(
            &opts,
            &binary,
            &placement,
            &work.join(name),
            &logs,
            name,
            rate,
            &abort,
        ) {
            Ok(phase) => phase,
            Err(e) => {
                let why = if abort() {
                    "interrupted".to_owned()
                } else {
                    e.to_string()
                };
                eprintln!("Phase {name} failed: {why}");
                Phase::failed(name, rate, placed(&placement, opts.app), why)
            }
        };
        phases.push(phase);
    }
    drop(work_dir);

    let report = Report {
        phases,
        app: opts.app.name().to_owned(),
        topology: format!(
            "{}; devices own {} MACs; {} cluster NADs",
            describe_topology(opts.app),
            match opts.device_macs {
                DeviceMacs::NetworkStatus => "the network-status",
                DeviceMacs::Own => "their own (not network-status)",
            },
            match opts.cluster {
                Cluster::Legacy => "legacy (sriov-cni)",
                Cluster::Switchdev => "switchdev (ovs-cni)",
            }
        ),
        frame_size: opts.frame_size,
    };
    let json_path = report_dir.join("report.json");
    let mut json = serde_json::to_string_pretty(&report).expect("reports serialise");
    json.push('\n');
    std::fs::write(&json_path, json).map_err(io(&json_path))?;
    let html_path = report_dir.join("report.html");
    std::fs::write(&html_path, html::render(&report)).map_err(io(&html_path))?;

    print!("\n{}", report.text());
    if let Some(p) = report
        .phases
        .iter()
        .find(|p| p.name == "paced" && p.error.is_none() && p.lost() > 0)
    {
        println!(
            "\nWARNING: the paced phase lost {} frames: this machine did not sustain {} pps per port \
             (busy CPUs?); try a lower --rate.",
            p.lost(),
            opts.rate
        );
    }
    println!("\nReport: {}", report_dir.display());
    if abort() {
        return Err(DemoError::Interrupted(report_dir));
    }
    match report.phases.iter().find(|p| p.error.is_some()) {
        Some(p) => Err(DemoError::PhaseFailed(p.name.clone(), report_dir)),
        None => Ok(()),
    }
}

/// The pods of the demo: the manifest's, plus the forwarder for l2fwd/l3fwd.
fn pods_for(app: App, mut pods: Vec<Pod>, macs: DeviceMacs) -> Vec<Pod> {
    if app != App::Testpmd {
        let sink_at = pods.len() - 1;
        let fwd = forwarder::pod(&pods[sink_at], app, &sink_mac(&pods[sink_at], macs));
        pods.insert(sink_at, fwd);
    }
    pods
}

/// The MAC the sink's first device owns: where traffic through a forwarder must be addressed,
/// since announcements are not forwarded.
fn sink_mac(sink: &Pod, macs: DeviceMacs) -> String {
    match macs {
        DeviceMacs::NetworkStatus => sink.networks[0].mac.clone().unwrap_or_default(),
        DeviceMacs::Own => topology::own_mac(&sink.name, "net1"),
    }
}

fn describe_topology(app: App) -> String {
    match app {
        App::Testpmd => "testpmd txonly generator -> relay (vDPA NIC and switch, VLAN 1000 and 2000 apart) -> testpmd rxonly sink".into(),
        other => format!("testpmd txonly generator -> relay -> {other} forwarder pod (VLAN 1000 only) -> relay -> testpmd rxonly sink; VLAN 2000 goes straight to the sink"),
    }
}

fn placed(p: &Placement, app: App) -> Vec<Placed> {
    let mut v = vec![
        Placed {
            process: "relay".into(),
            cpu: p.relay_cpu.to_string(),
            idle_sleep_us: p.relay_idle_sleep_us,
        },
        Placed {
            process: "generator".into(),
            cpu: p.generator.0.to_string(),
            idle_sleep_us: p.generator.1,
        },
    ];
    if app != App::Testpmd {
        v.push(Placed {
            process: format!("forwarder ({app})"),
            cpu: p.forwarder.0.to_string(),
            idle_sleep_us: p.forwarder.1,
        });
    }
    v.push(Placed {
        process: "sink".into(),
        cpu: p.sink.0.to_string(),
        idle_sleep_us: p.sink.1,
    });
    v
}

/// Runs one phase.
#[allow(clippy::too_many_arguments)]
fn run_phase(
    opts: &Options,
    binary: &Path,
    placement: &Placement,
    root: &Path,
    logs: &Path,
    name: &str,
    rate: Option<u64>,
    abort: &dyn Fn() -> bool,
) -> Result<Phase, DemoError> {
    let pods = pods_for(
        opts.app,
        manifest::read_pods(&opts.manifest)?,
        opts.device_macs,
    );
    // A forwarder drops MAC announcements, so the generator cannot learn the sink's MAC
    // through it: it is told (the last --eth-peer of a port wins).
    let through_forwarder = (opts.app != App::Testpmd)
        .then(|| pods.last().map(|sink| sink_mac(sink, opts.device_macs)))
        .flatten();
    let nad_dir = opts.manifest.parent().unwrap_or(Path::new("."));
    let overlay = overlay_for(opts.cluster, nad_dir);
    let nads = manifest::cluster_nads(nad_dir, overlay.as_deref())?;
    let sim_opts = sim::Options {
        manifest: opts.manifest.clone(),
        nad_dir: nad_dir.to_path_buf(),
        root: root.to_path_buf(),
        hugepages: opts.hugepages,
        device_macs: opts.device_macs,
        overlay,
    };
    let fwd_nad = pods
        .iter()
        .find(|p| p.name == forwarder::POD)
        .map(|p| p.networks[0].name.clone())
        .unwrap_or_default();
    let sim = Simulation::materialise_pods(&sim_opts, pods, &nads, |pod, n, nad| {
        forwarder::segment(pod, n, nad, &fwd_nad)
    })?;
    // One statistics line per second for the rate plot (testpmd's; l2fwd and l3fwd print
    // theirs every -T seconds), the frame size and rate for the generator.
    let (frame, app) = (opts.frame_size.to_string(), opts.app);
    let extra_args = move |role: Role, pod_app: App| {
        let mut words: Vec<String> = Vec::new();
        if pod_app == App::Testpmd {
            words.extend(["--stats-period".into(), "1".into()]);
        }
        if role == Role::Generator {
            words.extend(["--txpkts".into(), frame.clone()]);
            if let Some(r) = rate {
                words.extend(["--tx-rate".into(), r.to_string()]);
            }
            if app == App::L3fwd {
                words.extend(["--tx-ip".into(), forwarder::L3FWD_TX_IP.into()]);
            }
            if let Some(mac) = &through_forwarder {
                words.push(format!("--eth-peer=0,{mac}"));
            }
        }
        words
    };
    let spec = RunSpec {
        binary,
        logs,
        placement,
        duration: opts.duration,
        extra_args: &extra_args,
    };
    let outcome = run::run(&sim, &spec, abort)?;
    let index = |role: Role| (0..sim.pods.len()).find(|&i| role_of(&sim.pods[i], i) == role);
    let placed = placed(placement, opts.app);
    Phase::from_run(
        name,
        rate,
        placed,
        sim.hugepages.note.clone(),
        &sim.topology,
        index,
        &outcome,
    )
    .map_err(|e| DemoError::Usage(format!("phase {name}: {e}")))
}

/// A fresh directory under the temporary directory for the pods' files and the relay's
/// sockets, removed when dropped: a random name created exclusively with mode 0700
/// (`mkdtemp`), so that no other user can have placed a file or a symlink where the demo
/// (often root) writes, changes permissions or listens.
fn private_work_dir() -> std::io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .prefix("dpdk-app-demo-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(std::env::temp_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_work_directory_is_private_and_unpredictable() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // What another user could plant at a name derived from our pid.
        let planted = std::env::temp_dir().join(format!("dpdk-app-demo-{}", std::process::id()));
        let target = tempfile::tempdir().unwrap();
        let _ = std::fs::remove_file(&planted);
        std::os::unix::fs::symlink(target.path(), &planted).unwrap();
        let dir = private_work_dir().unwrap();
        let _ = std::fs::remove_file(&planted);
        let meta = std::fs::symlink_metadata(dir.path()).unwrap();
        assert!(meta.is_dir(), "a real directory, not a symlink");
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        assert_eq!(meta.uid(), std::fs::metadata("/proc/self").unwrap().uid());
        assert_ne!(dir.path(), planted.as_path());
        assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 0);
    }

    fn parse(v: &[&str]) -> Result<Options, String> {
        let args: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        Options::parse(&args)
            .map(|o| o.expect("not --help"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn options_and_defaults() {
        let o = parse(&[]).unwrap();
        assert_eq!(
            (o.rate, o.frame_size, o.app),
            (DEFAULT_RATE, 64, App::Testpmd)
        );
        assert_eq!(o.duration, Duration::from_secs(10));
        assert_eq!(o.device_macs, DeviceMacs::NetworkStatus);
        assert_eq!(
            parse(&["--device-macs", "own"]).unwrap().device_macs,
            DeviceMacs::Own
        );
        assert_eq!(o.cluster, Cluster::Legacy);
        let sw = parse(&["--cluster", "switchdev"]).unwrap();
        assert_eq!(sw.cluster, Cluster::Switchdev);
        let o = parse(&[
            "--app=l2fwd",
            "--rate",
            "7",
            "--duration",
            "0.5",
            "--hugepages",
            "off",
        ])
        .unwrap();
        assert_eq!(
            (o.rate, o.app, o.hugepages),
            (7, App::L2fwd, HugepageMode::Off)
        );
        assert_eq!(o.duration, Duration::from_millis(500));
        for (bad, needle) in [
            (&["--rate", "0"][..], "--rate"),
            (&["--frame-size", "63"], "64..=1518"),
            (&["--app", "pktgen"], "testpmd, l2fwd or l3fwd"),
            (&["--duration", "nan"], "--duration"),
            (&["--hugepages", "yes"], "auto or off"),
            (&["--device-macs", "mine"], "own or network-status"),
            (&["--cluster", "ovn"], "legacy or switchdev"),
            (&["--bogus"], "bogus"),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains(needle), "{bad:?}: {err}");
        }
    }
}
