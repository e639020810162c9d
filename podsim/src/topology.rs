//! Which device each pod network gets, and how the relay wires them: what the device plugin
//! allocates, what Multus attaches as `net1`, `net2`, ..., and which relay port (vhost-user socket)
//! stands in for each VF's `/dev/vhost-vdpa-N`.
//!
//! Each pod is on a node of its own, as the manifest's node selectors put them, so each pod's
//! VFs are numbered from the start: VFs `0000:<bus>:00.2`, `.3`, ... of a PF whose bus is 0x65 +
//! the pod's index, vDPA devices `vdpa0`, `vdpa1`, ... The relay has one port per pod network;
//! ports of networks in the same segment (the NAD's VLAN) are switched together.

use std::path::{Path, PathBuf};

use super::manifest::{Nad, NetworkSelection, Pod};
use super::PodsimError;

/// Which MAC each simulated vDPA device owns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeviceMacs {
    /// The one in network-status (the pod annotation's): what the simulation assumed before,
    /// and what a CNI that sets the MAC on the vDPA device itself (ovs-cni) gives.
    #[default]
    NetworkStatus,
    /// One of its own ([`own_mac`]), as an mlx5 vDPA device keeps the MAC of `vdpa dev add`
    /// while sriov-cni puts the annotation's on the VF: what legacy clusters really do.
    Own,
}

impl std::str::FromStr for DeviceMacs {
    type Err = String;
    fn from_str(v: &str) -> Result<Self, String> {
        match v {
            "network-status" => Ok(DeviceMacs::NetworkStatus),
            "own" => Ok(DeviceMacs::Own),
            _ => Err("expected own or network-status".into()),
        }
    }
}

/// The MAC the simulated device of `pod`'s `interface` owns in [`DeviceMacs::Own`]: locally
/// administered unicast (`02:...`), derived from the names (FNV-1a) so that every run and every
/// pod arrangement gives a pod the same ones.
pub fn own_mac(pod: &str, interface: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in pod.bytes().chain([b'/']).chain(interface.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    format!(
        "02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4]
    )
}

/// A simulated VF with its vDPA device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vf {
    /// The device-plugin device ID: the VF's PCI address.
    pub pci: String,
    /// The vDPA bus device (`parent-device`).
    pub vdpa: String,
}

/// One pod network: what Multus attached and what stands in for its device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Index of the pod in the manifest.
    pub pod: usize,
    /// `net1`, `net2`, ... (or the annotation's `interface`).
    pub interface: String,
    pub selection: NetworkSelection,
    pub nad: Nad,
    /// The device-plugin resource the VF comes from.
    pub resource: String,
    pub vf: Vf,
    /// The relay port (ethdev id) and its vhost-user socket, the VF's stand-in.
    pub relay_port: u16,
    pub socket: PathBuf,
    /// The relay segment the port is in.
    pub segment: String,
    /// The MAC the relay knows the device owns (`--port-mac`); `None` for a port that takes
    /// whatever no port owns (the demo's forwarder, a trusted promiscuous VF).
    pub device_mac: Option<String>,
}

impl Attachment {
    /// The MAC as sriov-cni reports it in network-status: the requested one, lower-cased.
    pub fn mac(&self) -> Option<String> {
        self.selection.mac.as_ref().map(|m| m.to_ascii_lowercase())
    }
}

/// A segment of the relay: its name and ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub name: String,
    pub ports: Vec<u16>,
}

/// Every pod network of the simulation, in relay-port order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub attachments: Vec<Attachment>,
}

impl Topology {
    /// Attaches every network of every pod. `segment_of(pod, network index, nad)` names the
    /// relay segment of each; [`Nad::segment`] (by VLAN) is what the NIC's switch does.
    pub fn build(
        pods: &[Pod],
        nads: &[Nad],
        socket_dir: &Path,
        segment_of: impl Fn(&Pod, usize, &Nad) -> String,
    ) -> Result<Topology, PodsimError> {
        let mut attachments = Vec::new();
        for (p, pod) in pods.iter().enumerate() {
            let mut used_per_resource: std::collections::BTreeMap<String, u64> = Default::default();
            for (n, selection) in pod.networks.iter().enumerate() {
                let bad = |reason: String| PodsimError::Topology {
                    pod: pod.name.clone(),
                    reason,
                };
                let nad = nads
                    .iter()
                    .find(|d| d.name == selection.name && d.namespace == selection.namespace)
                    .ok_or_else(|| {
                        bad(format!(
                            "network {}/{} has no NetworkAttachmentDefinition in deployment/",
                            selection.namespace, selection.name
                        ))
                    })?;
                let resource = nad.resource.clone().ok_or_else(|| {
                    bad(format!(
                        "NAD {} names no device-plugin resource; only VF networks are simulated",
                        nad.name
                    ))
                })?;
                // Multus takes the next device of the NAD's resource that the container was
                // allocated; with too few, the pod would fail to start.
                let used = used_per_resource.entry(resource.clone()).or_default();
                *used += 1;
                let have = pod.container.device_count(&resource);
                if *used > have {
                    return Err(bad(format!(
                        "{} networks use {resource}, but the container requests {have}",
                        used
                    )));
                }
                let port =
                    u16::try_from(attachments.len()).map_err(|_| bad("too many ports".into()))?;
                let interface = selection
                    .interface
                    .clone()
                    .unwrap_or_else(|| format!("net{}", n + 1));
                attachments.push(Attachment {
                    pod: p,
                    socket: socket_dir.join(format!("{}-{interface}.sock", pod.name)),
                    interface,
                    selection: selection.clone(),
                    segment: segment_of(pod, n, nad),
                    device_mac: None,
                    nad: nad.clone(),
                    resource,
                    // The pod's n-th VF: functions from .2 (.0 and .1 being the PFs).
                    vf: Vf {
                        pci: format!("0000:{:02x}:00.{}", 0x65 + p, 2 + n),
                        vdpa: format!("vdpa{n}"),
                    },
                    relay_port: port,
                });
            }
        }
        Ok(Topology { attachments })
    }

