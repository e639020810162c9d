//! One run of the simulated traffic test: the relay, then the receiving pods, then the
//! generator, each started as in the cluster (`dpdk-app` with no arguments, the pod's
//! environment, pinned by [`Placement`]); the generator stops after its `--duration`, then the
//! forwarders, the relay and the receivers are stopped in that order (each drains what is still
//! arriving), and every process's final summary (`--stats-file`) and periodic reports
//! (`--stats-format json` lines on stdout) are collected.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::placement::{Placement, Role};
use super::process::{tail_of, Proc};
use super::{PodsimError, SimPod, Simulation};

/// The label the traffic-test pods carry their role in (`gen`, `sink`; `fwd` for the demo's
/// forwarder).
pub const ROLE_LABEL: &str = "vdpa-test-role";

/// How long a process may take to start (EAL init, vhost-user negotiation) on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a process may take to print its final statistics and exit after SIGINT.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// Lines of a failed process's logs shown in the error.
const TAIL_LINES: usize = 25;
/// `VIRTIO_QUEUE_SIZE` of the simulated pods, unless the manifest sets one. l2fwd and l3fwd
/// set up 1024 descriptors per queue, and virtio uses no more of a ring than that.
const SIM_QUEUE_SIZE: &str = "1024";

/// What each app prints when its forwarding loop is about to start.
fn forwarding_marker(app: netutil::App) -> &'static str {
    match app {
        netutil::App::Testpmd => "start packet forwarding",
        netutil::App::L2fwd => "L2FWD: entering main loop",
        netutil::App::L3fwd => "L3FWD: entering main loop",
        netutil::App::Rfc2544 => "rfc2544: waiting up to",
    }
}

/// A pod's role: its `vdpa-test-role` label, else the first pod generates and the rest receive.
pub fn role_of(pod: &SimPod, index: usize) -> Role {
    match pod.pod.labels.get(ROLE_LABEL).map(String::as_str) {
        Some("gen") => Role::Generator,
        Some("fwd") => Role::Forwarder,
        Some("sink") => Role::Sink,
        _ if index == 0 => Role::Generator,
        _ => Role::Sink,
    }
}

/// The app a pod runs: its `DPDK_SAMPLE_APP`, as the entrypoint reads it.
pub fn app_of(pod: &SimPod) -> Result<netutil::App, PodsimError> {
    netutil::config::selected_app(pod.env_var(netutil::config::SAMPLE_APP_VAR)).map_err(|e| {
        PodsimError::Topology {
            pod: pod.pod.name.clone(),
            reason: e.to_string(),
        }
    })
}

/// What to run.
pub struct RunSpec<'a> {
    /// The `dpdk-app` binary.
    pub binary: &'a Path,
    /// Where the processes' logs and statistics files go (kept after the run).
    pub logs: &'a Path,
    pub placement: &'a Placement,
    /// The generator's `--duration`: how long it sends.
    pub duration: Duration,
    /// More words for the `*_EXTRA_ARGS` of a pod in a role running an app (`--tx-rate N`
    /// for the generator).
    pub extra_args: &'a dyn Fn(Role, netutil::App) -> Vec<String>,
}

impl std::fmt::Debug for RunSpec<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunSpec")
            .field("binary", &self.binary)
            .field("logs", &self.logs)
            .field("placement", &self.placement)
            .field("duration", &self.duration)
            .finish_non_exhaustive()
    }
}

/// What one process reported.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub role: Option<Role>,
    /// `taskset -c` list.
    pub cpus: String,
    /// The command line the entrypoint logged (`ENTER dpdk-app: ...`), for pods.
    pub command: Option<String>,
    /// The final summary (`--stats-file`).
    pub summary: Value,
    /// The periodic reports, in order.
    pub periods: Vec<Value>,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

/// Everything one run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub relay: Outcome,
    /// In manifest order.
    pub pods: Vec<Outcome>,
}

impl RunOutcome {
    /// The first pod in `role`.
    pub fn pod(&self, role: Role) -> Option<&Outcome> {
        self.pods.iter().find(|p| p.role == Some(role))
    }
}

