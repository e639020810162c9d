//! Device arguments (what follows `--vdev=` or `-a`) that DPDK reads back exactly as planned.
//!
//! DPDK hands the text after the device name to `rte_kvargs`, which splits it at every `,`
//! outside `[...]` and ends a key at *every* `=`: `path=/x=path=/tmp/evil.sock` reads as
//! `path=/tmp/evil.sock`, `socket=/m=socket=/etc/evil` as `socket=/etc/evil`, and a `[` without
//! its `]` swallows every key after it. Device paths come from the pod's annotations and
//! device-info, so one of them could make DPDK create a socket anywhere. Hence one rule for
//! every value that goes into a device argument (paths, MACs, numbers, roles), checked when the
//! plan is made:
//!
//! - values use only the characters of [`VALUE_CHARS`]: no `=`, `,`, `[`, `]`, no whitespace,
//!   no control characters, nothing outside ASCII;
//! - device paths ([`check_path`]) are also absolute, have no `..` component and are at most
//!   [`MAX_PATH_LEN`] bytes long: every one of them may be a Unix socket (vhost-user, memif, or
//!   a socket standing in for `/dev/vhost-vdpa-N`), and a socket address holds 108 bytes with
//!   its terminating NUL.
//!
//! A device argument built from such values has exactly the keys and values it was built from
//! when DPDK parses it; [`validate`] checks a whole argument against the rule.

use std::fmt;

use thiserror::Error;

/// The characters a device argument value may contain, as a reader would write the set.
pub const VALUE_CHARS: &str = "A-Z a-z 0-9 . _ / + @ : -";

/// The longest device path, in bytes: `sun_path` (108 bytes) less the terminating NUL.
pub const MAX_PATH_LEN: usize = 107;

/// Whether `c` may appear in a device argument value.
///
/// ```
/// use netutil::devargs::is_value_char;
/// assert!("/dev/vhost-vdpa-0".chars().all(is_value_char));
/// assert!(!is_value_char('=') && !is_value_char(',') && !is_value_char('['));
/// ```
pub fn is_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '+' | '@' | ':' | '-')
}

/// What is wrong with a device path or a device argument.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DevargError {
    /// A character outside [`VALUE_CHARS`]; `at` is its byte offset.
    #[error(
        "character {} at byte {at} is not allowed in a DPDK device argument (allowed: {VALUE_CHARS})",
        Quoted(*.ch)
    )]
    Char {
        /// The character.
        ch: char,
        /// Its byte offset in the value.
        at: usize,
    },
    /// An empty value.
    #[error("is empty")]
    Empty,
    /// A device path that does not start with `/`.
    #[error("is not an absolute path")]
    NotAbsolute,
    /// A device path with a `..` component.
    #[error("has a '..' component")]
    ParentDir,
    /// A device path longer than a socket address holds.
    #[error("is {len} bytes long; a Unix socket path holds at most {MAX_PATH_LEN}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A device argument that is not `name[,key=value]...` with simple keys.
    #[error("{0:?} is not key=value with a lower-case key")]
    Pair(String),
    /// A value of a device argument, with what is wrong with it.
    #[error("value of {key}: {problem}")]
    Value {
        /// The key.
        key: String,
        /// What is wrong.
        problem: Box<DevargError>,
    },
}

/// A character in single quotes, escaped as Rust does when it is not printable.
struct Quoted(char);

impl fmt::Display for Quoted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Checks one value of a device argument: non-empty, only [`VALUE_CHARS`].
///
/// ```
/// use netutil::devargs::{check_value, DevargError};
/// assert!(check_value("0c:fe:c0:ff:ee:00").is_ok());
/// assert_eq!(check_value("/x=path=/tmp/evil.sock"), Err(DevargError::Char { ch: '=', at: 2 }));
/// ```
pub fn check_value(value: &str) -> Result<(), DevargError> {
    if value.is_empty() {
        return Err(DevargError::Empty);
    }
    match value.char_indices().find(|&(_, c)| !is_value_char(c)) {
        Some((at, ch)) => Err(DevargError::Char { ch, at }),
        None => Ok(()),
    }
}

