//! The network-status annotation as Multus writes it, and the device-info it embeds.
//!
//! Multus builds one `NetworkStatus` per attachment (the cluster's default network first) and
//! the NAD client's `SetNetworkStatus` marshals each with Go's `json.MarshalIndent(status, "",
//! "    ")`, joins them with `,` and wraps them in `[...]`. The structs below keep the Go field
//! order and `omitempty` rules, so the text is byte for byte what a cluster shows (the values
//! here hold none of the characters Go would escape as `\u003c`).

use serde::Serialize;

use super::topology::Attachment;

/// The device-info version the device plugin and Multus write today (NAD client ≥ 1.4).
pub const DEVICE_INFO_VERSION: &str = "1.1.0";

/// `DeviceInfo` of the NAD client, vDPA only.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub version: &'static str,
    pub vdpa: VdpaDevice,
}

/// `VdpaDevice` of the NAD client.
#[derive(Debug, Clone, Serialize)]
pub struct VdpaDevice {
    #[serde(rename = "parent-device")]
    pub parent_device: String,
    pub driver: &'static str,
    pub path: String,
    #[serde(rename = "pci-address")]
    pub pci_address: String,
}

impl DeviceInfo {
    /// What the device plugin records for a vhost vDPA VF: its vDPA device, driver `vhost`,
    /// and the path of the device the container gets (here the relay's socket).
    pub fn vhost_vdpa(a: &Attachment) -> Self {
        DeviceInfo {
            kind: "vdpa",
            version: DEVICE_INFO_VERSION,
            vdpa: VdpaDevice {
                parent_device: a.vf.vdpa.clone(),
                driver: "vhost",
                path: a.socket.display().to_string(),
                pci_address: a.vf.pci.clone(),
            },
        }
    }
}

/// `DNS` of the NAD client: every field `omitempty`, and as a struct it is always written.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Dns {}

/// `NetworkStatus` of the NAD client, in its field order.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkStatus {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    pub dns: Dns,
    #[serde(rename = "device-info", skip_serializing_if = "Option::is_none")]
    pub device_info: Option<DeviceInfo>,
}

impl NetworkStatus {
    /// The cluster network on `eth0` (a flannel/kindnet-style `cbr0`), with an address and MAC
    /// that differ per pod as the CNI would give them.
    pub fn default_network(pod: usize) -> Self {
        NetworkStatus {
            name: "cbr0".into(),
            interface: Some("eth0".into()),
            ips: vec![format!("10.244.{}.5", pod + 1)],
            mac: Some(format!("aa:8e:3d:5c:{:02x}:02", 0x11 + pod)),
            default: true,
            dns: Dns {},
            device_info: None,
        }
    }

    /// An additional network: `<namespace>/<nad>`, the interface, sriov-cni's MAC, device-info.
    pub fn attachment(a: &Attachment) -> Self {
        NetworkStatus {
            name: format!("{}/{}", a.nad.namespace, a.nad.name),
            interface: Some(a.interface.clone()),
            ips: Vec::new(),
            mac: a.mac(),
            default: false,
            dns: Dns {},
            device_info: Some(DeviceInfo::vhost_vdpa(a)),
        }
    }
}

/// The annotation value: each status indented by 4 spaces, joined by `,` inside `[...]`.
pub fn format_network_status(statuses: &[NetworkStatus]) -> String {
    let parts: Vec<String> = statuses
        .iter()
        .map(|s| {
            let mut buf = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            s.serialize(&mut ser).expect("statuses serialise");
            String::from_utf8(buf).expect("JSON is UTF-8")
        })
        .collect();
    format!("[{}]", parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_fixture_captured_from_a_cluster() {
        // The first two statuses of netutil's traffic-test-gen fixture, version aside.
        let fixture = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../netutil/tests/fixtures/traffic-test-gen/podnetinfo/annotations"
        ))
        .unwrap();
        let map = netutil::downward::parse(&fixture).unwrap();
        let captured = &map["k8s.v1.cni.cncf.io/network-status"];

        let attachment = super::super::topology::Attachment {
            pod: 0,
            interface: "net1".into(),
            selection: super::super::manifest::NetworkSelection {
                name: "vdpa-mlx-vhost-net-1000".into(),
                namespace: "default".into(),
                mac: Some("0C:FE:C0:FF:EE:00".into()),
                interface: None,
            },
            nad: super::super::manifest::Nad {
                name: "vdpa-mlx-vhost-net-1000".into(),
                namespace: "default".into(),
                resource: Some("intel.com/vdpa_mlx_vhost".into()),
                vlan: Some(1000),
                cni_type: "sriov".into(),
            },
            resource: "intel.com/vdpa_mlx_vhost".into(),
            device_mac: None,
            vf: super::super::topology::Vf {
                pci: "0000:65:00.2".into(),
                vdpa: "vdpa0".into(),
            },
            relay_port: 0,
            socket: "/dev/vhost-vdpa-0".into(),
            segment: "vlan1000".into(),
        };
        let mut default = NetworkStatus::default_network(0);
        default.mac = Some("aa:8e:3d:5c:11:02".into());
        let ours = format_network_status(&[default, NetworkStatus::attachment(&attachment)])
            .replace("\"1.1.0\"", "\"1.0.0\"");
        let prefix = &ours[..ours.len() - 1];
        assert!(
            captured.starts_with(prefix),
            "ours:\n{ours}\ncaptured:\n{captured}"
        );
        assert_eq!(&captured[prefix.len()..prefix.len() + 2], ",{");
    }
}