    /// The attachments of pod `pod`, in network order.
    pub fn of_pod(&self, pod: usize) -> impl Iterator<Item = &Attachment> {
        self.attachments.iter().filter(move |a| a.pod == pod)
    }

    /// The relay's segments, in order of first appearance.
    pub fn segments(&self) -> Vec<Segment> {
        let mut out: Vec<Segment> = Vec::new();
        for a in &self.attachments {
            match out.iter_mut().find(|s| s.name == a.segment) {
                Some(s) => s.ports.push(a.relay_port),
                None => out.push(Segment {
                    name: a.segment.clone(),
                    ports: vec![a.relay_port],
                }),
            }
        }
        out
    }

    /// The relay's arguments after its EAL options: one `--vdev=net_vhost<i>` per port (EAL
    /// arguments), one `--segment` per segment and one `--port-mac` per device with a known MAC
    /// (relay arguments).
    pub fn relay_args(&self) -> (Vec<String>, Vec<String>) {
        let vdevs = self
            .attachments
            .iter()
            .map(|a| {
                format!(
                    "--vdev=net_vhost{},iface={},queues=1",
                    a.relay_port,
                    a.socket.display()
                )
            })
            .collect();
        let segments = self
            .segments()
            .iter()
            .flat_map(|s| {
                let ports: Vec<String> = s.ports.iter().map(u16::to_string).collect();
                [
                    "--segment".to_owned(),
                    format!("{}={}", s.name, ports.join(",")),
                ]
            })
            .collect::<Vec<String>>()
            .into_iter()
            .chain(self.attachments.iter().flat_map(|a| {
                a.device_mac.iter().flat_map(move |mac| {
                    ["--port-mac".to_owned(), format!("{}={mac}", a.relay_port)]
                })
            }))
            .collect();
        (vdevs, segments)
    }
}

#[cfg(test)]
mod tests {
    use super::super::manifest::{read_nads, read_pods, TRAFFIC_TEST};
    use super::*;

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn traffic_test_wiring() {
        let pods = read_pods(&repo().join(TRAFFIC_TEST)).unwrap();
        let nads = read_nads(&repo().join("deployment")).unwrap();
        let t = Topology::build(&pods, &nads, Path::new("/s"), |_, _, n| n.segment()).unwrap();
        let short: Vec<(usize, &str, &str, &str, u16, &str)> = t
            .attachments
            .iter()
            .map(|a| {
                (
                    a.pod,
                    a.interface.as_str(),
                    a.vf.pci.as_str(),
                    a.vf.vdpa.as_str(),
                    a.relay_port,
                    a.segment.as_str(),
                )
            })
            .collect();
        assert_eq!(
            short,
            [
                (0, "net1", "0000:65:00.2", "vdpa0", 0, "vlan1000"),
                (0, "net2", "0000:65:00.3", "vdpa1", 1, "vlan2000"),
                (1, "net1", "0000:66:00.2", "vdpa0", 2, "vlan1000"),
                (1, "net2", "0000:66:00.3", "vdpa1", 3, "vlan2000"),
            ]
        );
        assert_eq!(t.attachments[2].mac().as_deref(), Some("0c:fe:c0:ff:ee:10"));
        assert_eq!(
            t.attachments[0].socket,
            Path::new("/s/vdpa-pod-gen-net1.sock")
        );
        let (vdevs, segments) = t.relay_args();
        assert_eq!(
            vdevs[3],
            "--vdev=net_vhost3,iface=/s/vdpa-pod-sink-net2.sock,queues=1"
        );
        assert_eq!(
            segments,
            ["--segment", "vlan1000=0,2", "--segment", "vlan2000=1,3"]
        );
    }

    #[test]
    fn own_macs_are_stable_unicast_and_distinct() {
        let a = own_mac("vdpa-pod-sink", "net1");
        assert_eq!(a, own_mac("vdpa-pod-sink", "net1"));
        assert!(a.starts_with("02:") && a.len() == 17, "{a}");
        assert_ne!(a, own_mac("vdpa-pod-sink", "net2"));
        assert_ne!(a, own_mac("vdpa-pod-gen", "net1"));
        assert_eq!("own".parse(), Ok(DeviceMacs::Own));
        assert!("mine"
            .parse::<DeviceMacs>()
            .unwrap_err()
            .contains("network-status"));
    }

    #[test]
    fn too_few_devices_or_unknown_networks_fail() {
        let mut pods = read_pods(&repo().join(TRAFFIC_TEST)).unwrap();
        let nads = read_nads(&repo().join("deployment")).unwrap();
        let mut short = pods.clone();
        short[0].container.limits.insert(
            "intel.com/vdpa_mlx_vhost".into(),
            super::super::quantity::Quantity::ONE,
        );
        let err = Topology::build(&short, &nads, Path::new("/s"), |_, _, n| n.segment())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("vdpa-pod-gen") && err.contains("requests 1"),
            "{err}"
        );
        pods[1].networks[0].name = "nope".into();
        let err = Topology::build(&pods, &nads, Path::new("/s"), |_, _, n| n.segment())
            .unwrap_err()
            .to_string();
        assert!(err.contains("default/nope"), "{err}");
    }
}
