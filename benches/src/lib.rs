//! `cargo bench`'s side-by-side benchmarks: every `dpdk-app` engine against its C
//! counterpart, measured the same way in the same run.
//!
//! The numbers are throughputs of real DPDK processes on this machine, which other work
//! shares and which varies ±20% from run to run. So each set-up is measured several times,
//! C and ours alternating (the order flips every round, so drift in the machine's load favours
//! neither), and the best run of each counts. Rates are read from the outside through DPDK
//! telemetry over a fixed window after a warm-up, identically for both.
//!
//! Layout: [`tools`] holds what a benchmark is made of, [`testpmd`] (pairs over vhost-user) and
//! [`sample_apps`] (l2fwd/l3fwd over net_pcap) define the benchmarks with it, [`measure`] runs
//! one set-up reading port counters through `testkit::telemetry`, [`report`] prints and stores the table, [`settings`] and [`machine`]
//! say how and where it ran. The bench targets live in the apps package:
//! `apps/benches/side_by_side.rs`, the one place that knows where cargo put the optimised
//! `dpdk-app` binary, calls [`main`]; `apps/benches/per_packet.rs` measures the engines'
//! per-packet code beside it. This crate does not depend on `dpdk-app`.
#![forbid(unsafe_code)]

pub mod machine;
pub mod measure;
pub mod report;
pub mod sample_apps;
pub mod settings;
pub mod testpmd;
pub mod tools;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use testkit::{DpdkLock, MemoryMode, ScratchDir};

use machine::Machine;
use measure::{measure, Sample, Setup};
use report::{Report, Row};
use settings::Settings;
use tools::{Group, Tools, EAL_MIB};

/// Every benchmark, with its files (sockets, captures) in `dir`.
fn groups(tools: &Tools, memory: MemoryMode, dir: &Path) -> Vec<Group> {
    let mut groups = vec![
        testpmd::group(tools, memory, dir),
        testpmd::metrics_group(tools, memory, dir),
    ];
    groups.extend(sample_apps::groups(tools, memory, dir));
    groups
}

/// Runs the benchmarks with `app` as our binary, the C examples cached and the report written
/// under `target_dir`; settings from the environment and the command line.
pub fn main(app: &Path, target_dir: &Path) -> ExitCode {
    let settings = match Settings::parse(|k| std::env::var(k).ok(), std::env::args().skip(1)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("side_by_side: {e}");
            return ExitCode::from(2);
        }
    };
    let cache = target_dir.join("c-examples");
    let tools = Tools {
        app: app.to_owned(),
        testpmd: PathBuf::from("dpdk-testpmd"),
        l2fwd: testkit::c_examples::build("l2fwd", &cache),
        l3fwd: testkit::c_examples::build("l3fwd", &cache),
    };
    let memory = settings.memory.unwrap_or_else(choose_memory);
    let scratch = ScratchDir::new("bench");
    let groups: Vec<Group> = groups(&tools, memory, scratch.path())
        .into_iter()
        .filter(|g| g.selected(&settings.filters))
        .collect();
    if groups.is_empty() {
        eprintln!(
            "side_by_side: no benchmark matches {:?} (testpmd, l2fwd, l3fwd-lpm, l3fwd-em)",
            settings.filters
        );
        return ExitCode::SUCCESS;
    }
    let report = match run(&settings, memory, &groups, &scratch) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("side_by_side: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("\n{}", report.table());
    let name = if settings.quick {
        "bench-report-quick"
    } else {
        "bench-report"
    };
    let json = target_dir.join(format!("{name}.json"));
    let markdown = target_dir.join(format!("{name}.md"));
    let written = serde_json::to_string_pretty(&report)
        .map_err(std::io::Error::other)
        .and_then(|j| fs::write(&json, j + "\n"))
        .and_then(|()| fs::write(&markdown, report.markdown()));
    match written {
        Ok(()) => {
            println!("written: {} and {}", json.display(), markdown.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("side_by_side: cannot write {}: {e}", json.display());
            ExitCode::FAILURE
        }
    }
}

/// Hugepages when enough are free for the two processes of a pair (checked under the DPDK
/// lock, so no test holds them meanwhile), else `--no-huge`.
fn choose_memory() -> MemoryMode {
    let _lock = DpdkLock::acquire();
    if MemoryMode::available(2 * u64::from(EAL_MIB)).contains(&MemoryMode::Huge) {
        MemoryMode::Huge
    } else {
        MemoryMode::NoHuge
    }
}

/// Measures every set-up `settings.runs` times, groups in turn, and builds the report.
fn run(
    settings: &Settings,
    memory: MemoryMode,
    groups: &[Group],
    scratch: &ScratchDir,
) -> Result<Report, measure::RunError> {
    let machine = Machine::describe(memory);
    eprintln!(
        "side_by_side: {machine}; {} run(s) of each, {:?} warm-up, {:?} window",
        settings.runs, settings.timing.warmup, settings.timing.window
    );
    let started = Instant::now();
    let load_before = machine::load_average();
    // samples[g][0] is group g's reference, samples[g][1 + i] its ours[i].
    let mut samples: Vec<Vec<Vec<Sample>>> = groups
        .iter()
        .map(|g| vec![Vec::new(); 1 + g.ours.len()])
        .collect();
    for round in 0..settings.runs {
        for (g, group) in groups.iter().enumerate() {
            let mut order: Vec<(usize, &Setup)> = std::iter::once(&group.reference)
                .chain(group.ours.iter().map(|(_, s)| s))
                .enumerate()
                .collect();
            if round % 2 == 1 {
                order.reverse();
            }
            for (i, setup) in order {
                let sample = measure(setup, settings.timing, scratch)?;
                eprintln!(
                    "[{}/{}] {:<10} {:<24} {:6.2} Mpps  cpu {}",
                    round + 1,
                    settings.runs,
                    group.name,
                    setup.label,
                    sample.mpps,
                    sample
                        .cpu
                        .iter()
                        .map(|c| format!("{c:.2}"))
                        .collect::<Vec<_>>()
                        .join("/")
                );
                samples[g][i].push(sample);
            }
        }
    }
    let rows = groups
        .iter()
        .zip(&samples)
        .flat_map(|(group, s)| {
            group
                .ours
                .iter()
                .enumerate()
                .map(move |(i, (benchmark, _))| {
                    Row::new(benchmark, &group.reference.label, &s[0], &s[1 + i])
                })
        })
        .collect();
    Ok(Report {
        machine,
        quick: settings.quick,
        warmup_s: settings.timing.warmup.as_secs_f64(),
        window_s: settings.timing.window.as_secs_f64(),
        load_before,
        load_after: machine::load_average(),
        duration_s: started.elapsed().as_secs_f64(),
        rows,
    })
}
