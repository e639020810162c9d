//! l3fwd's routes: the built-in default tables and the 22.11 rule files (`--rule_ipv4`,
//! `--rule_ipv6`), read as `lpm_route_parse.c` and `em_route_parse.c` read them.
//!
//! A rule file holds route lines starting with `R`, comments starting with `#` and blank
//! lines; anything else is an error. Fields are separated by blanks; numbers are read as
//! `strtoul(s, &end, 0)` reads them (`0x11` and `17` are both UDP):
//!
//! ```text
//! R198.18.0.0/24 0                                      LPM IPv4: prefix/depth port
//! R2001:200:0:0::/64 0                                  LPM IPv6: prefix/depth port
//! R198.18.0.0 198.18.0.1 9 9 0x11 0                     EM IPv4: dst src dport sport proto port
//! R2001:200::0 2001:200::1 9 9 0x11 0                   EM IPv6: the same with IPv6 addresses
//! ```
//!
//! Unlike C, an EM rule with a malformed IPv4 address is an error (C's `em_parse_v4_rule`
//! returns `inet_pton`'s 0 as success and installs a zeroed key), and so is an LPM depth of 0
//! (C fails later, in `rte_lpm_add`).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::sample_args::parse_c_ulong;

/// A rule file that cannot be used.
#[derive(Debug, Error)]
pub enum RuleError {
    #[error("cannot read rule file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("rule file {} holds no route (lines starting with 'R')", path.display())]
    NoRoutes { path: PathBuf },
    #[error("{}:{line}: {reason}", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// A longest-prefix-match route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LpmRoute<A> {
    pub prefix: A,
    pub depth: u8,
    pub port: u8,
}

/// An exact-match route: packets with exactly this 5-tuple go to `port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmRoute<A> {
    pub dst: A,
    pub src: A,
    pub dst_port: u16,
    pub src_port: u16,
    pub proto: u8,
    pub port: u8,
}

/// C l3fwd's built-in LPM table: `198.18.N.0/24` to port N, N = 0..15.
pub fn default_lpm_v4() -> Vec<LpmRoute<Ipv4Addr>> {
    (0..16)
        .map(|n| LpmRoute {
            prefix: Ipv4Addr::new(198, 18, n, 0),
            depth: 24,
            port: n,
        })
        .collect()
}

/// C l3fwd's built-in LPM table: `2001:200:0:N::/64` to port N, N = 0..15.
pub fn default_lpm_v6() -> Vec<LpmRoute<Ipv6Addr>> {
    (0..16)
        .map(|n| LpmRoute {
            prefix: Ipv6Addr::new(0x2001, 0x200, 0, n.into(), 0, 0, 0, 0),
            depth: 64,
            port: n,
        })
        .collect()
}

/// C l3fwd's built-in EM table: UDP 198.18.N.1:9 -> 198.18.N.0:9 to port N (RFC 863
/// discard traffic in the RFC 2544 range), N = 0..15.
pub fn default_em_v4() -> Vec<EmRoute<Ipv4Addr>> {
    (0..16)
        .map(|n| EmRoute {
            dst: Ipv4Addr::new(198, 18, n, 0),
            src: Ipv4Addr::new(198, 18, n, 1),
            dst_port: 9,
            src_port: 9,
            proto: 17,
            port: n,
        })
        .collect()
}

/// C l3fwd's built-in EM table: UDP 2001:200:0:N::1:9 -> 2001:200:0:N:::9 to port N.
pub fn default_em_v6() -> Vec<EmRoute<Ipv6Addr>> {
    (0..16)
        .map(|n| EmRoute {
            dst: Ipv6Addr::new(0x2001, 0x200, 0, n.into(), 0, 0, 0, 0),
            src: Ipv6Addr::new(0x2001, 0x200, 0, n.into(), 0, 0, 0, 1),
            dst_port: 9,
            src_port: 9,
            proto: 17,
            port: n,
        })
        .collect()
}

/// A route line's text after the leading `R`.
pub trait Rule: Sized {
    fn parse(fields: &str) -> Result<Self, String>;
}

