//! Discovery and plans for pods laid out as kubelet, Multus and the device plugin write them.

mod common;

use common::{argv, config, fixture_opts};
use netutil::{discover, plan, App, Error, InterfaceType, Memory, Origin, PlanOptions, PortKind};

/// The two vDPA ports of the traffic-test generator pod, as the original emitted them.
const GEN_VDEVS: &str =
    "--vdev=virtio_user0,path=/dev/vhost-vdpa-0,queues=1,mac=0c:fe:c0:ff:ee:00 \
                         --vdev=virtio_user1,path=/dev/vhost-vdpa-1,queues=1,mac=0c:fe:c0:ff:ee:01";

/// The original entrypoint's command lines for the traffic-test generator pod (seed-anchors
/// §1.4.3), EAL part, without `dpdk-app`.
fn original(app: App) -> Vec<String> {
    argv(&match app {
        App::Testpmd => {
            format!("-m 1024 -n 4 -l 1-3 --master-lcore 1 --iova-mode=va {GEN_VDEVS} --no-pci")
        }
        App::L2fwd => format!("-m 1024 -n 4 -l 1-3 {GEN_VDEVS} --no-pci"),
        // Not in the original image; planned like l3fwd, on one lcore.
        App::L3fwd | App::Rfc2544 => {
            format!("-m 1024 -n 4 -l 1 --master-lcore 1 {GEN_VDEVS} --no-pci")
        }
    })
}

/// The original with this crate's documented modernisations applied: `--main-lcore` for the
/// deprecated `--master-lcore` (and added for l2fwd, whose default main lcore is the same), and a
/// `--file-prefix` at the end.
fn modernised(app: App) -> Vec<String> {
    let mut args: Vec<String> = original(app)
        .into_iter()
        .map(|a| {
            if a == "--master-lcore" {
                "--main-lcore".into()
            } else {
                a
            }
        })
        .collect();
    if app == App::L2fwd {
        let at = args.iter().position(|a| a == "1-3").unwrap() + 1;
        args.splice(at..at, argv("--main-lcore 1"));
    }
    args.push("--file-prefix=fixture".into());
    args
}

/// Asserts argument by argument, so a failure names the first differing position.
fn assert_args(got: &[String], want: &[String]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "argument {i} differs\n got: {got:?}\nwant: {want:?}");
    }
    assert_eq!(got.len(), want.len(), "\n got: {got:?}\nwant: {want:?}");
}

fn plan_for(case: &str, host: &str, app: App) -> netutil::EalPlan {
    let found = discover(&config(case, host)).unwrap();
    plan(&found, app, &fixture_opts()).unwrap()
}

#[test]
fn traffic_test_plans_equal_the_original_per_app() {
    for app in App::ALL {
        let p = plan_for("traffic-test-gen", "hugepages-1g", app);
        assert_args(&p.eal_args, &modernised(app));
        assert_eq!(p.memory, Memory::Hugepages { mb: 1024 });
        assert_eq!(p.port_mask(), 0x3);
        assert_eq!(p.file_prefix, "fixture");
    }
}

#[test]
fn traffic_test_lcores_and_ports() {
    let p = plan_for("traffic-test-gen", "hugepages-1g", App::Testpmd);
    assert_eq!(
        (p.lcores.main, p.lcores.workers.as_slice()),
        (1, &[2, 3][..])
    );
    let ports: Vec<_> = p
        .ports
        .iter()
        .map(|p| {
            (
                p.index,
                p.name.as_str(),
                p.interface.as_deref(),
                p.kind,
                p.mac.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        ports,
        [
            (
                0,
                "virtio_user0",
                Some("net1"),
                PortKind::Vdpa,
                Some("0c:fe:c0:ff:ee:00")
            ),
            (
                1,
                "virtio_user1",
                Some("net2"),
                PortKind::Vdpa,
                Some("0c:fe:c0:ff:ee:01")
            ),
        ]
    );
    assert_eq!(p.skipped.len(), 1);
    assert!(p.skipped[0].interface.starts_with("eth0"));
    // Without hardware the device paths are absent: planned, with a warning each.
    let absent = ["/dev/vhost-vdpa-0", "/dev/vhost-vdpa-1"]
        .iter()
        .filter(|p| !std::path::Path::new(p).exists())
        .count();
    assert_eq!(p.warnings.len(), absent, "{:?}", p.warnings);
    let l3 = plan_for("traffic-test-gen", "hugepages-1g", App::L3fwd);
    assert_eq!(l3.lcores.all(), [1]);
}

#[test]
fn traffic_test_discovery() {
    let found = discover(&config("traffic-test-gen", "hugepages-1g")).unwrap();
    let kinds: Vec<_> = found.interfaces.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            InterfaceType::Host,
            InterfaceType::Vdpa,
            InterfaceType::Vdpa
        ]
    );
    assert_eq!(
        found.sources.network_status_key,
        Some("k8s.v1.cni.cncf.io/network-status")
    );
    assert_eq!(found.hostname, "vdpa-pod-gen");
    assert_eq!(found.resources.cpus, [1, 2, 3]);
    assert!(found.resources.hugepages.budget.is_none());
    assert_eq!(found.resources.hugepages.free_mounted_mib(), 4096);

    let json = serde_json::to_value(&found).unwrap();
    let net1 = &json["interfaces"][1];
    assert_eq!(net1["network"], "default/vdpa-mlx-vhost-net-1000");
    assert_eq!(net1["interface"], "net1");
    assert_eq!(net1["type"], "vdpa");
    assert_eq!(net1["mac"], "0c:fe:c0:ff:ee:00");
    assert_eq!(net1["default"], false);
    assert_eq!(net1["device_info"]["vdpa"]["pci-address"], "0000:65:00.2");
    assert_eq!(net1["device_info"]["vdpa"]["parent-device"], "vdpa0");
    assert_eq!(net1["device_info_from"]["from"], "network-status");
    assert_eq!(json["interfaces"][0]["type"], "host");
    assert_eq!(json["resources"]["cpus"], serde_json::json!([1, 2, 3]));
}

