//! Hugepages: the container's budget from the downward API, what hugetlbfs is mounted, and what
//! the kernel has free.
//!
//! The budget files are what the pod spec maps with `resourceFieldRef` (`requests.hugepages-1Gi`,
//! `limits.hugepages-2Mi`, ... with `divisor: 1Mi`, so values are MiB). Their names are those of
//! the Network Resources Injector (`hugepages_1G_request`, ...) and app-netutil
//! (`hugepages_request`, `hugepages_limit`), optionally followed by `_<container name>`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, FieldError, Problem};

/// The budget file names, in the order the original entrypoint chose between them:
/// the first non-zero of these is the budget.
const BUDGET_FILES: [&str; 6] = [
    "hugepages_1G_limit",
    "hugepages_2M_limit",
    "hugepages_limit",
    "hugepages_1G_request",
    "hugepages_2M_request",
    "hugepages_request",
];

/// The hugepage request and limit files of one container, values in MiB.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HugepageBudget {
    /// The `_<container>` suffix of the files used, `None` for unsuffixed files.
    pub container: Option<String>,
    /// Each file read, by its base name (`hugepages_1G_limit`, ...), with its value in MiB.
    pub files: BTreeMap<String, u64>,
}

impl HugepageBudget {
    /// The budget in MiB: the first non-zero of the 1G limit, 2M limit, limit, 1G request,
    /// 2M request and request, as in the original entrypoint.
    pub fn mib(&self) -> Option<u64> {
        BUDGET_FILES
            .iter()
            .filter_map(|name| self.files.get(*name).copied())
            .find(|mib| *mib > 0)
    }
}

/// Reads the budget files in the downward-API directory.
///
/// When files for several containers are present, those whose suffix equals `container_name`
/// (from `CONTAINER_NAME`) are used, else the unsuffixed ones, else the first container's in name
/// order. Returns `None` when there are no budget files at all (the traffic-test pods have none).
pub fn read_budget(
    dir: &Path,
    container_name: Option<&str>,
) -> Result<Option<HugepageBudget>, Error> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut by_container: BTreeMap<Option<String>, HugepageBudget> = BTreeMap::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let name = entry.map_err(io)?.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((base, container)) = split_budget_name(name) else {
            continue;
        };
        let path = dir.join(name);
        let text = fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let mib = text.trim().parse::<u64>().map_err(|e| {
            FieldError::new(
                "",
                Problem::InvalidValue(format!("{:?} is not a MiB count: {e}", text.trim())),
            )
            .in_input(path.display().to_string())
        })?;
        let budget = by_container
            .entry(container.clone())
            .or_insert_with(|| HugepageBudget {
                container,
                files: BTreeMap::new(),
            });
        budget.files.insert(base.to_owned(), mib);
    }
    let wanted = container_name.map(str::to_owned);
    let key = [wanted, None]
        .into_iter()
        .find(|k| by_container.contains_key(k))
        .or_else(|| by_container.keys().next().cloned());
    Ok(key.and_then(|k| by_container.remove(&k)))
}

/// Splits `hugepages_1G_limit_app` into (`hugepages_1G_limit`, `Some("app")`).
fn split_budget_name(name: &str) -> Option<(&'static str, Option<String>)> {
    BUDGET_FILES.iter().find_map(|base| {
        let rest = name.strip_prefix(base)?;
        match rest.strip_prefix('_') {
            _ if rest.is_empty() => Some((*base, None)),
            Some(container) if !container.is_empty() => Some((*base, Some(container.to_owned()))),
            _ => None,
        }
    })
}

/// A mounted hugetlbfs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HugetlbfsMount {
    /// The mount point.
    pub path: String,
    /// Its page size in KiB, from the `pagesize=` option (the kernel always shows it; `None` for
    /// the rare table without it, meaning the default size).
    pub page_size_kib: Option<u64>,
}

