//! Kubelet's downward-API file format for `metadata.annotations` and `metadata.labels`.
//!
//! Kubelet (`pkg/fieldpath` `FormatMap`) writes one `key="<Go %q of the value>"` per line, keys
//! sorted, no final newline. Keys cannot hold `=` or whitespace, values can hold anything, so a
//! line splits at its first `=` and the rest must be exactly one Go string literal.

use std::collections::BTreeMap;

use crate::error::{FieldError, Problem};
use crate::gostr;

/// The file name of the annotations item in the downward-API volume.
pub const ANNOTATIONS_FILE: &str = "annotations";
/// The annotation Multus writes the attached networks into.
pub const NETWORK_STATUS_KEY: &str = "k8s.v1.cni.cncf.io/network-status";
/// The deprecated spelling older Multus versions wrote as well (or only).
pub const OLD_NETWORK_STATUS_KEY: &str = "k8s.v1.cni.cncf.io/networks-status";

/// Parses a downward-API map file into its key/value pairs.
///
/// Empty lines are skipped (an object without annotations gives an empty file). The field of a
/// returned error is `line N`, counting from 1.
///
/// ```
/// let text = br#"k8s.v1.cni.cncf.io/networks="[{\"name\":\"a\"}]"
/// note="x=y\tz""#;
/// let map = netutil::downward::parse(text).unwrap();
/// assert_eq!(map["k8s.v1.cni.cncf.io/networks"], r#"[{"name":"a"}]"#);
/// assert_eq!(map["note"], "x=y\tz");
/// ```
pub fn parse(text: &[u8]) -> Result<BTreeMap<String, String>, FieldError> {
    let mut map = BTreeMap::new();
    for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
        let malformed =
            |why: String| FieldError::new(format!("line {}", n + 1), Problem::MalformedLine(why));
        if raw.is_empty() {
            continue;
        }
        let line = std::str::from_utf8(raw).map_err(|e| malformed(format!("not UTF-8 ({e})")))?;
        let Some((key, literal)) = line.split_once('=') else {
            return Err(malformed("no '=' between key and value".into()));
        };
        if key.is_empty() || key.contains(|c: char| c.is_whitespace() || c == '"') {
            return Err(malformed(format!("invalid key {key:?}")));
        }
        let value =
            gostr::unquote(literal).map_err(|e| malformed(format!("value of {key}: {e}")))?;
        if map.insert(key.to_owned(), value).is_some() {
            return Err(malformed(format!("duplicate key {key}")));
        }
    }
    Ok(map)
}

/// Writes a map the way kubelet does; [`parse`] reads it back unchanged.
///
/// Useful to simulate a pod's downward-API volume in tests and demos.
///
/// ```
/// use std::collections::BTreeMap;
/// let map = BTreeMap::from([("b".to_string(), "2\n".to_string()), ("a".to_string(), "\"1\"".to_string())]);
/// let text = netutil::downward::format(&map);
/// assert_eq!(text, "a=\"\\\"1\\\"\"\nb=\"2\\n\"");
/// assert_eq!(netutil::downward::parse(text.as_bytes()).unwrap(), map);
/// ```
pub fn format(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={}", gostr::quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_file_with_json_and_equals() {
        let text = concat!(
            "kubectl.kubernetes.io/last-applied-configuration=\"{\\\"env\\\":[{\\\"name\\\":\\\"X\\\",\\\"value\\\":\\\"--forward-mode=txonly\\\"}]}\\n\"\n",
            "kubernetes.io/config.seen=\"2021-02-10T10:20:30.123456789Z\"\n",
            "kubernetes.io/config.source=\"api\""
        );
        let map = parse(text.as_bytes()).unwrap();
        assert_eq!(map.len(), 3);
        assert_eq!(
            map["kubectl.kubernetes.io/last-applied-configuration"],
            "{\"env\":[{\"name\":\"X\",\"value\":\"--forward-mode=txonly\"}]}\n"
        );
        assert_eq!(map["kubernetes.io/config.source"], "api");
    }

    #[test]
    fn empty_file_is_empty_map() {
        assert!(parse(b"").unwrap().is_empty());
        assert!(parse(b"\n").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line, why) in [
            (&b"a=\"1\"\nbroken"[..], "line 2", "no '='"),
            (b"=\"1\"", "line 1", "invalid key"),
            (b"a b=\"1\"", "line 1", "invalid key"),
            (b"a=1", "line 1", "value of a: not a double-quoted string"),
            (b"a=\"1\" ", "line 1", "value of a"),
            (b"a=\"1\"\na=\"2\"", "line 2", "duplicate key a"),
            (b"a=\"\xff\"", "line 1", "not UTF-8"),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.field, line);
            let Problem::MalformedLine(msg) = &err.problem else {
                panic!("{err}")
            };
            assert!(msg.contains(why), "{msg} should contain {why}");
        }
    }
}
