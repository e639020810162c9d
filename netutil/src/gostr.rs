//! Go double-quoted string literals, the form kubelet's downward API writes values in (`%q`).
//!
//! app-netutil "unquoted" by deleting every backslash, every `\n` and every space, which turns
//! `\"` into `"` by luck but corrupts any value holding a space, a tab, an escaped backslash or a
//! non-ASCII escape. [`unquote`] implements the whole of Go's escape grammar instead.

use std::fmt::Write as _;

/// Why a Go string literal could not be unquoted, with the byte offset in the literal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at byte {offset}")]
pub struct UnquoteError {
    /// Byte offset in the literal (counting the opening quote).
    pub offset: usize,
    /// What is wrong there.
    pub reason: &'static str,
}

/// Decodes one Go double-quoted string literal, quotes included.
///
/// Accepts every escape of the Go spec: `\a \b \f \n \r \t \v \\ \"`, `\xNN` (a byte), `\NNN`
/// (an octal byte, at most `\377`), `\uXXXX` and `\UXXXXXXXX` (a Unicode scalar value). `\'` is
/// accepted too although Go only allows it in rune literals; it can only mean `'`. Raw newlines
/// and unescaped quotes inside the literal are errors, as in Go. Bytes given with `\x` or octal
/// escapes must add up to UTF-8, because every value this crate reads is JSON or text.
///
/// ```
/// use netutil::gostr::unquote;
/// assert_eq!(unquote(r#""a=b\t\"c\"\u00e9\x41\101""#).unwrap(), "a=b\t\"c\"éAA");
/// assert!(unquote(r#""unterminated"#).is_err());
/// ```
pub fn unquote(literal: &str) -> Result<String, UnquoteError> {
    let err = |offset, reason| Err(UnquoteError { offset, reason });
    let bytes = literal.as_bytes();
    if bytes.len() < 2 || bytes[0] != b'"' || bytes[bytes.len() - 1] != b'"' {
        return err(0, "not a double-quoted string");
    }
    let end = bytes.len() - 1;
    let mut out = Vec::with_capacity(end);
    let mut i = 1;
    while i < end {
        match bytes[i] {
            b'"' => return err(i, "unescaped quote"),
            b'\n' => return err(i, "newline in string"),
            b'\\' => {
                let Some(&esc) = bytes.get(i + 1).filter(|_| i + 1 < end) else {
                    return err(i, "backslash at end of string");
                };
                let simple = match esc {
                    b'a' => Some(0x07),
                    b'b' => Some(0x08),
                    b'f' => Some(0x0c),
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'v' => Some(0x0b),
                    b'\\' | b'"' | b'\'' => Some(esc),
                    _ => None,
                };
                if let Some(b) = simple {
                    out.push(b);
                    i += 2;
                    continue;
                }
                let (radix, len, start) = match esc {
                    b'x' => (16, 2, i + 2),
                    b'u' => (16, 4, i + 2),
                    b'U' => (16, 8, i + 2),
                    b'0'..=b'7' => (8, 3, i + 1),
                    _ => return err(i, "unknown escape"),
                };
                let Some(value) = digits(&bytes[..end], start, len, radix) else {
                    return err(i, "escape has too few digits");
                };
                match esc {
                    b'u' | b'U' => {
                        let Some(c) = char::from_u32(value) else {
                            return err(i, "escape is not a Unicode scalar value");
                        };
                        let mut buf = [0; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    _ => match u8::try_from(value) {
                        Ok(b) => out.push(b),
                        Err(_) => return err(i, "octal escape above \\377"),
                    },
                }
                i = start + len;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|e| UnquoteError {
        offset: e.utf8_error().valid_up_to(),
        reason: "escaped bytes are not valid UTF-8",
    })
}

/// Reads exactly `len` digits of `radix` at `start`, or `None` if there are not that many.
fn digits(bytes: &[u8], start: usize, len: usize, radix: u32) -> Option<u32> {
    let digits = bytes.get(start..start.checked_add(len)?)?;
    digits.iter().try_fold(0u32, |acc, &b| {
        Some(acc * radix + char::from(b).to_digit(radix)?)
    })
}

/// Encodes `s` as a Go double-quoted literal the way `strconv.Quote` (and so `%q`) does.
///
/// Quotes and backslashes are escaped, the C escapes are used for the usual control characters,
/// other control characters become `\xNN` (ASCII) or `\uXXXX`, and Unicode spaces other than the
/// ASCII space become `\uXXXX`. Go also escapes a few rare non-printing format characters that
/// this keeps as they are; both spellings [`unquote`] to the same string.
///
/// ```
/// use netutil::gostr::{quote, unquote};
/// let s = "[{\n    \"name\": \"cbr0\"\n}]";
/// assert_eq!(quote(s), r#""[{\n    \"name\": \"cbr0\"\n}]""#);
/// assert_eq!(unquote(&quote(s)).unwrap(), s);
/// ```
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            ' ' => out.push(' '),
            c if c < ' ' || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() || c.is_whitespace() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_escapes() {
        let lit = r#""\a\b\f\n\r\t\v\\\"\'\x7e\176\u263a\U0001F600""#;
        assert_eq!(unquote(lit).unwrap(), "\x07\x08\x0c\n\r\t\x0b\\\"'~~☺😀");
    }

    #[test]
    fn raw_non_ascii_tabs_and_equals_pass_through() {
        assert_eq!(unquote("\"k=v\tÿ 中\"").unwrap(), "k=v\tÿ 中");
    }

    #[test]
    fn multi_byte_utf8_from_hex_escapes() {
        assert_eq!(unquote(r#""\xc3\xa9""#).unwrap(), "é");
        assert_eq!(unquote(r#""\303\251""#).unwrap(), "é");
    }

    #[test]
    fn rejects_bad_literals() {
        for (lit, reason) in [
            ("", "not a double-quoted string"),
            ("\"", "not a double-quoted string"),
            ("abc", "not a double-quoted string"),
            (r#""a"b""#, "unescaped quote"),
            ("\"a\nb\"", "newline in string"),
            (r#""abc\""#, "backslash at end of string"),
            (r#""\q""#, "unknown escape"),
            (r#""\x4""#, "escape has too few digits"),
            (r#""\u12""#, "escape has too few digits"),
            (r#""\12""#, "escape has too few digits"),
            (r#""\400""#, "octal escape above \\377"),
            (r#""\ud800""#, "escape is not a Unicode scalar value"),
            (r#""\U00110000""#, "escape is not a Unicode scalar value"),
            (r#""\xff""#, "escaped bytes are not valid UTF-8"),
        ] {
            assert_eq!(unquote(lit).unwrap_err().reason, reason, "{lit}");
        }
    }

    #[test]
    fn digits_do_not_run_past_closing_quote() {
        // "\x4" followed by the closing quote: the quote is not a hex digit, and it is outside
        // the body anyway.
        assert!(unquote(r#""\x4""#).is_err());
        assert!(unquote(r#""\u004""#).is_err());
    }

    #[test]
    fn quote_matches_go_for_common_characters() {
        // Expected strings are what Go's strconv.Quote returns for the same input.
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\x00\x1f\x7f"), r#""\x00\x1f\x7f""#);
        assert_eq!(quote("\u{a0}\u{2028}"), r#""\u00a0\u2028""#);
        assert_eq!(quote("é☺😀"), "\"é☺😀\"");
        assert_eq!(quote("\x07\x08\x0c\r\x0b"), r#""\a\b\f\r\v""#);
    }

    #[test]
    fn round_trip() {
        for s in [
            "",
            "plain",
            "tab\tnew\nline",
            "quote\"back\\",
            "\u{85}\u{2029}é",
        ] {
            assert_eq!(unquote(&quote(s)).unwrap(), s);
        }
    }
}
