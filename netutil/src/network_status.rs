//! The `k8s.v1.cni.cncf.io/network-status` annotation Multus writes after attaching networks.
//!
//! The writer (NAD client `SetNetworkStatus`) marshals each entry with 4-space indentation and
//! joins them into a JSON array; kubelet then Go-quotes the whole text into the downward-API file.
//! Only the fields netutil uses are kept; others (`ips`, `dns`, `mtu`, `gateway`, ...) are
//! ignored so newer Multus versions keep working.

use crate::device_info::DeviceInfo;
use crate::error::{FieldError, Problem};
use crate::json::{self, Fields};

/// One attached network, in the order Multus lists them (the cluster default network first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkStatus {
    /// `name`: `<namespace>/<net-attach-def>` for additional networks, the CNI config name for
    /// the default one.
    pub name: String,
    /// `interface`: the interface name inside the pod (`eth0`, `net1`, ...), when the CNI
    /// reported one.
    pub interface: Option<String>,
    /// `mac`, when the CNI reported one (sriov-cni reports the configured MAC in lower case).
    pub mac: Option<String>,
    /// `default`: this is the cluster default network.
    pub default: bool,
    /// `device-info`, when the CNI (or Multus, from the device plugin) supplied it.
    pub device_info: Option<DeviceInfo>,
}

/// Parses the annotation's value. Error fields look like `[1].device-info.vdpa.driver`.
///
/// ```
/// let text = r#"[{
///     "name": "cbr0",
///     "interface": "eth0",
///     "default": true,
///     "dns": {}
/// },{
///     "name": "default/vdpa-mlx-vhost-net-1000",
///     "interface": "net1",
///     "mac": "0c:fe:c0:ff:ee:00",
///     "dns": {},
///     "device-info": {
///         "type": "vdpa",
///         "version": "1.0.0",
///         "vdpa": {"parent-device": "vdpa0", "driver": "vhost", "path": "/dev/vhost-vdpa-0"}
///     }
/// }]"#;
/// let statuses = netutil::network_status::parse(text).unwrap();
/// assert!(statuses[0].default);
/// assert_eq!(statuses[1].mac.as_deref(), Some("0c:fe:c0:ff:ee:00"));
/// ```
pub fn parse(text: &str) -> Result<Vec<NetworkStatus>, FieldError> {
    let value = json::parse(text)?;
    let entries = value
        .as_array()
        .ok_or_else(|| FieldError::new("", Problem::WrongType("an array of network statuses")))?;
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let f = Fields::new(entry, format!("[{i}]"))?;
            let device_info = f
                .opt_obj("device-info")?
                .map(|_| DeviceInfo::from_value(&entry["device-info"], &f.path_of("device-info")))
                .transpose()?;
            Ok(NetworkStatus {
                name: f.req_str("name")?.to_owned(),
                interface: f
                    .opt_str("interface")?
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
                mac: f
                    .opt_str("mac")?
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
                default: f.opt_bool("default")?,
                device_info,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_entries() {
        let s = parse(r#"[{"name":"a"},{"name":"b","interface":"","mac":null}]"#).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].interface, None);
        assert_eq!(s[1].mac, None);
        assert!(!s[0].default);
    }

    #[test]
    fn errors_name_entry_and_field() {
        for (text, field, problem) in [
            ("{}", "", Problem::WrongType("an array of network statuses")),
            ("[{\"interface\":\"net1\"}]", "[0].name", Problem::MissingField),
            ("[{\"name\":\"a\"},{\"name\":\"b\",\"default\":\"yes\"}]", "[1].default", Problem::WrongType("true or false")),
            ("[{\"name\":\"a\",\"device-info\":{\"type\":\"vdpa\",\"version\":\"1.0.0\",\"vdpa\":{\"parent-device\":\"v\",\"driver\":\"vhost\"}}}]", "[0].device-info.vdpa.path", Problem::MissingField),
            ("[\"x\"]", "[0]", Problem::WrongType("an object")),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!((err.field.as_str(), err.problem), (field, problem), "{text}");
        }
        assert!(matches!(
            parse("[{").unwrap_err().problem,
            Problem::InvalidJson(_)
        ));
    }
}
