//! `lcores::run` with a real EAL: a panic anywhere (a worker job, the main lcore's job, the
//! monitor on this thread or on its helper thread) stops everything promptly and comes back as
//! the error, the first panic winning.
//!
//! One EAL per process: each case re-runs this test program as a child (`lcores_child`, told
//! what to do by environment variables) with its own `--file-prefix` and no devices.

use std::process::Command;
use std::time::{Duration, Instant};

use dpdk::Eal;
use dpdk_app::lcores::{self, Job};
use dpdk_app::signal::Stop;
use testkit::{assert_success, describe, DpdkLock, MemoryMode, Proc};

const ROLE_VAR: &str = "DPDK_APP_LCORES_CASE";
const EAL_VAR: &str = "DPDK_APP_LCORES_EAL";
/// A run that ends promptly takes milliseconds; a hang is what this catches.
const PROMPT: Duration = Duration::from_secs(5);

/// Runs `case` in a child with lcores 0 (main) and 1, which must end promptly with `error`.
fn expect_error(case: &str, error: &str) {
    let _lock = DpdkLock::acquire();
    let prefix = testkit::unique_prefix("lcores");
    let mut eal = MemoryMode::NoHuge.eal_args(128);
    eal.extend(
        [
            "--no-pci",
            "-l",
            "0,1",
            "--file-prefix",
            &prefix,
            "--log-level=lib.eal:warning",
        ]
        .map(String::from),
    );
    let mut cmd = Command::new(std::env::current_exe().expect("current_exe"));
    cmd.args(["--exact", "lcores_child", "--nocapture", "--test-threads=1"])
        .env(ROLE_VAR, case)
        .env(EAL_VAR, eal.join(" "));
    let proc = Proc::spawn(case, &mut cmd, Some(&prefix));
    let (output, killed) = proc.wait(Duration::from_secs(60));
    assert_success(case, &output, killed);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("ok: {case}\n")) && stdout.contains(&format!("error: {error}\n")),
        "expected the error {error:?}\n{}",
        describe(case, &output)
    );
}

#[test]
fn a_monitor_panic_on_the_main_thread_stops_the_workers_and_is_the_error() {
    expect_error(
        "monitor-here",
        "the monitor panicked: monitor fails on purpose",
    );
}

#[test]
fn a_monitor_panic_beside_the_main_lcore_job_stops_it_and_is_the_error() {
    expect_error(
        "monitor-beside-main-job",
        "the monitor panicked: monitor fails on purpose",
    );
}

#[test]
fn a_worker_panic_stops_the_others_and_wins_over_later_panics() {
    expect_error("worker-first", "lcore 1 panicked: worker fails on purpose");
}

#[test]
fn a_main_lcore_job_panic_stops_the_workers_and_is_the_error() {
    expect_error("main-job", "lcore 0 panicked: main job fails on purpose");
}

/// The child side; does nothing when run as an ordinary test.
#[test]
fn lcores_child() {
    let Ok(case) = std::env::var(ROLE_VAR) else {
        return;
    };
    let eal_args = std::env::var(EAL_VAR).expect("EAL arguments");
    let argv = std::iter::once("lcores-test").chain(eal_args.split(' '));
    let (eal, _) = Eal::init(argv).expect("EAL init");
    let stop = Stop::new();
    // Polls until told to stop, as forwarding jobs do.
    let poll = |stop: Stop| {
        move || {
            while !stop.is_set() {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    };
    let started = Instant::now();
    let result = match case.as_str() {
        "monitor-here" => lcores::run(&eal, vec![Job::new(1, poll(stop.clone()))], &stop, || {
            panic!("monitor fails on purpose")
        }),
        "monitor-beside-main-job" => lcores::run(
            &eal,
            vec![
                Job::new(0, poll(stop.clone())),
                Job::new(1, poll(stop.clone())),
            ],
            &stop,
            || panic!("monitor fails on purpose"),
        ),
        "worker-first" => {
            let monitor_stop = stop.clone();
            let main_stop = stop.clone();
            lcores::run(
                &eal,
                vec![
                    Job::new(1, || panic!("worker fails on purpose")),
                    Job::new(0, move || {
                        poll(main_stop.clone())();
                        panic!("main job fails later")
                    }),
                ],
                &stop,
                move || {
                    poll(monitor_stop)();
                    panic!("monitor fails later")
                },
            )
        }
        "main-job" => {
            let monitor_stop = stop.clone();
            lcores::run(
                &eal,
                vec![
                    Job::new(0, || panic!("main job fails on purpose")),
                    Job::new(1, poll(stop.clone())),
                ],
                &stop,
                move || poll(monitor_stop)(),
            )
        }
        other => panic!("unknown case {other}"),
    };
    let elapsed = started.elapsed();
    match result {
        Ok(()) => panic!("{case}: a panic must be an error"),
        Err(e) => println!("error: {e}"),
    }
    assert!(stop.is_set(), "{case}: the stop flag is set");
    assert!(elapsed < PROMPT, "{case}: took {elapsed:?}");
    drop(eal);
    println!("ok: {case}");
}
