//! Turning network-status entries and device-plugin IDs into a typed list of interfaces, by
//! app-netutil's rules (`GetInterfaces`), minus its bugs.
//!
//! 1. Every network-status entry becomes an interface, in order, typed by its device-info
//!    (`unknown` without one).
//! 2. Each `PCIDEVICE_*` ID equal to a `pci` device-info's `pci-address` marks that interface
//!    `sr-iov`; one equal to a `vdpa` device-info's `pci-address` is the same device seen twice
//!    and is dropped (the vDPA dedupe). Others are left over. Here a left-over ID may also bring
//!    its own device-info, from a device-plugin file or the `_INFO` variable; if that names the
//!    same vDPA path as an interface already has, it is dropped as well.
//! 3. Unknown interfaces are resolved in order: the default network is `host`; every other one
//!    takes the next left-over ID (`sr-iov` for a bare PCI address, or the type its device-info
//!    gives), or is `host` when none is left. app-netutil made the default network take an ID
//!    too when there were at least as many left-over IDs as unknown interfaces, so a pod given
//!    one VF more than it has networks saw its cluster interface `eth0` turned into a PCI port.
//! 4. Left-over IDs that remain become interfaces of their own, after the network-status ones.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::device_info::{Device, DeviceInfo, PciDevice, SpecVersion};
use crate::error::Error;
use crate::escape::printable;
use crate::log::Log;
use crate::network_status::NetworkStatus;
use crate::pci;
use crate::pcidevice::PciDeviceResource;

/// What an interface is, with app-netutil's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InterfaceType {
    /// A kernel interface of the host network namespace side (the default network).
    Host,
    /// A PCI function allocated by the device plugin (`PCIDEVICE_*`).
    #[serde(rename = "sr-iov")]
    SrIov,
    /// A PCI function named by device-info but not allocated through `PCIDEVICE_*`.
    Pci,
    /// A vhost-user socket.
    VhostUser,
    /// A memif socket.
    Memif,
    /// A vDPA device.
    Vdpa,
    /// No device-info and nothing to infer it from.
    Unknown,
}

impl fmt::Display for InterfaceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Host => "host",
            Self::SrIov => "sr-iov",
            Self::Pci => "pci",
            Self::VhostUser => "vhost-user",
            Self::Memif => "memif",
            Self::Vdpa => "vdpa",
            Self::Unknown => "unknown",
        })
    }
}

impl InterfaceType {
    /// The type device-info alone gives.
    fn of(info: &DeviceInfo) -> Self {
        match info.device {
            Device::Pci(_) => Self::Pci,
            Device::Vdpa(_) => Self::Vdpa,
            Device::VhostUser(_) => Self::VhostUser,
            Device::Memif(_) => Self::Memif,
        }
    }
}

/// Where an interface's device-info came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum Origin {
    /// The network-status annotation.
    NetworkStatus,
    /// A device-plugin file under `devinfo/dp`.
    DevicePluginFile {
        /// The file.
        path: PathBuf,
    },
    /// The device plugin's `PCIDEVICE_*_INFO` variable (a `vdpa` `mount`).
    PcideviceInfo {
        /// The variable.
        var: String,
    },
    /// Only a PCI address in a `PCIDEVICE_*` variable.
    Pcidevice {
        /// The variable.
        var: String,
    },
}

/// One interface of the pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// The network-status `name`; `None` for a device known only from `PCIDEVICE_*`.
    pub network: Option<String>,
    /// The interface name in the pod, when network-status gives one.
    pub interface: Option<String>,
    /// What it is.
    #[serde(rename = "type")]
    pub kind: InterfaceType,
    /// The network-status MAC.
    pub mac: Option<String>,
    /// Whether this is the cluster default network.
    pub default: bool,
    /// Device-info, in the spec's JSON form.
    pub device_info: Option<DeviceInfo>,
    /// Where `device_info` came from.
    pub device_info_from: Option<Origin>,
    /// The `PCIDEVICE_*` variable that lists this device, if any.
    pub resource: Option<String>,
}

impl Interface {
    /// A short name for messages: `net1 (default/vdpa-net)`, or the PCI address for a device
    /// known only from `PCIDEVICE_*`. The names come from the pod's annotations, so they are
    /// [`printable`]: a newline in a network name cannot start a second log line.
    pub fn label(&self) -> String {
        let pci = || self.device_info.as_ref().and_then(DeviceInfo::pci_address);
        let label = match (&self.interface, &self.network) {
            (Some(i), Some(n)) => format!("{i} ({n})"),
            (None, Some(n)) => n.clone(),
            (Some(i), None) => i.clone(),
            (None, None) => pci().unwrap_or("unnamed device").to_owned(),
        };
        printable(&label).into_owned()
    }

