//! The `PCIDEVICE_<PREFIX>_<RESOURCE>` variables the SR-IOV device plugin sets in a container.
//!
//! The plain variable holds the comma-separated device IDs (VF PCI addresses) allocated to the
//! container. Since device plugin v3.6 a second variable, `..._INFO`, holds JSON:
//! `{"<deviceID>": {"<provider>": {"<key>": "<value>"}}}`, e.g.
//! `{"0000:65:00.2":{"generic":{"deviceID":"0000:65:00.2"},"vdpa":{"mount":"/dev/vhost-vdpa-0"}}}`.
//! app-netutil split that JSON on commas too and took the pieces for PCI addresses; here it is
//! parsed as JSON and attached to its resource.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, FieldError, Problem};

/// The prefix of every device-plugin variable.
pub const PREFIX: &str = "PCIDEVICE_";
const INFO_SUFFIX: &str = "_INFO";

/// Per device ID, per info provider (`generic`, `vdpa`, ...), the provider's key/value pairs.
pub type DeviceInfoEnv = BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>;

/// One device-plugin resource allocated to the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PciDeviceResource {
    /// The variable, e.g. `PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST`.
    pub var: String,
    /// The device IDs, in the variable's order.
    pub ids: Vec<String>,
    /// The parsed `<var>_INFO`, empty when the variable is absent.
    pub info: DeviceInfoEnv,
}

impl PciDeviceResource {
    /// The `/dev/vhost-vdpa-N` the device plugin mounted for `id`, if its `_INFO` says so.
    pub fn vdpa_mount(&self, id: &str) -> Option<&str> {
        self.info
            .get(id)?
            .get("vdpa")?
            .get("mount")
            .map(String::as_str)
    }
}

/// Collects the device-plugin resources from an environment snapshot, sorted by variable name.
///
/// A variable ending in `_INFO` whose value is a JSON object is the info of the resource without
/// the suffix (a resource really named `..._info` has a plain ID list, which does not start with
/// `{`). An `_INFO` variable without its plain variable still yields a resource, with the IDs
/// taken from the JSON keys.
///
/// ```
/// use std::collections::BTreeMap;
/// let env = BTreeMap::from([
///     ("PCIDEVICE_INTEL_COM_VDPA".to_string(), "0000:65:00.2,0000:65:00.3".to_string()),
///     ("PCIDEVICE_INTEL_COM_VDPA_INFO".to_string(),
///      r#"{"0000:65:00.2":{"generic":{"deviceID":"0000:65:00.2"},"vdpa":{"mount":"/dev/vhost-vdpa-0"}}}"#.to_string()),
/// ]);
/// let res = netutil::pcidevice::from_env(&env).unwrap();
/// assert_eq!(res.len(), 1);
/// assert_eq!(res[0].ids, ["0000:65:00.2", "0000:65:00.3"]);
/// assert_eq!(res[0].vdpa_mount("0000:65:00.2"), Some("/dev/vhost-vdpa-0"));
/// ```
pub fn from_env(env: &BTreeMap<String, String>) -> Result<Vec<PciDeviceResource>, Error> {
    let mut resources: BTreeMap<&str, PciDeviceResource> = BTreeMap::new();
    for (var, value) in env.iter().filter(|(k, _)| k.starts_with(PREFIX)) {
        let base = var
            .strip_suffix(INFO_SUFFIX)
            .filter(|_| value.trim_start().starts_with('{'));
        let resource = resources
            .entry(base.unwrap_or(var))
            .or_insert_with(|| PciDeviceResource {
                var: base.unwrap_or(var).to_owned(),
                ids: Vec::new(),
                info: DeviceInfoEnv::new(),
            });
        if base.is_some() {
            resource.info =
                parse_info(value).map_err(|e| e.in_input(format!("environment variable {var}")))?;
        } else {
            resource.ids = split_ids(value);
        }
    }
    Ok(resources
        .into_values()
        .map(|mut r| {
            if r.ids.is_empty() {
                r.ids = r.info.keys().cloned().collect();
            }
            r
        })
        .collect())
}

/// Splits a plain variable's value into device IDs, dropping blanks.
fn split_ids(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses an `_INFO` value.
pub fn parse_info(value: &str) -> Result<DeviceInfoEnv, FieldError> {
    serde_json::from_str(value)
        .map_err(|e| FieldError::new("", Problem::InvalidJson(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn info_json_is_never_split_into_ids() {
        let e = env(&[
            (
                "PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST",
                "0000:65:00.2,0000:65:00.3",
            ),
            (
                "PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST_INFO",
                r#"{"0000:65:00.2":{"generic":{"deviceID":"0000:65:00.2"},"vdpa":{"mount":"/dev/vhost-vdpa-0"}},"0000:65:00.3":{"generic":{"deviceID":"0000:65:00.3"},"vdpa":{}}}"#,
            ),
            ("PATH", "/usr/bin"),
            ("PCIDEVICEX", "ignored"),
        ]);
        let r = from_env(&e).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].var, "PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST");
        assert_eq!(r[0].ids, ["0000:65:00.2", "0000:65:00.3"]);
        assert_eq!(r[0].vdpa_mount("0000:65:00.3"), None);
    }

    #[test]
    fn resource_named_info_with_plain_list() {
        let r = from_env(&env(&[("PCIDEVICE_EXAMPLE_COM_INFO", " 0000:01:00.0 ,,")])).unwrap();
        assert_eq!(r[0].var, "PCIDEVICE_EXAMPLE_COM_INFO");
        assert_eq!(r[0].ids, ["0000:01:00.0"]);
    }

    #[test]
    fn info_without_plain_variable() {
        let r = from_env(&env(&[("PCIDEVICE_A_INFO", r#"{"0000:01:00.1":{}}"#)])).unwrap();
        assert_eq!(
            (r[0].var.as_str(), r[0].ids.as_slice()),
            ("PCIDEVICE_A", &["0000:01:00.1".to_string()][..])
        );
    }

    #[test]
    fn bad_info_names_the_variable() {
        let err = from_env(&env(&[
            ("PCIDEVICE_A", "x"),
            ("PCIDEVICE_A_INFO", "{\"x\":"),
        ]))
        .unwrap_err();
        let Error::Input {
            input,
            problem: Problem::InvalidJson(_),
            ..
        } = err
        else {
            panic!("{err}")
        };
        assert_eq!(input, "environment variable PCIDEVICE_A_INFO");
    }
}
