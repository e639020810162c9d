//! Device paths checked on disk: vhost-user sockets standing in for `/dev/vhost-vdpa-N`, as the
//! hardware-less tests do, and paths of the wrong kind.

mod common;

use std::collections::BTreeMap;
use std::os::unix::net::UnixListener;
use std::path::Path;

use common::on_host;
use netutil::{discover, downward, plan, App, Config, Error, PlanOptions};

/// A pod whose network-status has one vDPA network on `vdpa_path` and one vhost-user client
/// network on `vhost_path`.
fn pod(dir: &Path, vdpa_path: &Path, vhost_path: &Path) -> Config {
    let status = serde_json::json!([
        {"name": "cbr0", "interface": "eth0", "default": true},
        {"name": "default/vdpa-sim", "interface": "net1", "mac": "0c:fe:c0:ff:ee:00",
         "device-info": {"type": "vdpa", "version": "1.1.0",
                         "vdpa": {"parent-device": "vdpa0", "driver": "vhost", "path": vdpa_path}}},
        {"name": "default/vhost", "interface": "net2",
         "device-info": {"type": "vhost-user", "version": "1.1.0",
                         "vhost-user": {"mode": "client", "path": vhost_path}}}
    ]);
    let map = BTreeMap::from([(
        "k8s.v1.cni.cncf.io/network-status".to_string(),
        serde_json::to_string_pretty(&status).unwrap(),
    )]);
    std::fs::write(dir.join("annotations"), downward::format(&map)).unwrap();
    let mut cfg = Config::from_vars([
        ("PODNETINFO_DIR", dir.to_str().unwrap()),
        ("HOSTNAME", "sim"),
    ])
    .unwrap();
    on_host(&mut cfg, "hugepages-1g");
    cfg
}

fn opts() -> PlanOptions {
    PlanOptions {
        file_prefix: Some("sock".into()),
        ..PlanOptions::default()
    }
}

#[test]
fn sockets_stand_in_for_vhost_vdpa_devices() {
    let dir = tempfile::tempdir().unwrap();
    let vdpa = dir.path().join("vdpa0.sock");
    let vhost = dir.path().join("vhost.sock");
    let _listeners = (
        UnixListener::bind(&vdpa).unwrap(),
        UnixListener::bind(&vhost).unwrap(),
    );
    let found = discover(&pod(dir.path(), &vdpa, &vhost)).unwrap();
    let p = plan(&found, App::Testpmd, &opts()).unwrap();
    let want = format!(
        "-m 1024 -n 4 --single-file-segments -l 1-3 --main-lcore 1 --iova-mode=va \
         --vdev=virtio_user0,path={},queues=1,mac=0c:fe:c0:ff:ee:00 \
         --vdev=virtio_user1,path={},queues=1 --no-pci --file-prefix=sock",
        vdpa.display(),
        vhost.display()
    );
    assert_eq!(p.eal_args, common::argv(&want));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn char_devices_are_vhost_vdpa_and_need_no_single_file_segments() {
    let dir = tempfile::tempdir().unwrap();
    let vhost = dir.path().join("vhost.sock");
    let _listener = UnixListener::bind(&vhost).unwrap();
    // /dev/null is a character device, like /dev/vhost-vdpa-N.
    let found = discover(&pod(dir.path(), Path::new("/dev/null"), &vhost)).unwrap();
    let p = plan(&found, App::L2fwd, &opts()).unwrap();
    assert!(
        p.eal_args.contains(&"--single-file-segments".to_string()),
        "the vhost-user port still needs it"
    );
    let only_vdpa = netutil::Discovery {
        interfaces: found.interfaces[..2].to_vec(),
        ..found
    };
    let p = plan(&only_vdpa, App::L2fwd, &opts()).unwrap();
    assert!(
        !p.eal_args.contains(&"--single-file-segments".to_string()),
        "{:?}",
        p.eal_args
    );
}

#[test]
fn wrong_file_types_are_errors_even_when_paths_are_optional() {
    let dir = tempfile::tempdir().unwrap();
    let regular = dir.path().join("not-a-device");
    std::fs::write(&regular, "").unwrap();
    let found = discover(&pod(dir.path(), &regular, &regular)).unwrap();
    let lenient = PlanOptions {
        require_device_paths: false,
        ..opts()
    };
    let err = plan(&found, App::Testpmd, &lenient).unwrap_err();
    let Error::DevicePath {
        interface, reason, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(interface, "net1 (default/vdpa-sim)");
    assert_eq!(
        reason,
        "exists but is not a character device or a Unix socket"
    );

    let comma = dir.path().join("a,b");
    let found = discover(&pod(dir.path(), &comma, &regular)).unwrap();
    let err = plan(&found, App::Testpmd, &lenient).unwrap_err();
    assert!(err.to_string().contains("character ','"), "{err}");
}

/// A pod whose only network `default/hostile` has the device-info `info`.
fn hostile_pod(dir: &Path, info: serde_json::Value) -> Config {
    let status = serde_json::json!([
        {"name": "default/hostile", "interface": "net1", "mac": "0c:fe:c0:ff:ee:00",
         "device-info": info}
    ]);
    let map = BTreeMap::from([(
        "k8s.v1.cni.cncf.io/network-status".to_string(),
        serde_json::to_string_pretty(&status).unwrap(),
    )]);
    std::fs::write(dir.join("annotations"), downward::format(&map)).unwrap();
    let mut cfg = Config::from_vars([("PODNETINFO_DIR", dir.to_str().unwrap())]).unwrap();
    on_host(&mut cfg, "hugepages-1g");
    cfg
}

#[test]
fn kvargs_reads_injected_keys() {
    // What DPDK would read from the device arguments the paths below would make.
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, Option<String>)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), Some(v.to_string())))
            .collect()
    };
    assert_eq!(
        common::rte_kvargs("path=/x=path=/tmp/evil.sock,queues=1"),
        pairs(&[("path", "/tmp/evil.sock"), ("queues", "1")])
    );
    assert_eq!(
        common::rte_kvargs("socket=/m=socket=/etc/evil,role=server"),
        pairs(&[("socket", "/etc/evil"), ("role", "server")])
    );
    // After a `[`, commas no longer separate pairs: no `path`, no `server`, no `mac`.
    assert_eq!(
        common::rte_kvargs("path=/run/a[,server=1,queues=1,mac=0c:fe:c0:ff:ee:00"),
        pairs(&[("1,mac", "0c:fe:c0:ff:ee:00")])
    );
}