/// Loads the routes of a rule file.
pub fn load<R: Rule>(path: &Path) -> Result<Vec<R>, RuleError> {
    let text = std::fs::read_to_string(path).map_err(|source| RuleError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_file(path, &text)
}

fn parse_file<R: Rule>(path: &Path, text: &str) -> Result<Vec<R>, RuleError> {
    // Lines end at '\n' only: a '\r' stays in the last field, as it does for C's strtok.
    if !text.split('\n').any(|l| l.starts_with('R')) {
        return Err(RuleError::NoRoutes {
            path: path.to_owned(),
        });
    }
    let mut routes = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let at = |reason: String| RuleError::Line {
            path: path.to_owned(),
            line: i + 1,
            reason,
        };
        if line.starts_with('#') || line.chars().all(char::is_whitespace) {
            continue;
        }
        let Some(fields) = line.strip_prefix('R') else {
            return Err(at("should start with leading char R".into()));
        };
        routes.push(R::parse(fields).map_err(at)?);
    }
    Ok(routes)
}

/// Splits `s` into exactly `N` blank-separated fields, ignoring any beyond (as C's `strtok`
/// loop does).
fn fields<const N: usize>(s: &str) -> Result<[&str; N], String> {
    let mut it = s.split([' ', '\t']).filter(|f| !f.is_empty());
    let mut out = [""; N];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = it
            .next()
            .ok_or_else(|| format!("expected {N} fields, found {i}"))?;
    }
    Ok(out)
}

fn number(field: &str, what: &str, max: u64) -> Result<u64, String> {
    match parse_c_ulong(field) {
        Some(v) if v <= max => Ok(v),
        _ => Err(format!("invalid {what} {field:?}: expected 0 to {max}")),
    }
}

fn address<A: std::str::FromStr>(field: &str, what: &str) -> Result<A, String> {
    field
        .parse()
        .map_err(|_| format!("invalid {what} address {field:?}"))
}

fn prefix<A: std::str::FromStr>(field: &str, max_depth: u64) -> Result<(A, u8), String> {
    let (addr, depth) = field
        .split_once('/')
        .ok_or_else(|| format!("expected PREFIX/DEPTH, found {field:?}"))?;
    let depth = number(depth, "depth", max_depth)?;
    if depth == 0 {
        return Err("invalid depth 0: LPM routes need a depth of at least 1".into());
    }
    Ok((address(addr, "prefix")?, depth as u8))
}

macro_rules! lpm_rule {
    ($addr:ty, $max_depth:expr) => {
        impl Rule for LpmRoute<$addr> {
            fn parse(s: &str) -> Result<Self, String> {
                let [net, port] = fields::<2>(s)?;
                let (prefix, depth) = prefix(net, $max_depth)?;
                Ok(LpmRoute {
                    prefix,
                    depth,
                    port: number(port, "port", 255)? as u8,
                })
            }
        }
    };
}

macro_rules! em_rule {
    ($addr:ty) => {
        impl Rule for EmRoute<$addr> {
            fn parse(s: &str) -> Result<Self, String> {
                let [dst, src, dst_port, src_port, proto, port] = fields::<6>(s)?;
                Ok(EmRoute {
                    dst: address(dst, "destination")?,
                    src: address(src, "source")?,
                    dst_port: number(dst_port, "destination port", 65535)? as u16,
                    src_port: number(src_port, "source port", 65535)? as u16,
                    proto: number(proto, "protocol", 255)? as u8,
                    port: number(port, "port", 255)? as u8,
                })
            }
        }
    };
}

lpm_rule!(Ipv4Addr, 32);
lpm_rule!(Ipv6Addr, 128);
em_rule!(Ipv4Addr);
em_rule!(Ipv6Addr);

impl<A: fmt::Display> fmt::Display for LpmRoute<A> {
    /// As C prints an installed route: `198.18.0.0 / 24 (0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {} ({})", self.prefix, self.depth, self.port)
    }
}

impl<A: fmt::Display> fmt::Display for EmRoute<A> {
    /// As C prints an installed route: `198.18.0.0, 198.18.0.1, 9, 9, 17 (0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {}, {}, {}, {} ({})",
            self.dst, self.src, self.dst_port, self.src_port, self.proto, self.port
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = "/usr/share/dpdk/examples/l3fwd";

    fn parse<R: Rule>(text: &str) -> Result<Vec<R>, RuleError> {
        parse_file(Path::new("rules.cfg"), text)
    }

    fn line_error<R: Rule + fmt::Debug>(text: &str) -> String {
        parse::<R>(text).unwrap_err().to_string()
    }

