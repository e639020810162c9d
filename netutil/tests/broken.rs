//! Broken inputs: each must be an error naming the file or variable and the field, and the wait
//! for network-status must be bounded.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, Instant};

use common::{config, fixtures, on_host};
use netutil::{discover, downward, Config, Error, Problem};

/// Discovers a broken case and returns the input, field and problem of the error.
fn input_error(case: &str) -> (String, String, Problem) {
    match discover(&config(case, "hugepages-1g")) {
        Err(Error::Input {
            input,
            field,
            problem,
        }) => (input, field, problem),
        other => panic!("{case}: expected an input error, got {other:?}"),
    }
}

const STATUS_KEY: &str = "k8s.v1.cni.cncf.io/network-status";

#[test]
fn malformed_line() {
    let (input, field, problem) = input_error("broken-malformed-line");
    assert!(
        input.ends_with("broken-malformed-line/podnetinfo/annotations"),
        "{input}"
    );
    assert_eq!(field, "line 2");
    let Problem::MalformedLine(why) = problem else {
        panic!("{problem}")
    };
    assert!(
        why.contains("kubernetes.io/config.source: not a double-quoted string"),
        "{why}"
    );
}

#[test]
fn invalid_json() {
    let (input, field, problem) = input_error("broken-invalid-json");
    assert!(input.ends_with("annotations"));
    assert_eq!(field, STATUS_KEY);
    assert!(matches!(problem, Problem::InvalidJson(_)), "{problem}");
}

#[test]
fn unknown_type() {
    let (_, field, problem) = input_error("broken-unknown-type");
    assert_eq!(field, format!("{STATUS_KEY}[1].device-info.type"));
    assert_eq!(problem, Problem::UnknownType("vfio".into()));
}

#[test]
fn unknown_version() {
    let (_, field, problem) = input_error("broken-unknown-version");
    assert_eq!(field, format!("{STATUS_KEY}[2].device-info.version"));
    assert_eq!(problem, Problem::UnknownVersion("2.0.0".into()));
}

#[test]
fn missing_field() {
    let (_, field, problem) = input_error("broken-missing-field");
    assert_eq!(field, format!("{STATUS_KEY}[2].device-info.vdpa.path"));
    assert_eq!(problem, Problem::MissingField);
    let err = discover(&config("broken-missing-field", "hugepages-1g")).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "annotations: k8s.v1.cni.cncf.io/network-status[2].device-info.vdpa.path: required field is missing"
        ),
        "{err}"
    );
}

#[test]
fn missing_podnetinfo_dir() {
    let mut cfg = config("traffic-test-gen", "hugepages-1g");
    cfg.podnetinfo_dir = fixtures().join("no-such-case/podnetinfo");
    let err = discover(&cfg).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingDir {
                var: "PODNETINFO_DIR",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("no-such-case/podnetinfo"), "{err}");
}

#[test]
fn missing_annotations_file_after_the_wait() {
    let pod = tempfile::tempdir().unwrap();
    let mut cfg = config("traffic-test-gen", "hugepages-1g");
    cfg.podnetinfo_dir = pod.path().to_path_buf();
    cfg.wait = Duration::from_millis(150);
    let start = Instant::now();
    let err = discover(&cfg).unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(150));
    let Error::Io { path, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(path, &pod.path().join("annotations"));
}

#[test]
fn missing_devinfo_dir_is_only_a_missing_fallback() {
    let mut cfg = config("dp-file-only", "hugepages-1g");
    cfg.devinfo_dir = fixtures().join("no-such-devinfo");
    let found = discover(&cfg).unwrap();
    // Without the files the IDs are bare PCI addresses, as app-netutil would have had them.
    assert_eq!(found.interfaces[1].kind, netutil::InterfaceType::SrIov);
}

#[test]
fn missing_proc_files_are_named() {
    let mut cfg = config("traffic-test-gen", "hugepages-1g");
    cfg.proc_status = fixtures().join("hosts/none/status");
    let err = discover(&cfg).unwrap_err();
    assert!(err.to_string().contains("hosts/none/status"), "{err}");
    let mut cfg = config("traffic-test-gen", "hugepages-1g");
    cfg.proc_mounts = fixtures().join("hosts/none/mounts");
    assert!(matches!(discover(&cfg), Err(Error::Io { .. })));
}

