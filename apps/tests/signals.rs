//! Signals at any moment end an app promptly and cleanly: during the EAL's initialisation (a
//! server-mode virtio-user port blocks there until a client connects) every app exits within
//! seconds with status 128 + signal instead of hanging or dying without a word; a second signal
//! while an app stops does not cut its final statistics short.

use std::process::Command;
use std::time::{Duration, Instant};

use testkit::{DpdkLock, Proc, ScratchDir};

const APP: &str = env!("CARGO_BIN_EXE_dpdk-app");

#[test]
fn a_signal_during_eal_init_exits_every_app_promptly() {
    let _lock = DpdkLock::acquire();
    for (app, args) in [
        ("testpmd", &["--no-mlockall", "--total-num-mbufs=2048"][..]),
        ("l2fwd", &["-p", "0x1"][..]),
        ("l3fwd", &["-p", "0x1", "--config=(0,0,0)"][..]),
        ("relay", &["--segment", "a=0"][..]),
    ] {
        let dir = ScratchDir::new("sig-init");
        let prefix = testkit::unique_prefix("sig-init");
        let mut cmd = Command::new(APP);
        cmd.args([app, "--no-huge", "-m", "256", "--no-pci", "-l", "0"])
            .arg(format!("--file-prefix={prefix}"))
            .arg(format!(
                "--vdev=net_virtio_user0,path={},server=1,queues=1",
                dir.join("s.sock").display()
            ))
            .arg("--")
            .args(args);
        let mut p = Proc::spawn(app, &mut cmd, Some(&prefix));
        // Blocked in rte_eal_init until a client connects, which none will.
        p.wait_for_stderr_line("waiting for client connection", Duration::from_secs(60));
        let sent = Instant::now();
        p.signal("TERM");
        let (out, killed) = p.wait(Duration::from_secs(20));
        let took = sent.elapsed();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!killed, "{app} hung in EAL init:\n{err}");
        assert_eq!(
            out.status.code(),
            Some(128 + 15),
            "{app}: exit status 128 + SIGTERM, not death by signal: {}\n{err}",
            out.status
        );
        assert!(err.contains("still initialising"), "{app}: {err}");
        assert!(took < Duration::from_secs(10), "{app} took {took:?}");
    }
}

#[test]
fn a_second_signal_does_not_cut_the_final_statistics_short() {
    let _lock = DpdkLock::acquire();
    let prefix = testkit::unique_prefix("sig-twice");
    let mut cmd = Command::new(APP);
    cmd.args(["testpmd", "--no-huge", "-m", "256", "--no-pci", "-l", "0"])
        .arg(format!("--file-prefix={prefix}"))
        .args(["--vdev=net_null0", "--"])
        .args([
            "--no-mlockall",
            "--total-num-mbufs=2048",
            "--forward-mode=rxonly",
        ])
        .arg("--stats-period=1");
    let mut p = Proc::spawn("testpmd", &mut cmd, Some(&prefix));
    p.wait_for_line("Port statistics", Duration::from_secs(60));
    // net_null never runs dry, so the receiver drains for its whole limit: the second signal
    // arrives while it stops.
    p.signal("INT");
    std::thread::sleep(Duration::from_millis(100));
    p.signal("INT");
    let (out, killed) = p.wait(Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !killed && out.status.success(),
        "{}",
        testkit::describe("testpmd", &out)
    );
    for needle in ["Accumulated forward statistics for all ports", "Bye..."] {
        assert!(stdout.contains(needle), "no {needle:?} in\n{stdout}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("already stopping"));
}