    #[test]
    fn shipped_files_equal_the_defaults() {
        // The 22.11 examples ship copies of the hard-coded tables (Debian's dpdk-doc).
        let dir = Path::new(SHIPPED);
        if !dir.exists() {
            eprintln!("{SHIPPED} missing: skipping");
            return;
        }
        let v4: Vec<LpmRoute<Ipv4Addr>> = load(&dir.join("lpm_default_v4.cfg")).unwrap();
        assert_eq!(v4, default_lpm_v4());
        let v6: Vec<LpmRoute<Ipv6Addr>> = load(&dir.join("lpm_default_v6.cfg")).unwrap();
        assert_eq!(v6, default_lpm_v6());
        let v4: Vec<EmRoute<Ipv4Addr>> = load(&dir.join("em_default_v4.cfg")).unwrap();
        assert_eq!(v4, default_em_v4());
        let v6: Vec<EmRoute<Ipv6Addr>> = load(&dir.join("em_default_v6.cfg")).unwrap();
        assert_eq!(v6, default_em_v6());
    }

    #[test]
    fn lpm_lines() {
        let routes: Vec<LpmRoute<Ipv4Addr>> =
            parse("# comment\n\n  \t\nR10.0.0.0/8 3\nR 192.168.1.0/0x18\t0x1f extra\n").unwrap();
        assert_eq!(
            routes,
            [
                LpmRoute {
                    prefix: Ipv4Addr::new(10, 0, 0, 0),
                    depth: 8,
                    port: 3
                },
                LpmRoute {
                    prefix: Ipv4Addr::new(192, 168, 1, 0),
                    depth: 24,
                    port: 31
                }
            ]
        );
        assert_eq!(routes[0].to_string(), "10.0.0.0 / 8 (3)");
        let v6: Vec<LpmRoute<Ipv6Addr>> = parse("R2001:db8::/128 1\n").unwrap();
        assert_eq!(v6[0].depth, 128);
    }

    #[test]
    fn em_lines() {
        let routes: Vec<EmRoute<Ipv4Addr>> = parse("R1.2.3.4 5.6.7.8 80 1024 6 2\n").unwrap();
        assert_eq!(
            routes,
            [EmRoute {
                dst: Ipv4Addr::new(1, 2, 3, 4),
                src: Ipv4Addr::new(5, 6, 7, 8),
                dst_port: 80,
                src_port: 1024,
                proto: 6,
                port: 2
            }]
        );
        assert_eq!(routes[0].to_string(), "1.2.3.4, 5.6.7.8, 80, 1024, 6 (2)");
    }

    #[test]
    fn errors_name_file_and_line() {
        type V4 = LpmRoute<Ipv4Addr>;
        type E4 = EmRoute<Ipv4Addr>;
        assert_eq!(
            line_error::<V4>("R1.0.0.0/8 1\n@1.0.0.0/8 1\n"),
            "rules.cfg:2: should start with leading char R"
        );
        assert_eq!(
            line_error::<V4>("R1.0.0.0/8 1\n R2.0.0.0/8 1\n"),
            "rules.cfg:2: should start with leading char R"
        );
        assert_eq!(
            line_error::<V4>("#x\nR1.0.0.0/33 1\n"),
            "rules.cfg:2: invalid depth \"33\": expected 0 to 32"
        );
        assert!(line_error::<V4>("R1.0.0.0/0 1\n").contains("depth 0"));
        assert!(line_error::<V4>("R1.0.0.0 1\n").contains("expected PREFIX/DEPTH"));
        assert!(line_error::<V4>("R1.0.0.0/8\n").contains("expected 2 fields, found 1"));
        assert!(line_error::<V4>("R1.0.0.0/8 256\n").contains("invalid port \"256\""));
        assert!(line_error::<V4>("R1.0.0/8 1\n").contains("invalid prefix address"));
        assert!(line_error::<V4>("R1.0.0.0/8 1\r\n").contains("invalid port"));
        assert!(line_error::<E4>("R1.2.3 5.6.7.8 80 1024 6 2\n")
            .contains("invalid destination address \"1.2.3\""));
        assert!(line_error::<E4>("R1.2.3.4 5.6.7.8 80 65536 6 2\n")
            .contains("invalid source port \"65536\""));
        assert!(line_error::<E4>("R1.2.3.4 5.6.7.8 80 1 6\n").contains("expected 6 fields"));
        assert_eq!(
            line_error::<V4>("# only comments\n"),
            "rule file rules.cfg holds no route (lines starting with 'R')"
        );
        let missing = load::<V4>(Path::new("/nonexistent/rules.cfg")).unwrap_err();
        assert!(missing
            .to_string()
            .contains("cannot read rule file /nonexistent/rules.cfg"));
    }
}