    fn vdpa_path(&self) -> Option<&str> {
        match &self.device_info.as_ref()?.device {
            Device::Vdpa(v) => v.path.as_deref(),
            _ => None,
        }
    }
}

/// A device-plugin ID not matched to a network-status entry.
struct Leftover {
    id: String,
    var: String,
    info: Option<(DeviceInfo, Origin)>,
}

impl Leftover {
    /// Device-info and type for this ID: its own, or a bare PCI device (app-netutil's
    /// synthesised `pci` device-info).
    fn into_device(self) -> (InterfaceType, DeviceInfo, Origin, String) {
        let (info, origin) = self.info.unwrap_or_else(|| {
            let info = DeviceInfo {
                version: SpecVersion::V1_0_0,
                device: Device::Pci(PciDevice {
                    pci_address: self.id.clone(),
                    vhost_net: None,
                    rdma_device: None,
                    pf_pci_address: None,
                    representor_device: None,
                }),
            };
            (
                info,
                Origin::Pcidevice {
                    var: self.var.clone(),
                },
            )
        });
        let kind = match InterfaceType::of(&info) {
            InterfaceType::Pci => InterfaceType::SrIov,
            other => other,
        };
        (kind, info, origin, self.var)
    }
}

/// Classifies the interfaces. `device_info_for(resource, id)` supplies device-info for a
/// device-plugin ID that network-status does not describe.
///
/// Three passes, as app-netutil makes its decisions: network-status entries first (their
/// device-info decides their type), then the device plugin's IDs matched to them by PCI
/// address or vDPA path, then the IDs nothing matched handed to the interfaces without
/// device-info and, once those are served, appended as interfaces of their own.
pub(crate) fn classify(
    statuses: Vec<NetworkStatus>,
    resources: &[PciDeviceResource],
    device_info_for: impl FnMut(&PciDeviceResource, &str) -> Result<Option<(DeviceInfo, Origin)>, Error>,
    log: &mut Log,
) -> Result<Vec<Interface>, Error> {
    let mut interfaces = from_statuses(statuses);
    let leftovers = match_resources(&mut interfaces, resources, device_info_for, log)?;
    assign_leftovers(&mut interfaces, leftovers, log);
    Ok(interfaces)
}

/// One interface per network-status entry, typed by its device-info (if any).
fn from_statuses(statuses: Vec<NetworkStatus>) -> Vec<Interface> {
    statuses
        .into_iter()
        .map(|s| Interface {
            kind: s
                .device_info
                .as_ref()
                .map_or(InterfaceType::Unknown, InterfaceType::of),
            device_info_from: s.device_info.as_ref().map(|_| Origin::NetworkStatus),
            network: Some(s.name),
            interface: s.interface,
            mac: s.mac,
            default: s.default,
            device_info: s.device_info,
            resource: None,
        })
        .collect()
}

/// Marks the interfaces the device plugin's IDs belong to; returns the IDs that belong to none
/// (deduplicated, with their device-info if the plugin wrote one).
fn match_resources(
    interfaces: &mut [Interface],
    resources: &[PciDeviceResource],
    mut device_info_for: impl FnMut(
        &PciDeviceResource,
        &str,
    ) -> Result<Option<(DeviceInfo, Origin)>, Error>,
    log: &mut Log,
) -> Result<Vec<Leftover>, Error> {
    let mut leftovers = Vec::new();
    for res in resources {
        for id in &res.ids {
            let canonical = pci::normalize(id);
            let same_pci = |i: &Interface| {
                canonical.is_some()
                    && i.device_info.as_ref().and_then(DeviceInfo::pci_address)
                        == canonical.as_deref()
            };
            if let Some(iface) = interfaces.iter_mut().find(|i| same_pci(i)) {
                iface.resource = Some(res.var.clone());
                if iface.kind == InterfaceType::Pci {
                    iface.kind = InterfaceType::SrIov;
                    log.note(format!(
                        "{}: {id} from {} is its PCI address: sr-iov",
                        iface.label(),
                        res.var
                    ));
                } else {
                    log.note(format!(
                        "{}: {id} from {} is its {} device: not counted twice",
                        iface.label(),
                        res.var,
                        iface.kind
                    ));
                }
                continue;
            }
            let info = device_info_for(res, id)?;
            let info_path = info.as_ref().and_then(|(i, _)| match &i.device {
                Device::Vdpa(v) => v.path.clone(),
                _ => None,
            });
            if let Some(iface) = interfaces
                .iter_mut()
                .find(|i| info_path.is_some() && i.vdpa_path() == info_path.as_deref())
            {
                iface.resource = Some(res.var.clone());
                log.note(format!(
                    "{}: {id} from {} is the same vDPA device: not counted twice",
                    iface.label(),
                    res.var
                ));
                continue;
            }
            if info.is_none() && canonical.is_none() {
                log.warn(format!(
                    "{id} from {} is not a PCI address and has no device-info: not usable",
                    res.var
                ));
                continue;
            }
            let id = canonical.unwrap_or_else(|| id.clone());
            if let Some(first) = leftovers.iter().find(|l: &&Leftover| l.id == id) {
                log.warn(format!(
                    "{id} is listed again in {} (first in {}): used once",
                    res.var, first.var
                ));
                continue;
            }
            leftovers.push(Leftover {
                id,
                var: res.var.clone(),
                info,
            });
        }
    }
    Ok(leftovers)
}

