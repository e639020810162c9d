//! What kubelet gives the container: the downward-API volume (annotations, with what Multus
//! and kubectl added; labels; resource values) and the environment.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use super::hugepages::HugepagePlan;
use super::manifest::{DownwardItem, Pod};
use super::multus::{format_network_status, NetworkStatus};
use super::topology::Attachment;
use super::PodsimError;

/// The annotation `kubectl apply` records the applied object in.
pub const LAST_APPLIED_KEY: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `PATH` of the image (Debian's default for root), which the container starts with.
pub const IMAGE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The pod's annotations as the downward API shows them once the pod runs: the manifest's, the
/// applied configuration kubectl recorded, kubelet's `config.seen`/`config.source`, and the
/// network-status Multus wrote (cluster network first, then each attachment).
pub fn annotations(
    pod: &Pod,
    index: usize,
    attachments: &[&Attachment],
) -> BTreeMap<String, String> {
    let mut map = pod.annotations.clone();
    let mut statuses = vec![NetworkStatus::default_network(index)];
    statuses.extend(attachments.iter().map(|a| NetworkStatus::attachment(a)));
    map.insert(
        netutil::downward::NETWORK_STATUS_KEY.into(),
        format_network_status(&statuses),
    );
    let mut applied = pod.applied.clone();
    if let Some(meta) = applied.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.entry("namespace")
            .or_insert_with(|| pod.namespace.clone().into());
    }
    map.insert(LAST_APPLIED_KEY.into(), format!("{applied}\n"));
    map.insert(
        "kubernetes.io/config.seen".into(),
        rfc3339_nanos(SystemTime::now()),
    );
    map.insert("kubernetes.io/config.source".into(), "api".into());
    map
}

/// Writes every downward-API item of `pod` into `dir`, as kubelet would: maps in its
/// `key="<Go-quoted value>"` format, resource values as the quantity over the divisor rounded
/// up (hugepage quantities first scaled by `hugepages`).
pub fn write_downward(
    dir: &Path,
    pod: &Pod,
    annotations: &BTreeMap<String, String>,
    hugepages: &HugepagePlan,
) -> Result<Vec<String>, PodsimError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PodsimError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut notes = Vec::new();
    for item in &pod.downward {
        let (path, text) = match item {
            DownwardItem::Field { path, field } => {
                let map = if field == "metadata.annotations" {
                    annotations
                } else {
                    &pod.labels
                };
                (path, netutil::downward::format(map))
            }
            DownwardItem::Resource {
                path,
                resource,
                divisor,
                ..
            } => {
                let (kind, name) = resource.split_once('.').unwrap_or(("", resource));
                let set = match kind {
                    "requests" => &pod.container.requests,
                    "limits" => &pod.container.limits,
                    _ => {
                        return Err(PodsimError::Topology {
                            pod: pod.name.clone(),
                            reason: format!("downward-API item {path}: resource {resource} is not requests.* or limits.*"),
                        })
                    }
                };
                let q = set.get(name).copied().ok_or_else(|| PodsimError::Topology {
                    pod: pod.name.clone(),
                    reason: format!(
                        "downward-API item {path}: {resource} is not set (kubelet would use the node's allocatable, which the simulation does not know)"
                    ),
                })?;
                let value = if name.starts_with("hugepages-") {
                    let scaled = hugepages.apply(q);
                    if scaled != q {
                        notes.push(format!(
                            "{path}: {} instead of the manifest's {}",
                            scaled.ceil_div(divisor),
                            q.ceil_div(divisor)
                        ));
                    }
                    scaled
                } else {
                    q
                };
                (path, value.ceil_div(divisor).to_string())
            }
        };
        let file = dir.join(path);
        std::fs::write(&file, text).map_err(io(&file))?;
    }
    Ok(notes)
}

/// The container's environment: `HOSTNAME` (the pod name) and the image's `PATH`, the
/// manifest's `env` in order, then the device plugin's variables.
pub fn env(pod: &Pod, device_plugin: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut env = vec![
        ("HOSTNAME".to_owned(), pod.name.clone()),
        ("PATH".to_owned(), IMAGE_PATH.to_owned()),
    ];
    env.extend(pod.container.env.iter().cloned());
    env.extend(device_plugin);
    env
}

/// `2006-01-02T15:04:05.999999999Z`, as kubelet formats `config.seen`.
fn rfc3339_nanos(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    let nanos = format!("{:09}", d.subsec_nanos());
    let nanos = nanos.trim_end_matches('0');
    let frac = if nanos.is_empty() {
        String::new()
    } else {
        format!(".{nanos}")
    };
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}{frac}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_as_kubelet_writes_them() {
        let t = UNIX_EPOCH + Duration::new(1_612_952_464, 193_857_046);
        assert_eq!(rfc3339_nanos(t), "2021-02-10T10:21:04.193857046Z");
        assert_eq!(
            rfc3339_nanos(UNIX_EPOCH + Duration::new(951_782_400, 500_000_000)),
            "2000-02-29T00:00:00.5Z"
        );
        assert_eq!(rfc3339_nanos(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }
}
