#!/usr/bin/env python3
"""Validate the Kubernetes manifests in deployment/ offline, then prove the checks can fail.

Run by `make validate-manifests` (part of `make validate` and `make test`). Creates or reuses the
virtualenv .venv/ with the pinned packages of scripts/validate-manifests.requirements.txt
(kubernetes-validate bundles the Kubernetes OpenAPI schemas, so no cluster and no network beyond
PyPI on the first run).

1. Schemas. Every object validates strictly (unknown fields are errors) against the Kubernetes
   OpenAPI schemas of the oldest and newest versions checked (K8S_VERSIONS). A kind without a
   schema is an error, not kubernetes-validate's "Couldn't find schema" warning.
   NetworkAttachmentDefinitions validate against the openAPIV3Schema of the NAD CRD in our own
   deployment/multus-daemonset.yaml (made strict, metadata checked as ObjectMeta).
2. Consistency between the manifests, the Makefile and the image:
   - the device-plugin ConfigMap: valid JSON, list-syntax selectors with a vdpaType, known keys;
   - every NAD: resourceName is a device-plugin resource (same prefix), spec.config is JSON with
     type sriov, the VLAN its name promises, trust on / spoofchk off when VLAN-tagged, and a
     vdpaType matching "vhost"/"virtio" in its name;
   - every pod: networks named in k8s.v1.cni.cncf.io/networks exist as NADs, MACs are valid and
     unique, each vDPA resource is requested (requests == limits) exactly once per network using
     it and exists in the ConfigMap; DPDK_SAMPLE_APP is testpmd|l2fwd|l3fwd; CONTAINER_NAME is the
     container's name; the downward-API hugepage files are named after that container and point at
     its own hugepage request/limit in MiB; --eth-peer MACs belong to a peer pod on the same NAD;
     the image is the one `make images` builds; least privilege (no privileged, drop ALL, only
     IPC_LOCK/SYS_RESOURCE/SYS_NICE added);
   - upstream images are pinned to a release tag or a digest (no latest/untagged/snapshot);
   - every privilege (privileged, hostNetwork/hostPID, hostPath, added capabilities, runAsUser 0,
     Bidirectional propagation) carries a justifying comment in the YAML;
   - kustomization.yaml lists every non-workload manifest and nothing else; `make -n deploy`,
     `undeploy` and `traffic-test` touch the files in dependency order;
   - the traffic-test generator learns its peers (--eth-peer=P,auto) and the sink announces;
   - the switchdev overlay (overlays/switchdev) is rendered (render_overlay: resources and
     strategic-merge `path:` patches, no kustomize needed; compared with `kubectl kustomize` when
     kubectl exists) and checked like the base with the workload pods: ovs-cni NADs on a bridge
     with the CNIDeviceInfoFile capability, the vhost-only device plugin pool, no sriov-cni.
3. Self-tests: each check runs again on in-memory mutations of the manifests and must report the
   expected file and field; the unmodified manifests must report nothing.

Errors name the file, the object and the field: `deployment/x.yaml: Pod/vdpa-pod-gen:
spec.containers[0].env[CONTAINER_NAME]: ...`. Exit status 1 on any error.

Options: --no-self-test, --self-test-only, --verbose.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deployment"
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "scripts" / "validate-manifests.requirements.txt"
KUBERNETES_VALIDATE_VERSION = "1.37.0"
IN_VENV_FLAG = "VALIDATE_MANIFESTS_IN_VENV"


# --- virtualenv bootstrap (standard library only) -------------------------------------------------

def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _venv_ready(py: Path) -> bool:
    if not py.exists():
        return False
    probe = (
        "import importlib.metadata as m, sys\n"
        "want = {}\n"
        "for line in open(sys.argv[1]):\n"
        "    line = line.split('#')[0].strip()\n"
        "    if line: n, v = line.split('=='); want[n] = v\n"
        "ok = all(m.version(n) == v for n, v in want.items())\n"
        "sys.exit(0 if ok else 1)\n"
    )
    try:
        return subprocess.run([str(py), "-c", probe, str(REQUIREMENTS)],
                              capture_output=True).returncode == 0
    except OSError:
        return False


def ensure_venv() -> None:
    """Re-execute this script inside .venv with the pinned requirements installed."""
    if os.environ.get(IN_VENV_FLAG) == "1":
        return
    py = _venv_python()
    if not _venv_ready(py):
        if not py.exists():
            print(f"validate-manifests: creating {VENV.relative_to(ROOT)}/", file=sys.stderr)
            r = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
            if r.returncode != 0:
                sys.exit("validate-manifests: `python3 -m venv` failed; on Debian install python3-venv")
        print(f"validate-manifests: installing {REQUIREMENTS.relative_to(ROOT)} into .venv",
              file=sys.stderr)
        r = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            "-r", str(REQUIREMENTS)])
        if r.returncode != 0 or not _venv_ready(py):
            sys.exit("validate-manifests: could not install the pinned requirements into .venv "
                     "(is PyPI reachable?)")
    env = dict(os.environ, **{IN_VENV_FLAG: "1"})
    os.execve(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]], env)


# --- what the manifests must look like ---------------------------------------------------------

# The device plugin's default --resource-prefix.
DEFAULT_RESOURCE_PREFIX = "intel.com"
EXPECTED_RESOURCES = {"intel.com/vdpa_mlx_vhost", "intel.com/vdpa_mlx_virtio"}
EXPECTED_NADS = {"vdpa-mlx-vhost-net", "vdpa-mlx-vhost-net-1000", "vdpa-mlx-vhost-net-2000", "vdpa-mlx-virtio-net"}
# The cluster variants: the legacy base (deployment/, sriov-cni) and the switchdev overlay
# (overlays/switchdev, ovs-cni), rendered and checked like the base with these expectations.
OVERLAY = ROOT / "overlays" / "switchdev"
VARIANTS = {
    "legacy": {"cni": "sriov", "resources": EXPECTED_RESOURCES, "nads": EXPECTED_NADS},
    "switchdev": {"cni": "ovs", "resources": {"intel.com/vdpa_mlx_vhost"},
                  "nads": EXPECTED_NADS - {"vdpa-mlx-virtio-net"}},
}
# ovs-cni configuration keys (docs/cni-plugin.md) plus the generic CNI ones.
OVS_CNI_KEYS = {"cniVersion", "name", "type", "bridge", "vlan", "trunk", "mtu", "ovnPort", "socket_file",
                "configuration_path", "interface_type", "deviceID", "ipam", "dns", "capabilities",
                "runtimeConfig", "args"}
# sriov-network-device-plugin netDevice selector keys (README / pkg/types/types.go).
SELECTOR_KEYS = {"vendors", "devices", "drivers", "pciAddresses", "pfNames", "rootDevices", "linkTypes",
                 "ddpProfiles", "isRdma", "needVhostNet", "vdpaType", "pKeys", "acpiIndexes"}
RESOURCE_KEYS = {"resourceName", "resourcePrefix", "deviceType", "excludeTopology", "selectors", "additionalInfo"}
VDPA_TYPES = {"vhost", "virtio"}
# sriov-cni configuration keys (docs/configuration-reference.md) plus the generic CNI ones.
SRIOV_CNI_KEYS = {"cniVersion", "name", "type", "deviceID", "vlan", "vlanQoS", "vlanProto", "mac", "spoofchk",
                  "trust", "link_state", "min_tx_rate", "max_tx_rate", "ipam", "dns", "logLevel", "logFile",
                  "capabilities", "runtimeConfig", "args"}
CNI_VERSIONS = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}
# NetworkSelectionElement JSON fields (network-attachment-definition-client types.go).
NETWORK_SELECTION_KEYS = {"name", "namespace", "ips", "mac", "infiniband-guid", "interface", "portMappings",
                          "bandwidth", "cni-args", "default-route", "ipam-claim-reference"}
SAMPLE_APPS = {"testpmd", "l2fwd", "l3fwd", "rfc2544"}
# testpmd 22.11 forwarding engines (fwd_engines[] in app/test-pmd/testpmd.c).
TESTPMD_FWD_MODES = {"io", "mac", "macswap", "flowgen", "rxonly", "txonly", "csum", "icmpecho", "noisy", "5tswap",
                     "ieee1588", "shared_rxq"}
ALLOWED_ADDED_CAPS = {"IPC_LOCK", "SYS_RESOURCE", "SYS_NICE"}
REQUIRED_CAPS = {"IPC_LOCK"}
WORKLOAD_FILES = {"vdpa-single.yaml", "vdpa-dpdk-traffic-test.yaml", "vdpa-dpdk-rfc2544.yaml"}
TRAFFIC_TEST = "vdpa-dpdk-traffic-test.yaml"
RFC2544_TEST = "vdpa-dpdk-rfc2544.yaml"
# The RFC 2544 test: a generator that runs the search once, a reflector that returns frames.
EXPECTED_RFC2544_PODS = {
    "vdpa-rfc2544-gen": {"selector": "vdpa-test-role-gen", "app": "rfc2544", "restart": "Never"},
    "vdpa-rfc2544-reflector": {"selector": "vdpa-test-role-sink", "app": "testpmd", "modes": {"macswap", "io"}},
}
# The traffic test of the issue: node selector, MAC per network, forward mode.
EXPECTED_TRAFFIC_PODS = {
    "vdpa-pod-gen": {"selector": "vdpa-test-role-gen", "mode": "txonly",
                     "macs": [("vdpa-mlx-vhost-net-1000", "0C:FE:C0:FF:EE:00"),
                              ("vdpa-mlx-vhost-net-2000", "0C:FE:C0:FF:EE:01")]},
    "vdpa-pod-sink": {"selector": "vdpa-test-role-sink", "mode": "rxonly",
                      "macs": [("vdpa-mlx-vhost-net-1000", "0C:FE:C0:FF:EE:10"),
                               ("vdpa-mlx-vhost-net-2000", "0C:FE:C0:FF:EE:11")]},
}
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
RESOURCE_ANNOTATION = "k8s.v1.cni.cncf.io/resourceName"
MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
HUGEPAGE_FILE_RE = re.compile(r"^hugepages_(1G|2M)_(request|limit)_(.+)$")
HUGEPAGE_RESOURCE = {"1G": "hugepages-1Gi", "2M": "hugepages-2Mi"}
RELEASE_TAG_RE = re.compile(r"^v?\d+\.\d+\.\d+([-.+][0-9A-Za-z.-]+)?$")
DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}$")
FLOATING_TAGS = {"latest", "snapshot", "stable", "master", "main", "dev", "edge", "nightly"}


# --- model ---------------------------------------------------------------------------------------

@dataclass
class Doc:
    file: str          # "deployment/x.yaml"
    index: int
    obj: Any

    @property
    def kind(self) -> str:
        return self.obj.get("kind", "?") if isinstance(self.obj, dict) else "?"

    @property
    def name(self) -> str:
        if isinstance(self.obj, dict) and isinstance(self.obj.get("metadata"), dict):
            return str(self.obj["metadata"].get("name", "?"))
        return "?"

    @property
    def namespace(self) -> str | None:
        if isinstance(self.obj, dict) and isinstance(self.obj.get("metadata"), dict):
            return self.obj["metadata"].get("namespace")
        return None

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass
class Context:
    texts: dict[str, str]                 # file -> text
    docs: list[Doc]
    make_image: str
    make_runs: dict[str, list[str]]       # target -> commands of `make -n target`
    kubectl: str | None = None
    overlay: list[Doc] = field(default_factory=list)  # overlays/switchdev, rendered
    variant: str = "legacy"


@dataclass
class Problems:
    items: list[str] = field(default_factory=list)

    def add(self, file: str, where: str, fieldpath: str, msg: str) -> None:
        parts = [p for p in (file, where, fieldpath) if p]
        self.items.append(": ".join(parts) + ": " + msg)


def load_context() -> Context:
    texts: dict[str, str] = {}
    for path in sorted(DEPLOY.glob("*.yaml")) + sorted(DEPLOY.glob("*.yml")):
        texts[str(path.relative_to(ROOT))] = path.read_text()
    env = {k: v for k, v in os.environ.items()
           if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "IMAGE", "IMAGE_REPO", "IMAGE_TAG",
                        "KUBECTL", "DEPLOY_MULTUS", "K8S_TIMEOUT"}}
    make = shutil.which("make")
    if make is None:
        sys.exit("validate-manifests: `make` not found")

    def run_make(*args: str) -> str:
        r = subprocess.run([make, "-s", "--no-print-directory", "-C", str(ROOT), *args], env=env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"validate-manifests: make {' '.join(args)} failed:\n{r.stderr}")
        return r.stdout

    make_image = run_make("print-image").strip()
    runs = {t: [line for line in run_make("-n", t, "KUBECTL=kubectl", "DEPLOY_MULTUS=1").splitlines()
                if line.strip()]
            for t in ("deploy", "undeploy", "traffic-test", "traffic-test-clean")}
    overlay_problems = Problems()
    overlay = render_overlay(OVERLAY, overlay_problems)
    for e in overlay_problems.items:
        sys.exit(f"validate-manifests: {e}")
    return Context(texts=texts, docs=parse_docs(texts), make_image=make_image, make_runs=runs,
                   kubectl=shutil.which("kubectl"), overlay=overlay)


def render_overlay(kdir: Path, p: Problems, seen: tuple[Path, ...] = ()) -> list[Doc]:
    """What `kubectl kustomize kdir` builds, for the subset of kustomize the overlays use:
    `resources` (files, or directories with a kustomization.yaml, recursively) and `patches`
    given by `path`, each a strategic-merge patch matched by kind, name and namespace (`$patch:
    delete` removes the object; otherwise mappings merge and everything else is replaced). Works
    without kubectl or kustomize; when kubectl exists, check_kubectl_kustomize compares."""
    import yaml
    kdir = kdir.resolve()
    where = str(kdir.relative_to(ROOT)) if kdir.is_relative_to(ROOT) else str(kdir)
    kfile = kdir / "kustomization.yaml"
    if kdir in seen:
        p.add(where, "", "resources", "cycle: this kustomization includes itself")
        return []
    try:
        k = yaml.safe_load(kfile.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        p.add(f"{where}/kustomization.yaml", "", "", f"cannot read: {e}")
        return []
    for key in sorted(set(k) - {"apiVersion", "kind", "resources", "patches"}):
        p.add(f"{where}/kustomization.yaml", "Kustomization", key, "not understood by this validator's renderer")
    docs: list[Doc] = []
    for r in k.get("resources") or []:
        target = (kdir / str(r)).resolve()
        if target.is_dir():
            docs += render_overlay(target, p, seen + (kdir,))
        elif target.is_file():
            docs += [d for d in parse_docs({str(target.relative_to(ROOT)): target.read_text()})
                     if d.kind != "Kustomization"]
        else:
            p.add(f"{where}/kustomization.yaml", "Kustomization", f"resources[{r}]", "no such file or directory")
    for i, patch in enumerate(k.get("patches") or []):
        path_ = (patch or {}).get("path") if isinstance(patch, dict) else None
        if not path_ or set(patch) - {"path"}:
            p.add(f"{where}/kustomization.yaml", "Kustomization", f"patches[{i}]",
                  "only `path:` patches are understood by this validator's renderer")
            continue
        pfile = kdir / str(path_)
        try:
            patches = [x for x in yaml.safe_load_all(pfile.read_text()) if x is not None]
        except (OSError, yaml.YAMLError) as e:
            p.add(f"{where}/kustomization.yaml", "Kustomization", f"patches[{i}]", f"cannot read {path_}: {e}")
            continue
        for pt in patches:
            meta = pt.get("metadata") or {}
            key = (pt.get("kind"), meta.get("name"), meta.get("namespace"))
            hits = [d for d in docs if (d.kind, d.name, d.namespace) == key]
            if not hits:
                p.add(f"{where}/{path_}", f"{key[0]}/{key[1]}", "", "patches no object of the base")
                continue
            if pt.get("$patch") == "delete":
                docs = [d for d in docs if d not in hits]
                continue
            for d in hits:
                _merge(d.obj, pt)
                d.file = f"{where}/{path_}"
    return docs


def _merge(base: dict, patch: dict) -> None:
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)


def parse_docs(texts: dict[str, str]) -> list[Doc]:
    import yaml
    docs: list[Doc] = []
    for file, text in texts.items():
        try:
            for i, obj in enumerate(yaml.safe_load_all(text)):
                if obj is not None:
                    docs.append(Doc(file, i, obj))
        except yaml.YAMLError as e:
            docs.append(Doc(file, -1, {"kind": "YAMLError", "metadata": {"name": str(e)}}))
    return docs


def jpath(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def pod_specs(doc: Doc) -> list[tuple[str, dict]]:
    """(field prefix, pod spec) of a Pod or of a workload's pod template."""
    o = doc.obj
    if doc.kind == "Pod":
        return [("spec", o.get("spec") or {})]
    tmpl = (o.get("spec") or {}).get("template") if isinstance(o.get("spec"), dict) else None
    if isinstance(tmpl, dict) and isinstance(tmpl.get("spec"), dict):
        return [("spec.template.spec", tmpl["spec"])]
    return []