/// Finds the hugetlbfs mounts in the text of `/proc/mounts`. Field errors name `line N`.
///
/// ```
/// let mounts = "proc /proc proc rw 0 0\nhugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=1024M 0 0\n";
/// let m = netutil::hugepages::parse_mounts(mounts).unwrap();
/// assert_eq!((m[0].path.as_str(), m[0].page_size_kib), ("/dev/hugepages", Some(1024 * 1024)));
/// ```
pub fn parse_mounts(text: &str) -> Result<Vec<HugetlbfsMount>, FieldError> {
    let mut mounts = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let bad =
            |why: String| FieldError::new(format!("line {}", n + 1), Problem::InvalidValue(why));
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, path, fstype, options, ..] = fields.as_slice() else {
            return Err(bad("expected device, mount point, type and options".into()));
        };
        if *fstype != "hugetlbfs" {
            continue;
        }
        let page_size_kib = options
            .split(',')
            .find_map(|o| o.strip_prefix("pagesize="))
            .map(|size| parse_size_kib(size).ok_or_else(|| bad(format!("bad pagesize {size:?}"))))
            .transpose()?;
        mounts.push(HugetlbfsMount {
            path: unescape_mount_path(path),
            page_size_kib,
        });
    }
    Ok(mounts)
}

/// `2M`, `1024M`, `1G`, `64K` to KiB.
fn parse_size_kib(size: &str) -> Option<u64> {
    let (digits, unit) = size.split_at(size.find(|c: char| !c.is_ascii_digit())?);
    let shift = match unit {
        "K" | "k" => 0,
        "M" | "m" => 10,
        "G" | "g" => 20,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// Undoes the kernel's octal escapes of space, tab, newline and backslash in mount points.
fn unescape_mount_path(path: &str) -> String {
    path.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// One hugepage size's pool, from `/sys/kernel/mm/hugepages/hugepages-<N>kB/`. Host-wide: the
/// container's share is its budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HugepagePool {
    /// Page size in KiB.
    pub page_size_kib: u64,
    /// `nr_hugepages`.
    pub total: u64,
    /// `free_hugepages`.
    pub free: u64,
}

/// Reads the pools under `dir` (`/sys/kernel/mm/hugepages`); a missing directory means a kernel
/// without hugepages and gives no pools.
pub fn read_pools(dir: &Path) -> Result<Vec<HugepagePool>, Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let entries = match fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        other => other.map_err(io(dir))?,
    };
    let mut pools = Vec::new();
    for entry in entries {
        let name = entry.map_err(io(dir))?.file_name();
        let Some(page_size_kib) = name.to_str().and_then(|n| {
            n.strip_prefix("hugepages-")?
                .strip_suffix("kB")?
                .parse()
                .ok()
        }) else {
            continue;
        };
        let count = |file: &str| {
            let path = dir.join(&name).join(file);
            let text = fs::read_to_string(&path).map_err(io(&path))?;
            text.trim().parse::<u64>().map_err(|e| {
                FieldError::new("", Problem::InvalidValue(format!("{:?}: {e}", text.trim())))
                    .in_input(path.display().to_string())
            })
        };
        pools.push(HugepagePool {
            page_size_kib,
            total: count("nr_hugepages")?,
            free: count("free_hugepages")?,
        });
    }
    pools.sort_by_key(|p| p.page_size_kib);
    Ok(pools)
}

/// Everything known about hugepages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Hugepages {
    /// The container's budget from the downward API, if the pod maps it.
    pub budget: Option<HugepageBudget>,
    /// Mounted hugetlbfs file systems.
    pub mounts: Vec<HugetlbfsMount>,
    /// The kernel's pools per page size.
    pub pools: Vec<HugepagePool>,
}

