//! The command line, before any DPDK starts: `--help` documents every option and what differs
//! from testpmd; unknown modes and options are errors that name them, with a non-zero exit and
//! no EAL initialisation (no DPDK output at all).

mod testpmd_support;

use std::process::Command;

use testpmd_support::APP;

fn testpmd(app_args: &[&str]) -> std::process::Output {
    Command::new(APP)
        .args(["testpmd", "--no-huge", "-m", "64", "--no-pci", "--"])
        .args(app_args)
        .output()
        .expect("run dpdk-app")
}

#[test]
fn help_documents_every_option_and_the_differences() {
    let out = testpmd(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "--auto-start",
        "--tx-first",
        "--stats-period",
        "--forward-mode",
        "--nb-cores",
        "--rxq",
        "--txq",
        "--rxd",
        "--txd",
        "--burst",
        "--txpkts",
        "--eth-peer",
        "--port-topology",
        "--total-num-mbufs",
        "--mbuf-size",
        "--mlockall",
        "--no-mlockall",
        "--txonly-multi-flow",
        "--flowgen-flows",
        "--max-pkt-len",
        "--record-burst-stats",
        "--no-lsc-interrupt",
        "--duration",
        "--stats-format",
        "--stats-file",
        "--tx-rate",
        "--idle-sleep-us",
        "--metrics-addr",
        "--no-probe",
        "--probe-latency",
    ] {
        assert!(help.contains(opt), "--help lacks {opt}:\n{help}");
    }
    assert!(help.contains("[differs"), "differences are marked");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("EAL:"),
        "--help must not start the EAL"
    );
}

#[test]
fn bad_command_lines_fail_naming_the_culprit() {
    for (args, needle) in [
        (&["--forward-mode=bogus"][..], "bogus"),
        (&["--forward-mode=csum"], "csum"),
        (&["--no-such-option"], "--no-such-option"),
        (&["--interactive"], "--interactive"),
        (&["--burst=600"], "--burst"),
        (&["--txpkts=20"], "--txpkts"),
        (&["--port-topology=ring"], "ring"),
        (&["--forward-mode=io", "--tx-rate=1000"], "--tx-rate"),
        (&["--metrics-addr=localhost"], "--metrics-addr"),
    ] {
        let out = testpmd(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(
            stderr.contains("dpdk-app testpmd: error:") && stderr.contains(needle),
            "{args:?}: error should name {needle}: {stderr}"
        );
        assert!(!stderr.contains("EAL:"), "{args:?}: the EAL must not start");
    }
}
