//! The parts of the traffic-test manifest and the NetworkAttachmentDefinitions that decide what
//! kubelet, Multus and the device plugin give a pod: its names, labels and annotations, the one
//! container's env and resources, the downward-API items, and each network's VLAN and resource.
//!
//! Only what the simulation needs is read, but what it reads is checked: a field it cannot
//! reproduce (an env `valueFrom`, a second container) is an error naming the pod, not a silent
//! difference from the cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::quantity::Quantity;
use super::PodsimError;

/// The annotation a pod selects its additional networks with.
pub const NETWORKS_KEY: &str = "k8s.v1.cni.cncf.io/networks";
/// The NAD annotation naming the device-plugin resource its devices come from.
pub const RESOURCE_NAME_KEY: &str = "k8s.v1.cni.cncf.io/resourceName";
/// Where the traffic-test manifest lives in the repository.
pub const TRAFFIC_TEST: &str = "deployment/vdpa-dpdk-traffic-test.yaml";

/// One pod of the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    pub name: String,
    /// `metadata.namespace`; `default` when absent (`kubectl apply` without `-n`).
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// The annotations as written in the manifest (the networks selection).
    pub annotations: BTreeMap<String, String>,
    pub container: Container,
    /// Items of the downward-API volume the container mounts.
    pub downward: Vec<DownwardItem>,
    /// The networks annotation, parsed, in order.
    pub networks: Vec<NetworkSelection>,
    /// The pod object as applied, for kubectl's last-applied-configuration annotation.
    pub applied: serde_json::Value,
}

/// The pod's one container.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub name: String,
    /// `env`, in order (kubelet keeps the order; later duplicates win).
    pub env: Vec<(String, String)>,
    pub requests: BTreeMap<String, Quantity>,
    pub limits: BTreeMap<String, Quantity>,
}

impl Container {
    /// The value of env variable `name`, as the container sees it.
    pub fn env_var(&self, name: &str) -> Option<&str> {
        env_lookup(&self.env, name)
    }

    /// The number of devices of an extended resource the container is given: its limit, which
    /// kubelet requires to equal the request.
    pub fn device_count(&self, resource: &str) -> u64 {
        self.limits
            .get(resource)
            .or_else(|| self.requests.get(resource))
            .map_or(0, |q| q.ceil_div(&Quantity::ONE))
    }
}

/// The value of `name` in an environment list: the last definition wins, as in kubelet.
pub fn env_lookup<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// One item of a downward-API volume.
#[derive(Debug, Clone, PartialEq)]
pub enum DownwardItem {
    /// `fieldRef` to `metadata.annotations` or `metadata.labels`.
    Field { path: String, field: String },
    /// `resourceFieldRef` to `requests.<res>` or `limits.<res>` of a container.
    Resource {
        path: String,
        container: String,
        /// `requests.hugepages-1Gi`, `limits.memory`, ...
        resource: String,
        divisor: Quantity,
    },
}

/// One element of the networks annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSelection {
    /// The NetworkAttachmentDefinition's name.
    pub name: String,
    /// Its namespace (the pod's when not given).
    pub namespace: String,
    /// The MAC asked for, as written.
    pub mac: Option<String>,
    /// The interface name asked for (`net<N>` otherwise).
    pub interface: Option<String>,
}

/// A NetworkAttachmentDefinition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nad {
    pub name: String,
    pub namespace: String,
    /// The device-plugin resource, e.g. `intel.com/vdpa_mlx_vhost`.
    pub resource: Option<String>,
    /// The VLAN in the CNI config, if any.
    pub vlan: Option<u16>,
    /// The CNI `type` (`sriov`).
    pub cni_type: String,
}

impl Nad {
    /// The L2 segment this network is: its VLAN (`vlan1000`), or the NAD's own name when it has
    /// none. Networks with the same VLAN share a segment, as on the NIC's switch.
    pub fn segment(&self) -> String {
        match self.vlan {
            Some(v) => format!("vlan{v}"),
            None => self.name.clone(),
        }
    }
}