#[test]
fn no_hugetlbfs_falls_back_to_no_huge() {
    let p = plan_for("traffic-test-gen", "no-hugetlbfs", App::Testpmd);
    let mut want = modernised(App::Testpmd);
    want.insert(0, "--no-huge".into());
    assert_args(&p.eal_args, &want);
    let Memory::NoHuge { mb: 1024, reason } = &p.memory else {
        panic!("{:?}", p.memory)
    };
    assert!(reason.contains("no hugetlbfs is mounted"), "{reason}");
}

#[test]
fn exhausted_hugepages_and_cgroup_cpuset() {
    let p = plan_for("traffic-test-gen", "hugepages-exhausted", App::Testpmd);
    let Memory::NoHuge { reason, .. } = &p.memory else {
        panic!("{:?}", p.memory)
    };
    assert!(
        reason.contains("1024 MiB needed but only 0 MiB"),
        "{reason}"
    );
    assert_eq!(
        p.eal_args[..10],
        argv("--no-huge -m 1024 -n 4 -l 0,2,4-5 --main-lcore 0 --iova-mode=va")
    );
}

#[test]
fn pcidevice_info_env_gives_the_same_plan() {
    let found = discover(&config("pcidevice-info-env", "hugepages-1g")).unwrap();
    // app-netutil turned the _INFO JSON into bogus PCI ports; here it adds nothing.
    assert_eq!(found.interfaces.len(), 3);
    assert_eq!(found.sources.pcidevice_vars.len(), 2);
    let p = plan(&found, App::Testpmd, &fixture_opts()).unwrap();
    assert_args(&p.eal_args, &modernised(App::Testpmd));
}

#[test]
fn device_plugin_files_fill_missing_device_info() {
    let found = discover(&config("dp-file-only", "hugepages-1g")).unwrap();
    let net1 = &found.interfaces[1];
    assert_eq!(net1.kind, InterfaceType::Vdpa);
    let Some(Origin::DevicePluginFile { path }) = &net1.device_info_from else {
        panic!("{:?}", net1.device_info_from)
    };
    assert!(path.ends_with("dp/intel.com-vdpa_mlx_vhost-0000:65:00.2-device.json"));
    let p = plan(&found, App::Testpmd, &fixture_opts()).unwrap();
    assert_args(&p.eal_args, &modernised(App::Testpmd));
}

