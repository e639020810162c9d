//! The frame every forwarding sample application (l2fwd, l3fwd) shares around its fast path:
//! the EAL start with SIGINT/SIGTERM handling, the link wait (`check_all_ports_link_status`),
//! forwarding on the lcores next to the periodic statistics until a signal or `--duration`,
//! the final summary, `Closing port N... Done` and `Bye...`.

use std::io::Write;
use std::time::{Duration, Instant};

use dpdk::{Eal, EalError, Port};
use thiserror::Error;

use crate::cmdline::split_eal_app;
use crate::lcores::{self, Job, LcoresError};
use crate::monitor::Reporter;
use crate::quiesce;
use crate::signal::Stop;

/// Failures of the shared frame, around whatever the app itself does.
#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Eal(#[from] EalError),
    #[error(transparent)]
    Lcore(#[from] LcoresError),
    #[error("cannot install the signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("cannot write the statistics file: {0}")]
    StatsFile(std::io::Error),
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
}

/// Splits `argv` into EAL and application arguments at the first `--`. Without one, a `-h` or
/// `--help` is taken as the application's, so that `dpdk-app l3fwd --help` shows its help.
pub fn split_args(argv: &[String]) -> (&[String], &[String]) {
    let (eal, app) = split_eal_app(argv);
    if !argv.iter().any(|a| a == "--") {
        if let Some(i) = eal.iter().position(|a| a == "--help" || a == "-h") {
            return (&[], &eal[i..=i]);
        }
    }
    (eal, app)
}

/// Arms the stop flag on SIGINT and SIGTERM (printing the C apps' `Signal N received,
/// preparing to exit...`) and starts the EAL for app `name` from its EAL arguments. `None`
/// when a signal arrived during the EAL's initialisation: the app exits without forwarding.
pub fn init(name: &str, eal_args: &[String]) -> Result<Option<(Eal, Stop)>, RunError> {
    let stop = Stop::new();
    stop.on_signals().map_err(RunError::Signals)?;
    let program = format!("dpdk-app {name}");
    let argv = std::iter::once(program.as_str()).chain(eal_args.iter().map(String::as_str));
    let (eal, _) = Eal::init(argv)?;
    enable_capture(&eal);
    if stop.started() {
        return Ok(None);
    }
    Ok(Some((eal, stop)))
}

/// Lets `dpdk-dumpcap`/`dpdk-pdump` capture the app's ports, as DPDK's testpmd does; where
/// the EAL has no multi-process channel the app runs without, saying so on stderr.
pub fn enable_capture(eal: &Eal) {
    if let Err(e) = eal.enable_capture() {
        eprintln!(
            "Warning: packet capture (dpdk-dumpcap, dpdk-pdump) unavailable: rte_pdump_init: {e}"
        );
    }
}

/// Runs `jobs` on their lcores with `reporter`'s periodic statistics until `stop` is set (by a
/// signal, or after `duration`), then prints the summary and closes `ports`. Every queue
/// handle must live in a job, so that the ports close when the jobs are done.
pub fn forward(
    eal: &Eal,
    jobs: Vec<Job>,
    stop: &Stop,
    reporter: &Reporter,
    duration: Option<Duration>,
    ports: Vec<Port>,
) -> Result<(), RunError> {
    let metrics = reporter.serve_metrics()?;
    if let Some(d) = duration {
        stop.after(d);
    }
    let periodic = reporter.clone();
    let monitor_stop = stop.clone();
    let forwarded = lcores::run(eal, jobs, stop, move || periodic.periodic(&monitor_stop));
    let summary = reporter.summary();
    if let Ok(report) = &summary {
        // The peers of virtio-user ports take the last frames before the ports close.
        quiesce::linger(ports.iter().map(|p| {
            let sent = report.ports.iter().find(|s| s.port == p.id());
            (p.info(), sent.map_or(0, |s| s.tx_packets))
        }));
    }
    drop(metrics);
    close(ports);
    println!("Bye...");
    forwarded?;
    summary.map_err(RunError::StatsFile)?;
    Ok(())
}

/// C's `MAX_CHECK_TIME` × `CHECK_INTERVAL`: how long to wait for links to come up.
const LINK_WAIT: Duration = Duration::from_secs(9);
const LINK_POLL: Duration = Duration::from_millis(100);

/// Waits up to 9 s for every port's link to come up, printing a dot per 100 ms as the C apps
/// do, then each port's link. Returns early (without the report) if `stop` is set. A port
/// whose link stays down is reported, not an error: the C apps forward anyway.
pub fn wait_for_links(ports: &[Port], stop: &Stop) {
    print!("\nChecking link status");
    let _ = std::io::stdout().flush();
    let deadline = Instant::now() + LINK_WAIT;
    loop {
        if stop.is_set() {
            return;
        }
        let all_up = ports
            .iter()
            .all(|p| p.link().map(|l| l.up).unwrap_or(false));
        if all_up || Instant::now() >= deadline {
            break;
        }
        print!(".");
        let _ = std::io::stdout().flush();
        std::thread::sleep(LINK_POLL);
    }
    println!("done");
    for p in ports {
        match p.link_text() {
            Ok(text) => println!("Port {} {text}", p.id()),
            Err(e) => println!("Port {} link get failed: {e}", p.id()),
        }
    }
}

/// Closes the ports by dropping the last handles, with the C apps' messages.
fn close(ports: Vec<Port>) {
    for port in ports {
        print!("Closing port {}...", port.id());
        let _ = std::io::stdout().flush();
        drop(port);
        println!(" Done");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn help_without_double_dash_is_the_apps() {
        let a = args("--help");
        assert_eq!(split_args(&a), (&[][..], &a[..]));
        let a = args("-l 1 -h");
        assert_eq!(split_args(&a), (&[][..], &a[2..]));
        let a = args("-l 1 -- -p 3");
        assert_eq!(split_args(&a), (&a[..2], &a[3..]));
        let a = args("-l 1 -h -- -p 3");
        assert_eq!(split_args(&a), (&a[..3], &a[4..]), "after --, -h is EAL's");
    }
}