def containers(spec: dict) -> list[tuple[str, dict]]:
    out = []
    for key in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(key) or []):
            if isinstance(c, dict):
                out.append((f"{key}[{i}]", c))
    return out


# --- 1. schemas -----------------------------------------------------------------------------------

class Schemas:
    """kubernetes-validate's bundled schemas, one compiled validator per (version, kind)."""

    def __init__(self) -> None:
        import kubernetes_validate.utils as kvu
        self.kvu = kvu
        self.cache: dict[tuple, Any] = {}
        self.versions = ("1.33", kvu.major_minor(kvu.latest_version()))

    def _registry(self, version: str):
        from referencing import Registry, Resource
        key = ("registry", version)
        if key not in self.cache:
            defs = self.kvu.schema_contents(f"kubernetes-json-schema/v{version}.0-local-strict/_definitions.json",
                                            version)
            self.cache[key] = Resource.from_contents(defs) @ Registry()
        return self.cache[key]

    def validator(self, version: str, kind: str, api_version: str):
        import jsonschema
        from referencing import Resource
        group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        key = (version, kind, api_version)
        if key not in self.cache:
            try:
                schema = self.kvu.schema_contents(
                    f"kubernetes-json-schema/v{version}.0-local-strict/{kind.lower()}-{group_version}.json", version)
            except FileNotFoundError:
                self.cache[key] = None
            else:
                registry = Resource.from_contents(schema) @ self._registry(version)
                self.cache[key] = jsonschema.validators.Draft202012Validator(schema, registry=registry)
        return self.cache[key]

    def crd_validator(self, version: str, crd_schema: dict):
        """Strict validator for a CRD's openAPIV3Schema, metadata checked as ObjectMeta."""
        import jsonschema
        from referencing import Resource
        schema = strict_openapi(copy.deepcopy(crd_schema))
        schema.setdefault("properties", {})["metadata"] = {
            "$ref": "/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
        schema["$id"] = "https://kubernetes.io/api/crd/nad.json"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata"})
        registry = Resource.from_contents(schema) @ self._registry(version)
        return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def strict_openapi(schema: Any) -> Any:
    """Make an openAPIV3Schema reject unknown fields, as the API server's strict field validation does."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for k in ("properties", "patternProperties"):
            for v in (schema.get(k) or {}).values():
                strict_openapi(v)
        for k in ("items", "additionalProperties", "not"):
            if isinstance(schema.get(k), dict):
                strict_openapi(schema[k])
        for k in ("allOf", "anyOf", "oneOf"):
            for v in schema.get(k) or []:
                strict_openapi(v)
        for k in [k for k in schema if k.startswith("x-kubernetes-")]:
            del schema[k]
    return schema


def nad_crd_schema(ctx: Context, p: Problems) -> tuple[str, dict] | None:
    for d in ctx.docs:
        if d.kind == "CustomResourceDefinition" and \
                ((d.obj.get("spec") or {}).get("names") or {}).get("kind") == "NetworkAttachmentDefinition":
            for v in d.obj["spec"].get("versions") or []:
                if v.get("name") == "v1" and v.get("served"):
                    schema = ((v.get("schema") or {}).get("openAPIV3Schema"))
                    if isinstance(schema, dict):
                        return d.file, schema
            p.add(d.file, d.ref, "spec.versions", "no served v1 version with an openAPIV3Schema")
            return None
    p.add("deployment/", "", "", "no CustomResourceDefinition for NetworkAttachmentDefinition found "
          "(expected in deployment/multus-daemonset.yaml)")
    return None


def check_schemas(ctx: Context, p: Problems, schemas: Schemas) -> None:
    crd = nad_crd_schema(ctx, p)
    for d in ctx.docs:
        o = d.obj
        if d.kind == "YAMLError":
            p.add(d.file, "", "", f"YAML does not parse: {d.name}")
            continue
        if not isinstance(o, dict):
            p.add(d.file, f"document {d.index}", "", "not a mapping")
            continue
        if d.kind == "Kustomization":
            continue  # not an API object; checked by check_kustomization
        for key in ("apiVersion", "kind"):
            if not isinstance(o.get(key), str):
                p.add(d.file, d.ref, key, "missing")
        if not isinstance(o.get("metadata"), dict) or not o["metadata"].get("name"):
            p.add(d.file, d.ref, "metadata.name", "missing")
        if not isinstance(o.get("apiVersion"), str) or not isinstance(o.get("kind"), str):
            continue
        for version in schemas.versions:
            if d.kind == "NetworkAttachmentDefinition":
                if crd is None:
                    continue
                crd_file, crd_schema = crd
                if o["apiVersion"] != "k8s.cni.cncf.io/v1":
                    p.add(d.file, d.ref, "apiVersion", f"{o['apiVersion']} is not served by the CRD in {crd_file}")
                    continue
                validator = schemas.crd_validator(version, crd_schema)
                source = f"the NAD CRD schema in {crd_file}"
            else:
                validator = schemas.validator(version, o["kind"], o["apiVersion"])
                source = f"Kubernetes {version}"
                if validator is None:
                    p.add(d.file, d.ref, "kind", f"no schema for {o['kind']} {o['apiVersion']} in Kubernetes "
                          f"{version} (kubernetes-validate would only warn \"Couldn't find schema\")")
                    continue
            for e in sorted(validator.iter_errors(o), key=lambda e: list(map(str, e.absolute_path))):
                msg = e.message if len(e.message) < 300 else e.message[:300] + "..."
                p.add(d.file, d.ref, jpath(e.absolute_path) or "(object)", f"{msg} [strict schema of {source}]")


# --- 2. consistency -----------------------------------------------------------------------------

@dataclass
class Resource:
    full: str
    vdpa_types: set[str]
    file: str


def device_plugin_prefix(ctx: Context) -> str:
    for d in ctx.docs:
        for _, spec in pod_specs(d):
            for _, c in containers(spec):
                if "sriov-network-device-plugin" in str(c.get("image", "")):
                    args = [str(a) for a in (c.get("args") or []) + (c.get("command") or [])]
                    for i, a in enumerate(args):
                        if a.startswith("--resource-prefix="):
                            return a.split("=", 1)[1]
                        if a == "--resource-prefix" and i + 1 < len(args):
                            return args[i + 1]
    return DEFAULT_RESOURCE_PREFIX


def check_configmap(ctx: Context, p: Problems) -> dict[str, Resource]:
    resources: dict[str, Resource] = {}
    cms = [d for d in ctx.docs if d.kind == "ConfigMap" and d.name == "sriovdp-config"]
    if not cms:
        p.add("deployment/configMap-vdpa.yaml", "ConfigMap/sriovdp-config", "", "missing")
        return resources
    d = cms[0]
    if d.namespace != "kube-system":
        p.add(d.file, d.ref, "metadata.namespace", "must be kube-system, where the device plugin runs")
    raw = ((d.obj.get("data") or {}).get("config.json"))
    if not isinstance(raw, str):
        p.add(d.file, d.ref, "data[config.json]", "missing")
        return resources
    try:
        conf = json.loads(raw)
    except json.JSONDecodeError as e:
        p.add(d.file, d.ref, "data[config.json]", f"not valid JSON: {e}")
        return resources
    default_prefix = device_plugin_prefix(ctx)
    rl = conf.get("resourceList") if isinstance(conf, dict) else None
    if not isinstance(rl, list) or not rl:
        p.add(d.file, d.ref, "data[config.json].resourceList", "must be a non-empty list")
        return resources
    for i, r in enumerate(rl):
        f = f"data[config.json].resourceList[{i}]"
        if not isinstance(r, dict):
            p.add(d.file, d.ref, f, "must be an object")
            continue
        for k in sorted(set(r) - RESOURCE_KEYS):
            p.add(d.file, d.ref, f"{f}.{k}", f"unknown key (known: {', '.join(sorted(RESOURCE_KEYS))})")
        name = r.get("resourceName")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_]+", name):
            p.add(d.file, d.ref, f"{f}.resourceName", f"must be letters, digits and '_' (got {name!r})")
            continue
        prefix = r.get("resourcePrefix", default_prefix)
        if r.get("deviceType", "netDevice") != "netDevice":
            p.add(d.file, d.ref, f"{f}.deviceType", "vDPA pools must be netDevice")
        sels = r.get("selectors")
        if not isinstance(sels, list) or not sels:
            p.add(d.file, d.ref, f"{f}.selectors",
                  "use the list syntax: a non-empty list of selector maps (the single-map form is legacy)")
            sels = [sels] if isinstance(sels, dict) else []
        types: set[str] = set()
        for j, s in enumerate(sels):
            sf = f"{f}.selectors[{j}]"
            if not isinstance(s, dict):
                p.add(d.file, d.ref, sf, "must be an object")
                continue
            for k in sorted(set(s) - SELECTOR_KEYS):
                p.add(d.file, d.ref, f"{sf}.{k}", "unknown netDevice selector key")
            vt = s.get("vdpaType")
            if vt not in VDPA_TYPES:
                p.add(d.file, d.ref, f"{sf}.vdpaType", f"must be one of {sorted(VDPA_TYPES)} (got {vt!r})")
            else:
                types.add(vt)
            for k in ("vendors", "devices"):
                v = s.get(k)
                if v is not None and (not isinstance(v, list) or
                                      not all(isinstance(x, str) and re.fullmatch(r"[0-9a-f]{4}", x) for x in v)):
                    p.add(d.file, d.ref, f"{sf}.{k}", "must be a list of 4-digit lower-case hex IDs as strings")
        full = f"{prefix}/{name}"
        if full in resources:
            p.add(d.file, d.ref, f"{f}.resourceName", f"{full} defined twice")
        resources[full] = Resource(full, types, d.file)
    for missing in sorted(VARIANTS[ctx.variant]["resources"] - set(resources)):
        p.add(d.file, d.ref, "data[config.json].resourceList", f"no resource {missing}")
    return resources


def resource_hint(name: str, resources: dict[str, Resource]) -> str:
    short = name.split("/")[-1]
    same = [r for r in resources if r.split("/")[-1] == short]
    if same:
        return f"wrong prefix? the device plugin config defines {', '.join(same)}"
    return f"the device plugin config defines {', '.join(sorted(resources)) or 'nothing'}"


@dataclass
class Nad:
    doc: Doc
    resource: str | None
    config: dict


def check_nads(ctx: Context, p: Problems, resources: dict[str, Resource]) -> dict[tuple, Nad]:
    nads: dict[tuple, Nad] = {}
    for d in ctx.docs:
        if d.kind != "NetworkAttachmentDefinition":
            continue
        o = d.obj
        key = (d.namespace, d.name)
        if key in nads:
            p.add(d.file, d.ref, "metadata.name", f"also defined in {nads[key].doc.file}")
        ann = ((o.get("metadata") or {}).get("annotations") or {})
        res = ann.get(RESOURCE_ANNOTATION)
        if not res:
            p.add(d.file, d.ref, f"metadata.annotations[{RESOURCE_ANNOTATION}]",
                  "missing: without it Multus cannot find the VF the device plugin allocated")
        elif res not in resources:
            p.add(d.file, d.ref, f"metadata.annotations[{RESOURCE_ANNOTATION}]",
                  f"{res} is not a device-plugin resource ({resource_hint(res, resources)})")
        raw = (o.get("spec") or {}).get("config")
        conf: dict = {}
        if not isinstance(raw, str):
            p.add(d.file, d.ref, "spec.config", "missing (a JSON CNI configuration string)")
        else:
            try:
                conf = json.loads(raw)
            except json.JSONDecodeError as e:
                p.add(d.file, d.ref, "spec.config", f"not valid JSON: {e}")
            if not isinstance(conf, dict):
                p.add(d.file, d.ref, "spec.config", "must be a JSON object")
                conf = {}
        cni = VARIANTS[ctx.variant]["cni"]
        if conf:
            f = "spec.config"
            if conf.get("type") != cni:
                p.add(d.file, d.ref, f"{f}.type", f"must be \"{cni}\" in the {ctx.variant} variant "
                      f"(got {conf.get('type')!r})")
            if conf.get("cniVersion") not in CNI_VERSIONS:
                p.add(d.file, d.ref, f"{f}.cniVersion", f"must be one of {sorted(CNI_VERSIONS)}")
            if not isinstance(conf.get("name"), str) or not conf.get("name"):
                p.add(d.file, d.ref, f"{f}.name", "missing")
            for k in sorted(set(conf) - (SRIOV_CNI_KEYS if cni == "sriov" else OVS_CNI_KEYS)):
                p.add(d.file, d.ref, f"{f}.{k}", f"not a {cni}-cni configuration key (typo?)")
            if cni == "ovs":
                if not isinstance(conf.get("bridge"), str) or not conf.get("bridge"):
                    p.add(d.file, d.ref, f"{f}.bridge", "missing: the OVS bridge with the uplink and representors")
                if (conf.get("capabilities") or {}).get("CNIDeviceInfoFile") is not True:
                    p.add(d.file, d.ref, f"{f}.capabilities.CNIDeviceInfoFile",
                          "must be true: without it Multus gives ovs-cni no device-info file, so it cannot "
                          "find the vDPA device the device plugin allocated")
            m = re.search(r"-(\d+)$", d.name)
            vlan = conf.get("vlan")
            if m:
                if vlan != int(m.group(1)):
                    p.add(d.file, d.ref, f"{f}.vlan", f"expected {int(m.group(1))} as the name says, got {vlan!r}")
            elif vlan not in (None, 0):
                p.add(d.file, d.ref, f"{f}.vlan", f"{vlan!r} but the name has no -<vlan> suffix")
            if vlan is not None and (not isinstance(vlan, int) or isinstance(vlan, bool) or not 0 <= vlan <= 4094):
                p.add(d.file, d.ref, f"{f}.vlan", "must be an integer 0..4094")
            for k in ("trust", "spoofchk"):
                if k in conf and conf[k] not in ("on", "off"):
                    p.add(d.file, d.ref, f"{f}.{k}", f"must be \"on\" or \"off\" (got {conf[k]!r})")
            if vlan and cni == "sriov":
                if conf.get("trust") != "on":
                    p.add(d.file, d.ref, f"{f}.trust", "must be \"on\" on the VLAN traffic-test networks")
                if conf.get("spoofchk") != "off":
                    p.add(d.file, d.ref, f"{f}.spoofchk", "must be \"off\" on the VLAN traffic-test networks")
        if res in resources:
            for vt in VDPA_TYPES:
                if vt in d.name and resources[res].vdpa_types != {vt}:
                    p.add(d.file, d.ref, f"metadata.annotations[{RESOURCE_ANNOTATION}]",
                          f"the name says {vt} but {res} selects vdpaType {sorted(resources[res].vdpa_types)}")
        nads[key] = Nad(d, res, conf)
    for missing in sorted(VARIANTS[ctx.variant]["nads"] - {n for (_, n) in nads}):
        p.add("deployment/", f"NetworkAttachmentDefinition/{missing}", "", "missing")
    return nads


def env_map(c: dict) -> dict[str, Any]:
    return {e.get("name"): e for e in (c.get("env") or []) if isinstance(e, dict)}


def check_pods(ctx: Context, p: Problems, resources: dict[str, Resource], nads: dict[tuple, Nad]) -> None:
    pods = [d for d in ctx.docs if d.kind == "Pod"]
    # MAC -> (pod doc, network name), to check uniqueness and --eth-peer targets.
    macs: dict[str, tuple[Doc, str]] = {}
    pod_networks: dict[int, list[dict]] = {}
    for d in pods:
        ann = ((d.obj.get("metadata") or {}).get("annotations") or {})
        raw = ann.get(NETWORKS_ANNOTATION)
        f = f"metadata.annotations[{NETWORKS_ANNOTATION}]"
        nets: list[dict] = []
        if raw is None:
            p.add(d.file, d.ref, f, "missing: a vDPA pod needs its networks")
        else:
            try:
                nets = json.loads(raw)
                if not isinstance(nets, list) or not all(isinstance(n, dict) for n in nets):
                    raise ValueError("must be a JSON list of objects")
            except (json.JSONDecodeError, ValueError) as e:
                p.add(d.file, d.ref, f, f"not a JSON list of network selection objects: {e}")
                nets = []
        for i, n in enumerate(nets):
            nf = f"{f}[{i}]"
            for k in sorted(set(n) - NETWORK_SELECTION_KEYS):
                p.add(d.file, d.ref, f"{nf}.{k}", "unknown network selection field")
            name = n.get("name")
            ns = n.get("namespace", d.namespace)
            if (ns, name) not in nads:
                have = ", ".join(sorted(nn for (nns, nn) in nads if nns == ns)) or "none"
                p.add(d.file, d.ref, f"{nf}.name",
                      f"no NetworkAttachmentDefinition {name!r} in deployment/ for this namespace (have: {have})")
            mac = n.get("mac")
            if mac is not None:
                if not isinstance(mac, str) or not MAC_RE.match(mac):
                    p.add(d.file, d.ref, f"{nf}.mac", f"{mac!r} is not a MAC address")
                elif int(mac[:2], 16) & 1:
                    p.add(d.file, d.ref, f"{nf}.mac", f"{mac} is a multicast address")
                elif mac.upper() in macs:
                    other = macs[mac.upper()][0]
                    p.add(d.file, d.ref, f"{nf}.mac", f"{mac} is also used by {other.ref} in {other.file}")
                else:
                    macs[mac.upper()] = (d, str(name))
        pod_networks[id(d)] = nets

    for d in pods:
        nets = pod_networks[id(d)]
        spec = d.obj.get("spec") or {}
        # vDPA resources the networks consume, one device per network.
        wanted: dict[str, int] = {}
        for n in nets:
            nad = nads.get((n.get("namespace", d.namespace), n.get("name")))
            if nad and nad.resource:
                wanted[nad.resource] = wanted.get(nad.resource, 0) + 1
        requested: dict[str, int] = {}
        vols = {v.get("name"): v for v in spec.get("volumes") or [] if isinstance(v, dict)}
        for cf, c in containers(spec):
            base = f"spec.{cf}"
            check_container_resources(d, p, base, c, resources, requested)
            check_container_env(d, p, base, c, nets, nads, macs)
            check_container_files(d, p, base, c, vols)
            check_container_security(d, p, base, c)
            if c.get("image") != ctx.make_image:
                p.add(d.file, d.ref, f"{base}.image",
                      f"{c.get('image')!r} is not the image `make images` builds ({ctx.make_image}; "
                      "make print-image)")
            if c.get("imagePullPolicy") == "Always":
                p.add(d.file, d.ref, f"{base}.imagePullPolicy",
                      "Always would pull the locally loaded image from a registry; use IfNotPresent")
        for res in sorted(set(wanted) | set(requested)):
            if wanted.get(res, 0) != requested.get(res, 0):
                p.add(d.file, d.ref, "spec.containers[*].resources.requests",
                      f"{res}: requests {requested.get(res, 0)} but its networks use {wanted.get(res, 0)} "
                      "(one device per network)")
        for k in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(k):
                p.add(d.file, d.ref, f"spec.{k}", "a vDPA workload pod must not share host namespaces")
        for name, v in vols.items():
            if "hostPath" in v:
                p.add(d.file, d.ref, f"spec.volumes[{name}].hostPath",
                      "a vDPA workload pod gets its device from the device plugin, not a hostPath")
        check_traffic_pod(d, p, nets)
        check_rfc2544_pod(d, p, nets)


def check_container_resources(d: Doc, p: Problems, base: str, c: dict, resources: dict[str, Resource],
                              requested: dict[str, int]) -> None:
    r = c.get("resources") or {}
    req, lim = r.get("requests") or {}, r.get("limits") or {}
    for name in sorted(set(req) | set(lim)):
        if "/" not in name or name.startswith(("kubernetes.io/", "requests.", "limits.")):
            continue
        if name not in resources:
            where = "requests" if name in req else "limits"
            p.add(d.file, d.ref, f"{base}.resources.{where}[{name}]",
                  f"not a device-plugin resource ({resource_hint(name, resources)})")
        if str(req.get(name)) != str(lim.get(name)):
            p.add(d.file, d.ref, f"{base}.resources[{name}]",
                  f"requests ({req.get(name)}) and limits ({lim.get(name)}) of an extended resource must be equal")
        try:
            requested[name] = requested.get(name, 0) + int(str(req.get(name, lim.get(name))))
        except ValueError:
            p.add(d.file, d.ref, f"{base}.resources.requests[{name}]", "must be a whole number")
    for name in sorted(n for n in set(req) | set(lim) if n.startswith("hugepages-")):
        if name in req and name in lim and str(req[name]) != str(lim[name]):
            p.add(d.file, d.ref, f"{base}.resources[{name}]", "hugepage requests and limits must be equal")
        if "memory" not in req and "cpu" not in req:
            p.add(d.file, d.ref, f"{base}.resources.requests", "hugepages need a memory or cpu request")


def check_container_env(d: Doc, p: Problems, base: str, c: dict, nets: list[dict], nads: dict[tuple, Nad],
                        macs: dict[str, tuple[Doc, str]]) -> None:
    env = env_map(c)
    cname = c.get("name")
    for k in ("CONTAINER_NAME", "DPDK_SAMPLE_APP"):
        if k not in env:
            p.add(d.file, d.ref, f"{base}.env[{k}]", "missing")
    for k, e in env.items():
        if k in ("CONTAINER_NAME", "DPDK_SAMPLE_APP") or (k or "").endswith("_EXTRA_ARGS"):
            if "value" not in e or "valueFrom" in e:
                p.add(d.file, d.ref, f"{base}.env[{k}]",
                      "must be a literal value (tests and the entrypoint read it from this manifest)")
    if "CONTAINER_NAME" in env and env["CONTAINER_NAME"].get("value") != cname:
        p.add(d.file, d.ref, f"{base}.env[CONTAINER_NAME]",
              f"{env['CONTAINER_NAME'].get('value')!r} must equal the container name {cname!r}")
    app = (env.get("DPDK_SAMPLE_APP") or {}).get("value")
    if "DPDK_SAMPLE_APP" in env and app not in SAMPLE_APPS:
        p.add(d.file, d.ref, f"{base}.env[DPDK_SAMPLE_APP]", f"{app!r} is not one of {sorted(SAMPLE_APPS)}")
    for k in env:
        if (k or "").endswith("_EXTRA_ARGS") and k != f"{str(app).upper()}_EXTRA_ARGS":
            p.add(d.file, d.ref, f"{base}.env[{k}]", f"has no effect with DPDK_SAMPLE_APP={app}")
    var = f"{str(app).upper()}_EXTRA_ARGS"
    if app not in ("testpmd", "rfc2544") or var not in env:
        return
    f = f"{base}.env[{var}]"
    try:
        args = shlex.split(str(env[var].get("value", "")))
    except ValueError as e:
        p.add(d.file, d.ref, f, f"cannot be split: {e}")
        return
    it = iter(range(len(args)))
    for i in it:
        a = args[i]
        opt, sep, val = a.partition("=")
        if opt in ("--forward-mode", "--eth-peer") and not sep:
            val = args[i + 1] if i + 1 < len(args) else ""
            next(it, None)
        if opt == "--forward-mode" and val not in TESTPMD_FWD_MODES:
            p.add(d.file, d.ref, f, f"--forward-mode={val}: not a testpmd 22.11 engine")
        if opt == "--eth-peer":
            port, _, mac = val.partition(",")
            if not port.isdigit() or not (MAC_RE.match(mac) or mac == "auto"):
                p.add(d.file, d.ref, f, f"--eth-peer={val}: expected PORT,XX:XX:XX:XX:XX:XX or PORT,auto")
                continue
            if mac == "auto":
                if int(port) >= len(nets):
                    p.add(d.file, d.ref, f, f"--eth-peer={val}: port {port} does not exist (the pod has "
                          f"{len(nets)} vDPA networks)")
                continue
            if int(port) >= len(nets):
                p.add(d.file, d.ref, f, f"--eth-peer={val}: port {port} does not exist (the pod has {len(nets)} "
                      "vDPA networks, ports 0..n-1 in annotation order)")
                continue
            net = nets[int(port)].get("name")
            owner = macs.get(mac.upper())
            if owner is None:
                p.add(d.file, d.ref, f, f"--eth-peer={val}: {mac} is no pod's MAC in deployment/")
            elif owner[0] is d:
                p.add(d.file, d.ref, f, f"--eth-peer={val}: {mac} is this pod's own MAC")
            elif owner[1] != net:
                p.add(d.file, d.ref, f, f"--eth-peer={val}: port {port} is on {net} but {mac} "
                      f"({owner[0].ref}) is on {owner[1]}: the frames would never reach it")


def check_container_files(d: Doc, p: Problems, base: str, c: dict, vols: dict[str, dict]) -> None:
    """Downward API at /etc/podnetinfo (labels, annotations, this container's hugepage files) and the
    HugePages emptyDir at /dev/hugepages."""
    cname = c.get("name")
    mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or [] if isinstance(m, dict)}
    info = vols.get(mounts.get("/etc/podnetinfo"))
    if not info or "downwardAPI" not in info:
        p.add(d.file, d.ref, f"{base}.volumeMounts", "no downwardAPI volume mounted at /etc/podnetinfo")
        items = []
    else:
        items = (info["downwardAPI"] or {}).get("items") or []
    vf = f"spec.volumes[{mounts.get('/etc/podnetinfo')}].downwardAPI.items"
    by_path = {i.get("path"): i for i in items if isinstance(i, dict)}
    for path_, field_ in (("labels", "metadata.labels"), ("annotations", "metadata.annotations")):
        got = ((by_path.get(path_) or {}).get("fieldRef") or {}).get("fieldPath")
        if items and got != field_:
            p.add(d.file, d.ref, f"{vf}[{path_}]", f"must be fieldRef {field_}")
    req = ((c.get("resources") or {}).get("requests") or {})
    lim = ((c.get("resources") or {}).get("limits") or {})
    for size, res in HUGEPAGE_RESOURCE.items():
        if res not in req and res not in lim:
            continue
        for kind in ("request", "limit"):
            want = f"hugepages_{size}_{kind}_{cname}"
            if want not in by_path:
                p.add(d.file, d.ref, vf, f"no item {want!r}: the entrypoint reads {cname}'s hugepage {kind} from it")
        if "/dev/hugepages" not in mounts or (vols.get(mounts["/dev/hugepages"]) or {}).get(
                "emptyDir", {}).get("medium") != "HugePages":
            p.add(d.file, d.ref, f"{base}.volumeMounts", "no emptyDir with medium HugePages at /dev/hugepages")
    for path_, item in by_path.items():
        ref = item.get("resourceFieldRef")
        m = HUGEPAGE_FILE_RE.match(str(path_))
        if ref and str(ref.get("resource", "")).split(".")[-1].startswith("hugepages-") and not m:
            p.add(d.file, d.ref, f"{vf}[{path_}]", "hugepage files must be named hugepages_<1G|2M>_<request|limit>_<container>")
        if not m:
            continue
        size, kind, owner = m.groups()
        if owner not in {cc.get("name") for _, cc in containers(d.obj.get("spec") or {})}:
            p.add(d.file, d.ref, f"{vf}[{path_}]", f"names container {owner!r}, which this pod does not have")
        if owner != cname:
            continue
        want_res = f"{kind}s.{HUGEPAGE_RESOURCE[size]}"
        if not ref:
            p.add(d.file, d.ref, f"{vf}[{path_}]", "must be a resourceFieldRef")
            continue
        if ref.get("containerName") != cname:
            p.add(d.file, d.ref, f"{vf}[{path_}].resourceFieldRef.containerName",
                  f"{ref.get('containerName')!r} but the file name says {cname!r}")
        if ref.get("resource") != want_res:
            p.add(d.file, d.ref, f"{vf}[{path_}].resourceFieldRef.resource",
                  f"{ref.get('resource')!r} but the file name says {want_res!r}")
        if str(ref.get("divisor")) != "1Mi":
            p.add(d.file, d.ref, f"{vf}[{path_}].resourceFieldRef.divisor",
                  "must be 1Mi (the entrypoint reads MiB)")


def check_container_security(d: Doc, p: Problems, base: str, c: dict) -> None:
    sc = c.get("securityContext") or {}
    f = f"{base}.securityContext"
    if sc.get("privileged"):
        p.add(d.file, d.ref, f"{f}.privileged", "workload pods must not be privileged (least privilege)")
    if sc.get("allowPrivilegeEscalation") is not False:
        p.add(d.file, d.ref, f"{f}.allowPrivilegeEscalation", "must be false")
    caps = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []):
        p.add(d.file, d.ref, f"{f}.capabilities.drop", "must drop ALL and add back only what is needed")
    added = {str(x).removeprefix("CAP_") for x in caps.get("add") or []}
    for cap in sorted(added - ALLOWED_ADDED_CAPS):
        p.add(d.file, d.ref, f"{f}.capabilities.add", f"{cap} is not needed by a vhost-vdpa DPDK pod "
              f"(allowed: {', '.join(sorted(ALLOWED_ADDED_CAPS))})")
    for cap in sorted(REQUIRED_CAPS - added):
        p.add(d.file, d.ref, f"{f}.capabilities.add", f"{cap} is required (vhost-vdpa pins memory)")


def expected_pod(d: Doc, p: Problems, file: str, expected: dict[str, dict]) -> dict | None:
    """The expectations for pod `d` of test manifest `file` (None: another file, or reported as unexpected),
    with its node selector checked."""
    if Path(d.file).name != file:
        return None
    want = expected.get(d.name)
    if want is None:
        p.add(d.file, d.ref, "metadata.name", f"unexpected pod (the test has {', '.join(expected)})")
        return None
    sel = (d.obj.get("spec") or {}).get("nodeSelector") or {}
    if sel != {want["selector"]: "true"}:
        p.add(d.file, d.ref, "spec.nodeSelector", f"must be {{{want['selector']}: \"true\"}}")
    return want


def check_traffic_pod(d: Doc, p: Problems, nets: list[dict]) -> None:
    want = expected_pod(d, p, TRAFFIC_TEST, EXPECTED_TRAFFIC_PODS)
    if want is None:
        return
    got = [(n.get("name"), str(n.get("mac", "")).upper()) for n in nets]
    if got != want["macs"]:
        p.add(d.file, d.ref, f"metadata.annotations[{NETWORKS_ANNOTATION}]", f"must be {want['macs']} (got {got})")
    for cf, c in containers(d.obj.get("spec") or {}):
        args = str((env_map(c).get("TESTPMD_EXTRA_ARGS") or {}).get("value", ""))
        if f"--forward-mode={want['mode']}" not in args.split():
            p.add(d.file, d.ref, f"spec.{cf}.env[TESTPMD_EXTRA_ARGS]", f"must contain --forward-mode={want['mode']}")
        if want["mode"] == "txonly":
            peers = [a for a in args.split() if a.startswith("--eth-peer")]
            want_peers = [f"--eth-peer={i},auto" for i in range(len(nets))]
            if peers != want_peers:
                p.add(d.file, d.ref, f"spec.{cf}.env[TESTPMD_EXTRA_ARGS]",
                      f"the generator needs {' '.join(want_peers)}: a vDPA device may own another MAC than the "
                      "annotation's, so it must learn the sink's from its announcements (got "
                      f"{' '.join(peers) or 'none'})")
        if want["mode"] == "rxonly" and "--announce" not in args.split():
            p.add(d.file, d.ref, f"spec.{cf}.env[TESTPMD_EXTRA_ARGS]",
                  "must contain --announce: the generator's --eth-peer=P,auto waits for the sink's MAC announcements")


def check_rfc2544_pod(d: Doc, p: Problems, nets: list[dict]) -> None:
    want = expected_pod(d, p, RFC2544_TEST, EXPECTED_RFC2544_PODS)
    if want is None:
        return
    spec = d.obj.get("spec") or {}
    if "restart" in want and spec.get("restartPolicy") != want["restart"]:
        p.add(d.file, d.ref, "spec.restartPolicy", f"must be {want['restart']}: the search runs once and ends")
    for cf, c in containers(spec):
        env = env_map(c)
        app = str((env.get("DPDK_SAMPLE_APP") or {}).get("value", ""))
        if app != want["app"]:
            p.add(d.file, d.ref, f"spec.{cf}.env[DPDK_SAMPLE_APP]", f"must be {want['app']}")
            continue
        var = f"{app.upper()}_EXTRA_ARGS"
        args = str((env.get(var) or {}).get("value", "")).split()
        if "modes" in want:
            modes = {a.partition("=")[2] for a in args if a.startswith("--forward-mode=")}
            if not modes or not modes <= want["modes"]:
                p.add(d.file, d.ref, f"spec.{cf}.env[{var}]",
                      f"the reflector must return frames: --forward-mode={' or '.join(sorted(want['modes']))}")
            if "--announce" not in args:
                p.add(d.file, d.ref, f"spec.{cf}.env[{var}]",
                      "must contain --announce: the generator's --eth-peer=P,auto waits for the reflector's MAC announcements")
            if len(nets) > 1 and "--port-topology=loop" not in args:
                p.add(d.file, d.ref, f"spec.{cf}.env[{var}]",
                      "must contain --port-topology=loop: with testpmd's default (paired) a frame from one VLAN "
                      "is returned on the other, where no port owns the generator's MAC")
        else:
            peers = [a for a in args if a.startswith("--eth-peer")]
            want_peers = [f"--eth-peer={i},auto" for i in range(len(nets))]
            if peers != want_peers:
                p.add(d.file, d.ref, f"spec.{cf}.env[{var}]",
                      f"the generator needs {' '.join(want_peers)}: a vDPA device may own another MAC than the "
                      f"annotation's, so it must learn the reflector's from its announcements (got {' '.join(peers) or 'none'})")


def check_images(ctx: Context, p: Problems) -> None:
    repo = ctx.make_image.rsplit(":", 1)[0]
    for d in ctx.docs:
        for prefix, spec in pod_specs(d):
            for cf, c in containers(spec):
                image = str(c.get("image", ""))
                f = f"{prefix}.{cf}.image"
                if not image:
                    p.add(d.file, d.ref, f, "missing")
                    continue
                if image.split("@")[0].rsplit(":", 1)[0] == repo:
                    continue  # ours: check_pods compares it with the Makefile
                if DIGEST_RE.search(image):
                    continue
                last = image.rsplit("/", 1)[-1]
                if ":" not in last:
                    p.add(d.file, d.ref, f, f"{image} is untagged (= latest); pin a release tag or a digest")
                    continue
                tag = last.rsplit(":", 1)[1]
                if tag in FLOATING_TAGS or tag.split("-")[0] in FLOATING_TAGS or not RELEASE_TAG_RE.match(tag):
                    p.add(d.file, d.ref, f, f"{image}: tag {tag!r} is not a release; pin vX.Y.Z or a digest")


# Lines that grant a privilege and so need a justifying comment.
PRIVILEGE_LINE = re.compile(
    r"^\s*(?:-\s+)?(privileged:\s*true|hostNetwork:\s*true|hostPID:\s*true|hostIPC:\s*true|hostPath:|"
    r"runAsUser:\s*0\b|allowPrivilegeEscalation:\s*true|mountPropagation:\s*Bidirectional)")
CAP_ITEM = re.compile(r"^(\s*)-\s+(?:CAP_)?[A-Z][A-Z_]+\s*(#.*)?$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _comment_above(lines: list[str], i: int) -> bool:
    j = i - 1
    return j >= 0 and lines[j].lstrip().startswith("#")


def _justified(lines: list[str], i: int) -> bool:
    line = lines[i]
    if re.search(r"\s#\s*\S", line):
        return True
    if _comment_above(lines, i):
        return True
    # The comment may sit above the list item that holds this line ("- name: x" / "  hostPath:").
    ind = _indent(line)
    for j in range(i - 1, -1, -1):
        s = lines[j]
        if not s.strip() or s.lstrip().startswith("#"):
            return False
        if _indent(s) < ind:
            return s.lstrip().startswith("- ") and _comment_above(lines, j)
    return False


def check_privilege_comments(ctx: Context, p: Problems) -> None:
    for file, text in ctx.texts.items():
        lines = text.splitlines()
        for i, line in enumerate(lines):
            what = None
            m = PRIVILEGE_LINE.match(line)
            if m:
                what = m.group(1)
            else:
                c = CAP_ITEM.match(line)
                if c:
                    # a capability added (not dropped): the parent key of this list is "add:"
                    for j in range(i - 1, -1, -1):
                        s = lines[j]
                        if not s.strip() or s.lstrip().startswith("#") or CAP_ITEM.match(s):
                            continue
                        if s.strip() == "add:":
                            what = "capability " + line.strip().lstrip("- ").split("#")[0].strip()
                        break
            if what and not _justified(lines, i):
                p.add(file, f"line {i + 1}", "", f"`{what}` has no comment saying why it is needed")


def check_kustomization(ctx: Context, p: Problems) -> None:
    ks = [d for d in ctx.docs if d.kind == "Kustomization"]
    kfile = "deployment/kustomization.yaml"
    if not ks:
        p.add(kfile, "", "", "missing")
        return
    k = ks[0].obj
    known = {"apiVersion", "kind", "resources", "namespace", "images", "labels", "commonLabels",
             "commonAnnotations", "patches", "configMapGenerator", "generatorOptions", "components"}
    for key in sorted(set(k) - known):
        p.add(kfile, "Kustomization", key, "unexpected key")
    listed = [str(r) for r in k.get("resources") or []]
    files = {Path(f).name for f in ctx.texts} - {"kustomization.yaml"}
    for r in listed:
        if r not in files:
            p.add(kfile, "Kustomization", f"resources[{r}]", "no such file in deployment/")
        if r in WORKLOAD_FILES:
            p.add(kfile, "Kustomization", f"resources[{r}]", "workload pods are applied by make traffic-test / by hand")
    for f in sorted(files - set(listed) - WORKLOAD_FILES):
        p.add(kfile, "Kustomization", "resources", f"{f} is neither listed nor a workload file")
    deployed = _files_of(ctx.make_runs["deploy"])
    if set(listed) != set(deployed):
        p.add("Makefile", "deploy", "", f"applies {sorted(deployed)} but kustomization.yaml lists {sorted(listed)}")


def _files_of(commands: list[str]) -> list[str]:
    out: list[str] = []
    for cmd in commands:
        for m in re.finditer(r"-f\s+deployment/(\S+\.ya?ml)", cmd):
            out.append(m.group(1))
    return out


def check_make_order(ctx: Context, p: Problems) -> None:
    files = {Path(f).name for f in ctx.texts}
    for target, cmds in ctx.make_runs.items():
        for f in _files_of(cmds):
            if f not in files:
                p.add("Makefile", target, "", f"uses deployment/{f}, which does not exist")

    def pos(cmds: list[str], needle: str) -> int:
        for i, c in enumerate(cmds):
            if needle in c:
                return i
        return -1

    d = ctx.make_runs["deploy"]
    order = [("multus-daemonset.yaml", "condition=Established"), ("condition=Established", "netAttach-"),
             ("sriovcni-vdpa-daemonset.yaml", "netAttach-"),
             ("configMap-vdpa.yaml", "sriovdp-vdpa-daemonset.yaml"), ("sriovdp-vdpa-daemonset.yaml", "netAttach-")]
    for a, b in order:
        pa, pb = pos(d, a), pos(d, b)
        if pa < 0 or pb < 0 or pa >= pb:
            p.add("Makefile", "deploy", "", f"must run `{a}` before `{b}` (make -n deploy)")
    u = ctx.make_runs["undeploy"]
    for a, b in [("vdpa-dpdk-traffic-test.yaml", "netAttach-"), ("vdpa-single.yaml", "netAttach-"),
                 ("netAttach-", "sriovdp-vdpa-daemonset.yaml"), ("sriovdp-vdpa-daemonset.yaml", "configMap-vdpa.yaml"),
                 ("configMap-vdpa.yaml", "multus-daemonset.yaml"), ("sriovcni-vdpa-daemonset.yaml", "multus-daemonset.yaml")]:
        pa, pb = pos(u, a), pos(u, b)
        if pa < 0 or pb < 0 or pa >= pb:
            p.add("Makefile", "undeploy", "", f"must delete `{a}` before `{b}` (make -n undeploy)")
    for c in u:
        if " delete " in f" {c} " and "--ignore-not-found" not in c:
            p.add("Makefile", "undeploy", "", f"`{c}` fails when the object is already gone; add --ignore-not-found")
    t = ctx.make_runs["traffic-test"]
    if not (0 <= pos(t, "netAttach-") < pos(t, TRAFFIC_TEST)):
        p.add("Makefile", "traffic-test", "", "must apply the NADs before the pods")


def check_kubectl_kustomize(ctx: Context, p: Problems) -> None:
    """Optional: when kubectl exists, `kubectl kustomize` must build the same objects."""
    if not ctx.kubectl:
        return
    r = subprocess.run([ctx.kubectl, "kustomize", str(DEPLOY)], capture_output=True, text=True,
                       env=dict(os.environ, KUBECONFIG=os.devnull))
    if r.returncode != 0:
        p.add("deployment/kustomization.yaml", "", "", f"kubectl kustomize failed: {r.stderr.strip()}")
    r = subprocess.run([ctx.kubectl, "kustomize", str(OVERLAY)], capture_output=True, text=True,
                       env=dict(os.environ, KUBECONFIG=os.devnull))
    if r.returncode != 0:
        p.add("overlays/switchdev/kustomization.yaml", "", "", f"kubectl kustomize failed: {r.stderr.strip()}")
        return
    import yaml
    key = lambda o: (o.get("kind"), (o.get("metadata") or {}).get("name"), (o.get("metadata") or {}).get("namespace"))
    theirs = {key(o): o for o in yaml.safe_load_all(r.stdout) if o}
    ours = {key(d.obj): d.obj for d in ctx.overlay}
    for k in sorted(set(theirs) ^ set(ours), key=str):
        p.add("overlays/switchdev", f"{k[0]}/{k[1]}", "",
              f"only {'kubectl kustomize' if k in theirs else 'this validator'} renders it")
    for k in sorted(set(theirs) & set(ours), key=str):
        if theirs[k] != ours[k]:
            p.add("overlays/switchdev", f"{k[0]}/{k[1]}", "", "kubectl kustomize renders it differently")


PODMONITOR_DIR = DEPLOY / "components" / "podmonitor"


def check_podmonitor(ctx: Context, p: Problems) -> None:
    """The PodMonitor component (a CRD kind, so not schema-checked): it is a kustomize Component
    listing podmonitor.yaml, and its selector and port reach the traffic-test pods, whose
    METRICS_ADDR port, `metrics` containerPort and prometheus.io/port annotation agree."""
    import yaml
    kfile, mfile = (str((PODMONITOR_DIR / f).relative_to(ROOT)) for f in ("kustomization.yaml", "podmonitor.yaml"))
    try:
        kust = yaml.safe_load((ROOT / kfile).read_text()) or {}
        mon = yaml.safe_load((ROOT / mfile).read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        p.add(kfile, "", "", f"cannot read the PodMonitor component: {e}")
        return
    if kust.get("kind") != "Component" or kust.get("resources") != ["podmonitor.yaml"]:
        p.add(kfile, "", "kind/resources", "must be a kustomize Component listing podmonitor.yaml")
    where = f"{mon.get('kind')}/{(mon.get('metadata') or {}).get('name')}"
    if mon.get("apiVersion") != "monitoring.coreos.com/v1" or mon.get("kind") != "PodMonitor":
        p.add(mfile, where, "apiVersion/kind", "must be monitoring.coreos.com/v1 PodMonitor")
    spec = mon.get("spec") or {}
    match = (spec.get("selector") or {}).get("matchLabels") or {}
    ports = [e.get("port") for e in spec.get("podMetricsEndpoints") or []]
    pods = [d for d in ctx.docs if d.kind == "Pod" and Path(d.file).name == TRAFFIC_TEST]
    if not match or not ports:
        p.add(mfile, where, "spec", "needs selector.matchLabels and podMetricsEndpoints[].port")
        return
    for d in pods:
        labels = (d.obj.get("metadata") or {}).get("labels") or {}
        if any(labels.get(k) != v for k, v in match.items()):
            p.add(mfile, where, "spec.selector.matchLabels", f"does not select {d.file}: {d.ref} (labels {labels})")
        annotations = (d.obj.get("metadata") or {}).get("annotations") or {}
        for _, spec_ in pod_specs(d):
            for base, c in containers(spec_):
                named = {cp.get("name"): cp.get("containerPort") for cp in c.get("ports") or []}
                for port in ports:
                    if port not in named:
                        p.add(d.file, d.ref, f"{base}.ports", f"no containerPort named {port!r} for the PodMonitor")
                addr = str((env_map(c).get("METRICS_ADDR") or {}).get("value", ""))
                want = str(named.get("metrics"))
                if addr.rpartition(":")[2] != want or str(annotations.get("prometheus.io/port")) != want:
                    p.add(d.file, d.ref, f"{base}.env[METRICS_ADDR]",
                          f"{addr!r}, containerPort metrics {want} and prometheus.io/port "
                          f"{annotations.get('prometheus.io/port')!r} must name the same port")


def run_checks(ctx: Context, schemas: Schemas) -> list[str]:
    p = Problems()
    check_schemas(ctx, p, schemas)
    resources = check_configmap(ctx, p)
    nads = check_nads(ctx, p, resources)
    check_pods(ctx, p, resources, nads)
    check_images(ctx, p)
    check_privilege_comments(ctx, p)
    check_kustomization(ctx, p)
    check_make_order(ctx, p)
    check_podmonitor(ctx, p)
    # The switchdev overlay, rendered, with the workload pods of the base.
    workloads = [d for d in ctx.docs if Path(d.file).name in WORKLOAD_FILES]
    sw = Context(texts=ctx.texts, docs=ctx.overlay + workloads, make_image=ctx.make_image,
                 make_runs=ctx.make_runs, variant="switchdev")
    check_schemas(sw, p, schemas)
    resources = check_configmap(sw, p)
    nads = check_nads(sw, p, resources)
    check_pods(sw, p, resources, nads)
    check_images(sw, p)
    if any(d.kind == "DaemonSet" and d.name == "kube-sriov-cni-ds" for d in ctx.overlay):
        p.add("overlays/switchdev", "DaemonSet/kube-sriov-cni-ds", "", "sriov-cni is not on the switchdev path")
    return p.items


# --- 3. self-tests ------------------------------------------------------------------------------

def _doc(ctx: Context, kind: str, name: str) -> dict:
    for d in ctx.docs:
        if d.kind == kind and d.name == name:
            return d.obj
    raise KeyError(f"{kind}/{name}")


def _container(ctx: Context, pod: str) -> dict:
    return _doc(ctx, "Pod", pod)["spec"]["containers"][0]


def _env(ctx: Context, pod: str, name: str) -> dict:
    return next(e for e in _container(ctx, pod)["env"] if e["name"] == name)


def _nad_config(ctx: Context, nad: str, **changes: Any) -> None:
    o = _doc(ctx, "NetworkAttachmentDefinition", nad)
    conf = json.loads(o["spec"]["config"])
    for k, v in changes.items():
        if v is None:
            conf.pop(k, None)
        else:
            conf[k] = v
    o["spec"]["config"] = json.dumps(conf)


def _overlay_nad(ctx: Context, nad: str, **changes: Any) -> None:
    for d in ctx.overlay:
        if d.kind == "NetworkAttachmentDefinition" and d.name == nad:
            conf = json.loads(d.obj["spec"]["config"])
            conf.update(changes)
            d.obj["spec"]["config"] = json.dumps(conf)
            return
    raise KeyError(nad)


def _cm(ctx: Context, fn: Callable[[dict], None]) -> None:
    o = _doc(ctx, "ConfigMap", "sriovdp-config")
    conf = json.loads(o["data"]["config.json"])
    fn(conf)
    o["data"]["config.json"] = json.dumps(conf)


def _networks(ctx: Context, pod: str, fn: Callable[[list], None]) -> None:
    o = _doc(ctx, "Pod", pod)
    nets = json.loads(o["metadata"]["annotations"][NETWORKS_ANNOTATION])
    fn(nets)
    o["metadata"]["annotations"][NETWORKS_ANNOTATION] = json.dumps(nets)


def _text(ctx: Context, file: str, old: str, new: str) -> None:
    assert old in ctx.texts[file], (file, old)
    ctx.texts[file] = ctx.texts[file].replace(old, new, 1)


def _volume_item(ctx: Context, pod: str, path_: str) -> dict:
    for v in _doc(ctx, "Pod", pod)["spec"]["volumes"]:
        for item in (v.get("downwardAPI") or {}).get("items") or []:
            if item["path"] == path_:
                return item
    raise KeyError(path_)


def _ds_container(ctx: Context, name: str, init: bool = False) -> dict:
    spec = _doc(ctx, "DaemonSet", name)["spec"]["template"]["spec"]
    return spec["initContainers" if init else "containers"][0]


TT = f"deployment/{TRAFFIC_TEST}"
SELF_TESTS: list[tuple[str, Callable[[Context], None], str]] = [
    # schemas
    ("unknown field in a Pod spec (strict schema)",
     lambda c: _container(c, "vdpa-pod-gen").__setitem__("imagePullPolicyy", "IfNotPresent"),
     rf"{TT}: Pod/vdpa-pod-gen: spec.containers\[0\]: Additional properties are not allowed .*imagePullPolicyy"),
    ("wrong type in a DaemonSet (schema)",
     lambda c: _doc(c, "DaemonSet", "kube-sriov-cni-ds")["spec"]["template"]["spec"].__setitem__("hostNetwork", "yes"),
     r"sriovcni-vdpa-daemonset.yaml: DaemonSet/kube-sriov-cni-ds: spec.template.spec.hostNetwork: 'yes' is not of type"),
    ("kind without a schema is an error, not a warning",
     lambda c: _doc(c, "ConfigMap", "sriovdp-config").__setitem__("kind", "ConfigMapp"),
     r"configMap-vdpa.yaml: ConfigMapp/sriovdp-config: kind: no schema for ConfigMapp v1"),
    ("unknown field in a NAD spec (the CRD's schema, strict)",
     lambda c: _doc(c, "NetworkAttachmentDefinition", "vdpa-mlx-vhost-net-1000")["spec"].__setitem__("confg", "{}"),
     r"netAttach-vdpa-vhost-mlx-1000.yaml: NetworkAttachmentDefinition/vdpa-mlx-vhost-net-1000: spec: "
     r"Additional properties are not allowed .*confg.*NAD CRD schema"),
    ("NAD spec.config not a string (the CRD's schema)",
     lambda c: _doc(c, "NetworkAttachmentDefinition", "vdpa-mlx-vhost-net")["spec"].__setitem__("config", {"type": "sriov"}),
     r"NetworkAttachmentDefinition/vdpa-mlx-vhost-net: spec.config: .* is not of type 'string'"),
    # ConfigMap
    ("ConfigMap config.json not JSON",
     lambda c: _doc(c, "ConfigMap", "sriovdp-config")["data"].__setitem__("config.json", "{resourceList: ["),
     r"configMap-vdpa.yaml: ConfigMap/sriovdp-config: data\[config.json\]: not valid JSON"),
    ("single-map selector syntax",
     lambda c: _cm(c, lambda conf: conf["resourceList"][1].__setitem__("selectors", conf["resourceList"][1]["selectors"][0])),
     r"resourceList\[1\].selectors: use the list syntax"),
    ("selector without vdpaType",
     lambda c: _cm(c, lambda conf: conf["resourceList"][0]["selectors"][0].pop("vdpaType")),
     r"resourceList\[0\].selectors\[0\].vdpaType: must be one of"),
    # NADs
    ("NAD resourceName with the wrong prefix",
     lambda c: _doc(c, "NetworkAttachmentDefinition", "vdpa-mlx-vhost-net-2000")["metadata"]["annotations"].__setitem__(
         RESOURCE_ANNOTATION, "nvidia.com/vdpa_mlx_vhost"),
     r"netAttach-vdpa-vhost-mlx-2000.yaml: NetworkAttachmentDefinition/vdpa-mlx-vhost-net-2000: "
     r"metadata.annotations\[k8s.v1.cni.cncf.io/resourceName\]: nvidia.com/vdpa_mlx_vhost is not a device-plugin "
     r"resource \(wrong prefix\?"),
    ("NAD config not JSON",
     lambda c: _doc(c, "NetworkAttachmentDefinition", "vdpa-mlx-vhost-net")["spec"].__setitem__("config", '{"type": sriov}'),
     r"netAttach-vdpa-vhost-mlx.yaml: NetworkAttachmentDefinition/vdpa-mlx-vhost-net: spec.config: not valid JSON"),
    ("NAD of another CNI type", lambda c: _nad_config(c, "vdpa-mlx-vhost-net-1000", type="macvlan"),
     r"vdpa-mlx-vhost-net-1000: spec.config.type: must be \"sriov\""),
    ("NAD VLAN not the one its name says", lambda c: _nad_config(c, "vdpa-mlx-vhost-net-1000", vlan=1001),
     r"vdpa-mlx-vhost-net-1000: spec.config.vlan: expected 1000"),
    ("VLAN NAD without trust", lambda c: _nad_config(c, "vdpa-mlx-vhost-net-2000", trust="off"),
     r"vdpa-mlx-vhost-net-2000: spec.config.trust: must be \"on\""),
    ("VLAN NAD with spoof check", lambda c: _nad_config(c, "vdpa-mlx-vhost-net-2000", spoofchk=None),
     r"vdpa-mlx-vhost-net-2000: spec.config.spoofchk: must be \"off\""),
    ("typo in a sriov-cni key", lambda c: _nad_config(c, "vdpa-mlx-vhost-net-2000", spoofChk="off"),
     r"vdpa-mlx-vhost-net-2000: spec.config.spoofChk: not a sriov-cni configuration key"),
    ("vhost NAD on the virtio pool",
     lambda c: _doc(c, "NetworkAttachmentDefinition", "vdpa-mlx-vhost-net")["metadata"]["annotations"].__setitem__(
         RESOURCE_ANNOTATION, "intel.com/vdpa_mlx_virtio"),
     r"NetworkAttachmentDefinition/vdpa-mlx-vhost-net: .*the name says vhost but intel.com/vdpa_mlx_virtio selects"),
    # pods
    ("pod network that is no NAD",
     lambda c: _networks(c, "vdpa-pod-sink", lambda n: n[1].__setitem__("name", "vdpa-mlx-vhost-net-3000")),
     rf"{TT}: Pod/vdpa-pod-sink: metadata.annotations\[k8s.v1.cni.cncf.io/networks\]\[1\].name: no "
     r"NetworkAttachmentDefinition 'vdpa-mlx-vhost-net-3000'"),
    ("duplicate MAC across pods",
     lambda c: _networks(c, "vdpa-pod-sink", lambda n: n[0].__setitem__("mac", "0C:FE:C0:FF:EE:00")),
     r"Pod/vdpa-pod-sink: .*networks\]\[0\].mac: 0C:FE:C0:FF:EE:00 is also used by Pod/vdpa-pod-gen"),
    ("pod requests the resource with another prefix",
     lambda c: [_container(c, "vdpa-pod-gen")["resources"][k].__setitem__(
         "nvidia.com/vdpa_mlx_vhost", _container(c, "vdpa-pod-gen")["resources"][k].pop("intel.com/vdpa_mlx_vhost"))
         for k in ("requests", "limits")],
     rf"{TT}: Pod/vdpa-pod-gen: spec.containers\[0\].resources.requests\[nvidia.com/vdpa_mlx_vhost\]: not a "
     r"device-plugin resource \(wrong prefix\?"),
    ("fewer devices than networks",
     lambda c: [_container(c, "vdpa-pod-sink")["resources"][k].__setitem__("intel.com/vdpa_mlx_vhost", "1")
                for k in ("requests", "limits")],
     r"Pod/vdpa-pod-sink: spec.containers\[\*\].resources.requests: intel.com/vdpa_mlx_vhost: requests 1 but its "
     r"networks use 2"),
    ("unknown DPDK_SAMPLE_APP", lambda c: _env(c, "vdpa-pod-gen", "DPDK_SAMPLE_APP").__setitem__("value", "pktgen"),
     r"Pod/vdpa-pod-gen: spec.containers\[0\].env\[DPDK_SAMPLE_APP\]: 'pktgen' is not one of"),
    ("CONTAINER_NAME is not the container's name",
     lambda c: _env(c, "vdpa-pod-sink", "CONTAINER_NAME").__setitem__("value", "vdpa-example"),
     r"Pod/vdpa-pod-sink: spec.containers\[0\].env\[CONTAINER_NAME\]: 'vdpa-example' must equal the container name"),
    ("hugepage file named after another container",
     lambda c: _volume_item(c, "vdpa-pod-gen", "hugepages_1G_request_vdpa-gen").__setitem__(
         "path", "hugepages_1G_request_vdpa-sink"),
     r"Pod/vdpa-pod-gen: spec.volumes\[podnetinfo\].downwardAPI.items: no item 'hugepages_1G_request_vdpa-gen'"),
    ("hugepage file reading the wrong resource",
     lambda c: _volume_item(c, "vdpa-pod-sink", "hugepages_1G_limit_vdpa-sink")["resourceFieldRef"].__setitem__(
         "resource", "requests.hugepages-1Gi"),
     r"Pod/vdpa-pod-sink: .*\[hugepages_1G_limit_vdpa-sink\].resourceFieldRef.resource: 'requests.hugepages-1Gi' "
     r"but the file name says 'limits.hugepages-1Gi'"),
    ("hugepage file not in MiB",
     lambda c: _volume_item(c, "vdpa-pod", "hugepages_1G_limit_vdpa-single")["resourceFieldRef"].__setitem__(
         "divisor", "1Gi"),
     r"vdpa-single.yaml: Pod/vdpa-pod: .*resourceFieldRef.divisor: must be 1Mi"),
    ("eth-peer pointing at the sink's other VLAN",
     lambda c: _env(c, "vdpa-pod-gen", "TESTPMD_EXTRA_ARGS").__setitem__(
         "value", "--forward-mode=txonly --eth-peer=0,0C:FE:C0:FF:EE:11 --eth-peer=1,0C:FE:C0:FF:EE:10"),
     r"Pod/vdpa-pod-gen: spec.containers\[0\].env\[TESTPMD_EXTRA_ARGS\]: --eth-peer=0,0C:FE:C0:FF:EE:11: port 0 is "
     r"on vdpa-mlx-vhost-net-1000 but 0C:FE:C0:FF:EE:11 \(Pod/vdpa-pod-sink\) is on vdpa-mlx-vhost-net-2000"),
    ("generator with a fixed peer instead of a learned one",
     lambda c: _env(c, "vdpa-pod-gen", "TESTPMD_EXTRA_ARGS").__setitem__(
         "value", "--forward-mode=txonly --eth-peer=0,0C:FE:C0:FF:EE:10 --eth-peer=1,auto"),
     r"Pod/vdpa-pod-gen: spec.containers\[0\].env\[TESTPMD_EXTRA_ARGS\]: the generator needs --eth-peer=0,auto"),
    ("sink that does not announce its MACs",
     lambda c: _env(c, "vdpa-pod-sink", "TESTPMD_EXTRA_ARGS").__setitem__("value", "--forward-mode=rxonly"),
     r"Pod/vdpa-pod-sink: spec.containers\[0\].env\[TESTPMD_EXTRA_ARGS\]: must contain --announce"),
    ("switchdev NAD without the CNIDeviceInfoFile capability",
     lambda c: _overlay_nad(c, "vdpa-mlx-vhost-net-1000", capabilities={}),
     r"overlays/switchdev/nads-ovs.yaml: NetworkAttachmentDefinition/vdpa-mlx-vhost-net-1000: "
     r"spec.config.capabilities.CNIDeviceInfoFile: must be true"),
    ("switchdev NAD still on sriov-cni",
     lambda c: _overlay_nad(c, "vdpa-mlx-vhost-net-2000", type="sriov"),
     r"NetworkAttachmentDefinition/vdpa-mlx-vhost-net-2000: spec.config.type: must be \"ovs\" in the switchdev"),
    ("sink in the wrong forward mode",
     lambda c: _env(c, "vdpa-pod-sink", "TESTPMD_EXTRA_ARGS").__setitem__("value", "--forward-mode=io"),
     r"Pod/vdpa-pod-sink: spec.containers\[0\].env\[TESTPMD_EXTRA_ARGS\]: must contain --forward-mode=rxonly"),
    ("RFC 2544 generator running another app",
     lambda c: _env(c, "vdpa-rfc2544-gen", "DPDK_SAMPLE_APP").__setitem__("value", "testpmd"),
     r"Pod/vdpa-rfc2544-gen: spec.containers\[0\].env\[DPDK_SAMPLE_APP\]: must be rfc2544"),
    ("RFC 2544 reflector that does not return frames",
     lambda c: _env(c, "vdpa-rfc2544-reflector", "TESTPMD_EXTRA_ARGS").__setitem__("value", "--forward-mode=rxonly"),
     r"Pod/vdpa-rfc2544-reflector: spec.containers\[0\].env\[TESTPMD_EXTRA_ARGS\]: the reflector must return "
     r"frames"),
    ("RFC 2544 generator peering with the reflector's other VLAN",
     lambda c: _env(c, "vdpa-rfc2544-gen", "RFC2544_EXTRA_ARGS").__setitem__(
         "value", "--eth-peer=0,0C:FE:C0:FF:EE:51 --eth-peer=1,0C:FE:C0:FF:EE:50"),
     r"Pod/vdpa-rfc2544-gen: spec.containers\[0\].env\[RFC2544_EXTRA_ARGS\]: --eth-peer=0,0C:FE:C0:FF:EE:51: "
     r"port 0 is on vdpa-mlx-vhost-net-1000"),
    ("RFC 2544 generator with fixed peers",
     lambda c: _env(c, "vdpa-rfc2544-gen", "RFC2544_EXTRA_ARGS").__setitem__(
         "value", "--eth-peer=0,0C:FE:C0:FF:EE:50 --eth-peer=1,0C:FE:C0:FF:EE:51"),
     r"Pod/vdpa-rfc2544-gen: spec.containers\[0\].env\[RFC2544_EXTRA_ARGS\]: the generator needs "
     r"--eth-peer=0,auto --eth-peer=1,auto"),
    ("RFC 2544 reflector returning frames on the other VLAN",
     lambda c: _env(c, "vdpa-rfc2544-reflector", "TESTPMD_EXTRA_ARGS").__setitem__(
         "value", "--forward-mode=macswap --announce"),
     r"Pod/vdpa-rfc2544-reflector: spec.containers\[0\].env\[TESTPMD_EXTRA_ARGS\]: must contain --port-topology=loop"),
    ("RFC 2544 reflector that does not announce",
     lambda c: _env(c, "vdpa-rfc2544-reflector", "TESTPMD_EXTRA_ARGS").__setitem__(
         "value", "--forward-mode=macswap --port-topology=loop"),
     r"Pod/vdpa-rfc2544-reflector: spec.containers\[0\].env\[TESTPMD_EXTRA_ARGS\]: must contain --announce"),
    ("pod image is not what make images builds",
     lambda c: _container(c, "vdpa-pod-sink").__setitem__("image", "dpdk-app-centos:latest"),
     r"Pod/vdpa-pod-sink: spec.containers\[0\].image: 'dpdk-app-centos:latest' is not the image `make images` builds"),
    ("privileged workload pod",
     lambda c: _container(c, "vdpa-pod-gen")["securityContext"].__setitem__("privileged", True),
     r"Pod/vdpa-pod-gen: spec.containers\[0\].securityContext.privileged: workload pods must not be privileged"),
    ("extra capability on a workload pod",
     lambda c: _container(c, "vdpa-pod")["securityContext"]["capabilities"]["add"].append("SYS_ADMIN"),
     r"Pod/vdpa-pod: spec.containers\[0\].securityContext.capabilities.add: SYS_ADMIN is not needed"),
    ("traffic pod on the wrong node role",
     lambda c: _doc(c, "Pod", "vdpa-pod-sink")["spec"].__setitem__("nodeSelector", {"vdpa-test-role-gen": "true"}),
     r"Pod/vdpa-pod-sink: spec.nodeSelector: must be \{vdpa-test-role-sink"),
    # images
    ("upstream image on latest",
     lambda c: _ds_container(c, "kube-sriov-device-plugin").__setitem__(
         "image", "ghcr.io/k8snetworkplumbingwg/sriov-network-device-plugin:latest"),
     r"sriovdp-vdpa-daemonset.yaml: DaemonSet/kube-sriov-device-plugin: spec.template.spec.containers\[0\].image: "
     r".*tag 'latest' is not a release"),
    ("upstream image untagged",
     lambda c: _ds_container(c, "kube-sriov-cni-ds").__setitem__("image", "ghcr.io/k8snetworkplumbingwg/sriov-cni"),
     r"DaemonSet/kube-sriov-cni-ds: spec.template.spec.containers\[0\].image: .*sriov-cni is untagged"),
    ("upstream image on a snapshot tag",
     lambda c: _ds_container(c, "kube-multus-ds", init=True).__setitem__(
         "image", "ghcr.io/k8snetworkplumbingwg/multus-cni:snapshot-thick"),
     r"DaemonSet/kube-multus-ds: spec.template.spec.initContainers\[0\].image: .*tag 'snapshot-thick' is not a release"),
    # privilege comments, kustomization, Makefile
    ("privileged without a comment",
     lambda c: _text(c, "deployment/sriovdp-vdpa-daemonset.yaml",
                     "            # upstream neither publishes nor tests a reduced-capability profile. It is a node\n"
                     "            # agent in kube-system, not a workload; nothing of ours runs with it.\n"
                     "            privileged: true",
                     "            # upstream neither publishes nor tests a reduced-capability profile. It is a node\n"
                     "            # agent in kube-system, not a workload; nothing of ours runs with it.\n"
                     "            readOnlyRootFilesystem: false\n"
                     "            privileged: true"),
     r"sriovdp-vdpa-daemonset.yaml: line \d+: `privileged: true` has no comment"),
    ("capability without a comment",
     lambda c: _text(c, TT, "            - SYS_NICE\n      resources:", "            - SYS_NICE\n            - NET_RAW\n      resources:"),
     rf"{TT}: line \d+: `capability NET_RAW` has no comment"),
    ("hostPath without a comment",
     lambda c: _text(c, "deployment/sriovcni-vdpa-daemonset.yaml",
                     "        # hostPath: the node's CNI plugin directory, where the container runtime (through Multus)\n"
                     "        # looks for the `sriov` binary this pod installs. Nothing else of the host is mounted.\n", ""),
     r"sriovcni-vdpa-daemonset.yaml: line \d+: `hostPath:` has no comment"),
    ("manifest missing from kustomization.yaml",
     lambda c: _doc(c, "Kustomization", "?")["resources"].remove("netAttach-vdpa-virtio-mlx.yaml"),
     r"kustomization.yaml: Kustomization: resources: netAttach-vdpa-virtio-mlx.yaml is neither listed"),
    ("deploy applies the device plugin before its ConfigMap",
     lambda c: c.make_runs.__setitem__("deploy", [x for x in c.make_runs["deploy"] if "configMap-vdpa" not in x]
                                       + ["kubectl apply -f deployment/configMap-vdpa.yaml"]),
     r"Makefile: deploy: must run `configMap-vdpa.yaml` before `sriovdp-vdpa-daemonset.yaml`"),
    ("undeploy that fails on missing objects",
     lambda c: c.make_runs.__setitem__("undeploy", [x.replace(" --ignore-not-found", "") for x in c.make_runs["undeploy"]]),
     r"Makefile: undeploy: `kubectl delete -f deployment/vdpa-dpdk-traffic-test.yaml` fails when the object is already gone"),
]


def mutated(ctx: Context, fn: Callable[[Context], None]) -> Context:
    c = Context(texts=dict(ctx.texts), docs=[Doc(d.file, d.index, copy.deepcopy(d.obj)) for d in ctx.docs],
                make_image=ctx.make_image, make_runs={k: list(v) for k, v in ctx.make_runs.items()},
                overlay=[Doc(d.file, d.index, copy.deepcopy(d.obj)) for d in ctx.overlay])
    fn(c)
    return c


def self_test(ctx: Context, schemas: Schemas, verbose: bool) -> list[str]:
    failures = []
    for name, fn, pattern in SELF_TESTS:
        try:
            errs = run_checks(mutated(ctx, fn), schemas)
        except Exception as e:  # a broken mutation is a broken test
            failures.append(f"self-test '{name}': mutation failed: {type(e).__name__}: {e}")
            continue
        hits = [e for e in errs if re.search(pattern, e)]
        if not hits:
            failures.append(f"self-test '{name}': no error matched /{pattern}/; got:\n    " +
                            ("\n    ".join(errs) or "(no errors at all)"))
        elif verbose:
            print(f"  self-test ok: {name}\n      -> {hits[0]}")
    return failures


def main() -> int:
    args = set(sys.argv[1:])
    unknown = args - {"--no-self-test", "--self-test-only", "--verbose", "-v"}
    if unknown or "-h" in sys.argv or "--help" in sys.argv:
        print(__doc__)
        return 0 if not unknown else 2
    ensure_venv()
    ctx = load_context()
    schemas = Schemas()
    verbose = bool(args & {"--verbose", "-v"})
    rc = 0
    if "--self-test-only" not in args:
        errors = run_checks(ctx, schemas)
        for e in errors:
            print(f"ERROR {e}")
        n_files = len(ctx.texts)
        if errors:
            print(f"validate-manifests: {len(errors)} error(s) in deployment/ ({n_files} files)")
            rc = 1
        else:
            print(f"validate-manifests: {len(ctx.docs)} objects in {n_files} files valid (strict) against Kubernetes "
                  f"{' and '.join(schemas.versions)}, NADs against the CRD schema in deployment/multus-daemonset.yaml; "
                  f"ConfigMap/NAD/pod/image/Makefile consistency ok (image {ctx.make_image}); overlays/switchdev "
                  f"rendered ({len(ctx.overlay)} objects{', same as kubectl kustomize' if ctx.kubectl else ''}) "
                  "and checked with the workload pods")
        if ctx.kubectl:
            p = Problems()
            check_kubectl_kustomize(ctx, p)
            for e in p.items:
                print(f"ERROR {e}")
            rc = rc or (1 if p.items else 0)
    if "--no-self-test" not in args:
        failures = self_test(ctx, schemas, verbose)
        for f in failures:
            print(f"SELF-TEST FAILED {f}")
        if failures:
            rc = 1
        else:
            print(f"validate-manifests: self-test ok: {len(SELF_TESTS)} mutations of the manifests, each reported "
                  "with its file and field")
    return rc


if __name__ == "__main__":
    sys.exit(main())
