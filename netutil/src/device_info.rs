//! The Device Information Specification (k8snetworkplumbingwg/device-info-spec) 1.0.0 and 1.1.0.
//!
//! Device-info tells a pod what a network attachment really is: a PCI function, a vDPA device
//! with its `/dev/vhost-vdpa-N`, a vhost-user socket or a memif socket. It reaches the pod inside
//! the network-status annotation and, on the host, as files under `devinfo/dp` (device plugin) and
//! `devinfo/cni` (CNI). The types below follow the NAD client's Go types field by field and
//! serialize back to the spec's JSON names (`pci-address`, `parent-device`, ...).
//!
//! Parsing is strict where the plan depends on a value (types, versions, drivers, modes, roles,
//! paths, PCI addresses) and lenient elsewhere: unknown fields are ignored, as newer producers
//! add some.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::error::{FieldError, Problem};
use crate::json::{self, Fields};
use crate::pci;

/// The spec versions this crate reads. Producers write `1.0.0` (NAD client before 2022) or
/// `1.1.0`; app-netutil's own samples write `v1.0.0`, so a leading `v` is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SpecVersion {
    /// 1.0.0, the first published version.
    #[serde(rename = "1.0.0")]
    V1_0_0,
    /// 1.1.0, which added `representor-device`.
    #[serde(rename = "1.1.0")]
    V1_1_0,
}

/// One device-info document.
///
/// ```
/// use netutil::device_info::{Device, DeviceInfo, VdpaDriver};
/// let info = DeviceInfo::from_json(
///     r#"{"type":"vdpa","version":"1.1.0","vdpa":{"parent-device":"vdpa0","driver":"vhost","path":"/dev/vhost-vdpa-0","pci-address":"0000:65:00.2"}}"#,
/// ).unwrap();
/// let Device::Vdpa(vdpa) = &info.device else { unreachable!() };
/// assert_eq!(vdpa.driver, VdpaDriver::Vhost);
/// assert_eq!(vdpa.path.as_deref(), Some("/dev/vhost-vdpa-0"));
/// // Serializes back in the spec's form.
/// assert!(serde_json::to_string(&info).unwrap().contains(r#""parent-device":"vdpa0""#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The `version` field.
    pub version: SpecVersion,
    /// The `type` field with its matching map.
    pub device: Device,
}

/// The device a device-info document describes, by `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// `type: pci`: a PCI function (an SR-IOV VF, typically bound to vfio-pci).
    Pci(PciDevice),
    /// `type: vdpa`: a vDPA device on the vdpa bus.
    Vdpa(VdpaDevice),
    /// `type: vhost-user`: a vhost-user socket.
    VhostUser(VhostUserDevice),
    /// `type: memif`: a memif socket.
    Memif(MemifDevice),
}

/// The `pci` map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PciDevice {
    /// `pci-address`, canonical `dddd:bb:dd.f`.
    pub pci_address: String,
    /// `vhost-net`: a vhost-net character device for the device, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vhost_net: Option<String>,
    /// `rdma-device`, if the function has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdma_device: Option<String>,
    /// `pf-pci-address`: the physical function of a VF.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pf_pci_address: Option<String>,
    /// `representor-device` (1.1.0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub representor_device: Option<String>,
}

/// The `vdpa` map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct VdpaDevice {
    /// `parent-device`: the vdpa bus name, e.g. `vdpa0`. Required by the spec; `None` only for a
    /// device this crate built from the device plugin's `PCIDEVICE_*_INFO` variable, which does
    /// not carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_device: Option<String>,
    /// `driver`: `vhost` (a `/dev/vhost-vdpa-N` DPDK can use) or `virtio` (a kernel netdev).
    pub driver: VdpaDriver,
    /// `path`: the vhost-vdpa character device. Required for `vhost`; the device plugin leaves
    /// it out for `virtio`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `pci-address`: the VF behind the vDPA device, canonical form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pci_address: Option<String>,
    /// `pf-pci-address`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pf_pci_address: Option<String>,
    /// `representor-device` (1.1.0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub representor_device: Option<String>,
}

/// The kernel driver a vDPA device is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VdpaDriver {
    /// `vhost_vdpa`: userspace (DPDK's virtio-user) drives it through `/dev/vhost-vdpa-N`.
    Vhost,
    /// `virtio_vdpa`: the kernel drives it and shows a netdev.
    Virtio,
}

/// The `vhost-user` map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct VhostUserDevice {
    /// `mode`: which side creates the socket.
    pub mode: VhostMode,
    /// `path`: the socket.
    pub path: String,
}

/// vhost-user socket ownership, from the pod's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VhostMode {
    /// The host creates the socket; the app connects.
    Client,
    /// The app creates the socket; the host connects.
    Server,
}

/// The `memif` map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct MemifDevice {
    /// `role`: which side creates the socket.
    pub role: MemifRole,
    /// `path`: the socket.
    pub path: String,
    /// `mode`: what the interface carries.
    pub mode: MemifMode,
}

