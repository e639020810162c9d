//! Property tests: random bytes and random JSON into every parser, random pods through the whole
//! discover-and-plan pipeline; nothing may panic, and what is planned must be well formed.

mod common;

use std::collections::BTreeMap;

use netutil::device_info::DeviceInfo;
use netutil::{cpus, discover, downward, gostr, hugepages, network_status, pci, pcidevice, plan};
use netutil::{App, Config, PlanOptions, PortKind};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

/// Keys and values the real producers use, so random documents often get deep into parsing.
const KEYS: &[&str] = &[
    "name",
    "interface",
    "mac",
    "default",
    "device-info",
    "type",
    "version",
    "pci",
    "vdpa",
    "vhost-user",
    "memif",
    "pci-address",
    "parent-device",
    "driver",
    "path",
    "mode",
    "role",
    "pf-pci-address",
    "representor-device",
    "rdma-device",
    "vhost-net",
    "generic",
    "deviceID",
    "mount",
];
const STRINGS: &[&str] = &[
    "pci",
    "vdpa",
    "vhost-user",
    "memif",
    "1.0.0",
    "v1.0.0",
    "1.1.0",
    "2.0.0",
    "vhost",
    "virtio",
    "client",
    "server",
    "master",
    "slave",
    "ethernet",
    "ip",
    "punt",
    "inject-punt",
    "0000:65:00.2",
    "65:00.3",
    "0000:18:02.2",
    "/dev/vhost-vdpa-0",
    "/dev/null",
    "/tmp/a,b",
    "0c:fe:c0:ff:ee:00",
    "not-a-mac",
    "",
    "vdpa0",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![select(KEYS).prop_map(String::from), "[a-z-]{0,8}"]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        select(STRINGS).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A device-info document that is right in shape, with random choices in every field (some
/// invalid), or now and then a random value.
fn device_info() -> impl Strategy<Value = Value> {
    let fields = prop::collection::btree_map(
        select(
            &[
                "parent-device",
                "driver",
                "path",
                "pci-address",
                "mode",
                "role",
                "pf-pci-address",
            ][..],
        ),
        select(STRINGS),
        0..7,
    );
    let shaped = (
        select(&["pci", "vdpa", "vhost-user", "memif", "vfio"][..]),
        select(STRINGS),
        fields,
    )
        .prop_map(|(kind, version, fields)| {
            let inner: Map<String, Value> = fields
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
            let mut doc = Map::new();
            doc.insert("type".into(), kind.into());
            doc.insert("version".into(), version.into());
            doc.insert(kind.into(), Value::Object(inner));
            Value::Object(doc)
        });
    prop_oneof![16 => valid_device_info(), 3 => shaped, 1 => json_value()]
}

/// A valid device-info document of any type, with paths that exist, do not, or have the wrong
/// file type.
fn valid_device_info() -> impl Strategy<Value = Value> {
    const PCI: &[&str] = &[
        "0000:65:00.2",
        "0000:65:00.3",
        "0000:18:02.2",
        "0000:18:02.5",
    ];
    const PATHS: &[&str] = &[
        "/dev/vhost-vdpa-0",
        "/dev/null",
        "/tmp/no-such.sock",
        "/etc/hostname",
    ];
    prop_oneof![
        select(PCI).prop_map(|a| json!({"type": "pci", "version": "1.0.0", "pci": {"pci-address": a}})),
        (select(&["vhost", "virtio"][..]), select(PATHS), select(PCI)).prop_map(|(driver, path, a)| json!({
            "type": "vdpa", "version": "1.1.0",
            "vdpa": {"parent-device": "vdpa0", "driver": driver, "path": path, "pci-address": a}
        })),
        (select(&["client", "server"][..]), select(PATHS)).prop_map(|(mode, path)| json!({
            "type": "vhost-user", "version": "1.0.0", "vhost-user": {"mode": mode, "path": path}
        })),
        (select(&["master", "slave"][..]), select(PATHS), select(&["ethernet", "ip", "punt"][..]))
            .prop_map(|(role, path, mode)| json!({
                "type": "memif", "version": "v1.0.0", "memif": {"role": role, "path": path, "mode": mode}
            })),
    ]
}

/// A network-status entry, mostly well formed.
fn status_entry() -> impl Strategy<Value = Value> {
    (
        select(&["cbr0", "default/net-a", "default/net-b"][..]),
        prop::option::of("net[0-9]"),
        prop::option::of(select(STRINGS)),
        any::<bool>(),
        prop::option::of(device_info()),
    )
        .prop_map(|(name, iface, mac, default, info)| {
            let mut m = Map::new();
            m.insert("name".into(), name.into());
            if let Some(i) = iface {
                m.insert("interface".into(), i.into());
            }
            if let Some(mac) = mac {
                m.insert("mac".into(), mac.into());
            }
            m.insert("default".into(), default.into());
            if let Some(info) = info {
                m.insert("device-info".into(), info);
            }
            Value::Object(m)
        })
}

/// `PCIDEVICE_*` variables: ID lists and `_INFO` JSON, well formed or not.
fn pcidevice_env() -> impl Strategy<Value = Vec<(String, String)>> {
    let ids = prop::collection::vec(
        select(
            &[
                "0000:65:00.2",
                "0000:65:00.3",
                "0000:18:02.2",
                "0000:18:02.5",
                "mlx5_core.sf.4",
                " ",
            ][..],
        ),
        0..4,
    )
    .prop_map(|ids| ids.join(","));
    let info = prop_oneof![
        3 => Just(r#"{"0000:65:00.2":{"generic":{"deviceID":"0000:65:00.2"},"vdpa":{"mount":"/dev/vhost-vdpa-0"}}}"#.to_owned()),
        1 => json_value().prop_map(|v| v.to_string()),
    ];
    prop::collection::vec(
        (
            select(
                &[
                    "PCIDEVICE_INTEL_COM_VDPA",
                    "PCIDEVICE_INTEL_COM_SRIOV",
                    "PCIDEVICE_X_INFO",
                ][..],
            ),
            prop_oneof![ids, info],
        ),
        0..4,
    )
    .prop_map(|vars| vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_into_every_parser(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = downward::parse(&bytes);
        let _ = gostr::unquote(&text);
        let _ = cpus::parse_list(&text);
        let _ = cpus::from_status(&text);
        let _ = hugepages::parse_mounts(&text);
        let _ = network_status::parse(&text);
        let _ = DeviceInfo::from_json(&text);
        let _ = pcidevice::parse_info(&text);
        let _ = pci::normalize(&text);
    }

    #[test]
    fn random_text_shaped_like_inputs(
        line in r#"[a-z./-]{0,10}=?"?(\\[abfnrtv\\"'xuU0-7]|[^\\"\n]){0,20}"?"#,
        cpus in "[0-9,\\- ]{0,16}",
        mount in "[a-z/]{1,5} [a-z/]{1,5} (hugetlbfs|tmpfs) [a-z=,0-9KMG]{0,20}",
    ) {
        let _ = downward::parse(line.as_bytes());
        let _ = gostr::unquote(line.split_once('=').map_or(line.as_str(), |(_, v)| v));
        let _ = cpus::parse_list(&cpus);
        let _ = hugepages::parse_mounts(&mount);
    }

    #[test]
    fn random_json_into_every_json_parser(value in json_value()) {
        let text = value.to_string();
        let _ = network_status::parse(&text);
        let _ = network_status::parse(&format!("[{text}]"));
        let _ = DeviceInfo::from_value(&value, "");
        let _ = pcidevice::parse_info(&text);
        let env = BTreeMap::from([
            ("PCIDEVICE_A".to_string(), "x".to_string()),
            ("PCIDEVICE_A_INFO".to_string(), text),
        ]);
        let _ = pcidevice::from_env(&env);
    }

    #[test]
    fn shaped_device_info_parses_or_names_a_field(value in device_info()) {
        if let Err(e) = DeviceInfo::from_value(&value, "device-info") {
            prop_assert!(e.field.starts_with("device-info"), "{e}");
        }
    }

    #[test]
    fn go_quote_round_trips(s in any::<String>()) {
        prop_assert_eq!(gostr::unquote(&gostr::quote(&s)).unwrap(), s);
    }

    #[test]
    fn downward_format_round_trips(
        map in prop::collection::btree_map("[A-Za-z0-9./_-]{1,24}", any::<String>(), 0..8),
    ) {
        prop_assert_eq!(downward::parse(downward::format(&map).as_bytes()).unwrap(), map);
    }

    #[test]
    fn cpu_lists_round_trip(list in prop::collection::btree_set(0u32..=65_535, 1..40)) {
        let list: Vec<u32> = list.into_iter().collect();
        prop_assert_eq!(cpus::parse_list(&cpus::format_list(&list)).unwrap(), list);
    }

    #[test]
    fn pci_normalize_is_idempotent(s in "[0-9a-fA-F]{0,5}:?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-9]") {
        if let Some(n) = pci::normalize(&s) {
            prop_assert_eq!(pci::normalize(&n), Some(n.clone()));
        }
    }
}

proptest! {
    // Each case writes a pod to disk; fewer cases keep the run short.
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_pods_through_discover_and_plan(
        statuses in prop::collection::vec(status_entry(), 0..5),
        env in pcidevice_env(),
        cpus in prop::collection::btree_set(0u32..8, 0..5),
        queues in prop_oneof![9 => 1u16..4, 1 => Just(0u16)],
        app in select(&App::ALL[..]),
    ) {
        let pod = tempfile::tempdir().unwrap();
        let status = serde_json::to_string_pretty(&statuses).unwrap();
        let key = "k8s.v1.cni.cncf.io/network-status".to_string();
        let annotations = BTreeMap::from([(key, status)]);
        std::fs::write(pod.path().join("annotations"), downward::format(&annotations)).unwrap();
        let mut vars = env;
        vars.push(("PODNETINFO_DIR".into(), pod.path().display().to_string()));
        vars.push(("NETUTIL_WAIT_SECS".into(), "0".into()));
        let mut cfg = Config::from_vars(vars).unwrap();
        common::on_host(&mut cfg, "hugepages-1g");
        cfg.cpus = Some(cpus.into_iter().collect());
        let Ok(found) = discover(&cfg) else { return Ok(()) };
        let opts = PlanOptions {
            file_prefix: Some("prop".into()),
            queues,
            queue_size: None,
            require_device_paths: false,
            ..PlanOptions::default()
        };
        let Ok(p) = plan(&found, app, &opts) else { return Ok(()) };

        prop_assert_eq!(p.eal_args.last().map(String::as_str), Some("--file-prefix=prop"));
        prop_assert_eq!(p.port_mask().count_ones() as usize, p.ports.len());
        let pci_ports = p.ports.iter().filter(|p| p.kind == PortKind::Pci).count();
        prop_assert_eq!(p.eal_args.contains(&"--no-pci".to_string()), pci_ports == 0);
        for (i, arg) in p.eal_args.iter().enumerate() {
            if arg == "-a" {
                let addr = &p.eal_args[i + 1];
                prop_assert_eq!(pci::normalize(addr), Some(addr.clone()));
            }
        }
        let mut names: Vec<&str> = p.ports.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        prop_assert_eq!(names.len(), p.ports.len());
        check_plan(&p)?;
    }
}

/// One network of a pod with a socket or device path, as the property below builds it.
#[derive(Debug, Clone)]
struct PathNet {
    /// `vdpa`, `vhost-server`, `vhost-client`, `memif-master` or `memif-slave`.
    kind: &'static str,
    path: String,
    mac: &'static str,
}

/// Paths as a hostile annotation could give them: mostly well formed, some with `=`, `,`, `[`,
/// `]`, blanks, control characters, `..`, relative or overlong, some anything at all.
fn device_path() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "/[A-Za-z0-9._+@:-]{1,12}(/[A-Za-z0-9._+@:-]{1,12}){0,3}",
        4 => "/[a-z]{0,4}[=,\\[\\] \t\n\u{1b}\u{2028}.:/é-]{1,4}[a-z=/]{0,12}",
        1 => "(/|\\.\\./|[a-z]{1,3}/){1,4}[a-z.]{0,6}",
        1 => "/[a-z]{100,110}",
        1 => any::<String>(),
    ]
}

fn path_net() -> impl Strategy<Value = PathNet> {
    (
        select(
            &[
                "vdpa",
                "vhost-server",
                "vhost-client",
                "memif-master",
                "memif-slave",
            ][..],
        ),
        device_path(),
        select(
            &[
                "0c:fe:c0:ff:ee:00",
                "0C:FE:C0:FF:EE:01",
                "0c:fe:c0:ff:ee:00,path=/tmp/evil",
                "0c:fe:c0:ff:ee:00=x",
                "",
            ][..],
        ),
    )
        .prop_map(|(kind, path, mac)| PathNet { kind, path, mac })
}

impl PathNet {
    fn device_info(&self) -> Value {
        let p = &self.path;
        match self.kind {
            "vdpa" => json!({"type": "vdpa", "version": "1.1.0",
                             "vdpa": {"parent-device": "vdpa0", "driver": "vhost", "path": p}}),
            "vhost-server" | "vhost-client" => json!({"type": "vhost-user", "version": "1.1.0",
                "vhost-user": {"mode": &self.kind[6..], "path": p}}),
            _ => json!({"type": "memif", "version": "1.1.0",
                "memif": {"role": &self.kind[6..], "path": p, "mode": "ethernet"}}),
        }
    }

    /// The pairs the plan means to give DPDK for this network.
    fn pairs(&self, queues: u16, queue_size: Option<u16>) -> Vec<(String, Option<String>)> {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if self.kind.starts_with("memif") {
            pairs.push(("socket", self.path.clone()));
            let role = if self.kind == "memif-master" {
                "server"
            } else {
                "client"
            };
            pairs.push(("role", role.into()));
        } else {
            pairs.push(("path", self.path.clone()));
            if self.kind == "vhost-server" {
                pairs.push(("server", "1".into()));
            }
            pairs.push(("queues", queues.to_string()));
            if queues > 1 {
                pairs.push(("cq", "1".into()));
            }
            if let Some(q) = queue_size {
                pairs.push(("queue_size", q.to_string()));
            }
        }
        let octets: Vec<&str> = self.mac.split(':').collect();
        let mac_ok = octets.len() == 6
            && octets
                .iter()
                .all(|o| o.len() == 2 && o.bytes().all(|b| b.is_ascii_hexdigit()));
        if mac_ok {
            pairs.push(("mac", self.mac.into()));
        }
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Some(v)))
            .collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    /// Whatever paths and MACs the annotations hold, a plan is refused or every port's device
    /// argument reads back in DPDK (`rte_kvargs`, mimicked step by step) as exactly the planned
    /// keys and values.
    #[test]
    fn devargs_read_back_as_planned(
        nets in prop::collection::vec(path_net(), 1..4),
        queues in 1u16..3,
        queue_size in prop::option::of(select(&[64u16, 1024][..])),
    ) {
        let pod = tempfile::tempdir().unwrap();
        let statuses: Vec<Value> = nets
            .iter()
            .enumerate()
            .map(|(i, n)| json!({"name": format!("default/net{i}"), "interface": format!("net{i}"),
                                 "mac": n.mac, "device-info": n.device_info()}))
            .collect();
        let key = "k8s.v1.cni.cncf.io/network-status".to_string();
        let annotations = BTreeMap::from([(key, serde_json::to_string(&statuses).unwrap())]);
        std::fs::write(pod.path().join("annotations"), downward::format(&annotations)).unwrap();
        let mut cfg = Config::from_vars([("PODNETINFO_DIR", pod.path().to_str().unwrap())]).unwrap();
        common::on_host(&mut cfg, "hugepages-1g");
        // Discovery refuses empty paths already.
        let Ok(found) = discover(&cfg) else { return Ok(()) };
        let opts = PlanOptions {
            file_prefix: Some("prop".into()),
            queues,
            queue_size: queue_size.map(|q| q.to_string().parse().unwrap()),
            require_device_paths: false,
            ..PlanOptions::default()
        };
        let Ok(p) = plan(&found, App::Testpmd, &opts) else { return Ok(()) };
        for n in &nets {
            prop_assert!(netutil::devargs::check_path(&n.path).is_ok(), "planned with {:?}", n.path);
        }
        for port in &p.ports {
            prop_assert!(netutil::devargs::validate(&port.devarg).is_ok(), "{}", port.devarg);
            let i: usize = port.network.as_deref().unwrap()["default/net".len()..].parse().unwrap();
            let (name, pairs) = common::dpdk_devarg(&port.devarg);
            prop_assert_eq!(&name, &port.name);
            prop_assert_eq!(pairs, nets[i].pairs(queues, queue_size), "{}", port.devarg);
        }
    }
}

// Fuzzing from the fixtures: every pod of tests/fixtures is a seed; its annotations file, its
// network-status JSON, its device-plugin files and its PCIDEVICE_* values are mutated byte by
// byte, and every parser and the whole discover-and-plan path must answer without panicking,
// with plans whose device arguments pass the devargs rule.

/// One edit of a seed.
#[derive(Debug, Clone)]
enum Mutation {
    /// Flip one bit of the byte at the index.
    Flip(prop::sample::Index, u8),
    /// Insert a token at the index.
    Insert(prop::sample::Index, &'static [u8]),
    /// Remove up to 8 bytes from the index.
    Delete(prop::sample::Index, usize),
    /// Copy up to 64 bytes from the first index to the second.
    Splice(prop::sample::Index, prop::sample::Index, usize),
}

/// Tokens that matter to one of the parsers: Go quoting, JSON, device arguments, paths, PCI
/// addresses, numbers, UTF-8.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"\\\"",
    b"\\n",
    b"\\x",
    b"\\u00",
    b"\\U0001",
    b"\n",
    b",",
    b"=",
    b"[",
    b"]",
    b"{",
    b"}",
    b":",
    b"null",
    b"0000:65:00.2",
    b"/../",
    b"/dev/vhost-vdpa-9",
    b"vhost",
    b"virtio",
    b"server",
    b"master",
    b"1.1.0",
    b"-1",
    b"1e999",
    b"18446744073709551616",
    b"\xff",
    b"\xe2\x80\xae",
    b"\x1b[2J",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<prop::sample::Index>(), select(TOKENS)).prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<prop::sample::Index>(), 1usize..8).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            1usize..64
        )
            .prop_map(|(a, b, n)| Mutation::Splice(a, b, n)),
    ]
}