/// Gives the unmatched IDs to interfaces without device-info (never to the default network's),
/// in order, and appends the rest as interfaces of their own.
fn assign_leftovers(interfaces: &mut Vec<Interface>, leftovers: Vec<Leftover>, log: &mut Log) {
    let mut leftovers = leftovers.into_iter();
    for iface in interfaces
        .iter_mut()
        .filter(|i| i.kind == InterfaceType::Unknown)
    {
        let leftover = if iface.default {
            None
        } else {
            leftovers.next()
        };
        let Some(leftover) = leftover else {
            iface.kind = InterfaceType::Host;
            log.note(format!(
                "{}: no device-info{}: host",
                iface.label(),
                if iface.default {
                    ", default network"
                } else {
                    " and no device-plugin ID left"
                }
            ));
            continue;
        };
        let id = leftover.id.clone();
        let (kind, info, origin, var) = leftover.into_device();
        log.note(format!(
            "{}: no device-info, takes {id} from {var}: {kind}",
            iface.label()
        ));
        iface.kind = kind;
        iface.device_info = Some(info);
        iface.device_info_from = Some(origin);
        iface.resource = Some(var);
    }
    for leftover in leftovers {
        let id = leftover.id.clone();
        let (kind, info, origin, var) = leftover.into_device();
        log.note(format!(
            "{id} from {var} is in no network-status entry: added as {}",
            kind
        ));
        interfaces.push(Interface {
            network: None,
            interface: None,
            kind,
            mac: None,
            default: false,
            device_info: Some(info),
            device_info_from: Some(origin),
            resource: Some(var),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network_status;
    use crate::pcidevice;
    use std::collections::BTreeMap;

    fn statuses(json: &str) -> Vec<NetworkStatus> {
        network_status::parse(json).unwrap()
    }

    fn resources(pairs: &[(&str, &str)]) -> Vec<PciDeviceResource> {
        let env: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        pcidevice::from_env(&env).unwrap()
    }

    fn run(s: &str, env: &[(&str, &str)]) -> (Vec<Interface>, Log) {
        let mut log = Log::default();
        let ifaces = classify(statuses(s), &resources(env), |_, _| Ok(None), &mut log).unwrap();
        (ifaces, log)
    }

    fn kinds(ifaces: &[Interface]) -> Vec<InterfaceType> {
        ifaces.iter().map(|i| i.kind).collect()
    }

    const VDPA: &str = r#"[{"name":"cbr0","interface":"eth0","default":true},
        {"name":"n1","interface":"net1","device-info":{"type":"vdpa","version":"1.0.0","vdpa":{"parent-device":"vdpa0","driver":"vhost","path":"/dev/vhost-vdpa-0","pci-address":"0000:65:00.2"}}},
        {"name":"n2","interface":"net2","device-info":{"type":"vdpa","version":"1.0.0","vdpa":{"parent-device":"vdpa1","driver":"vhost","path":"/dev/vhost-vdpa-1","pci-address":"0000:65:00.3"}}}]"#;

    #[test]
    fn traffic_test_vdpa_ids_are_deduplicated() {
        let (ifaces, _) = run(
            VDPA,
            &[(
                "PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST",
                "0000:65:00.2,0000:65:00.3",
            )],
        );
        use InterfaceType::*;
        assert_eq!(kinds(&ifaces), [Host, Vdpa, Vdpa]);
        assert_eq!(
            ifaces[1].resource.as_deref(),
            Some("PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST")
        );
    }

    #[test]
    fn pci_matched_by_env_is_sriov_case_insensitively() {
        let s = r#"[{"name":"cbr0","interface":"eth0","default":true},
            {"name":"a","interface":"net1","device-info":{"type":"pci","version":"1.0.0","pci":{"pci-address":"0000:18:0a.2"}}},
            {"name":"b","interface":"net2","device-info":{"type":"pci","version":"1.0.0","pci":{"pci-address":"0000:18:02.3"}}}]"#;
        let (ifaces, _) = run(s, &[("PCIDEVICE_X", "0000:18:0A.2")]);
        use InterfaceType::*;
        assert_eq!(kinds(&ifaces), [Host, SrIov, Pci]);
    }

    #[test]
    fn unknown_interfaces_take_leftover_ids_and_the_rest_are_appended() {
        let s = r#"[{"name":"cbr0","interface":"eth0","default":true},{"name":"sriov","interface":"net1"}]"#;
        let (ifaces, _) = run(s, &[("PCIDEVICE_X", "0000:18:02.2,0000:18:02.3")]);
        use InterfaceType::*;
        // Two unknown interfaces and two left-over IDs: app-netutil gave eth0 a VF too.
        assert_eq!(kinds(&ifaces), [Host, SrIov, SrIov]);
        let net1 = &ifaces[1];
        assert_eq!(
            net1.device_info.as_ref().unwrap().pci_address(),
            Some("0000:18:02.2")
        );
        assert_eq!(ifaces[2].network, None);
        assert_eq!(ifaces[2].label(), "0000:18:02.3");
        let var = "PCIDEVICE_X".to_string();
        assert_eq!(ifaces[2].device_info_from, Some(Origin::Pcidevice { var }));

        let (ifaces, _) = run(s, &[("PCIDEVICE_X", "0000:18:02.2")]);
        assert_eq!(kinds(&ifaces), [Host, SrIov]);
        let (ifaces, _) = run(s, &[]);
        assert_eq!(kinds(&ifaces), [Host, Host]);
    }

    #[test]
    fn an_id_listed_twice_is_one_device() {
        let env = [
            ("PCIDEVICE_A", "0000:18:02.5,0000:18:02.5"),
            ("PCIDEVICE_B", "0000:18:02.5"),
        ];
        let (ifaces, log) = run("[]", &env);
        assert_eq!(ifaces.len(), 1);
        assert_eq!(log.warnings.len(), 2, "{:?}", log.warnings);
    }

    #[test]
    fn ids_that_are_not_pci_addresses_are_dropped_with_a_warning() {
        let (ifaces, log) = run("[]", &[("PCIDEVICE_NVIDIA_COM_SF", "mlx5_core.sf.4")]);
        assert!(ifaces.is_empty());
        assert!(log.warnings[0].contains("mlx5_core.sf.4"));
    }

    #[test]
    fn device_info_from_lookup_fills_unknown_and_dedupes_by_path() {
        let s = r#"[{"name":"cbr0","interface":"eth0","default":true},{"name":"n1","interface":"net1","mac":"0c:fe:c0:ff:ee:00"}]"#;
        let res = resources(&[("PCIDEVICE_V", "0000:65:00.2")]);
        let vdpa = DeviceInfo::from_json(r#"{"type":"vdpa","version":"1.1.0","vdpa":{"parent-device":"vdpa0","driver":"vhost","path":"/dev/vhost-vdpa-0"}}"#).unwrap();
        let origin = Origin::DevicePluginFile {
            path: "/d/dp/f.json".into(),
        };
        let mut log = Log::default();
        let lookup = |_: &PciDeviceResource, _: &str| Ok(Some((vdpa.clone(), origin.clone())));
        let ifaces = classify(statuses(s), &res, lookup, &mut log).unwrap();
        assert_eq!(kinds(&ifaces), [InterfaceType::Host, InterfaceType::Vdpa]);
        assert_eq!(ifaces[1].mac.as_deref(), Some("0c:fe:c0:ff:ee:00"));
        assert_eq!(ifaces[1].device_info_from, Some(origin.clone()));

        // The annotation already describes /dev/vhost-vdpa-0 (without a pci-address): the ID
        // found through the file is the same device.
        let described = VDPA.replace(r#","pci-address":"0000:65:00.2""#, "");
        let lookup = |_: &PciDeviceResource, _: &str| Ok(Some((vdpa.clone(), origin.clone())));
        let ifaces = classify(statuses(&described), &res, lookup, &mut log).unwrap();
        assert_eq!(ifaces.len(), 3);
    }
}