/// memif role, from the pod's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemifRole {
    /// The app creates the socket (DPDK 22.11 calls this `server`).
    Master,
    /// The host creates the socket (DPDK 22.11 calls this `client`).
    Slave,
}

/// memif mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemifMode {
    /// Ethernet frames; the only mode DPDK's net_memif supports.
    Ethernet,
    /// IP packets without an Ethernet header.
    Ip,
    /// Punt/inject; written `inject-punt` by the spec and `punt` by the NAD client.
    InjectPunt,
}

impl DeviceInfo {
    /// Parses a device-info JSON document (a device-plugin or CNI file).
    pub fn from_json(text: &str) -> Result<Self, FieldError> {
        Self::from_value(&json::parse(text)?, "")
    }

    /// Parses a device-info value found at `path` in a larger document (errors name
    /// `path.field`).
    pub fn from_value(value: &Value, path: &str) -> Result<Self, FieldError> {
        let f = Fields::new(value, path)?;
        let version = match f.req_str("version")? {
            "1.0.0" | "v1.0.0" => SpecVersion::V1_0_0,
            "1.1.0" | "v1.1.0" => SpecVersion::V1_1_0,
            other => return Err(f.error("version", Problem::UnknownVersion(other.to_owned()))),
        };
        let device = match f.req_str("type")? {
            "pci" => Device::Pci(pci_device(&f.req_obj("pci")?)?),
            "vdpa" => Device::Vdpa(vdpa_device(&f.req_obj("vdpa")?)?),
            "vhost-user" => {
                let m = f.req_obj("vhost-user")?;
                Device::VhostUser(VhostUserDevice {
                    mode: m.req_enum(
                        "mode",
                        &[("client", VhostMode::Client), ("server", VhostMode::Server)],
                        "client or server",
                    )?,
                    path: m.req_str("path")?.to_owned(),
                })
            }
            "memif" => {
                let m = f.req_obj("memif")?;
                Device::Memif(MemifDevice {
                    role: m.req_enum(
                        "role",
                        &[("master", MemifRole::Master), ("slave", MemifRole::Slave)],
                        "master or slave",
                    )?,
                    path: m.req_str("path")?.to_owned(),
                    mode: m.req_enum(
                        "mode",
                        &[
                            ("ethernet", MemifMode::Ethernet),
                            ("ip", MemifMode::Ip),
                            ("inject-punt", MemifMode::InjectPunt),
                            ("punt", MemifMode::InjectPunt),
                        ],
                        "ethernet, ip or inject-punt",
                    )?,
                })
            }
            other => return Err(f.error("type", Problem::UnknownType(other.to_owned()))),
        };
        Ok(Self { version, device })
    }

    /// The spec's name for the device type (`pci`, `vdpa`, `vhost-user`, `memif`).
    pub fn type_name(&self) -> &'static str {
        match self.device {
            Device::Pci(_) => "pci",
            Device::Vdpa(_) => "vdpa",
            Device::VhostUser(_) => "vhost-user",
            Device::Memif(_) => "memif",
        }
    }

    /// The PCI function behind the device, if device-info names one.
    pub fn pci_address(&self) -> Option<&str> {
        match &self.device {
            Device::Pci(p) => Some(&p.pci_address),
            Device::Vdpa(v) => v.pci_address.as_deref(),
            Device::VhostUser(_) | Device::Memif(_) => None,
        }
    }
}

impl Serialize for DeviceInfo {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("type", self.type_name())?;
        map.serialize_entry("version", &self.version)?;
        match &self.device {
            Device::Pci(d) => map.serialize_entry("pci", d)?,
            Device::Vdpa(d) => map.serialize_entry("vdpa", d)?,
            Device::VhostUser(d) => map.serialize_entry("vhost-user", d)?,
            Device::Memif(d) => map.serialize_entry("memif", d)?,
        }
        map.end()
    }
}

fn pci_device(m: &Fields<'_>) -> Result<PciDevice, FieldError> {
    Ok(PciDevice {
        pci_address: pci_field(m, "pci-address")?
            .ok_or_else(|| m.error("pci-address", Problem::MissingField))?,
        vhost_net: opt_string(m, "vhost-net")?,
        rdma_device: opt_string(m, "rdma-device")?,
        pf_pci_address: pci_field(m, "pf-pci-address")?,
        representor_device: opt_string(m, "representor-device")?,
    })
}

fn vdpa_device(m: &Fields<'_>) -> Result<VdpaDevice, FieldError> {
    let driver = m.req_enum(
        "driver",
        &[("vhost", VdpaDriver::Vhost), ("virtio", VdpaDriver::Virtio)],
        "vhost or virtio",
    )?;
    let path = match driver {
        VdpaDriver::Vhost => Some(m.req_str("path")?.to_owned()),
        VdpaDriver::Virtio => opt_string(m, "path")?,
    };
    Ok(VdpaDevice {
        parent_device: Some(m.req_str("parent-device")?.to_owned()),
        driver,
        path,
        pci_address: pci_field(m, "pci-address")?,
        pf_pci_address: pci_field(m, "pf-pci-address")?,
        representor_device: opt_string(m, "representor-device")?,
    })
}

