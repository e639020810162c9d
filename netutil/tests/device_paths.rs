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
    assert!(err.to_string().contains("contains ','"), "{err}");
}