/// Checks a device path for a device argument: a value ([`check_value`]) that is absolute,
/// without `..` components, at most [`MAX_PATH_LEN`] bytes.
///
/// ```
/// use netutil::devargs::{check_path, DevargError};
/// assert!(check_path("/var/lib/cni/usrspcni/3f1c9a5e0b7d-net1").is_ok());
/// assert_eq!(check_path("run/x.sock"), Err(DevargError::NotAbsolute));
/// assert_eq!(check_path("/run/../etc/x"), Err(DevargError::ParentDir));
/// let err = check_path("/tmp/a\nENTER").unwrap_err().to_string();
/// assert!(err.starts_with(r"character '\n' at byte 6 is not allowed"), "{err}");
/// ```
pub fn check_path(path: &str) -> Result<(), DevargError> {
    check_value(path)?;
    if !path.starts_with('/') {
        return Err(DevargError::NotAbsolute);
    }
    if path.split('/').any(|part| part == "..") {
        return Err(DevargError::ParentDir);
    }
    if path.len() > MAX_PATH_LEN {
        return Err(DevargError::TooLong { len: path.len() });
    }
    Ok(())
}

/// Checks a whole device argument: a name and `key=value` pairs separated by `,`, the name and
/// every value passing [`check_value`], every key of lower-case letters, digits and `_`.
///
/// With these rules DPDK's `rte_kvargs` reads exactly the pairs that splitting at `,` and at
/// the one `=` gives. Every port of a [`crate::EalPlan`] passes.
///
/// ```
/// use netutil::devargs::validate;
/// assert!(validate("virtio_user0,path=/dev/vhost-vdpa-0,queues=1,mac=0c:fe:c0:ff:ee:00").is_ok());
/// assert!(validate("0000:65:00.2").is_ok());
/// assert!(validate("virtio_user0,path=/x=path=/tmp/evil.sock").is_err());
/// assert!(validate("net_memif1,socket=/m[,role=server").is_err());
/// ```
pub fn validate(devarg: &str) -> Result<(), DevargError> {
    let mut parts = devarg.split(',');
    let name = parts.next().unwrap_or_default();
    check_value(name)?;
    for pair in parts {
        let (key, value) = pair
            .split_once('=')
            .filter(|(k, _)| {
                !k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            })
            .ok_or_else(|| DevargError::Pair(pair.to_owned()))?;
        check_value(value).map_err(|problem| DevargError::Value {
            key: key.to_owned(),
            problem: Box::new(problem),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injection_strings_are_refused() {
        for (path, ch) in [
            ("/x=path=/tmp/evil.sock", '='),
            ("/m=socket=/etc/evil", '='),
            ("/run/a,server=1", ','),
            ("/run/m[,role=client", '['),
            ("/run/m]", ']'),
            ("/run/a b", ' '),
            ("/run/a\tb", '\t'),
            ("/run/a\nb", '\n'),
            ("/run/a\u{1b}b", '\u{1b}'),
            ("/run/é", 'é'),
            ("/run/a\u{0}b", '\u{0}'),
        ] {
            match check_path(path) {
                Err(DevargError::Char { ch: c, .. }) => assert_eq!(c, ch, "{path:?}"),
                other => panic!("{path:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn path_shape() {
        assert_eq!(check_path(""), Err(DevargError::Empty));
        assert_eq!(check_path("."), Err(DevargError::NotAbsolute));
        assert_eq!(check_path("/.."), Err(DevargError::ParentDir));
        assert_eq!(check_path("/a/../b"), Err(DevargError::ParentDir));
        assert!(check_path("/a/..b/c..").is_ok(), "only whole components");
        let longest = format!("/{}", "s".repeat(MAX_PATH_LEN - 1));
        assert!(check_path(&longest).is_ok());
        assert_eq!(
            check_path(&format!("{longest}s")),
            Err(DevargError::TooLong {
                len: MAX_PATH_LEN + 1
            })
        );
    }

    #[test]
    fn messages_escape_the_character() {
        let err = check_path("/a\u{1b}[2J").unwrap_err().to_string();
        assert!(err.starts_with(r"character '\u{1b}' at byte 2"), "{err}");
        let err = validate("virtio_user0,path=/a\nb").unwrap_err().to_string();
        assert!(
            err.starts_with(r"value of path: character '\n' at byte 2"),
            "{err}"
        );
        assert!(validate("x,=1").is_err() && validate("x,Key=1").is_err());
        assert!(validate("x,k=").is_err() && validate(",k=1").is_err());
    }
}