/// Mostly one or two edits, so that many cases get past the first parser.
fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop_oneof![
        3 => prop::collection::vec(mutation(), 1..3),
        1 => prop::collection::vec(mutation(), 0..8),
    ]
}

/// `seed` with `muts` applied in order.
fn mutate(seed: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for m in muts {
        match m {
            Mutation::Flip(i, bit) if !b.is_empty() => {
                let i = i.index(b.len());
                b[i] ^= 1 << bit;
            }
            Mutation::Insert(i, token) => {
                let i = i.index(b.len() + 1);
                b.splice(i..i, token.iter().copied());
            }
            Mutation::Delete(i, n) if !b.is_empty() => {
                let i = i.index(b.len());
                let end = (i + n).min(b.len());
                b.drain(i..end);
            }
            Mutation::Splice(from, to, n) if !b.is_empty() => {
                let from = from.index(b.len());
                let piece: Vec<u8> = b[from..(from + n).min(b.len())].to_vec();
                let to = to.index(b.len() + 1);
                b.splice(to..to, piece);
            }
            _ => {}
        }
    }
    b
}

/// `json` with one string value (number `leaf` in document order) mutated, or the text mutated
/// as bytes if it is not JSON, has no strings, or `leaf` is `None`.
fn mutate_json(json: &[u8], leaf: Option<prop::sample::Index>, muts: &[Mutation]) -> Vec<u8> {
    let (Some(leaf), Ok(mut value)) = (leaf, serde_json::from_slice::<Value>(json)) else {
        return mutate(json, muts);
    };
    // Walk twice: once to count the strings, once to edit the chosen one.
    let mut count = 0usize;
    fn count_strings(v: &Value, n: &mut usize) {
        match v {
            Value::String(_) => *n += 1,
            Value::Array(a) => a.iter().for_each(|v| count_strings(v, n)),
            Value::Object(m) => m.values().for_each(|v| count_strings(v, n)),
            _ => {}
        }
    }
    count_strings(&value, &mut count);
    if count == 0 {
        return mutate(json, muts);
    }
    let target = leaf.index(count);
    fn edit(v: &mut Value, n: &mut usize, target: usize, f: &dyn Fn(&str) -> String) {
        match v {
            Value::String(s) => {
                if *n == target {
                    *s = f(s);
                }
                *n += 1;
            }
            Value::Array(a) => a.iter_mut().for_each(|v| edit(v, n, target, f)),
            Value::Object(m) => m.values_mut().for_each(|v| edit(v, n, target, f)),
            _ => {}
        }
    }
    let f = |s: &str| String::from_utf8_lossy(&mutate(s.as_bytes(), muts)).into_owned();
    edit(&mut value, &mut 0, target, &f);
    serde_json::to_vec_pretty(&value).unwrap()
}

