//! The pod entrypoint: `dpdk-app discover --json` on the netutil fixtures (pods as kubelet,
//! Multus and the device plugin set them up) gives the expected EAL and app arguments for each
//! app; bad input fails clearly; and `dpdk-app` with no arguments runs testpmd on vhost-user
//! sockets standing in for /dev/vhost-vdpa-N, served by a net_vhost peer that counts what
//! arrives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use dpdk_app::pod::app_args;
use netutil::App;
use serde_json::Value;
use testkit::{assert_success, describe, DpdkLock, Proc, ScratchDir};

const APP: &str = env!("CARGO_BIN_EXE_dpdk-app");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../netutil/tests/fixtures")
        .join(name)
}

/// The fixture's `env` file: the container environment the pod would have.
fn fixture_env(name: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(fixture(name).join("env")).unwrap();
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// `dpdk-app <args>` on CPU 0 only, with exactly `env` (plus PATH) in its environment.
fn dpdk_app(args: &[&str], env: &BTreeMap<String, String>) -> Output {
    Command::new("taskset")
        .args(["-c", "0", APP])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .output()
        .expect("run dpdk-app")
}

/// The environment of the fixture pod `name`: its `env` file, the directories, no wait.
fn pod_env(name: &str) -> BTreeMap<String, String> {
    let dir = fixture(name);
    let mut env = fixture_env(name);
    env.insert(
        "PODNETINFO_DIR".into(),
        dir.join("podnetinfo").display().to_string(),
    );
    env.insert(
        "DEVINFO_DIR".into(),
        dir.join("devinfo").display().to_string(),
    );
    env.insert("NETUTIL_WAIT_SECS".into(), "0".into());
    env
}

/// Runs `discover --json` for `app` on a fixture and returns the parsed output.
fn discover(name: &str, app: &str) -> Value {
    let env = pod_env(name);
    let out = dpdk_app(
        &["discover", "--json", "--no-device-check", "--app", app],
        &env,
    );
    assert!(out.status.success(), "{}", describe("discover", &out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}", describe("discover", &out)))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

/// The memory arguments the plan chose on this machine (hugepages or not), which lead `eal_args`.
fn memory_args(v: &Value) -> Vec<String> {
    let mem = &v["plan"]["memory"];
    let mb = mem["mb"].as_u64().unwrap().to_string();
    match mem["mode"].as_str().unwrap() {
        "hugepages" => vec!["-m".into(), mb],
        "no-huge" => vec!["--no-huge".into(), "-m".into(), mb],
        other => panic!("unknown memory mode {other}"),
    }
}

/// Asserts the EAL arguments: memory first, then `rest` (space-separated, as on a command
/// line), then a `--file-prefix` for `app`. `{sfs}` in `rest` stands for
/// `--single-file-segments`, which the plan adds only when hugepages back vhost-user.
fn assert_eal(v: &Value, app: &str, rest: &str) {
    let eal = strings(&v["eal_args"]);
    let sfs = if v["plan"]["memory"]["mode"] == "hugepages" {
        "--single-file-segments"
    } else {
        ""
    };
    let mut expected = memory_args(v);
    expected.extend(
        rest.replace("{sfs}", sfs)
            .split_whitespace()
            .map(str::to_owned),
    );
    let (prefix, body) = eal.split_last().expect("eal args");
    assert_eq!(body, expected.as_slice(), "EAL args of {app}");
    assert!(
        prefix.starts_with(&format!("--file-prefix={app}-")),
        "{prefix}"
    );
}

/// Asserts that the app arguments start with `expected` (space-separated).
fn assert_app_args(v: &Value, expected: &str) {
    let args = strings(&v["app_args"]);
    let expected: Vec<&str> = expected.split_whitespace().collect();
    assert_eq!(
        args[..expected.len().min(args.len())],
        expected[..],
        "app args"
    );
}

const GEN_VDEVS: &str =
    "--vdev=virtio_user0,path=/dev/vhost-vdpa-0,queues=1,mac=0c:fe:c0:ff:ee:00 \
                         --vdev=virtio_user1,path=/dev/vhost-vdpa-1,queues=1,mac=0c:fe:c0:ff:ee:01";

#[test]
fn traffic_test_generator_runs_each_app_like_the_original_entrypoint() {
    let v = discover("traffic-test-gen", "testpmd");
    assert_eal(
        &v,
        "testpmd",
        &format!("-n 4 -l 0 --main-lcore 0 --iova-mode=va {GEN_VDEVS} --no-pci"),
    );
    assert_app_args(
        &v,
        "--auto-start --tx-first --stats-period 2 --forward-mode=txonly",
    );
    assert_eq!(strings(&v["app_args"]).len(), 5);
    let ifaces = v["interfaces"].as_array().unwrap();
    assert_eq!(ifaces.len(), 3);
    assert_eq!(
        (ifaces[0]["interface"].as_str(), ifaces[0]["type"].as_str()),
        (Some("eth0"), Some("host"))
    );
    for (i, mac) in [(1, "0c:fe:c0:ff:ee:00"), (2, "0c:fe:c0:ff:ee:01")] {
        assert_eq!(ifaces[i]["type"], "vdpa");
        assert_eq!(ifaces[i]["mac"], mac);
        assert_eq!(
            ifaces[i]["network"],
            format!("default/vdpa-mlx-vhost-net-{}", 1000 * i)
        );
        assert_eq!(ifaces[i]["device_info"]["vdpa"]["driver"], "vhost");
    }
    assert!(
        v["resources"]["cpus"] == serde_json::json!([0]),
        "CPUs from the affinity: {}",
        v["resources"]
    );
    let command = v["command"].as_str().unwrap();
    assert!(
        command.starts_with("dpdk-app testpmd ") && command.contains(" -- --auto-start"),
        "{command}"
    );

    let v = discover("traffic-test-gen", "l2fwd");
    assert_eal(
        &v,
        "l2fwd",
        &format!("-n 4 -l 0 --main-lcore 0 {GEN_VDEVS} --no-pci"),
    );
    assert_app_args(&v, "-p 0x3 -T 120 --no-mac-updating");

    let v = discover("traffic-test-gen", "l3fwd");
    assert_eal(
        &v,
        "l3fwd",
        &format!("-n 4 -l 0 --main-lcore 0 {GEN_VDEVS} --no-pci"),
    );
    assert_app_args(&v, "-p 0x3 -P --config=(0,0,0),(1,0,0) --parse-ptype");
}

#[test]
fn every_device_kind_becomes_its_port() {
    let v = discover("vhost-user-server", "testpmd");
    assert_eal(
        &v,
        "testpmd",
        "-n 4 {sfs} -l 0 --main-lcore 0 --iova-mode=va \
         --vdev=virtio_user0,path=/var/lib/cni/usrspcni/3f1c9a5e0b7d-net1,server=1,queues=1 --no-pci",
    );

    let v = discover("vhost-user-client", "l2fwd");
    assert_eal(
        &v,
        "l2fwd",
        "-n 4 {sfs} -l 0 --main-lcore 0 \
         --vdev=virtio_user0,path=/var/lib/vhost_sockets/vhu-net1.sock,queues=1,mac=02:00:00:00:aa:01 --no-pci",
    );
    assert_app_args(&v, "-p 0x1");

    let v = discover("memif", "l2fwd");
    assert_eal(
        &v,
        "l2fwd",
        "-n 4 -l 0 --main-lcore 0 \
         --vdev=net_memif1,socket=/run/memif/memif-net1.sock,role=server,mac=02:fe:a0:00:00:01 \
         --vdev=net_memif2,socket=/run/memif/memif-net2.sock,role=client --no-pci",
    );
    let skipped = v["plan"]["skipped"].to_string();
    assert!(
        skipped.contains("net3") && skipped.contains("ip"),
        "memif in ip mode is skipped with a reason: {skipped}"
    );

    // PCI functions in interface order (EAL numbers PCI ports by address regardless).
    let v = discover("sriov-pci", "l3fwd");
    assert_eal(
        &v,
        "l3fwd",
        "-n 4 -l 0 --main-lcore 0 -a 0000:18:02.3 -a 0000:18:02.2 -a 0000:18:02.5",
    );
    assert_app_args(&v, "-p 0x7 -P --config=(1,0,0),(0,0,0),(2,0,0)");

    let v = discover("mixed", "testpmd");
    let eal = strings(&v["eal_args"]).join(" ");
    for arg in [
        "-a 0000:18:02.2",
        "--vdev=virtio_user0,path=/dev/vhost-vdpa-0,queues=1,mac=ca:fe:c0:ff:ee:33",
        "--vdev=virtio_user1,path=/var/lib/vhost_sockets/vhu-net2.sock,queues=1",
        "--vdev=net_memif1,socket=/run/memif/memif-net3.sock,role=server",
    ] {
        assert!(eal.contains(arg), "{arg} missing from {eal}");
    }
    assert!(
        !eal.contains("--no-pci") && !eal.contains("0000:65:00.4"),
        "{eal}"
    );
    assert!(
        v["plan"]["skipped"].to_string().contains("virtio"),
        "the virtio vDPA device is reported"
    );
}

fn failure(args: &[&str], env: &BTreeMap<String, String>) -> String {
    let out = dpdk_app(args, env);
    assert_eq!(out.status.code(), Some(1), "{}", describe("dpdk-app", &out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_input_fails_clearly() {
    let mut env = pod_env("traffic-test-gen");
    env.insert("DPDK_SAMPLE_APP".into(), "pktgen".into());
    for args in [&[][..], &["run"], &["discover"]] {
        let err = failure(args, &env);
        assert!(
            err.contains("DPDK_SAMPLE_APP=\"pktgen\"") && err.contains("testpmd, l2fwd, l3fwd"),
            "{err}"
        );
    }

    let empty = ScratchDir::new("no-devices");
    let env = BTreeMap::from([
        (
            "PODNETINFO_DIR".to_owned(),
            empty.path().display().to_string(),
        ),
        ("DEVINFO_DIR".to_owned(), empty.path().display().to_string()),
        ("NETUTIL_WAIT_SECS".to_owned(), "0".to_owned()),
        ("DPDK_SAMPLE_APP".to_owned(), "testpmd".to_owned()),
    ]);
    let err = failure(&[], &env);
    assert!(
        err.contains(&empty.path().display().to_string()),
        "says where it looked: {err}"
    );

    let err = failure(&["discover"], &pod_env("broken-invalid-json"));
    assert!(
        err.contains("annotations") && err.contains("network-status"),
        "names the file and the field: {err}"
    );

    let mut env = pod_env("virtio-only");
    env.insert("DPDK_SAMPLE_APP".into(), "testpmd".into());
    let err = failure(&[], &env);
    assert!(
        err.contains("virtio") && err.contains("net1"),
        "explains the virtio vDPA device: {err}"
    );

    // A bad variable: the message names it, its value where that helps, and what is wrong.
    for (var, value, needles) in [
        (
            "TESTPMD_EXTRA_ARGS",
            "--forward-mode='txonly",
            &["TESTPMD_EXTRA_ARGS", "unterminated"][..],
        ),
        (
            "VIRTIO_QUEUE_SIZE",
            "1000",
            &["VIRTIO_QUEUE_SIZE=\"1000\"", "power of two"],
        ),
    ] {
        let mut env = pod_env("traffic-test-gen");
        env.insert(var.into(), value.into());
        let err = failure(&["discover", "--no-device-check"], &env);
        assert!(needles.iter().all(|n| err.contains(n)), "{var}: {err}");
    }

    let env = pod_env("traffic-test-gen");
    let err = failure(&["run", "--wait-secs", "soon"], &env);
    assert!(err.contains("--wait-secs") && err.contains("soon"), "{err}");
}

#[test]
fn virtio_queue_size_sizes_every_virtio_user_ring() {
    let mut env = pod_env("traffic-test-gen");
    env.insert("VIRTIO_QUEUE_SIZE".into(), "2048".into());
    let out = dpdk_app(&["discover", "--json", "--no-device-check"], &env);
    assert!(out.status.success(), "{}", describe("discover", &out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let vdevs: Vec<String> = strings(&v["eal_args"])
        .into_iter()
        .filter(|a| a.starts_with("--vdev=virtio_user"))
        .collect();
    assert_eq!(vdevs.len(), 2, "{vdevs:?}");
    assert!(
        vdevs.iter().all(|a| a.contains(",queue_size=2048,")),
        "{vdevs:?}"
    );
}

#[test]
fn metrics_addr_becomes_the_apps_option_and_extra_args_override_it() {
    let mut env = pod_env("traffic-test-gen");
    env.insert("METRICS_ADDR".into(), "0.0.0.0:9091".into());
    for app in ["testpmd", "l2fwd", "l3fwd"] {
        env.insert("DPDK_SAMPLE_APP".into(), app.into());
        let out = dpdk_app(&["discover", "--json", "--no-device-check"], &env);
        assert!(out.status.success(), "{}", describe("discover", &out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let args = strings(&v["app_args"]);
        assert!(
            args.contains(&"--metrics-addr=0.0.0.0:9091".to_owned()),
            "{app}: {args:?}"
        );
    }
    env.insert("DPDK_SAMPLE_APP".into(), "testpmd".into());
    env.insert(
        "TESTPMD_EXTRA_ARGS".into(),
        "--metrics-addr=127.0.0.1:9100".into(),
    );
    let out = dpdk_app(&["discover", "--json", "--no-device-check"], &env);
    let args = strings(&serde_json::from_slice::<Value>(&out.stdout).unwrap()["app_args"]);
    let given: Vec<&String> = args
        .iter()
        .filter(|a| a.starts_with("--metrics-addr"))
        .collect();
    assert_eq!(
        given.last().map(|a| a.as_str()),
        Some("--metrics-addr=127.0.0.1:9100"),
        "the last occurrence wins: {args:?}"
    );
    env.insert("METRICS_ADDR".into(), "9091".into());
    let err = failure(&["discover", "--no-device-check"], &env);
    assert!(
        err.contains("METRICS_ADDR") && err.contains("HOST:PORT"),
        "{err}"
    );
}

/// The environment of a pod whose downward-API files are in `scratch/podnetinfo` and
/// device-info in `scratch/devinfo`, running `app`.
fn scratch_pod_env(scratch: &ScratchDir, app: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "PODNETINFO_DIR".to_owned(),
            scratch.join("podnetinfo").display().to_string(),
        ),
        (
            "DEVINFO_DIR".to_owned(),
            scratch.join("devinfo").display().to_string(),
        ),
        ("DPDK_SAMPLE_APP".to_owned(), app.to_owned()),
    ])
}

/// The lines of `out` (stdout, then stderr) that start like the entrypoint's command line.
fn enter_lines(out: &Output) -> Vec<String> {
    [&out.stdout, &out.stderr]
        .iter()
        .flat_map(|o| {
            String::from_utf8_lossy(o)
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|l| l.starts_with("ENTER dpdk-app:"))
        .collect()
}

#[test]
fn names_and_arguments_from_the_pod_cannot_forge_log_lines() {
    let scratch = ScratchDir::new("forge");
    let podnetinfo = scratch.join("podnetinfo");
    let forged = "\nENTER dpdk-app: rm -rf /";
    let status = serde_json::json!([
        {"name": "cbr0", "interface": "eth0", "default": true},
        {"name": format!("default/vdpa{forged}"), "interface": format!("net1\r{forged}"),
         "mac": format!("0c:fe:c0:ff:ee:00{forged}"),
         "device-info": {"type": "vdpa", "version": "1.1.0",
                         // A character device, as /dev/vhost-vdpa-N is.
                         "vdpa": {"parent-device": format!("vdpa0{forged}"), "driver": "vhost",
                                  "path": "/dev/null"}}},
        {"name": format!("default/virtio{forged}"), "interface": "net2",
         "device-info": {"type": "vdpa", "version": "1.1.0",
                         "vdpa": {"parent-device": format!("vdpa1{forged}"), "driver": "virtio"}}}
    ]);
    let annotations = BTreeMap::from([(
        "k8s.v1.cni.cncf.io/network-status".to_owned(),
        status.to_string(),
    )]);
    std::fs::create_dir_all(&podnetinfo).unwrap();
    std::fs::write(
        podnetinfo.join("annotations"),
        netutil::downward::format(&annotations),
    )
    .unwrap();
    let mut env = scratch_pod_env(&scratch, "testpmd");
    env.insert("NETUTIL_WAIT_SECS".into(), "0".into());
    // The app refuses the option naming it before the EAL starts.
    env.insert(
        "TESTPMD_EXTRA_ARGS".into(),
        format!("--forward-mode=txonly '--no-such-option{forged}'"),
    );

    let out = dpdk_app(&[], &env);
    assert_eq!(out.status.code(), Some(1), "{}", describe("run", &out));
    let enter = enter_lines(&out);
    assert_eq!(enter.len(), 1, "{}", describe("run", &out));
    // The one line is still the command, with the argument in $'...' quotes.
    assert!(
        enter[0].ends_with(r"-- --auto-start --tx-first --stats-period 2 --forward-mode=txonly $'--no-such-option\nENTER dpdk-app: rm -rf /'"),
        "{}",
        enter[0]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r"net1\r\nENTER dpdk-app: rm -rf / (default/vdpa\nENTER"),
        "{stderr}"
    );

    for args in [&["discover"][..], &["discover", "--json"]] {
        let out = dpdk_app(args, &env);
        assert!(out.status.success(), "{}", describe("discover", &out));
        assert_eq!(
            enter_lines(&out),
            Vec::<String>::new(),
            "{}",
            describe("discover", &out)
        );
    }
    // Nothing usable: the error lists every name, on one line.
    env.insert("DPDK_SAMPLE_APP".into(), "l2fwd".into());
    let status = status.as_array().unwrap();
    let only_virtio = serde_json::Value::Array(vec![status[0].clone(), status[2].clone()]);
    let annotations = BTreeMap::from([(
        "k8s.v1.cni.cncf.io/network-status".to_owned(),
        only_virtio.to_string(),
    )]);
    std::fs::write(
        podnetinfo.join("annotations"),
        netutil::downward::format(&annotations),
    )
    .unwrap();
    let out = dpdk_app(&[], &env);
    assert_eq!(out.status.code(), Some(1), "{}", describe("run", &out));
    assert_eq!(
        enter_lines(&out),
        Vec::<String>::new(),
        "{}",
        describe("run", &out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r"default/virtio\nENTER dpdk-app"),
        "{stderr}"
    );
}

#[test]
fn arguments_and_variables_that_are_not_utf8_are_errors() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let bad = OsStr::from_bytes(b"x\xff\n");
    let run = |args: &[&OsStr], var: Option<&str>| {
        let mut cmd = Command::new(APP);
        cmd.args(args)
            .env_clear()
            .envs(pod_env("traffic-test-gen"))
            .env("DPDK_SAMPLE_APP", "testpmd");
        if let Some(var) = var {
            cmd.env(var, bad);
        }
        cmd.output().expect("run dpdk-app")
    };
    let arg = |s: &'static str| OsStr::new(s);
    for args in [
        vec![bad],
        vec![arg("discover"), arg("--podnetinfo-dir"), bad],
        vec![arg("run"), arg("--wait-secs"), bad],
        vec![arg("testpmd"), arg("--no-huge"), arg("--"), bad],
        vec![arg("l3fwd"), arg("--"), arg("-p"), bad],
    ] {
        let out = run(&args, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let at = args.len();
        assert!(
            stderr.contains(&format!(r#"argument {at} ("x\xff\n") is not valid UTF-8"#)),
            "{args:?}: {stderr}"
        );
    }
    for var in [
        "DPDK_SAMPLE_APP",
        "TESTPMD_EXTRA_ARGS",
        "L3FWD_EXTRA_ARGS",
        "VIRTIO_QUEUE_SIZE",
        "PODNETINFO_DIR",
        "HOSTNAME",
        "PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST",
        "PCIDEVICE_X_INFO",
    ] {
        for args in [&[][..], &[arg("discover"), arg("--json")]] {
            let out = run(args, Some(var));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{var}: {stderr}");
            assert!(
                stderr.contains(&format!(
                    r#"environment variable {var} is not valid UTF-8: "x\xff\n""#
                )),
                "{var}: {stderr}"
            );
        }
    }
}

/// The plan `run` would make for `app` on a fixture pod whose process may run on `cpus`.
fn fixture_plan(name: &str, app: App, cpus: &[u32]) -> netutil::EalPlan {
    let mut cfg = netutil::Config::from_vars(pod_env(name)).unwrap();
    cfg.cpus = Some(cpus.to_vec());
    let found = netutil::discover(&cfg).unwrap();
    let opts = netutil::PlanOptions {
        require_device_paths: false,
        ..netutil::PlanOptions::default()
    };
    netutil::plan(&found, app, &opts).unwrap()
}

#[test]
fn cpus_from_128_on_become_mapped_lcores_the_apps_accept() {
    // Debian's DPDK has RTE_MAX_LCORE 128: a pod pinned to CPUs 130-131 must not pass them as
    // lcore ids.
    for (app, lcores) in [
        (App::Testpmd, "0@130,1@131"),
        (App::L2fwd, "0@130,1@131"),
        (App::L3fwd, "0@130"),
    ] {
        let plan = fixture_plan("traffic-test-gen", app, &[130, 131]);
        let eal = plan.eal_args.join(" ");
        assert!(
            eal.contains(&format!(" --lcores {lcores} --main-lcore 0 ")) && !eal.contains(" -l "),
            "{app}: {eal}"
        );
        let args = app_args(app, &plan, &[]);
        match app {
            // testpmd's and the search's arguments name no lcore.
            App::Testpmd | App::Rfc2544 => {}
            App::L2fwd => {
                dpdk_app::l2fwd::options::parse(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            }
            App::L3fwd => {
                assert!(
                    args.contains(&"--config=(0,0,0),(1,0,0)".to_owned()),
                    "{args:?}"
                );
                dpdk_app::l3fwd::options::parse(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            }
        }
    }
    // Several l3fwd queues: one lcore each, queue 0 of every port on the first worker.
    let mut cfg = netutil::Config::from_vars(pod_env("traffic-test-gen")).unwrap();
    cfg.cpus = Some(vec![130, 131, 132]);
    let opts = netutil::PlanOptions {
        require_device_paths: false,
        queues: 2,
        ..netutil::PlanOptions::default()
    };
    let plan = netutil::plan(&netutil::discover(&cfg).unwrap(), App::L3fwd, &opts).unwrap();
    assert_eq!(
        plan.lcores.eal_args(),
        ["--lcores", "0@130,1@131", "--main-lcore", "0"]
    );
    let args = app_args(App::L3fwd, &plan, &[]);
    assert!(
        args.contains(&"--config=(0,0,1),(1,0,1)".to_owned()),
        "{args:?}"
    );
    dpdk_app::l3fwd::options::parse(&args).unwrap();
}

#[test]
fn lcores_mapped_to_other_cpus_run_every_app() {
    // Lcore ids that are not the CPU ids, as a plan for CPUs from 128 on has them, here on
    // CPUs this machine has: lcore 0 on the second CPU, lcore 1 on the first.
    let _lock = DpdkLock::acquire();
    let (first, second) = testkit::two_cpus();
    let cpus = [
        u32::try_from(second).unwrap(),
        u32::try_from(first).unwrap(),
    ];
    let lcores = netutil::Lcores {
        main: 0,
        workers: vec![1],
        cpus: cpus.to_vec(),
    };
    let extras = |app| {
        let mut args = vec!["--duration".to_owned(), "1".to_owned()];
        if app == App::Testpmd {
            args.push("--total-num-mbufs=8192".into());
        }
        args
    };
    // The search needs a reflector (net_null returns nothing); tests/rfc2544.rs runs it.
    for app in App::ALL.into_iter().filter(|&a| a != App::Rfc2544) {
        let mut plan = fixture_plan("traffic-test-gen", app, &cpus);
        plan.lcores = lcores.clone();
        let prefix = testkit::unique_prefix(&format!("mapped-{app}"));
        let mut cmd = Command::new(APP);
        cmd.args([app.name(), "--no-huge", "-m", "512", "-n", "4"])
            .args(lcores.eal_args())
            .args(["--vdev=net_null0", "--vdev=net_null1", "--no-pci"])
            .arg(format!("--file-prefix={prefix}"))
            .arg("--")
            .args(app_args(app, &plan, &extras(app)));
        let (out, killed) =
            Proc::spawn(app.name(), &mut cmd, Some(&prefix)).wait(Duration::from_secs(60));
        assert_success(app.name(), &out, killed);
    }
}

/// Writes a pod's downward-API `annotations` as kubelet does, with a network-status as Multus
/// writes it (4-space indented JSON) listing vDPA devices whose paths are `sockets`.
fn write_pod(dir: &Path, sockets: &[PathBuf], macs: &[&str]) {
    let mut status = vec![serde_json::json!({
        "name": "cbr0", "interface": "eth0", "ips": ["10.244.1.5"], "mac": "aa:8e:3d:5c:11:02",
        "default": true, "dns": {}
    })];
    for (i, (sock, mac)) in sockets.iter().zip(macs).enumerate() {
        status.push(serde_json::json!({
            "name": format!("default/vdpa-mlx-vhost-net-{}", 1000 * (i + 1)),
            "interface": format!("net{}", i + 1),
            "mac": mac,
            "dns": {},
            "device-info": {"type": "vdpa", "version": "1.1.0", "vdpa": {
                "parent-device": format!("vdpa{i}"), "driver": "vhost",
                "path": sock.display().to_string(), "pci-address": format!("0000:65:00.{}", i + 2)
            }}
        }));
    }
    let mut json = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    serde::Serialize::serialize(
        &status,
        &mut serde_json::Serializer::with_formatter(&mut json, fmt),
    )
    .unwrap();
    let annotations = BTreeMap::from([(
        "k8s.v1.cni.cncf.io/network-status".to_owned(),
        String::from_utf8(json).unwrap(),
    )]);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("annotations"),
        netutil::downward::format(&annotations),
    )
    .unwrap();
}

#[test]
fn pod_without_arguments_runs_testpmd_on_its_vdpa_devices() {
    let _lock = DpdkLock::acquire();
    let scratch = ScratchDir::new("entrypoint");
    let sockets: Vec<PathBuf> = (0..2)
        .map(|i| scratch.join(&format!("vhost-vdpa-{i}.sock")))
        .collect();
    let peer_stats = scratch.join("peer.json");

    // The peer plays the vDPA NIC: one net_vhost port per pod device, counting what arrives.
    let peer_prefix = testkit::unique_prefix("peer");
    let mut peer = Command::new(APP);
    peer.args([
        "testpmd",
        "--no-huge",
        "-m",
        "512",
        "--no-pci",
        "-l",
        "1",
        "--file-prefix",
        &peer_prefix,
    ]);
    for (i, s) in sockets.iter().enumerate() {
        peer.arg(format!(
            "--vdev=net_vhost{i},iface={},queues=1",
            s.display()
        ));
    }
    peer.args([
        "--",
        "--forward-mode=rxonly",
        "--total-num-mbufs=16384",
        "--stats-file",
    ])
    .arg(&peer_stats);
    let mut peer = Proc::spawn("vhost peer", &mut peer, Some(&peer_prefix));
    for s in &sockets {
        peer.wait_for_path(s, Duration::from_secs(30));
    }

    let podnetinfo = scratch.join("podnetinfo");
    write_pod(
        &podnetinfo,
        &sockets,
        &["0c:fe:c0:ff:ee:00", "0c:fe:c0:ff:ee:01"],
    );
    let mut env = scratch_pod_env(&scratch, "testpmd");
    env.insert(
        "TESTPMD_EXTRA_ARGS".into(),
        "--forward-mode=txonly --duration 3".into(),
    );
    let pod = dpdk_app(&[], &env);
    let pod_out = String::from_utf8_lossy(&pod.stdout).into_owned();
    assert!(pod.status.success(), "{}", describe("pod", &pod));
    // The command line it logged is the one it ran, and it is what a person would type.
    let entered = pod_out
        .lines()
        .find_map(|l| l.strip_prefix("ENTER dpdk-app: "))
        .expect("ENTER line");
    // The pod chose its own --file-prefix; remove what its EAL left, as a pod's end would.
    if let Some(prefix) = entered
        .split_whitespace()
        .find_map(|w| w.strip_prefix("--file-prefix="))
    {
        testkit::remove_eal_files(prefix);
    }
    for sock in &sockets {
        assert!(
            entered.contains(&format!("path={}", sock.display())),
            "{entered}"
        );
    }
    assert!(
        entered.contains("mac=0c:fe:c0:ff:ee:01")
            && entered.ends_with("--forward-mode=txonly --duration 3"),
        "{entered}"
    );

    peer.signal("INT");
    let (peer_out, killed) = peer.wait(Duration::from_secs(20));
    assert_success("vhost peer", &peer_out, killed);
    let sent = testkit::parse_forward_stats(&pod_out);
    let received: Value =
        serde_json::from_str(&std::fs::read_to_string(&peer_stats).unwrap()).unwrap();
    for port in 0..2u16 {
        let tx = sent[&port].tx_packets;
        let rx = received["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["port"] == port)
            .unwrap()["rx_packets"]
            .as_u64()
            .unwrap();
        assert!(tx > 0, "port {port}: the pod sent nothing\n{pod_out}");
        assert_eq!(
            rx, tx,
            "port {port}: the peer counts exactly what the pod sent"
        );
    }
}
