//! Device-plugin device-info files, `<devinfo>/dp/<prefix>-<resource>-<deviceID>-device.json`.
//!
//! The SR-IOV device plugin writes one per allocated device (compact JSON, the resource name's
//! `/` turned into `-`), and Multus copies it into network-status. A pod only sees these files if
//! it mounts the directory; they are the fallback for a device-plugin ID that network-status
//! does not describe. The `cni/` files hold the same data Multus already put in network-status,
//! so they are not read.

use std::fs;
use std::path::{Path, PathBuf};

use crate::device_info::DeviceInfo;
use crate::error::Error;
use crate::pcidevice::PREFIX;

/// The file names found in `<devinfo>/dp`.
#[derive(Debug)]
pub(crate) struct DpFiles {
    dir: PathBuf,
    names: Vec<String>,
}

impl DpFiles {
    /// Lists `<devinfo_dir>/dp`. A missing directory (the usual case inside a pod) is empty.
    pub(crate) fn scan(devinfo_dir: &Path) -> Result<Self, Error> {
        let dir = devinfo_dir.join("dp");
        let io = |source| Error::Io {
            path: dir.clone(),
            source,
        };
        let mut names = Vec::new();
        match fs::read_dir(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            entries => {
                for entry in entries.map_err(io)? {
                    if let Ok(name) = entry.map_err(io)?.file_name().into_string() {
                        names.push(name);
                    }
                }
            }
        }
        names.sort();
        Ok(Self { dir, names })
    }

    /// Finds and parses the file for device `id` of the resource behind variable `var`.
    ///
    /// Files match by their `-<id>-device.json` suffix. Should two resources hold files for the
    /// same ID, the one whose `<prefix>-<resource>` turns into `var` (`.`, `-` and `/` to `_`,
    /// upper case, after `PCIDEVICE_`) wins.
    pub(crate) fn find(&self, id: &str, var: &str) -> Result<Option<(PathBuf, DeviceInfo)>, Error> {
        let suffix = format!("-{}-device.json", id.replace('/', "-"));
        let resource = var.strip_prefix(PREFIX).unwrap_or(var);
        let mut candidates = self
            .names
            .iter()
            .filter_map(|n| Some((n, n.strip_suffix(&suffix)?)))
            .collect::<Vec<_>>();
        candidates.sort_by_key(|(_, stem)| env_name(stem) != resource);
        let Some((name, _)) = candidates.first() else {
            return Ok(None);
        };
        let path = self.dir.join(name);
        let text = fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let info =
            DeviceInfo::from_json(&text).map_err(|e| e.in_input(path.display().to_string()))?;
        Ok(Some((path, info)))
    }
}

/// How the device plugin turns `<prefix>-<resource>` into a variable suffix.
fn env_name(stem: &str) -> String {
    stem.chars()
        .map(|c| match c {
            '.' | '-' | '/' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VDPA: &str = r#"{"type":"vdpa","version":"1.1.0","vdpa":{"parent-device":"vdpa0","driver":"vhost","path":"/dev/vhost-vdpa-0","pci-address":"0000:65:00.2"}}"#;
    const PCI: &str = r#"{"type":"pci","version":"1.1.0","pci":{"pci-address":"0000:65:00.2"}}"#;

    #[test]
    fn finds_by_suffix_and_prefers_matching_resource() {
        let dir = tempfile::tempdir().unwrap();
        let dp = dir.path().join("dp");
        fs::create_dir(&dp).unwrap();
        fs::write(dp.join("example.com-other-0000:65:00.2-device.json"), PCI).unwrap();
        fs::write(
            dp.join("intel.com-vdpa_mlx_vhost-0000:65:00.2-device.json"),
            VDPA,
        )
        .unwrap();
        let files = DpFiles::scan(dir.path()).unwrap();
        let (path, info) = files
            .find("0000:65:00.2", "PCIDEVICE_INTEL_COM_VDPA_MLX_VHOST")
            .unwrap()
            .unwrap();
        assert!(path.ends_with("intel.com-vdpa_mlx_vhost-0000:65:00.2-device.json"));
        assert_eq!(info.type_name(), "vdpa");
        let (_, other) = files
            .find("0000:65:00.2", "PCIDEVICE_EXAMPLE_COM_OTHER")
            .unwrap()
            .unwrap();
        assert_eq!(other.type_name(), "pci");
        assert!(files.find("0000:65:00.3", "PCIDEVICE_X").unwrap().is_none());
    }

    #[test]
    fn missing_dir_is_empty_and_bad_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert!(DpFiles::scan(dir.path())
            .unwrap()
            .find("0000:01:00.0", "PCIDEVICE_A_B")
            .unwrap()
            .is_none());
        fs::create_dir(dir.path().join("dp")).unwrap();
        fs::write(dir.path().join("dp/a-b-0000:01:00.0-device.json"), "{").unwrap();
        let err = DpFiles::scan(dir.path())
            .unwrap()
            .find("0000:01:00.0", "PCIDEVICE_A_B")
            .unwrap_err();
        assert!(
            err.to_string().contains("a-b-0000:01:00.0-device.json"),
            "{err}"
        );
    }
}