/// Runs the simulation once. `abort` is polled while waiting (Ctrl-C); when it turns true every
/// process is stopped and the run fails with [`PodsimError::Interrupted`].
pub fn run(
    sim: &Simulation,
    spec: &RunSpec,
    abort: &dyn Fn() -> bool,
) -> Result<RunOutcome, PodsimError> {
    std::fs::create_dir_all(spec.logs).map_err(|source| PodsimError::Io {
        path: spec.logs.to_path_buf(),
        source,
    })?;
    let started = Instant::now();
    // The relay outlives the whole run on its own only if this process dies without cleaning up.
    let watchdog = spec.duration + START_TIMEOUT * 4;
    let relay_stats = spec.logs.join("relay.json");
    let mut relay = start_relay(sim, spec, &relay_stats, watchdog)?;
    for a in &sim.topology.attachments {
        wait_until(&mut relay, abort, "its vhost-user socket", || {
            a.socket.exists()
        })?;
    }

    let roles: Vec<Role> = sim
        .pods
        .iter()
        .enumerate()
        .map(|(i, p)| role_of(p, i))
        .collect();
    let mut running: Vec<(usize, Proc)> = Vec::new();
    // Receivers first, so that the generator's first frames find them connected.
    let order = (0..sim.pods.len())
        .filter(|&i| roles[i] != Role::Generator)
        .chain((0..sim.pods.len()).filter(|&i| roles[i] == Role::Generator));
    for i in order {
        let pod = &sim.pods[i];
        let (cpu, idle) = spec.placement.of(roles[i]);
        let app = app_of(pod)?;
        let mut words = vec![
            "--stats-format".to_owned(),
            "json".to_owned(),
            "--stats-file".to_owned(),
            stats_file(spec, pod).display().to_string(),
        ];
        words.extend(["--idle-sleep-us".to_owned(), idle.to_string()]);
        words.push("--duration".to_owned());
        if roles[i] == Role::Generator {
            words.push(secs(spec.duration));
        } else {
            words.push(secs(watchdog));
        }
        words.extend((spec.extra_args)(roles[i], app));
        let mut env = pod.env_appending(netutil::config::extra_args_var(app), &words)?;
        // The relay plays the NIC but, unlike a NIC, shares CPUs with the pods: when the
        // scheduler holds it for 20 ms, a pod's TX ring must hold 20 ms of traffic (1000 frames
        // at 50 kpps, four times virtio-user's default), or a forwarder drops what it forwards.
        if !env
            .iter()
            .any(|(k, _)| k == netutil::config::QUEUE_SIZE_VAR)
        {
            env.push((
                netutil::config::QUEUE_SIZE_VAR.into(),
                SIM_QUEUE_SIZE.into(),
            ));
        }
        let hostname = pod.pod.name.clone();
        let mut proc = Proc::spawn(
            &pod.pod.name,
            spec.binary,
            &[],
            &cpu.to_string(),
            &env,
            spec.logs,
            // The entrypoint's default --file-prefix.
            |pid| format!("{app}-{hostname}-{pid}"),
        )?;
        // Ready when the relay saw each of its virtio-user ports come up and the app says it
        // is forwarding. The ports come up during EAL init, well before that: testpmd's
        // mlockall() of --no-huge memory alone took up to 0.7 s on 2 cores, and frames sent to
        // a pod in that window overflow its ring.
        let sockets: Vec<String> = sim
            .topology
            .of_pod(i)
            .map(|a| format!("({}) virtio is now ready", a.socket.display()))
            .collect();
        let relay_log = relay.stderr.clone();
        let pod_log = proc.stdout.clone();
        let ready = || {
            let log = std::fs::read_to_string(&relay_log).unwrap_or_default();
            sockets.iter().all(|s| log.contains(s.as_str()))
                && std::fs::read_to_string(&pod_log)
                    .is_ok_and(|out| out.contains(forwarding_marker(app)))
        };
        wait_until(
            &mut proc,
            abort,
            "its ports connected and forwarding",
            ready,
        )?;
        tracing::info!(pod = %pod.pod.name, role = %roles[i], cpu, "pod running");
        running.push((i, proc));
    }

    // The generator stops by itself after --duration.
    let gen_at = running
        .iter()
        .position(|(i, _)| roles[*i] == Role::Generator);
    if let Some(g) = gen_at {
        let (_, proc) = &mut running[g];
        let limit = spec.duration + START_TIMEOUT;
        match proc.wait_for(limit, abort) {
            Some(status) if status.success() => {}
            Some(status) => return Err(failed(proc, &format!("exited with {status}"))),
            None if abort() => return Err(PodsimError::Interrupted),
            None => {
                return Err(failed(
                    proc,
                    &format!("still running {limit:?} after it was started with --duration"),
                ))
            }
        }
    }
    if abort() {
        return Err(PodsimError::Interrupted);
    }
    // Stopped downstream-last, so that nothing is stranded: forwarders drain what the relay
    // still delivers and give the relay their last frames (they linger before closing their
    // virtio-user ports), then the relay delivers what it still holds, then the receivers
    // drain their rings. Every frame still left somewhere is counted where it was left.
    let mut pods: Vec<Option<Outcome>> = vec![None; sim.pods.len()];
    let (forwarders, receivers): (Vec<_>, Vec<_>) = running
        .into_iter()
        .partition(|(i, _)| roles[*i] == Role::Forwarder);
    for (i, proc) in forwarders {
        pods[i] = Some(stop_pod(sim, spec, i, roles[i], proc)?);
    }
    let relay = stop_process(relay, "relay", &relay_stats, None)?;
    for (i, proc) in receivers {
        pods[i] = Some(stop_pod(sim, spec, i, roles[i], proc)?);
    }
    tracing::info!("run finished in {:.1} s", started.elapsed().as_secs_f64());
    Ok(RunOutcome {
        relay: Outcome {
            cpus: spec.placement.relay_cpu.to_string(),
            ..relay
        },
        pods: pods
            .into_iter()
            .map(|p| p.expect("every pod ran"))
            .collect(),
    })
}

