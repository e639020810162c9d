//! Untrusted text made safe to print on one log line.
//!
//! Everything a pod is given (network names, interface names, paths, variable names and values)
//! may hold a newline, which would start a second, forged log line, or a terminal escape
//! sequence. [`printable`] writes such characters as escapes (`\n`, `\x1b`, `\u{202e}`) and
//! leaves everything else as it is, so ordinary names read unchanged. It does not escape the
//! backslash: the result is for reading, not for parsing back, and applying it twice changes
//! nothing, so text that passes through several layers is never escaped twice.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` with every control character and every character Rust does not consider printable
/// (line and paragraph separators, bidirectional overrides, zero-width characters, ...)
/// escaped: `\n`, `\r`, `\t`, `\x1b` for ASCII controls, `\u{202e}` for the others.
///
/// ```
/// use netutil::escape::printable;
/// assert_eq!(printable("default/vdpa-net"), "default/vdpa-net");
/// assert_eq!(printable("a\nENTER dpdk-app: x"), "a\\nENTER dpdk-app: x");
/// assert_eq!(printable("\x1b[31mred\u{202e}"), "\\x1b[31mred\\u{202e}");
/// assert_eq!(printable("Zürich \\n"), "Zürich \\n");
/// assert_eq!(printable(&printable("a\tb")), printable("a\tb"));
/// ```
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unprintable) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if unprintable(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Bytes that may not be UTF-8 (a non-UTF-8 argument or variable), printable: ASCII controls,
/// quotes, backslashes and every byte above 0x7f as escapes.
///
/// ```
/// assert_eq!(netutil::escape::bytes(b"/tmp/\xff\n"), "/tmp/\\xff\\n");
/// ```
pub fn bytes(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

/// Whether `c` would break a log line or fool a reader, and so is escaped by [`printable`]: a
/// control character, or one that `char::escape_debug` escapes for being unprintable (quotes
/// and the backslash aside, which are printable).
///
/// ```
/// use netutil::escape::unprintable;
/// assert!(unprintable('\n') && unprintable('\u{1b}') && unprintable('\u{2028}'));
/// assert!(!unprintable('é') && !unprintable('\\') && !unprintable(' '));
/// ```
pub fn unprintable(c: char) -> bool {
    c.is_control() || (!matches!(c, '"' | '\'' | '\\') && c.escape_debug().nth(1).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_cannot_be_forged() {
        for c in [
            '\n', '\r', '\u{0b}', '\u{0c}', '\u{85}', '\u{2028}', '\u{2029}',
        ] {
            let s = format!("net{c}ENTER dpdk-app: rm -rf /");
            let p = printable(&s);
            assert_eq!(p.lines().count(), 1, "{c:?}: {p}");
            assert!(!p.contains(c), "{c:?}: {p}");
        }
    }

    #[test]
    fn every_escape_is_plain_ascii() {
        let all: String = (0..0x3000u32).filter_map(char::from_u32).collect();
        let p = printable(&all);
        assert!(p.chars().all(|c| !c.is_control() && !unprintable(c)), "{p}");
    }
}
