//! The demo's forwarder topology (`--app l2fwd|l3fwd`): a third pod, built from the manifest's
//! sink, sits in the wire of the VLAN 1000 network and forwards with the chosen app, while VLAN
//! 2000 stays direct, so the report compares both paths side by side.
//!
//! ```text
//! gen net1 ─ vlan1000-a ─ fwd net1 ─[l2fwd/l3fwd]─ fwd net2 ─ vlan1000-b ─ sink net1
//! gen net2 ─────────────────────── vlan2000 ──────────────────────────── sink net2
//! ```
//!
//! l2fwd pairs its ports 0 and 1 and, with the entrypoint's `--no-mac-updating`, leaves the
//! frames as the generator built them (destination: the MAC the sink's device owns, given to the
//! generator as `--eth-peer=0,<MAC>`, since forwarders drop MAC announcements). l3fwd routes by
//! destination IP: the generator is told to send to 198.18.1.2 (`--tx-ip`), which l3fwd's
//! default LPM table routes to port 1, and `--eth-dest=1,<sink MAC>` addresses the sink. The
//! forwarder's ports own no MAC at the relay: like trusted promiscuous VFs, they get the
//! unicast no other port owns.

use crate::manifest::{DownwardItem, Nad, NetworkSelection, Pod};
use crate::run::ROLE_LABEL;

/// The forwarder pod's name, container and MACs (a range the manifest does not use).
pub const POD: &str = "vdpa-pod-fwd";
const CONTAINER: &str = "vdpa-fwd";
const MACS: [&str; 2] = ["0C:FE:C0:FF:EE:20", "0C:FE:C0:FF:EE:21"];
/// The destination the generator sends to with l3fwd: in l3fwd's default route to port 1.
pub const L3FWD_TX_IP: &str = "198.18.0.1,198.18.1.2";

/// The forwarder, derived from `sink`: same resources and downward-API items (renamed for its
/// container; it has as many VFs as the sink), two networks on the sink's first NAD,
/// `DPDK_SAMPLE_APP=<app>`.
pub fn pod(sink: &Pod, app: netutil::App, sink_mac: &str) -> Pod {
    let mut fwd = sink.clone();
    fwd.name = POD.to_owned();
    fwd.labels.insert(ROLE_LABEL.into(), "fwd".into());
    let old = std::mem::replace(&mut fwd.container.name, CONTAINER.to_owned());
    let nad = &sink.networks[0];
    fwd.networks = MACS
        .iter()
        .map(|mac| NetworkSelection {
            mac: Some((*mac).to_owned()),
            ..nad.clone()
        })
        .collect();
    let selection: Vec<serde_json::Value> = fwd
        .networks
        .iter()
        .map(|n| serde_json::json!({"name": n.name, "mac": n.mac}))
        .collect();
    let selection = serde_json::Value::Array(selection).to_string();
    fwd.annotations
        .insert(crate::manifest::NETWORKS_KEY.into(), selection);
    for item in &mut fwd.downward {
        if let DownwardItem::Resource {
            path, container, ..
        } = item
        {
            *path = path.replace(&old, CONTAINER);
            *container = CONTAINER.to_owned();
        }
    }
    let mut env: Vec<(String, String)> = fwd
        .container
        .env
        .iter()
        .filter(|(k, _)| {
            !k.ends_with("_EXTRA_ARGS") && k != "CONTAINER_NAME" && k != "DPDK_SAMPLE_APP"
        })
        .cloned()
        .collect();
    env.push(("CONTAINER_NAME".into(), CONTAINER.into()));
    env.push(("DPDK_SAMPLE_APP".into(), app.name().into()));
    if app == netutil::App::L3fwd {
        env.push((
            "L3FWD_EXTRA_ARGS".into(),
            format!("--eth-dest=1,{sink_mac}"),
        ));
    }
    fwd.container.env = env;
    if let Some(meta) = fwd
        .applied
        .get_mut("metadata")
        .and_then(|m| m.as_object_mut())
    {
        meta.insert("name".into(), POD.into());
    }
    fwd
}

/// The relay segment of network `n` of `pod`: the forwarder's network (`fwd_nad`) is cut in
/// two around it, the generator's side `-a`, the sink's side `-b`; other networks keep theirs.
pub fn segment(pod: &Pod, n: usize, nad: &Nad, fwd_nad: &str) -> String {
    if nad.name != fwd_nad {
        return nad.segment();
    }
    let side = match pod.labels.get(ROLE_LABEL).map(String::as_str) {
        Some("gen") => "a",
        Some("fwd") if n == 0 => "a",
        _ => "b",
    };
    format!("{}-{side}", nad.segment())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{read_pods, TRAFFIC_TEST};

    #[test]
    fn forwarder_from_the_sink() {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let pods = read_pods(&repo.join(TRAFFIC_TEST)).unwrap();
        let fwd = pod(&pods[1], netutil::App::L3fwd, "0C:FE:C0:FF:EE:10");
        assert_eq!(fwd.container.env_var("CONTAINER_NAME"), Some("vdpa-fwd"));
        assert_eq!(fwd.container.env_var("DPDK_SAMPLE_APP"), Some("l3fwd"));
        assert_eq!(
            fwd.container.env_var("L3FWD_EXTRA_ARGS"),
            Some("--eth-dest=1,0C:FE:C0:FF:EE:10")
        );
        assert_eq!(fwd.container.env_var("TESTPMD_EXTRA_ARGS"), None);
        assert_eq!(fwd.networks.len(), 2);
        assert!(fwd
            .networks
            .iter()
            .all(|n| n.name == "vdpa-mlx-vhost-net-1000"));
        assert_eq!(fwd.container.device_count("intel.com/vdpa_mlx_vhost"), 2);
        assert!(fwd.downward.iter().any(|d| matches!(d,
            DownwardItem::Resource { path, .. } if path == "hugepages_1G_limit_vdpa-fwd")));
        let nads = crate::manifest::read_nads(&repo.join("deployment")).unwrap();
        let nad = |n: &str| nads.iter().find(|d| d.name == n).unwrap();
        let (v1000, v2000) = (
            nad("vdpa-mlx-vhost-net-1000"),
            nad("vdpa-mlx-vhost-net-2000"),
        );
        let seg = |p: &Pod, n, d| segment(p, n, d, &v1000.name);
        assert_eq!(seg(&pods[0], 0, v1000), "vlan1000-a");
        assert_eq!(seg(&pods[0], 1, v2000), "vlan2000");
        assert_eq!(seg(&pods[1], 0, v1000), "vlan1000-b");
        assert_eq!(seg(&pods[1], 1, v2000), "vlan2000");
        assert_eq!(seg(&fwd, 0, v1000), "vlan1000-a");
        assert_eq!(seg(&fwd, 1, v1000), "vlan1000-b");
    }
}