impl Hugepages {
    /// MiB of free hugepages in the sizes that some hugetlbfs mount serves (all sizes for a
    /// mount of unknown size), which is what EAL can map.
    pub fn free_mounted_mib(&self) -> u64 {
        self.pools
            .iter()
            .filter(|p| {
                self.mounts
                    .iter()
                    .any(|m| m.page_size_kib.is_none_or(|size| size == p.page_size_kib))
            })
            .map(|p| p.free.saturating_mul(p.page_size_kib) / 1024)
            .fold(0, u64::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_names() {
        assert_eq!(
            split_budget_name("hugepages_1G_limit"),
            Some(("hugepages_1G_limit", None))
        );
        assert_eq!(
            split_budget_name("hugepages_request_sriov-example"),
            Some(("hugepages_request", Some("sriov-example".into())))
        );
        assert_eq!(split_budget_name("hugepages_1G_limitx"), None);
        assert_eq!(split_budget_name("hugepages_1G_limit_"), None);
        assert_eq!(split_budget_name("labels"), None);
    }

    #[test]
    fn budget_order_is_the_originals() {
        let mut b = HugepageBudget::default();
        b.files.insert("hugepages_request".into(), 512);
        assert_eq!(b.mib(), Some(512));
        b.files.insert("hugepages_1G_request".into(), 1024);
        assert_eq!(b.mib(), Some(1024));
        b.files.insert("hugepages_2M_limit".into(), 0);
        assert_eq!(b.mib(), Some(1024));
        b.files.insert("hugepages_1G_limit".into(), 2048);
        assert_eq!(b.mib(), Some(2048));
        assert_eq!(HugepageBudget::default().mib(), None);
    }

    #[test]
    fn budget_container_choice() {
        let dir = tempfile::tempdir().unwrap();
        for (name, value) in [
            ("hugepages_1G_limit_a", "1024\n"),
            ("hugepages_1G_limit_b", "2048"),
            ("hugepages_2M_request", "64"),
            ("annotations", ""),
        ] {
            fs::write(dir.path().join(name), value).unwrap();
        }
        let pick = |c| read_budget(dir.path(), c).unwrap().unwrap();
        assert_eq!(pick(Some("b")).mib(), Some(2048));
        assert_eq!(pick(Some("zzz")).container, None);
        assert_eq!(pick(None).mib(), Some(64));
        fs::remove_file(dir.path().join("hugepages_2M_request")).unwrap();
        assert_eq!(pick(None).container.as_deref(), Some("a"));
        fs::write(dir.path().join("hugepages_limit"), "-1").unwrap();
        let err = read_budget(dir.path(), None).unwrap_err();
        assert!(err.to_string().contains("hugepages_limit"), "{err}");
    }

    #[test]
    fn mounts_and_sizes() {
        let text =
            "hugetlbfs /mnt/huge\\0402m hugetlbfs rw,pagesize=2M 0 0\nnone /x hugetlbfs rw 0 0\n";
        let m = parse_mounts(text).unwrap();
        assert_eq!(
            m[0],
            HugetlbfsMount {
                path: "/mnt/huge 2m".into(),
                page_size_kib: Some(2048)
            }
        );
        assert_eq!(m[1].page_size_kib, None);
        assert_eq!(parse_mounts("a b\n").unwrap_err().field, "line 1");
        assert_eq!(
            parse_mounts("h /h hugetlbfs pagesize=9X 0 0")
                .unwrap_err()
                .field,
            "line 1"
        );
        assert_eq!(parse_size_kib("1G"), Some(1 << 20));
        assert_eq!(parse_size_kib("99999999999999999999K"), None);
    }

    #[test]
    fn free_memory_counts_only_mounted_sizes() {
        let pools = vec![
            HugepagePool {
                page_size_kib: 2048,
                total: 512,
                free: 512,
            },
            HugepagePool {
                page_size_kib: 1 << 20,
                total: 4,
                free: 2,
            },
        ];
        let mount = |size| HugetlbfsMount {
            path: "/dev/hugepages".into(),
            page_size_kib: size,
        };
        let hp = |mounts| Hugepages {
            budget: None,
            mounts,
            pools: pools.clone(),
        };
        assert_eq!(hp(vec![mount(Some(1 << 20))]).free_mounted_mib(), 2048);
        assert_eq!(hp(vec![mount(Some(2048))]).free_mounted_mib(), 1024);
        assert_eq!(hp(vec![mount(None)]).free_mounted_mib(), 3072);
        assert_eq!(hp(vec![]).free_mounted_mib(), 0);
    }

    #[test]
    fn pools_from_sysfs() {
        let dir = tempfile::tempdir().unwrap();
        let pool = dir.path().join("hugepages-2048kB");
        fs::create_dir(&pool).unwrap();
        fs::write(pool.join("nr_hugepages"), "128\n").unwrap();
        fs::write(pool.join("free_hugepages"), "100\n").unwrap();
        assert_eq!(
            read_pools(dir.path()).unwrap(),
            [HugepagePool {
                page_size_kib: 2048,
                total: 128,
                free: 100
            }]
        );
        assert!(read_pools(&dir.path().join("missing")).unwrap().is_empty());
        fs::write(pool.join("free_hugepages"), "x").unwrap();
        assert!(read_pools(dir.path()).is_err());
    }
}