/// Stops pod `i` (SIGINT) and collects what it reported.
fn stop_pod(
    sim: &Simulation,
    spec: &RunSpec,
    i: usize,
    role: Role,
    proc: Proc,
) -> Result<Outcome, PodsimError> {
    let pod = &sim.pods[i];
    let outcome = stop_process(
        proc,
        &format!("pod {}", pod.pod.name),
        &stats_file(spec, pod),
        Some(role),
    )?;
    Ok(Outcome {
        name: pod.pod.name.clone(),
        cpus: spec.placement.of(role).0.to_string(),
        ..outcome
    })
}

/// Stops a process with SIGINT, requires a clean exit, and reads its summary from `stats`.
fn stop_process(
    proc: Proc,
    what: &str,
    stats: &Path,
    role: Option<Role>,
) -> Result<Outcome, PodsimError> {
    let (stdout, stderr) = (proc.stdout.clone(), proc.stderr.clone());
    let exit = proc.stop(STOP_GRACE)?;
    if exit.killed || !exit.status.success() {
        return Err(PodsimError::Process {
            what: what.to_owned(),
            reason: format!("did not stop cleanly on SIGINT ({})", exit.status),
            logs: tail_of(&stdout, &stderr, TAIL_LINES),
        });
    }
    Ok(Outcome {
        name: what.to_owned(),
        role,
        cpus: String::new(),
        command: entered_command(&stdout),
        summary: read_summary(stats, what, &stdout, &stderr)?,
        periods: periodic_reports(&stdout),
        stdout,
        stderr,
    })
}

fn start_relay(
    sim: &Simulation,
    spec: &RunSpec,
    stats: &Path,
    watchdog: Duration,
) -> Result<Proc, PodsimError> {
    let prefix_tag = format!("podsim-relay-{}", std::process::id());
    let (vdevs, segments) = sim.topology.relay_args();
    let cpu = spec.placement.relay_cpu.to_string();
    let mut args: Vec<String> = [
        "relay",
        "--no-huge",
        "-m",
        "512",
        "--no-pci",
        "-l",
        &cpu,
        "--file-prefix",
        &prefix_tag,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(vdevs);
    args.push("--".into());
    args.extend(segments);
    args.extend([
        "--idle-sleep-us".into(),
        spec.placement.relay_idle_sleep_us.to_string(),
        "--stats-file".into(),
        stats.display().to_string(),
        "--duration".into(),
        secs(watchdog),
    ]);
    let mut env = vec![("PATH".to_owned(), super::kubelet::IMAGE_PATH.to_owned())];
    if let Ok(filter) = std::env::var("RUST_LOG") {
        env.push(("RUST_LOG".into(), filter));
    }
    Proc::spawn("relay", spec.binary, &args, &cpu, &env, spec.logs, |_| {
        prefix_tag.clone()
    })
}

/// Polls `ready` until it holds; fails if `proc` exits first, after [`START_TIMEOUT`], or on
/// abort.
fn wait_until(
    proc: &mut Proc,
    abort: &dyn Fn() -> bool,
    what: &str,
    ready: impl Fn() -> bool,
) -> Result<(), PodsimError> {
    let deadline = Instant::now() + START_TIMEOUT;
    while !ready() {
        if abort() {
            return Err(PodsimError::Interrupted);
        }
        if let Some(status) = proc.try_exit() {
            return Err(failed(proc, &format!("exited with {status} before {what}")));
        }
        if Instant::now() >= deadline {
            return Err(failed(proc, &format!("no {what} after {START_TIMEOUT:?}")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn failed(proc: &Proc, reason: &str) -> PodsimError {
    PodsimError::Process {
        what: proc.name().to_owned(),
        reason: reason.to_owned(),
        logs: proc.tail(TAIL_LINES),
    }
}

fn stats_file(spec: &RunSpec, pod: &SimPod) -> PathBuf {
    spec.logs.join(format!("{}.json", pod.pod.name))
}

fn secs(d: Duration) -> String {
    format!("{}", d.as_secs_f64())
}

fn read_summary(
    path: &Path,
    what: &str,
    stdout: &Path,
    stderr: &Path,
) -> Result<Value, PodsimError> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| PodsimError::Process {
            what: what.to_owned(),
            reason: format!("wrote no summary to {}", path.display()),
            logs: tail_of(stdout, stderr, TAIL_LINES),
        })
}

/// The command line after `ENTER dpdk-app: ` on stdout.
fn entered_command(stdout: &Path) -> Option<String> {
    let text = std::fs::read_to_string(stdout).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("ENTER dpdk-app: "))
        .map(str::to_owned)
}

/// The `"kind":"period"` JSON lines on stdout.
fn periodic_reports(stdout: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(stdout).unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "period")
        .collect()
}
