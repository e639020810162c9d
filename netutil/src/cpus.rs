//! The CPUs this process may run on, and the kernel's CPU list syntax (`0-3,8,10-11`).
//!
//! `Cpus_allowed_list` in `/proc/self/status` is the process affinity, which the kernel keeps
//! inside the cpuset of the container's cgroup, cgroup v1 or v2 alike (and so inside what the
//! kubelet CPU manager assigned). app-netutil read `cpuset.cpus` from the cgroup v1 hierarchy
//! only, which does not exist on cgroup-v2 hosts.

use crate::error::{FieldError, Problem};

/// The field of `/proc/<pid>/status` that holds the affinity list.
pub const STATUS_FIELD: &str = "Cpus_allowed_list";

/// CPU numbers above this are refused: no kernel supports that many CPUs, and a hostile range
/// such as `0-4294967295` must not allocate gigabytes.
const MAX_CPU: u32 = 65_535;

/// Reads the affinity list from the text of `/proc/self/status`.
///
/// ```
/// let status = "Name:\tdpdk-app\nCpus_allowed:\t0e\nCpus_allowed_list:\t1-3\n";
/// assert_eq!(netutil::cpus::from_status(status).unwrap(), [1, 2, 3]);
/// ```
pub fn from_status(status: &str) -> Result<Vec<u32>, FieldError> {
    let value = status
        .lines()
        .find_map(|line| line.strip_prefix(STATUS_FIELD)?.strip_prefix(':'))
        .ok_or_else(|| FieldError::new(STATUS_FIELD, Problem::MissingField))?;
    parse_list(value).map_err(|why| FieldError::new(STATUS_FIELD, Problem::InvalidValue(why)))
}

/// Parses a kernel CPU list into sorted, distinct CPU numbers. An empty list is an error, since
/// a process always may run somewhere.
///
/// ```
/// assert_eq!(netutil::cpus::parse_list(" 4-5,0,2\n").unwrap(), [0, 2, 4, 5]);
/// assert!(netutil::cpus::parse_list("3-1").is_err());
/// ```
pub fn parse_list(list: &str) -> Result<Vec<u32>, String> {
    let mut cpus = Vec::new();
    for part in list.trim().split(',') {
        let number = |s: &str| {
            s.parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_CPU)
                .ok_or_else(|| format!("{part:?} is not a CPU number or range"))
        };
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(part)?, number(part)?),
        };
        if first > last {
            return Err(format!("{part:?} is a descending range"));
        }
        cpus.extend(first..=last);
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

/// Writes CPU numbers in the kernel's compact form, the form EAL's `-l` takes.
///
/// ```
/// assert_eq!(netutil::cpus::format_list(&[1, 2, 3]), "1-3");
/// assert_eq!(netutil::cpus::format_list(&[0, 2, 4, 5]), "0,2,4-5");
/// ```
pub fn format_list(cpus: &[u32]) -> String {
    let mut sorted = cpus.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut rest = sorted.as_slice();
    while let Some(&first) = rest.first() {
        let run = 1 + rest
            .windows(2)
            .take_while(|w| w[0].checked_add(1) == Some(w[1]))
            .count();
        let last = rest[run - 1];
        parts.push(if run == 1 {
            first.to_string()
        } else {
            format!("{first}-{last}")
        });
        rest = &rest[run..];
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            " ",
            "a",
            "1,",
            "-1",
            "1-",
            "1-2-3",
            "65536",
            "0-4294967295",
        ] {
            assert!(parse_list(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn status_without_field() {
        let err = from_status("Name:\tx\n").unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.problem),
            (STATUS_FIELD, Problem::MissingField)
        );
    }

    #[test]
    fn format_edge_cases() {
        assert_eq!(format_list(&[]), "");
        assert_eq!(format_list(&[7]), "7");
        assert_eq!(format_list(&[3, 1, 2, 2, 9, 10]), "1-3,9-10");
        assert_eq!(
            format_list(&[u32::MAX - 1, u32::MAX]),
            format!("{}-{}", u32::MAX - 1, u32::MAX)
        );
    }
}