#[test]
fn vhost_user_server_needs_no_socket_and_uses_the_budget() {
    let found = discover(&config("vhost-user-server", "hugepages-1g")).unwrap();
    assert_eq!(
        found.sources.network_status_key,
        Some("k8s.v1.cni.cncf.io/networks-status")
    );
    let budget = found.resources.hugepages.budget.as_ref().unwrap();
    assert_eq!(
        (budget.container.as_deref(), budget.mib()),
        (None, Some(1024))
    );
    // Default options: device paths required, but the app creates a server socket itself.
    let opts = PlanOptions {
        file_prefix: Some("fixture".into()),
        ..PlanOptions::default()
    };
    let p = plan(&found, App::Testpmd, &opts).unwrap();
    assert_args(
        &p.eal_args,
        &argv(
            "-m 1024 -n 4 --single-file-segments -l 1-3 --main-lcore 1 --iova-mode=va \
             --vdev=virtio_user0,path=/var/lib/cni/usrspcni/3f1c9a5e0b7d-net1,server=1,queues=1 \
             --no-pci --file-prefix=fixture",
        ),
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn vhost_user_client_socket_must_exist_unless_told_otherwise() {
    let found = discover(&config("vhost-user-client", "no-hugetlbfs")).unwrap();
    let err = plan(&found, App::L2fwd, &PlanOptions::default()).unwrap_err();
    let Error::DevicePath {
        interface,
        path,
        reason,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(interface, "net1 (default/userspace-vhost)");
    assert_eq!(path.to_str(), Some("/var/lib/vhost_sockets/vhu-net1.sock"));
    assert!(reason.contains("does not exist"), "{reason}");

    let p = plan(&found, App::L2fwd, &fixture_opts()).unwrap();
    assert_args(
        &p.eal_args,
        &argv(
            "--no-huge -m 1024 -n 4 -l 1-3 --main-lcore 1 \
             --vdev=virtio_user0,path=/var/lib/vhost_sockets/vhu-net1.sock,queues=1,mac=02:00:00:00:aa:01 \
             --no-pci --file-prefix=fixture",
        ),
    );
    assert!(
        p.warnings.iter().any(|w| w.contains("--no-huge")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn memif_roles_are_dpdk_22_names_and_ip_mode_is_skipped() {
    let p = plan_for("memif", "hugepages-1g", App::L2fwd);
    assert_args(
        &p.eal_args,
        &argv(
            "-m 1024 -n 4 -l 1-3 --main-lcore 1 \
             --vdev=net_memif1,socket=/run/memif/memif-net1.sock,role=server,mac=02:fe:a0:00:00:01 \
             --vdev=net_memif2,socket=/run/memif/memif-net2.sock,role=client \
             --no-pci --file-prefix=fixture",
        ),
    );
    let skipped: Vec<_> = p
        .skipped
        .iter()
        .map(|s| (s.interface.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(skipped[1].0, "net3 (default/memif-ip)");
    assert!(skipped[1].1.contains("memif mode ip"), "{skipped:?}");
}

#[test]
fn sriov_pci_ports_use_two_argv_elements_and_the_containers_budget() {
    let found = discover(&config("sriov-pci", "hugepages-1g")).unwrap();
    let kinds: Vec<_> = found.interfaces.iter().map(|i| i.kind).collect();
    use InterfaceType::*;
    assert_eq!(kinds, [Host, SrIov, SrIov, SrIov]);
    assert_eq!(found.interfaces[3].network, None);
    let budget = found.resources.hugepages.budget.as_ref().unwrap();
    assert_eq!(
        (budget.container.as_deref(), budget.mib()),
        (Some("sriov-example"), Some(2048))
    );

    let p = plan(&found, App::Testpmd, &fixture_opts()).unwrap();
    assert_args(
        &p.eal_args,
        &argv(
            "-m 2048 -n 4 -l 1-3 --main-lcore 1 --iova-mode=va \
             -a 0000:18:02.3 -a 0000:18:02.2 -a 0000:18:02.5 --file-prefix=fixture",
        ),
    );
    // DPDK numbers PCI ports in address order, whatever the argument order.
    let ids: Vec<_> = p.ports.iter().map(|p| (p.name.as_str(), p.index)).collect();
    assert_eq!(
        ids,
        [
            ("0000:18:02.3", 1),
            ("0000:18:02.2", 0),
            ("0000:18:02.5", 2)
        ]
    );
    assert_eq!(p.port_mask(), 0x7);
}

#[test]
fn mixed_pod() {
    let found = discover(&config("mixed", "hugepages-1g")).unwrap();
    let p = plan(&found, App::Testpmd, &fixture_opts()).unwrap();
    assert_args(
        &p.eal_args,
        &argv(
            "-m 1024 -n 4 --single-file-segments -l 1-3 --main-lcore 1 --iova-mode=va \
             --vdev=virtio_user0,path=/dev/vhost-vdpa-0,queues=1,mac=ca:fe:c0:ff:ee:33 \
             --vdev=virtio_user1,path=/var/lib/vhost_sockets/vhu-net2.sock,queues=1 \
             --vdev=net_memif1,socket=/run/memif/memif-net3.sock,role=server \
             -a 0000:18:02.2 --file-prefix=fixture",
        ),
    );
    let ids: Vec<_> = p.ports.iter().map(|p| (p.name.as_str(), p.index)).collect();
    assert_eq!(
        ids,
        [
            ("virtio_user0", 1),
            ("virtio_user1", 2),
            ("net_memif1", 3),
            ("0000:18:02.2", 0)
        ]
    );
    let virtio = p
        .skipped
        .iter()
        .find(|s| s.interface.starts_with("net5"))
        .unwrap();
    assert!(
        virtio.reason.contains("virtio_vdpa") && virtio.reason.contains("DPDK cannot use"),
        "{}",
        virtio.reason
    );
}

#[test]
fn virtio_only_pod_says_what_it_found_and_where_it_looked() {
    let found = discover(&config("virtio-only", "hugepages-1g")).unwrap();
    let err = plan(&found, App::Testpmd, &fixture_opts()).unwrap_err();
    assert!(matches!(err, Error::NoUsableDevice { .. }));
    let msg = err.to_string();
    for part in [
        "no usable DPDK port for testpmd",
        "net1 (default/vdpa-mlx-virtio-net): vDPA device vdpa2 is bound to virtio_vdpa",
        "netdev, which DPDK cannot use",
        "eth0 (cbr0)",
        "virtio-only/podnetinfo/annotations (PODNETINFO_DIR",
        "devinfo/dp (DEVINFO_DIR)",
        "PCIDEVICE_INTEL_COM_VDPA_MLX_VIRTIO",
    ] {
        assert!(msg.contains(part), "{part:?} not in {msg}");
    }
}

#[test]
fn several_queues_add_a_control_queue_and_l3fwd_lcores() {
    let found = discover(&config("traffic-test-gen", "hugepages-1g")).unwrap();
    let opts = PlanOptions {
        queues: 2,
        ..fixture_opts()
    };
    let p = plan(&found, App::L3fwd, &opts).unwrap();
    assert_eq!(p.lcores.all(), [1, 2]);
    assert!(p.eal_args.contains(
        &"--vdev=virtio_user0,path=/dev/vhost-vdpa-0,queues=2,cq=1,mac=0c:fe:c0:ff:ee:00"
            .to_string()
    ));
    let zero = PlanOptions {
        queues: 0,
        ..fixture_opts()
    };
    assert!(matches!(
        plan(&found, App::L3fwd, &zero),
        Err(Error::PlanOption {
            option: "queues",
            ..
        })
    ));
}

#[test]
fn a_queue_size_goes_on_every_virtio_user_port() {
    let found = discover(&config("traffic-test-gen", "hugepages-1g")).unwrap();
    let opts = PlanOptions {
        queue_size: Some("1024".parse().unwrap()),
        ..fixture_opts()
    };
    let p = plan(&found, App::Testpmd, &opts).unwrap();
    let vdevs: Vec<&String> = p
        .eal_args
        .iter()
        .filter(|a| a.starts_with("--vdev="))
        .collect();
    assert_eq!(vdevs.len(), 2, "{vdevs:?}");
    for v in vdevs {
        assert!(v.contains(",queues=1,queue_size=1024,mac="), "{v}");
    }
    for bad in ["0", "100", "32", "65536", "x"] {
        assert!(bad.parse::<netutil::QueueSize>().is_err(), "{bad}");
    }
}

#[test]
fn default_file_prefix_is_unique_per_process() {
    let found = discover(&config("traffic-test-gen", "hugepages-1g")).unwrap();
    let opts = PlanOptions {
        require_device_paths: false,
        ..PlanOptions::default()
    };
    let p = plan(&found, App::Testpmd, &opts).unwrap();
    let want = format!("testpmd-vdpa-pod-gen-{}", std::process::id());
    assert_eq!(p.file_prefix, want);
    assert_eq!(p.eal_args.last(), Some(&format!("--file-prefix={want}")));
}

#[test]
fn more_ports_than_dpdk_takes_are_refused() {
    let pod = tempfile::tempdir().unwrap();
    std::fs::write(pod.path().join("annotations"), "").unwrap();
    let plan_with = |n: u8| {
        let ids: Vec<String> = (0..n)
            .map(|i| format!("0000:{:02x}:{:02x}.{}", 0x18 + i / 32, i % 32, 0))
            .collect();
        let mut cfg = netutil::Config::from_vars([
            ("PODNETINFO_DIR", pod.path().to_str().unwrap()),
            ("PCIDEVICE_INTEL_COM_SRIOV", &ids.join(",")),
            ("NETUTIL_WAIT_SECS", "0"),
        ])
        .unwrap();
        common::on_host(&mut cfg, "hugepages-1g");
        plan(&discover(&cfg).unwrap(), App::L2fwd, &fixture_opts())
    };
    let p = plan_with(32).unwrap();
    assert_eq!(p.ports.len(), netutil::plan::MAX_PORTS);
    assert_eq!(p.port_mask(), 0xffff_ffff);
    for n in [33, 40] {
        let Err(err) = plan_with(n) else {
            panic!("{n} ports planned")
        };
        assert!(
            matches!(
                err,
                Error::PlanOption {
                    option: "ports",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("at most 32 ports"), "{err}");
    }
}