#[test]
fn bad_proc_status_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status");
    fs::write(&status, "Name:\tx\nCpus_allowed_list:\t3-1\n").unwrap();
    let mut cfg = config("traffic-test-gen", "hugepages-1g");
    cfg.proc_status = status;
    let err = discover(&cfg).unwrap_err();
    let Error::Input { field, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(field, "Cpus_allowed_list");
}

#[test]
fn bad_pcidevice_info_names_the_variable() {
    let mut cfg = config("pcidevice-info-env", "hugepages-1g");
    cfg.env.insert(
        "PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST_INFO".into(),
        "{\"0000:65:00.2\":[1,2]}".into(),
    );
    let err = discover(&cfg).unwrap_err();
    let Error::Input { input, problem, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        input,
        "environment variable PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST_INFO"
    );
    assert!(matches!(problem, Problem::InvalidJson(_)));
}

#[test]
fn bad_device_plugin_file_is_named() {
    let devinfo = tempfile::tempdir().unwrap();
    fs::create_dir(devinfo.path().join("dp")).unwrap();
    let file = devinfo
        .path()
        .join("dp/intel.com-vdpa_mlx_vhost-0000:65:00.2-device.json");
    fs::write(
        &file,
        r#"{"type":"vdpa","version":"1.1.0","vdpa":{"driver":"vhost","path":"/dev/vhost-vdpa-0"}}"#,
    )
    .unwrap();
    let mut cfg = config("dp-file-only", "hugepages-1g");
    cfg.devinfo_dir = devinfo.path().to_path_buf();
    let err = discover(&cfg).unwrap_err();
    let Error::Input {
        input,
        field,
        problem,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(input, &file.display().to_string());
    assert_eq!(
        (field.as_str(), problem),
        ("vdpa.parent-device", &Problem::MissingField)
    );
}

/// Writes a downward-API annotations file into `dir`.
fn write_annotations(dir: &std::path::Path, pairs: &[(&str, &str)]) {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // Kubelet replaces the file atomically; write beside it and rename, as it does.
    let tmp = dir.join(".annotations.tmp");
    fs::write(&tmp, downward::format(&map)).unwrap();
    fs::rename(tmp, dir.join("annotations")).unwrap();
}

fn tmp_pod_config(dir: &std::path::Path, wait: Duration) -> Config {
    let mut cfg = Config::from_vars([
        ("PODNETINFO_DIR", dir.to_str().unwrap()),
        ("PCIDEVICE_INTEL_COM_SRIOV", "0000:18:02.2"),
        ("HOSTNAME", "late-pod"),
    ])
    .unwrap();
    cfg.wait = wait;
    on_host(&mut cfg, "hugepages-1g");
    cfg
}

#[test]
fn waits_for_network_status_to_appear() {
    let pod = tempfile::tempdir().unwrap();
    write_annotations(pod.path(), &[("kubernetes.io/config.source", "api")]);
    let dir = pod.path().to_path_buf();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        write_annotations(
            &dir,
            &[
                ("kubernetes.io/config.source", "api"),
                (
                    STATUS_KEY,
                    r#"[{"name":"cbr0","interface":"eth0","default":true},{"name":"sriov","interface":"net1"}]"#,
                ),
            ],
        );
    });
    let found = discover(&tmp_pod_config(pod.path(), Duration::from_secs(10))).unwrap();
    writer.join().unwrap();
    assert_eq!(found.sources.network_status_key, Some(STATUS_KEY));
    assert!(
        found.sources.waited_ms >= 250,
        "{}",
        found.sources.waited_ms
    );
    assert!(
        found.sources.waited_ms < 5000,
        "{}",
        found.sources.waited_ms
    );
    assert_eq!(found.interfaces[1].interface.as_deref(), Some("net1"));
    assert_eq!(found.interfaces[1].kind, netutil::InterfaceType::SrIov);
}

#[test]
fn gives_up_waiting_and_keeps_env_devices() {
    let pod = tempfile::tempdir().unwrap();
    write_annotations(pod.path(), &[("kubernetes.io/config.source", "api")]);
    let start = Instant::now();
    let found = discover(&tmp_pod_config(pod.path(), Duration::from_millis(200))).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!(found.sources.network_status_key, None);
    assert!(
        found.warnings[0].contains("is Multus installed?"),
        "{:?}",
        found.warnings
    );
    assert_eq!(found.interfaces.len(), 1);
    assert_eq!(found.interfaces[0].label(), "0000:18:02.2");
}