/// An optional string field; an empty string counts as absent (Go's omitempty writers never
/// write one, but hand-written files do).
fn opt_string(m: &Fields<'_>, key: &str) -> Result<Option<String>, FieldError> {
    Ok(m.opt_str(key)?.filter(|s| !s.is_empty()).map(str::to_owned))
}

/// An optional PCI address field, canonicalised.
fn pci_field(m: &Fields<'_>, key: &str) -> Result<Option<String>, FieldError> {
    opt_string(m, key)?
        .map(|s| {
            pci::normalize(&s).ok_or_else(|| {
                m.error(
                    key,
                    Problem::InvalidValue(format!("{s:?} is not a PCI address (dddd:bb:dd.f)")),
                )
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DeviceInfo, FieldError> {
        DeviceInfo::from_json(text)
    }

    #[test]
    fn all_types_parse() {
        let pci = parse(r#"{"type":"pci","version":"v1.0.0","pci":{"pci-address":"0000:18:02.2","pf-pci-address":"0000:18:00.0"}}"#).unwrap();
        assert_eq!(pci.version, SpecVersion::V1_0_0);
        assert_eq!(pci.pci_address(), Some("0000:18:02.2"));

        let vu = parse(r#"{"type":"vhost-user","version":"1.0.0","vhost-user":{"mode":"server","path":"/var/run/vhu/net1.sock"}}"#).unwrap();
        assert_eq!(
            vu.device,
            Device::VhostUser(VhostUserDevice {
                mode: VhostMode::Server,
                path: "/var/run/vhu/net1.sock".into()
            })
        );

        let memif = parse(r#"{"type":"memif","version":"1.1.0","memif":{"role":"slave","path":"/run/memif.sock","mode":"punt"}}"#).unwrap();
        let Device::Memif(m) = memif.device else {
            panic!()
        };
        assert_eq!((m.role, m.mode), (MemifRole::Slave, MemifMode::InjectPunt));
    }

    #[test]
    fn virtio_vdpa_needs_no_path_but_vhost_does() {
        let virtio = parse(r#"{"type":"vdpa","version":"1.1.0","vdpa":{"parent-device":"vdpa1","driver":"virtio","pci-address":"0000:65:00.3"}}"#).unwrap();
        assert_eq!(virtio.pci_address(), Some("0000:65:00.3"));
        let err = parse(r#"{"type":"vdpa","version":"1.1.0","vdpa":{"parent-device":"vdpa1","driver":"vhost"}}"#).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("vdpa.path", Problem::MissingField)
        );
    }

    #[test]
    fn errors_name_the_field() {
        for (text, field, problem) in [
            (
                r#"{"type":"pci","version":"2.0.0","pci":{}}"#,
                "version",
                Problem::UnknownVersion("2.0.0".into()),
            ),
            (
                r#"{"type":"nic","version":"1.0.0"}"#,
                "type",
                Problem::UnknownType("nic".into()),
            ),
            (r#"{"version":"1.0.0"}"#, "type", Problem::MissingField),
            (
                r#"{"type":"pci","version":"1.0.0"}"#,
                "pci",
                Problem::MissingField,
            ),
            (
                r#"{"type":"pci","version":"1.0.0","pci":{}}"#,
                "pci.pci-address",
                Problem::MissingField,
            ),
            (
                r#"{"type":"pci","version":"1.0.0","pci":[]}"#,
                "pci",
                Problem::WrongType("an object"),
            ),
            (
                r#"{"type":"vdpa","version":"1.0.0","vdpa":{"driver":"vhost","path":"/dev/x"}}"#,
                "vdpa.parent-device",
                Problem::MissingField,
            ),
            (
                r#"{"type":"vdpa","version":"1.0.0","vdpa":{"driver":"kernel"}}"#,
                "vdpa.driver",
                Problem::UnknownValue {
                    value: "kernel".into(),
                    expected: "vhost or virtio",
                },
            ),
            (
                r#"{"type":"memif","version":"1.0.0","memif":{"role":"master","path":"/x"}}"#,
                "memif.mode",
                Problem::MissingField,
            ),
            (
                r#"{"type":"vhost-user","version":"1.0.0","vhost-user":{"mode":"server","path":7}}"#,
                "vhost-user.path",
                Problem::WrongType("a string"),
            ),
            ("[]", "", Problem::WrongType("an object")),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(
                (err.field.as_str(), &err.problem),
                (field, &problem),
                "{text}"
            );
        }
        let bad_pci =
            parse(r#"{"type":"pci","version":"1.0.0","pci":{"pci-address":"65:00"}}"#).unwrap_err();
        assert_eq!(bad_pci.field, "pci.pci-address");
        assert!(matches!(bad_pci.problem, Problem::InvalidValue(_)));
    }

    #[test]
    fn serializes_in_spec_form() {
        let text = r#"{"type":"vdpa","version":"1.1.0","vdpa":{"parent-device":"vdpa0","driver":"vhost","path":"/dev/vhost-vdpa-0","pci-address":"0000:65:00.2"}}"#;
        assert_eq!(serde_json::to_string(&parse(text).unwrap()).unwrap(), text);
    }
}