#[test]
fn device_paths_that_would_change_the_device_argument_are_refused() {
    let server = |path: &str| {
        serde_json::json!({"type": "vhost-user", "version": "1.1.0",
                           "vhost-user": {"mode": "server", "path": path}})
    };
    let master = |path: &str| {
        serde_json::json!({"type": "memif", "version": "1.1.0",
                           "memif": {"role": "master", "path": path, "mode": "ethernet"}})
    };
    let vdpa = |path: &str| {
        serde_json::json!({"type": "vdpa", "version": "1.1.0",
                           "vdpa": {"parent-device": "vdpa0", "driver": "vhost", "path": path}})
    };
    let long = format!("/run/{}", "s".repeat(103));
    for (info, shown_char) in [
        (server("/x=path=/tmp/evil.sock"), "'='"),
        (master("/m=socket=/etc/evil"), "'='"),
        (server("/run/a[,server=1"), "'['"),
        (vdpa("/dev/vhost-vdpa-0,queues=8"), "','"),
        (server("/run/x\nENTER dpdk-app: rm -rf /"), r"'\n'"),
        (master("/run/\u{1b}]0;title\u{7}"), r"'\u{1b}'"),
        (server("/run/a b"), "' '"),
        (server("run/relative.sock"), "not an absolute path"),
        (master("/run/../etc/evil"), "'..' component"),
        (server(&long), "at most 107"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let found = discover(&hostile_pod(dir.path(), info.clone())).unwrap();
        let lenient = PlanOptions {
            require_device_paths: false,
            ..opts()
        };
        let err = match plan(&found, App::Testpmd, &lenient) {
            Ok(p) => panic!("{info}: planned {:?}", p.eal_args),
            Err(e) => e,
        };
        let Error::DevicePath { interface, .. } = &err else {
            panic!("{info}: {err}")
        };
        assert_eq!(interface, "net1 (default/hostile)");
        let msg = err.to_string();
        assert!(
            msg.contains(shown_char) && msg.lines().count() == 1,
            "{info}: {msg}"
        );
    }
}
