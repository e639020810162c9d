//! The pod entrypoint: `dpdk-app` with no arguments (or `dpdk-app run`) runs the app
//! `DPDK_SAMPLE_APP` names on the devices the pod was given, and `dpdk-app discover` shows what
//! it would run without starting DPDK.
//!
//! It replaces the original image's `docker-entrypoint.sh` and the `dpdk-args.c` code patched
//! into testpmd, l2fwd and l3fwd: discovery and the EAL plan come from [`netutil`], the app
//! arguments are the original defaults plus `*_EXTRA_ARGS`, and the app runs in this process
//! through the same parser as `dpdk-app <app> EAL -- ARGS`, so the logged command line can be
//! pasted into a shell and does exactly the same.

mod app_args;
pub mod shell;

use std::path::PathBuf;

use clap::Args;
use netutil::escape::printable;
use netutil::{App, Config, Discovery, EalPlan, PlanOptions};
use serde::Serialize;

pub use app_args::app_args;
pub use netutil::config::{
    extra_args_var, selected_app, DEFAULT_APP, METRICS_ADDR_VAR, QUEUE_SIZE_VAR, SAMPLE_APP_VAR,
};

use shell::{shell_join, shell_split, ShellSplitError};

/// Errors of the pod entrypoint.
#[derive(Debug, thiserror::Error)]
pub enum PodError {
    #[error(transparent)]
    Netutil(#[from] netutil::Error),
    #[error("{var}: {source}")]
    ExtraArgs {
        var: &'static str,
        source: ShellSplitError,
    },
    #[error("invalid {flag} {value:?}: {reason}")]
    Flag {
        flag: &'static str,
        value: String,
        reason: String,
    },
    /// The app's own error, which may quote `*_EXTRA_ARGS`: printed on one line.
    #[error("{app}: {}", printable(&source.to_string()))]
    App {
        app: App,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot write the invocation as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Where to look; the flags mean the same as the environment variables and win over them.
#[derive(Debug, Clone, Default, Args)]
pub struct DiscoveryFlags {
    /// Downward-API directory with the `annotations` file [env: PODNETINFO_DIR, default
    /// /etc/podnetinfo]
    #[arg(long, value_name = "DIR")]
    pub podnetinfo_dir: Option<PathBuf>,
    /// Device-info root; the device plugin's files are under `dp/` [env: DEVINFO_DIR, default
    /// /var/run/k8s.cni.cncf.io/devinfo]
    #[arg(long, value_name = "DIR")]
    pub devinfo_dir: Option<PathBuf>,
    /// How long to wait for Multus's network-status annotation [env: NETUTIL_WAIT_SECS,
    /// default 10]
    #[arg(long, value_name = "SECS")]
    pub wait_secs: Option<String>,
}

impl DiscoveryFlags {
    /// The configuration from the environment and the flags. Like netutil for its variables,
    /// the entrypoint's own must be UTF-8 when set.
    fn config(&self) -> Result<Config, PodError> {
        let mut cfg = Config::from_env()?;
        let own = [SAMPLE_APP_VAR, QUEUE_SIZE_VAR, METRICS_ADDR_VAR];
        for var in own.into_iter().chain(App::ALL.map(extra_args_var)) {
            netutil::config::env_var(var)?;
        }
        if let Some(dir) = &self.podnetinfo_dir {
            cfg.podnetinfo_dir = dir.clone();
        }
        if let Some(dir) = &self.devinfo_dir {
            cfg.devinfo_dir = dir.clone();
        }
        if let Some(secs) = &self.wait_secs {
            cfg.wait = netutil::config::parse_wait(secs).map_err(|reason| PodError::Flag {
                flag: "--wait-secs",
                value: secs.clone(),
                reason,
            })?;
        }
        Ok(cfg)
    }
}

/// The app, what was found, the plan and the full argv: everything `run` and `discover` share.
#[derive(Debug, Serialize)]
pub struct Invocation {
    pub app: App,
    #[serde(flatten)]
    pub discovery: Discovery,
    pub plan: EalPlan,
    pub eal_args: Vec<String>,
    pub app_args: Vec<String>,
    /// The equivalent command line, for logs and for pasting into a shell.
    pub command: String,
}

impl Invocation {
    /// The argv `dpdk-app <app>` takes: EAL arguments, `--`, app arguments.
    pub fn argv(&self) -> Vec<String> {
        let mut v = self.eal_args.clone();
        v.push("--".into());
        v.extend(self.app_args.iter().cloned());
        v
    }
}

/// Discovers the pod's devices and builds the invocation of `app`.
pub fn prepare(
    flags: &DiscoveryFlags,
    app: App,
    opts: &PlanOptions,
) -> Result<Invocation, PodError> {
    let cfg = flags.config()?;
    let mut opts = opts.clone();
    if let Some(value) = cfg.env.get(QUEUE_SIZE_VAR) {
        let size = value.parse().map_err(|reason| netutil::Error::Env {
            var: QUEUE_SIZE_VAR,
            value: value.clone(),
            reason,
        })?;
        opts.queue_size = Some(size);
    }
    if let Some(value) = cfg.env.get(netutil::config::SIMULATED_DEVICE_MACS_VAR) {
        opts.device_macs = netutil::config::parse_device_macs(value)?;
        tracing::info!(
            "simulated vDPA devices own these MACs ({}): {value}",
            netutil::config::SIMULATED_DEVICE_MACS_VAR
        );
    }
    let discovery = netutil::discover(&cfg)?;
    for i in &discovery.interfaces {
        tracing::info!(
            interface = %i.label(), kind = %i.kind,
            mac = %printable(i.mac.as_deref().unwrap_or("-")),
            "found interface"
        );
    }
    let plan = netutil::plan(&discovery, app, &opts)?;
    for s in &plan.skipped {
        tracing::warn!(interface = %s.interface, "skipped: {}", s.reason);
    }
    for d in &plan.decisions {
        tracing::info!("{d}");
    }
    for w in discovery.warnings.iter().chain(&plan.warnings) {
        tracing::warn!("{w}");
    }
    let var = extra_args_var(app);
    // METRICS_ADDR first: an explicit --metrics-addr in *_EXTRA_ARGS comes later and wins.
    let mut extras = Vec::new();
    if let Some(addr) = cfg.env.get(METRICS_ADDR_VAR) {
        crate::metrics::parse_addr(METRICS_ADDR_VAR, addr).map_err(|reason| PodError::Flag {
            flag: METRICS_ADDR_VAR,
            value: addr.clone(),
            reason,
        })?;
        extras.push(format!("--metrics-addr={addr}"));
    }
    if let Some(v) = cfg.env.get(var) {
        extras.extend(shell_split(v).map_err(|source| PodError::ExtraArgs { var, source })?);
    }
    let app_args = app_args(app, &plan, &extras);
    let eal_args = plan.eal_args.clone();
    let mut words = vec!["dpdk-app".to_owned(), app.name().to_owned()];
    words.extend(eal_args.iter().cloned());
    words.push("--".into());
    words.extend(app_args.iter().cloned());
    let command = shell_join(&words);
    Ok(Invocation {
        app,
        discovery,
        plan,
        eal_args,
        app_args,
        command,
    })
}

/// `dpdk-app run`: discover, plan, raise the memlock limit, log the command line, run the app.
pub fn run(flags: &DiscoveryFlags) -> Result<(), PodError> {
    let app = selected_app(netutil::config::env_var(SAMPLE_APP_VAR)?.as_deref())?;
    let inv = prepare(flags, app, &PlanOptions::default())?;
    match dpdk::raise_memlock_limit() {
        Ok(l) => tracing::info!(
            "RLIMIT_MEMLOCK soft {} hard {} (was {} / {})",
            limit(l.after_soft),
            limit(l.after_hard),
            limit(l.before_soft),
            limit(l.before_hard)
        ),
        Err(e) => tracing::warn!("cannot read or raise RLIMIT_MEMLOCK: {e}"),
    }
    // The engines compare each port's device MAC with these (appkit::portmacs).
    appkit::portmacs::set_expected(
        inv.plan
            .ports
            .iter()
            .map(|p| appkit::portmacs::Expected {
                port: p.index,
                interface: format!(
                    "{} {}",
                    p.interface.as_deref().unwrap_or("-"),
                    p.network.as_deref().unwrap_or("-")
                ),
                mac: p.mac.as_deref().and_then(|m| m.parse().ok()),
            })
            .collect(),
    );
    tracing::info!("running: {}", inv.command);
    println!("ENTER dpdk-app: {}", inv.command);
    let argv = inv.argv();
    let boxed = |e: Box<dyn std::error::Error + Send + Sync>| PodError::App { app, source: e };
    match app {
        App::Testpmd => crate::testpmd::run(&argv).map_err(|e| boxed(e.into())),
        App::L2fwd => crate::l2fwd::run(&argv).map_err(|e| boxed(e.into())),
        App::L3fwd => crate::l3fwd::run(&argv).map_err(|e| boxed(e.into())),
        App::Rfc2544 => crate::rfc2544::run(&argv).map_err(|e| boxed(e.into())),
    }
}

fn limit(v: Option<u64>) -> String {
    v.map_or_else(|| "unlimited".into(), |b| b.to_string())
}

/// `dpdk-app discover`: the same discovery and plan, printed instead of run.
pub fn discover(
    flags: &DiscoveryFlags,
    app: Option<App>,
    json: bool,
    check_paths: bool,
) -> Result<(), PodError> {
    let app = match app {
        Some(a) => a,
        None => selected_app(netutil::config::env_var(SAMPLE_APP_VAR)?.as_deref())?,
    };
    let opts = PlanOptions {
        require_device_paths: check_paths,
        ..PlanOptions::default()
    };
    let inv = prepare(flags, app, &opts)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&inv)?);
        return Ok(());
    }
    // Names, paths and MACs come from the pod's input: every field is printed printable.
    let shown = |s: Option<&str>| printable(s.unwrap_or("-")).into_owned();
    println!("App: {app}");
    println!(
        "Looked in: {}",
        printable(&inv.discovery.sources.describe())
    );
    println!("Interfaces:");
    for i in &inv.discovery.interfaces {
        println!(
            "  {:<8} {:<40} {:<10} mac {}",
            shown(i.interface.as_deref()),
            shown(i.network.as_deref()),
            i.kind.to_string(),
            shown(i.mac.as_deref())
        );
    }
    for s in &inv.plan.skipped {
        println!(
            "  skipped {}: {}",
            printable(&s.interface),
            printable(&s.reason)
        );
    }
    println!("Ports:");
    for p in &inv.plan.ports {
        println!(
            "  {} {} ({})",
            p.index,
            p.devarg,
            shown(p.interface.as_deref())
        );
    }
    println!(
        "CPUs: {:?} (from {})",
        inv.discovery.resources.cpus, inv.discovery.resources.cpus_from
    );
    println!(
        "Lcores: main {} workers {:?} on CPUs {:?}",
        inv.plan.lcores.main, inv.plan.lcores.workers, inv.plan.lcores.cpus
    );
    println!("Memory: {:?}", inv.plan.memory);
    for w in inv.discovery.warnings.iter().chain(&inv.plan.warnings) {
        println!("Warning: {}", printable(w));
    }
    println!("Command:\n  {}", inv.command);
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A plan with `ports` vDPA ports on lcores `main` + `workers`, for argument tests.
    pub(crate) fn plan_with(ports: u16, main: u32, workers: Vec<u32>) -> EalPlan {
        EalPlan {
            app: App::Testpmd,
            eal_args: Vec::new(),
            ports: (0..ports)
                .map(|index| netutil::PlannedPort {
                    index,
                    name: format!("virtio_user{index}"),
                    network: None,
                    interface: None,
                    kind: netutil::PortKind::Vdpa,
                    devarg: String::new(),
                    mac: None,
                })
                .collect(),
            skipped: Vec::new(),
            lcores: netutil::Lcores {
                cpus: std::iter::once(main)
                    .chain(workers.iter().copied())
                    .collect(),
                main,
                workers,
            },
            memory: netutil::Memory::NoHuge {
                mb: 1024,
                reason: "test".into(),
            },
            file_prefix: "t".into(),
            decisions: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// netutil cannot depend on DPDK, so its limits are constants; they must be DPDK's and the
    /// apps'.
    #[test]
    fn planning_limits_are_dpdks() {
        assert_eq!(netutil::plan::MAX_PORTS, dpdk::MAX_PORTS);
        assert_eq!(netutil::plan::MAX_LCORES, dpdk_sys::RTE_MAX_LCORE);
    }

    #[test]
    fn app_selection() {
        assert_eq!(selected_app(None).unwrap(), App::L3fwd);
        assert_eq!(selected_app(Some("")).unwrap(), App::L3fwd);
        assert_eq!(selected_app(Some("testpmd")).unwrap(), App::Testpmd);
        let err = selected_app(Some("pktgen")).unwrap_err().to_string();
        assert!(
            err.contains("pktgen") && err.contains("testpmd, l2fwd, l3fwd"),
            "{err}"
        );
    }
}
