//! What the SR-IOV device plugin leaves for a container it allocated VFs to: a device-info file
//! per device in `devinfo/dp/`, and the `PCIDEVICE_<RESOURCE>` and `PCIDEVICE_<RESOURCE>_INFO`
//! variables (the latter since v3.6).

use std::collections::BTreeMap;
use std::path::Path;

use super::multus::DeviceInfo;
use super::topology::Attachment;
use super::PodsimError;

/// `<prefix>-<resource>-<deviceID>-device.json`: the NAD client's `getDPDeviceInfoPath`, with
/// every `/` of the resource name and device ID turned into `-`.
pub fn dp_file_name(resource: &str, device_id: &str) -> String {
    format!(
        "{}-{}-device.json",
        resource.replace('/', "-"),
        device_id.replace('/', "-")
    )
}

/// `PCIDEVICE_<PREFIX>_<NAME>`: the resource name upper-cased, `.`, `/` and `-` turned into `_`.
pub fn env_var(resource: &str) -> String {
    let suffix: String = resource
        .chars()
        .map(|c| match c {
            '.' | '/' | '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("PCIDEVICE_{suffix}")
}

/// Writes the device-info file of every attachment into `dp_dir`, compact JSON as
/// `json.Marshal` writes it, read-only (mode 0444) as the NAD client saves it.
pub fn write_dp_files<'a>(
    dp_dir: &Path,
    attachments: impl IntoIterator<Item = &'a Attachment>,
) -> Result<(), PodsimError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PodsimError::Io { path, source }
    };
    std::fs::create_dir_all(dp_dir).map_err(io(dp_dir))?;
    for a in attachments {
        let path = dp_dir.join(dp_file_name(&a.resource, &a.vf.pci));
        let json =
            serde_json::to_string(&DeviceInfo::vhost_vdpa(a)).expect("device-info serialises");
        std::fs::write(&path, json).map_err(io(&path))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444))
            .map_err(io(&path))?;
    }
    Ok(())
}

/// The device plugin's variables for one container: per resource, the comma-joined device IDs
/// and the `_INFO` JSON `{"<id>":{"generic":{"deviceID":"<id>"},"vdpa":{"mount":"<path>"}}}`
/// (Go marshals maps with sorted keys).
pub fn env<'a>(attachments: impl IntoIterator<Item = &'a Attachment>) -> Vec<(String, String)> {
    type Info = BTreeMap<String, BTreeMap<&'static str, BTreeMap<&'static str, String>>>;
    let mut per_resource: BTreeMap<&str, (Vec<&str>, Info)> = BTreeMap::new();
    for a in attachments {
        let (ids, info) = per_resource.entry(&a.resource).or_default();
        ids.push(&a.vf.pci);
        info.insert(
            a.vf.pci.clone(),
            BTreeMap::from([
                ("generic", BTreeMap::from([("deviceID", a.vf.pci.clone())])),
                (
                    "vdpa",
                    BTreeMap::from([("mount", a.socket.display().to_string())]),
                ),
            ]),
        );
    }
    per_resource
        .into_iter()
        .flat_map(|(resource, (ids, info))| {
            let var = env_var(resource);
            let info = serde_json::to_string(&info).expect("info serialises");
            [(format!("{var}_INFO"), info), (var, ids.join(","))]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_the_device_plugin_writes_them() {
        assert_eq!(
            dp_file_name("intel.com/vdpa_mlx_vhost", "0000:65:00.2"),
            "intel.com-vdpa_mlx_vhost-0000:65:00.2-device.json"
        );
        assert_eq!(
            env_var("intel.com/vdpa_mlx_vhost"),
            "PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST"
        );
        assert_eq!(env_var("example.org/a-b"), "PCIDEVICE_EXAMPLE_ORG_A_B");
    }
}