/// The pods of a manifest file.
pub fn read_pods(path: &Path) -> Result<Vec<Pod>, PodsimError> {
    let text = read(path)?;
    let mut pods = Vec::new();
    for doc in documents(path, &text)? {
        if doc.get("kind").and_then(|k| k.as_str()) == Some("Pod") {
            pods.push(pod(path, doc)?);
        }
    }
    if pods.is_empty() {
        return Err(invalid(path, "", "no Pod in the file".into()));
    }
    Ok(pods)
}

/// Every NetworkAttachmentDefinition in `deployment/netAttach-*.yaml` under `dir`.
pub fn read_nads(dir: &Path) -> Result<Vec<Nad>, PodsimError> {
    let entries = std::fs::read_dir(dir).map_err(|source| PodsimError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("netAttach-") && n.ends_with(".yaml"))
        })
        .collect();
    files.sort();
    let mut nads = Vec::new();
    for file in files {
        let text = read(&file)?;
        for doc in documents(&file, &text)? {
            if doc.get("kind").and_then(|k| k.as_str()) == Some("NetworkAttachmentDefinition") {
                nads.push(nad(&file, doc)?);
            }
        }
    }
    Ok(nads)
}

/// The NADs of the legacy base in `base`, or as `overlay` changes them.
pub fn cluster_nads(base: &Path, overlay: Option<&Path>) -> Result<Vec<Nad>, PodsimError> {
    match overlay {
        Some(o) => read_overlay_nads(base, o),
        None => read_nads(base),
    }
}

/// The switchdev overlay beside `deployment/` (see `overlays/switchdev/kustomization.yaml`).
pub const SWITCHDEV_OVERLAY: &str = "overlays/switchdev";

/// The NADs of `base` as a kustomize overlay in `overlay` changes them: every NAD in the files
/// of its `patches` (`path:` entries) replaces the base's of that name, or removes it with
/// `$patch: delete`. That is all the switchdev overlay does to NADs, and what the simulation
/// needs of it: `make validate` checks the whole render against `kubectl kustomize`.
pub fn read_overlay_nads(base: &Path, overlay: &Path) -> Result<Vec<Nad>, PodsimError> {
    let mut nads = read_nads(base)?;
    let kfile = overlay.join("kustomization.yaml");
    let text = read(&kfile)?;
    let mut patches = Vec::new();
    for doc in documents(&kfile, &text)? {
        for p in doc
            .get("patches")
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
        {
            let path = p.get("path").and_then(|p| p.as_str()).ok_or_else(|| {
                invalid(
                    &kfile,
                    "Kustomization",
                    "patches: only `path:` entries are understood".into(),
                )
            })?;
            patches.push(overlay.join(path));
        }
    }
    for file in patches {
        let text = read(&file)?;
        for doc in documents(&file, &text)? {
            if doc.get("kind").and_then(|k| k.as_str()) != Some("NetworkAttachmentDefinition") {
                continue;
            }
            let name = doc
                .pointer("/metadata/name")
                .and_then(|n| n.as_str())
                .unwrap_or_default()
                .to_owned();
            let at = nads.iter().position(|n| n.name == name).ok_or_else(|| {
                invalid(
                    &file,
                    &format!("NetworkAttachmentDefinition {name}"),
                    format!("patches no NAD of {}", base.display()),
                )
            })?;
            if doc.get("$patch").and_then(|p| p.as_str()) == Some("delete") {
                nads.remove(at);
            } else {
                nads[at] = nad(&file, doc)?;
            }
        }
    }
    Ok(nads)
}

