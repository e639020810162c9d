//! The `dpdk-app` binary: a thin front end over the `dpdk_app` library.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dpdk_app::pod;
use netutil::escape::{printable, unprintable};

/// DPDK workloads for Kubernetes vDPA traffic tests.
///
/// Without a subcommand, `dpdk-app` is the pod entrypoint (`dpdk-app run`).
#[derive(Debug, Parser)]
#[command(name = "dpdk-app", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The pod entrypoint (also `dpdk-app` with no arguments): discover the pod's devices and
    /// run the app DPDK_SAMPLE_APP names (testpmd, l2fwd, l3fwd, rfc2544; unset: l3fwd) on them,
    /// with the original image's default arguments plus TESTPMD_EXTRA_ARGS / L2FWD_EXTRA_ARGS /
    /// L3FWD_EXTRA_ARGS / RFC2544_EXTRA_ARGS.
    Run {
        #[command(flatten)]
        flags: pod::DiscoveryFlags,
    },
    /// What `run` would do, without starting DPDK: interfaces, resources, EAL and app arguments.
    Discover {
        #[command(flatten)]
        flags: pod::DiscoveryFlags,
        /// Print one JSON object (interfaces, resources, plan, eal_args, app_args, command).
        #[arg(long)]
        json: bool,
        /// Plan for this app instead of DPDK_SAMPLE_APP's.
        #[arg(long, value_name = "APP")]
        app: Option<netutil::App>,
        /// Do not require device paths (/dev/vhost-vdpa-N, sockets) to exist, e.g. to plan from
        /// a copy of a pod's files on another machine.
        #[arg(long)]
        no_device_check: bool,
    },
    /// Initialise the EAL with the given arguments and list the ports it found (driver, MAC,
    /// link, capabilities), without forwarding. Usage: dpdk-app ports [EAL args]
    #[command(disable_help_flag = true)]
    Ports {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "EAL_ARGS")]
        _args: Vec<String>,
    },
    /// DPDK 22.11's l2fwd: forward between paired ports with MAC rewrite and statistics.
    /// Usage: dpdk-app l2fwd [EAL args] -- -p PORTMASK [...] (--help)
    #[command(disable_help_flag = true)]
    L2fwd {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
        _args: Vec<String>,
    },
    /// DPDK 22.11's l3fwd (LPM or EM routing), also on ports without checksum offload or
    /// packet type parsing. Usage: dpdk-app l3fwd [EAL args] -- -p PORTMASK --config=... (--help)
    #[command(disable_help_flag = true)]
    L3fwd {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
        _args: Vec<String>,
    },
    /// DPDK 22.11's testpmd (non-interactive): io, mac, macswap, rxonly, txonly, flowgen and
    /// icmpecho with testpmd's statistics, plus loss/latency probes and JSON. Usage:
    /// dpdk-app testpmd [EAL args] -- [testpmd args] (--help)
    #[command(disable_help_flag = true)]
    Testpmd {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
        _args: Vec<String>,
    },
    /// The traffic test of deployment/vdpa-dpdk-traffic-test.yaml on this machine (relay,
    /// generator and sink pods as in the cluster), paced and at max rate, with a report.
    /// Usage: dpdk-app demo [--duration SECS] [--rate PPS] [--app APP] ... (--help)
    #[command(disable_help_flag = true)]
    Demo {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
        _args: Vec<String>,
    },
    /// RFC 2544 throughput search: NDR and PDR per frame size, with latency, against a
    /// reflector; writes rfc2544.json and rfc2544.html.
    /// Usage: dpdk-app rfc2544 [EAL args] -- [--frame-sizes LIST] ... (--help)
    #[command(disable_help_flag = true)]
    Rfc2544 {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
        _args: Vec<String>,
    },
    /// The vhost-user switch that stands in for the vDPA NIC on one machine (demo, pod
    /// simulation). Usage: dpdk-app relay [EAL args] -- --segment NAME=PORTS ... (--help)
    #[command(disable_help_flag = true)]
    Relay {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
        _args: Vec<String>,
    },
}