/// Every pod fixture (not the host profiles) with every part of it there is to mutate.
fn seeds() -> Vec<(String, Target)> {
    let mut names: Vec<String> = std::fs::read_dir(common::fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "hosts")
        .collect();
    names.sort();
    let mut seeds = Vec::new();
    for name in names {
        seeds.push((name.clone(), Target::AnnotationsFile));
        seeds.push((name.clone(), Target::NetworkStatus));
        if common::fixtures().join(&name).join("devinfo/dp").is_dir() {
            seeds.push((name.clone(), Target::DevicePluginFiles));
        }
        if common::env_of(&name)
            .iter()
            .any(|(k, _)| k.starts_with("PCIDEVICE_"))
        {
            seeds.push((name, Target::Pcidevice));
        }
    }
    seeds
}

/// What part of a seed pod a case mutates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The annotations file as bytes (Go quoting, lines, keys).
    AnnotationsFile,
    /// The network-status JSON inside it, quoted again as kubelet would.
    NetworkStatus,
    /// Every device-plugin file under devinfo/dp.
    DevicePluginFiles,
    /// Every PCIDEVICE_* value (ID lists and _INFO JSON).
    Pcidevice,
}

/// Copies `dir` into `to`, recursively.
fn copy_dir(dir: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Checks what a plan promises about untrusted input: every device argument passes the
/// devargs rule and is what the EAL arguments carry, every `-a` is a canonical PCI address.
fn check_plan(p: &netutil::EalPlan) -> Result<(), TestCaseError> {
    for port in &p.ports {
        prop_assert!(
            netutil::devargs::validate(&port.devarg).is_ok(),
            "{}",
            port.devarg
        );
        let as_vdev = format!("--vdev={}", port.devarg);
        let as_pci = p
            .eal_args
            .windows(2)
            .any(|w| w[0] == "-a" && w[1] == port.devarg);
        prop_assert!(p.eal_args.contains(&as_vdev) || as_pci, "{:?}", p.eal_args);
    }
    for (i, arg) in p.eal_args.iter().enumerate() {
        if arg == "-a" {
            let addr = &p.eal_args[i + 1];
            prop_assert_eq!(pci::normalize(addr), Some(addr.clone()));
        }
    }
    prop_assert!(p.ports.len() <= netutil::plan::MAX_PORTS);
    prop_assert!(p
        .lcores
        .all()
        .iter()
        .all(|&l| l < netutil::plan::MAX_LCORES));
    Ok(())
}

proptest! {
    // Each case copies a pod to disk; the count keeps the run to seconds.
    #![proptest_config(ProptestConfig::with_cases(320))]

    #[test]
    fn mutated_fixture_pods_through_discover_and_plan(
        (seed, target) in select(seeds()),
        muts in mutations(),
        leaf in prop::option::weighted(0.6, any::<prop::sample::Index>()),
        app in select(&App::ALL[..]),
    ) {
        let pod = tempfile::tempdir().unwrap();
        let src = common::fixtures().join(&seed);
        copy_dir(&src, pod.path());
        let annotations = pod.path().join("podnetinfo/annotations");
        let mut vars = common::env_of(&seed);
        match target {
            Target::AnnotationsFile => {
                let text = std::fs::read(&annotations).unwrap();
                let bytes = mutate(&text, &muts);
                let _ = downward::parse(&bytes);
                std::fs::write(&annotations, bytes).unwrap();
            }
            Target::NetworkStatus => {
                let Ok(mut map) = downward::parse(&std::fs::read(&annotations).unwrap()) else {
                    return Ok(());
                };
                let key = "k8s.v1.cni.cncf.io/network-status";
                let Some(status) = map.get(key) else { return Ok(()) };
                let json = mutate_json(status.as_bytes(), leaf, &muts);
                let json = String::from_utf8_lossy(&json).into_owned();
                let _ = network_status::parse(&json);
                map.insert(key.into(), json);
                std::fs::write(&annotations, downward::format(&map)).unwrap();
            }
            Target::DevicePluginFiles => {
                let dp = pod.path().join("devinfo/dp");
                for f in std::fs::read_dir(&dp).unwrap() {
                    let path = f.unwrap().path();
                    let text = mutate_json(&std::fs::read(&path).unwrap(), leaf, &muts);
                    let _ = DeviceInfo::from_json(&String::from_utf8_lossy(&text));
                    std::fs::write(&path, text).unwrap();
                }
            }
            Target::Pcidevice => {
                for (_, v) in vars.iter_mut().filter(|(k, _)| k.starts_with("PCIDEVICE_")) {
                    *v = String::from_utf8_lossy(&mutate(v.as_bytes(), &muts)).into_owned();
                    let _ = pcidevice::parse_info(v);
                }
                let env: BTreeMap<String, String> = vars.iter().cloned().collect();
                let _ = pcidevice::from_env(&env);
            }
        }
        vars.push(("PODNETINFO_DIR".into(), pod.path().join("podnetinfo").display().to_string()));
        vars.push(("DEVINFO_DIR".into(), pod.path().join("devinfo").display().to_string()));
        vars.push(("NETUTIL_WAIT_SECS".into(), "0".into()));
        let Ok(mut cfg) = Config::from_vars(vars) else { return Ok(()) };
        common::on_host(&mut cfg, "hugepages-1g");
        let Ok(found) = discover(&cfg) else { return Ok(()) };
        if let Ok(p) = plan(&found, app, &common::fixture_opts()) {
            check_plan(&p)?;
        }
    }
}