fn read(path: &Path) -> Result<String, PodsimError> {
    std::fs::read_to_string(path).map_err(|source| PodsimError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn invalid(path: &Path, object: &str, reason: String) -> PodsimError {
    PodsimError::Manifest {
        path: path.to_path_buf(),
        object: object.to_owned(),
        reason,
    }
}

/// The YAML documents of a file as JSON values (what the API server stores), empty ones skipped.
fn documents(path: &Path, text: &str) -> Result<Vec<serde_json::Value>, PodsimError> {
    let mut out = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        let value = serde_json::Value::deserialize(doc)
            .map_err(|e| invalid(path, "", format!("not YAML: {e}")))?;
        if !value.is_null() {
            out.push(value);
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPod {
    metadata: RawMeta,
    spec: RawSpec,
}

#[derive(Deserialize)]
struct RawMeta {
    name: String,
    namespace: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawSpec {
    containers: Vec<RawContainer>,
    #[serde(default)]
    volumes: Vec<RawVolume>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContainer {
    name: String,
    #[serde(default)]
    env: Vec<RawEnv>,
    #[serde(default)]
    resources: RawResources,
    #[serde(default)]
    volume_mounts: Vec<RawMount>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnv {
    name: String,
    value: Option<String>,
    value_from: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct RawResources {
    #[serde(default)]
    requests: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    limits: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct RawMount {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVolume {
    name: String,
    #[serde(rename = "downwardAPI")]
    downward_api: Option<RawDownward>,
}

#[derive(Deserialize)]
struct RawDownward {
    items: Vec<RawItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawItem {
    path: String,
    field_ref: Option<RawFieldRef>,
    resource_field_ref: Option<RawResourceRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFieldRef {
    field_path: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResourceRef {
    container_name: Option<String>,
    resource: String,
    divisor: Option<serde_json::Value>,
}

fn pod(path: &Path, doc: serde_json::Value) -> Result<Pod, PodsimError> {
    let raw: RawPod = serde_json::from_value(doc.clone())
        .map_err(|e| invalid(path, "Pod", format!("unexpected shape: {e}")))?;
    let name = raw.metadata.name;
    let bad = |reason: String| invalid(path, &format!("Pod {name}"), reason);
    let [c] = <[RawContainer; 1]>::try_from(raw.spec.containers).map_err(|cs| {
        bad(format!(
            "has {} containers; the simulation runs pods with one",
            cs.len()
        ))
    })?;
    let mut env = Vec::new();
    for e in c.env {
        match (e.value, e.value_from) {
            (_, Some(from)) => {
                return Err(bad(format!(
                    "env {} uses valueFrom ({from}), which the simulation cannot resolve",
                    e.name
                )))
            }
            (v, None) => env.push((e.name, v.unwrap_or_default())),
        }
    }
    let quantities = |map: BTreeMap<String, serde_json::Value>| {
        map.into_iter()
            .map(|(k, v)| {
                let q = Quantity::from_json(&v).map_err(|e| bad(format!("resource {k}: {e}")))?;
                Ok((k, q))
            })
            .collect::<Result<BTreeMap<_, _>, PodsimError>>()
    };
    let container = Container {
        name: c.name,
        env,
        requests: quantities(c.resources.requests)?,
        limits: quantities(c.resources.limits)?,
    };
    let mounted: Vec<&str> = c.volume_mounts.iter().map(|m| m.name.as_str()).collect();
    let mut downward = Vec::new();
    for v in raw.spec.volumes {
        let Some(api) = v
            .downward_api
            .filter(|_| mounted.contains(&v.name.as_str()))
        else {
            continue;
        };
        for item in api.items {
            downward.push(downward_item(item, &container.name).map_err(&bad)?);
        }
    }
    let namespace = raw
        .metadata
        .namespace
        .unwrap_or_else(|| "default".to_owned());
    let networks = match raw.metadata.annotations.get(NETWORKS_KEY) {
        Some(v) => {
            parse_networks(v, &namespace).map_err(|e| bad(format!("{NETWORKS_KEY}: {e}")))?
        }
        None => Vec::new(),
    };
    Ok(Pod {
        name,
        namespace,
        labels: raw.metadata.labels,
        annotations: raw.metadata.annotations,
        container,
        downward,
        networks,
        applied: doc,
    })
}

fn downward_item(item: RawItem, own_container: &str) -> Result<DownwardItem, String> {
    match (item.field_ref, item.resource_field_ref) {
        (Some(f), None) => match f.field_path.as_str() {
            "metadata.annotations" | "metadata.labels" => Ok(DownwardItem::Field {
                path: item.path,
                field: f.field_path,
            }),
            other => Err(format!(
                "downward-API item {}: fieldRef {other} is not simulated",
                item.path
            )),
        },
        (None, Some(r)) => {
            let container = r.container_name.unwrap_or_else(|| own_container.to_owned());
            if container != own_container {
                return Err(format!(
                    "downward-API item {}: containerName {container} is not the pod's container",
                    item.path
                ));
            }
            let divisor = match r.divisor {
                Some(d) => Quantity::from_json(&d)
                    .map_err(|e| format!("downward-API item {}: divisor: {e}", item.path))?,
                None => Quantity::ONE,
            };
            Ok(DownwardItem::Resource {
                path: item.path,
                container,
                resource: r.resource,
                divisor,
            })
        }
        _ => Err(format!(
            "downward-API item {} needs exactly one of fieldRef and resourceFieldRef",
            item.path
        )),
    }
}

/// Parses the networks annotation: Multus accepts a JSON list of selection elements or a
/// comma-separated list of `[namespace/]name[@interface]`.
pub fn parse_networks(value: &str, pod_namespace: &str) -> Result<Vec<NetworkSelection>, String> {
    #[derive(Deserialize)]
    struct Element {
        name: String,
        namespace: Option<String>,
        mac: Option<String>,
        interface: Option<String>,
    }
    let trimmed = value.trim();
    if trimmed.starts_with('[') {
        let elements: Vec<Element> =
            serde_json::from_str(trimmed).map_err(|e| format!("not a JSON list: {e}"))?;
        return Ok(elements
            .into_iter()
            .map(|e| NetworkSelection {
                name: e.name,
                namespace: e.namespace.unwrap_or_else(|| pod_namespace.to_owned()),
                mac: e.mac,
                interface: e.interface,
            })
            .collect());
    }
    trimmed
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (s, interface) = match s.split_once('@') {
                Some((n, i)) => (n, Some(i.to_owned())),
                None => (s, None),
            };
            let (namespace, name) = match s.split_once('/') {
                Some((ns, n)) => (ns.to_owned(), n),
                None => (pod_namespace.to_owned(), s),
            };
            if name.is_empty() {
                return Err(format!("empty network name in {value:?}"));
            }
            Ok(NetworkSelection {
                name: name.to_owned(),
                namespace,
                mac: None,
                interface,
            })
        })
        .collect()
}

fn nad(path: &Path, doc: serde_json::Value) -> Result<Nad, PodsimError> {
    #[derive(Deserialize)]
    struct RawNad {
        metadata: RawMeta,
        spec: RawNadSpec,
    }
    #[derive(Deserialize)]
    struct RawNadSpec {
        config: String,
    }
    #[derive(Deserialize)]
    struct CniConfig {
        #[serde(rename = "type")]
        cni_type: String,
        vlan: Option<u16>,
    }
    let raw: RawNad = serde_json::from_value(doc)
        .map_err(|e| invalid(path, "NetworkAttachmentDefinition", format!("{e}")))?;
    let name = raw.metadata.name;
    let config: CniConfig = serde_json::from_str(&raw.spec.config).map_err(|e| {
        invalid(
            path,
            &format!("NetworkAttachmentDefinition {name}"),
            format!("spec.config: {e}"),
        )
    })?;
    Ok(Nad {
        resource: raw.metadata.annotations.get(RESOURCE_NAME_KEY).cloned(),
        namespace: raw
            .metadata
            .namespace
            .unwrap_or_else(|| "default".to_owned()),
        name,
        vlan: config.vlan,
        cni_type: config.cni_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_file(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
    }

    #[test]
    fn the_switchdev_overlay_puts_the_same_networks_on_ovs_cni() {
        let legacy = read_nads(&repo_file("deployment")).unwrap();
        let sw =
            read_overlay_nads(&repo_file("deployment"), &repo_file(SWITCHDEV_OVERLAY)).unwrap();
        let names = |v: &[Nad]| v.iter().map(|n| n.name.clone()).collect::<Vec<_>>();
        assert!(names(&legacy).contains(&"vdpa-mlx-virtio-net".to_owned()));
        assert_eq!(
            names(&sw),
            [
                "vdpa-mlx-vhost-net-1000",
                "vdpa-mlx-vhost-net-2000",
                "vdpa-mlx-vhost-net"
            ]
        );
        for n in &sw {
            assert_eq!(n.cni_type, "ovs", "{n:?}");
            let old = legacy.iter().find(|o| o.name == n.name).unwrap();
            assert_eq!(old.cni_type, "sriov");
            assert_eq!(
                (&n.resource, n.vlan, n.segment()),
                (&old.resource, old.vlan, old.segment())
            );
        }
    }

    #[test]
    fn reads_the_traffic_test_pods() {
        let pods = read_pods(&repo_file(TRAFFIC_TEST)).unwrap();
        let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["vdpa-pod-gen", "vdpa-pod-sink"]);
        let gen = &pods[0];
        assert_eq!(gen.namespace, "default");
        assert_eq!(gen.container.name, "vdpa-gen");
        assert_eq!(gen.container.env_var("DPDK_SAMPLE_APP"), Some("testpmd"));
        assert_eq!(gen.container.env_var("CONTAINER_NAME"), Some("vdpa-gen"));
        assert!(gen
            .container
            .env_var("TESTPMD_EXTRA_ARGS")
            .unwrap()
            .contains("--forward-mode=txonly"));
        assert_eq!(gen.container.device_count("intel.com/vdpa_mlx_vhost"), 2);
        assert_eq!(
            gen.networks,
            [
                NetworkSelection {
                    name: "vdpa-mlx-vhost-net-1000".into(),
                    namespace: "default".into(),
                    mac: Some("0C:FE:C0:FF:EE:00".into()),
                    interface: None
                },
                NetworkSelection {
                    name: "vdpa-mlx-vhost-net-2000".into(),
                    namespace: "default".into(),
                    mac: Some("0C:FE:C0:FF:EE:01".into()),
                    interface: None
                }
            ]
        );
        let paths: Vec<String> = gen
            .downward
            .iter()
            .map(|d| match d {
                DownwardItem::Field { path, .. } | DownwardItem::Resource { path, .. } => {
                    path.clone()
                }
            })
            .collect();
        assert_eq!(
            paths,
            [
                "labels",
                "annotations",
                "hugepages_1G_request_vdpa-gen",
                "hugepages_1G_limit_vdpa-gen"
            ]
        );
        assert_eq!(
            pods[1].container.env_var("CONTAINER_NAME"),
            Some("vdpa-sink")
        );
    }

    #[test]
    fn reads_the_nads() {
        let nads = read_nads(&repo_file("deployment")).unwrap();
        let find = |n: &str| nads.iter().find(|x| x.name == n).unwrap();
        let n = find("vdpa-mlx-vhost-net-1000");
        assert_eq!(n.vlan, Some(1000));
        assert_eq!(n.resource.as_deref(), Some("intel.com/vdpa_mlx_vhost"));
        assert_eq!(n.segment(), "vlan1000");
        assert_eq!(find("vdpa-mlx-vhost-net-2000").vlan, Some(2000));
        assert_eq!(find("vdpa-mlx-vhost-net").segment(), "vdpa-mlx-vhost-net");
    }

    #[test]
    fn networks_annotation_forms() {
        let list = parse_networks("a, other/b@ext0 ,", "ns").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(
            (list[0].namespace.as_str(), list[0].name.as_str()),
            ("ns", "a")
        );
        assert_eq!(list[1].namespace, "other");
        assert_eq!(list[1].interface.as_deref(), Some("ext0"));
        assert!(parse_networks("[{\"nam\":1}]", "ns").is_err());
        assert!(parse_networks("ns/", "ns").is_err());
    }

    #[test]
    fn rejects_what_cannot_be_simulated() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| {
            let p = dir.path().join("pod.yaml");
            std::fs::write(&p, text).unwrap();
            p
        };
        let base = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n";
        for (containers, needle) in [
            ("  - {name: a}\n  - {name: b}\n", "2 containers"),
            (
                "  - name: a\n    env: [{name: X, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]\n",
                "valueFrom",
            ),
            (
                "  - name: a\n    resources: {limits: {cpu: lots}}\n",
                "resource cpu",
            ),
        ] {
            let err = read_pods(&write(&format!("{base}{containers}")))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle) && err.contains("Pod p"), "{err}");
        }
        let err = read_pods(&write("kind: Service\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no Pod"), "{err}");
    }
}