fn main() -> ExitCode {
    init_logging();
    let argv = match utf8_args(std::env::args_os()) {
        Ok(argv) => argv,
        Err(message) => {
            eprintln!("dpdk-app: error: {message}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::parse_from(&argv);
    // Apps get their argv verbatim, as the C applications do: clap would swallow a leading `--`
    // (`dpdk-app relay -- --segment ...`), which separates EAL from application arguments.
    let args: Vec<String> = argv.into_iter().skip(2).collect();
    let Some(command) = cli.command else {
        return finish("run", pod::run(&pod::DiscoveryFlags::default()));
    };
    match command {
        Command::Run { flags } => finish("run", pod::run(&flags)),
        Command::Discover {
            flags,
            json,
            app,
            no_device_check,
        } => finish(
            "discover",
            pod::discover(&flags, app, json, !no_device_check),
        ),
        Command::Ports { .. } => finish("ports", dpdk_app::inspect::run(&args)),
        Command::L2fwd { .. } => finish("l2fwd", dpdk_app::l2fwd::run(&args)),
        Command::L3fwd { .. } => finish("l3fwd", dpdk_app::l3fwd::run(&args)),
        Command::Demo { .. } => finish("demo", demo(&args)),
        Command::Relay { .. } => finish("relay", dpdk_app::relay::run(&args)),
        Command::Rfc2544 { .. } => finish("rfc2544", dpdk_app::rfc2544::run(&args)),
        Command::Testpmd { .. } => finish("testpmd", dpdk_app::testpmd::run(&args)),
    }
}

/// The arguments as strings: every app and option takes text, so an argument that is not UTF-8
/// is refused, naming its position and showing it escaped.
fn utf8_args(args: impl Iterator<Item = OsString>) -> Result<Vec<String>, String> {
    args.enumerate()
        .map(|(i, arg)| {
            arg.into_string().map_err(|arg| {
                format!(
                    "argument {i} (\"{}\") is not valid UTF-8",
                    netutil::escape::bytes(arg.as_bytes())
                )
            })
        })
        .collect()
}

/// Logs go to stderr (stdout carries the statistics tools parse), level from `RUST_LOG`
/// (default `info`), one line per event whatever the fields hold ([`OneLine`]).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| OneLine(std::io::stderr()))
        .with_target(false)
        .init();
}

/// Writes one formatted log event with its line breaks and other control characters escaped
/// (the final newline and the formatter's own colour codes aside): messages quote names and
/// values from the pod's input, and a newline in one must not print a second, forged line.
/// (tracing-subscriber already escapes ESC and the other terminal controls inside fields.)
struct OneLine<W>(W);

impl<W: Write> Write for OneLine<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (body, end) = match buf.strip_suffix(b"\n") {
            Some(body) => (body, &b"\n"[..]),
            None => (buf, &b""[..]),
        };
        let text = String::from_utf8_lossy(body);
        let mut line = String::with_capacity(text.len());
        for c in text.chars() {
            // ESC starts the formatter's colours; fields can no longer hold a raw one.
            if c == '\u{1b}' || !unprintable(c) {
                line.push(c);
            } else {
                line.push_str(&printable(c.encode_utf8(&mut [0; 4])));
            }
        }
        self.0.write_all(line.as_bytes())?;
        self.0.write_all(end)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Exit status and message for an app's result.
fn finish<E: std::fmt::Display>(app: &str, result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dpdk-app {app}: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `dpdk-app demo`: the test rig's single-machine traffic test, when built in.
#[cfg(feature = "demo")]
fn demo(args: &[String]) -> Result<(), podsim::demo::DemoError> {
    podsim::demo::run(args)
}

#[cfg(not(feature = "demo"))]
fn demo(_args: &[String]) -> Result<(), String> {
    Err(
        "this dpdk-app was built without the demo (the container image is): build it from \
         the source tree with `cargo build --release -p dpdk-app` and run `make demo`"
            .into(),
    )
}
