//! Argument syntax shared by DPDK's sample applications (l2fwd, l3fwd): hexadecimal port masks,
//! lists of parenthesised number tuples (`--config="(0,0,1),(1,0,1)"`, `--portmap="(0,1)(2,3)"`)
//! and numbers as C's `strtoul(s, &end, 0)` reads them (`0x` hex, leading-zero octal).
//!
//! The C parsers silently ignore trailing garbage in a number and text between tuples; these
//! reject it and say what is wrong, but accept every well-formed command line the C apps do,
//! including the literal double quotes a shell-less entrypoint leaves around a tuple list.

use thiserror::Error;

use crate::monitor::MAX_PORTS;

/// A sample application's parsed command line: run with these options, or print the help.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed<T> {
    Run(T),
    Help,
}

/// A malformed sample-application argument.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SampleArgError {
    #[error(
        "invalid portmask {0:?}: expected a non-zero hexadecimal mask of ports 0..31, like 0x3"
    )]
    Portmask(String),
    #[error("invalid {what} {input:?}: {reason}")]
    Tuples {
        what: &'static str,
        input: String,
        reason: String,
    },
}

/// A set of port ids given as a hexadecimal bit mask (`-p 0x3`: ports 0 and 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortMask(pub u32);

impl PortMask {
    /// Parses like C's `strtoul(s, &end, 16)` with the whole string consumed (an optional `0x`),
    /// rejecting 0 (the C apps treat it as "invalid portmask") and bits beyond port 31.
    pub fn parse(s: &str) -> Result<Self, SampleArgError> {
        let err = || SampleArgError::Portmask(s.to_owned());
        let digits = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err());
        }
        match u32::from_str_radix(digits, 16) {
            Ok(mask) if mask != 0 => Ok(PortMask(mask)),
            _ => Err(err()),
        }
    }

    pub fn contains(self, port: u16) -> bool {
        usize::from(port) < MAX_PORTS && self.0 & (1 << port) != 0
    }

    /// The port ids in the mask, in increasing order.
    pub fn ports(self) -> impl Iterator<Item = u16> {
        (0..MAX_PORTS as u16).filter(move |&p| self.contains(p))
    }
}

impl std::fmt::Display for PortMask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// Reads an unsigned number as `strtoul(s, &end, 0)` does when it must consume all of `s`:
/// surrounding blanks, an optional `+`, then `0x`-prefixed hex, `0`-prefixed octal or decimal.
pub fn parse_c_ulong(s: &str) -> Option<u64> {
    let s = s.trim_matches([' ', '\t']);
    let s = s.strip_prefix('+').unwrap_or(s);
    let (digits, radix) = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (hex, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Parses a list of `N`-field tuples, each field at most the matching `max`.
///
/// Between tuples only commas, blanks and quotes may appear, so `"(0,0,1),(1,0,1)"` (quotes
/// included) and `(0,1)(2,3)` both parse.
pub fn parse_tuples<const N: usize>(
    what: &'static str,
    input: &str,
    max: [u64; N],
) -> Result<Vec<[u64; N]>, SampleArgError> {
    let fail = |reason: String| SampleArgError::Tuples {
        what,
        input: input.to_owned(),
        reason,
    };
    let mut out = Vec::new();
    let mut rest = input;
    loop {
        let Some(open) = rest.find('(') else {
            if let Some(bad) = rest.chars().find(|c| !is_separator(*c)) {
                return Err(fail(format!("unexpected {bad:?} after the last tuple")));
            }
            break;
        };
        if let Some(bad) = rest[..open].chars().find(|c| !is_separator(*c)) {
            return Err(fail(format!("unexpected {bad:?} before a tuple")));
        }
        let body_start = open + 1;
        let close = rest[body_start..]
            .find(')')
            .ok_or_else(|| fail("missing ')'".into()))?
            + body_start;
        let body = &rest[body_start..close];
        let fields: Vec<&str> = body.split(',').collect();
        if fields.len() != N {
            return Err(fail(format!(
                "tuple ({body}) has {} fields, expected {N}",
                fields.len()
            )));
        }
        let mut tuple = [0u64; N];
        for (i, field) in fields.iter().enumerate() {
            let v = parse_c_ulong(field)
                .ok_or_else(|| fail(format!("{field:?} in ({body}) is not a number")))?;
            if v > max[i] {
                return Err(fail(format!(
                    "{v} in ({body}) is out of range (at most {})",
                    max[i]
                )));
            }
            tuple[i] = v;
        }
        out.push(tuple);
        rest = &rest[close + 1..];
    }
    if out.is_empty() {
        return Err(fail("no tuple given".into()));
    }
    Ok(out)
}

fn is_separator(c: char) -> bool {
    matches!(c, ',' | ' ' | '\t' | '"' | '\'')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portmasks() {
        assert_eq!(PortMask::parse("0x3"), Ok(PortMask(3)));
        assert_eq!(PortMask::parse("3"), Ok(PortMask(3)));
        assert_eq!(PortMask::parse("fF"), Ok(PortMask(0xff)));
        assert_eq!(
            PortMask::parse("0x5").unwrap().ports().collect::<Vec<_>>(),
            [0, 2]
        );
        for bad in ["", "0", "0x", "0x0", "3g", "-1", "0x100000000", " 3"] {
            assert_eq!(
                PortMask::parse(bad),
                Err(SampleArgError::Portmask(bad.into())),
                "{bad:?}"
            );
        }
        assert_eq!(PortMask(0x11).to_string(), "0x11");
    }

    #[test]
    fn c_numbers() {
        assert_eq!(parse_c_ulong("17"), Some(17));
        assert_eq!(parse_c_ulong("0x11"), Some(17));
        assert_eq!(parse_c_ulong("021"), Some(17));
        assert_eq!(parse_c_ulong("0"), Some(0));
        assert_eq!(parse_c_ulong(" +5 "), Some(5));
        for bad in ["", "x", "0x", "09", "1a", "-1", "1 2"] {
            assert_eq!(parse_c_ulong(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tuple_lists() {
        let max = [31, 1023, 127];
        let expected = vec![[0, 0, 1], [1, 0, 1]];
        for ok in [
            "(0,0,1),(1,0,1)",
            "\"(0,0,1),(1,0,1)\"",
            "(0, 0, 1) (1,0,0x1)",
            "'(0,0,1)(1,0,1)'",
        ] {
            assert_eq!(
                parse_tuples("--config", ok, max),
                Ok(expected.clone()),
                "{ok}"
            );
        }
        let reason = |input: &str| match parse_tuples("--config", input, max) {
            Err(SampleArgError::Tuples { reason, .. }) => reason,
            other => panic!("{input}: {other:?}"),
        };
        assert!(reason("").contains("no tuple"));
        assert!(reason("(0,0,1").contains("missing ')'"));
        assert!(reason("(0,0)").contains("2 fields, expected 3"));
        assert!(reason("(0,0,1,2)").contains("4 fields"));
        assert!(reason("(0,x,1)").contains("\"x\" in (0,x,1) is not a number"));
        assert!(reason("(32,0,1)").contains("out of range (at most 31)"));
        assert!(reason("(0,0,1)x(1,0,1)").contains("unexpected 'x' before"));
        assert!(reason("(0,0,1)]").contains("after the last tuple"));
    }
}
