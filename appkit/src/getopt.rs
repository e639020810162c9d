//! A `getopt_long`-compatible option scanner, so our apps accept exactly the command lines of
//! the C applications they mirror: `--opt=value` and `--opt value`, unambiguous abbreviations of
//! long options (as glibc allows), clustered short flags (`-PL`) and attached short values
//! (`-p0x3`). Unlike DPDK's apps, an unknown option is an error that names it.

use thiserror::Error;

/// Whether an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasArg {
    No,
    Required,
    /// Only as `--opt=value` (getopt's `optional_argument`).
    Optional,
}

/// One accepted option. `name` identifies it in the results (the long name, or the short
/// letter as a string for short-only options).
#[derive(Debug, Clone, Copy)]
pub struct Opt {
    pub name: &'static str,
    pub long: Option<&'static str>,
    pub short: Option<char>,
    pub arg: HasArg,
}

impl Opt {
    pub const fn long(name: &'static str, arg: HasArg) -> Self {
        Opt {
            name,
            long: Some(name),
            short: None,
            arg,
        }
    }

    pub const fn short(letter: char, name: &'static str, arg: HasArg) -> Self {
        Opt {
            name,
            long: None,
            short: Some(letter),
            arg,
        }
    }

    pub const fn both(letter: char, name: &'static str, arg: HasArg) -> Self {
        Opt {
            name,
            long: Some(name),
            short: Some(letter),
            arg,
        }
    }
}

/// A command line that does not fit the option table.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GetoptError {
    #[error("unknown option {0:?}")]
    Unknown(String),
    #[error("option {given:?} is ambiguous: could be {candidates}")]
    Ambiguous { given: String, candidates: String },
    #[error("option {0:?} requires a value")]
    MissingValue(String),
    #[error("option {0:?} does not take a value")]
    UnexpectedValue(String),
    #[error("unexpected argument {0:?} (options start with - or --)")]
    Positional(String),
}

/// Scans `args` against `table`, returning `(name, value)` pairs in command-line order.
/// Everything after a lone `--` is rejected as positional, as no mirrored app takes operands.
pub fn scan(
    args: &[String],
    table: &[Opt],
) -> Result<Vec<(&'static str, Option<String>)>, GetoptError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if let Some(body) = arg.strip_prefix("--") {
            if body.is_empty() {
                if let Some(extra) = args.get(i) {
                    return Err(GetoptError::Positional(extra.clone()));
                }
                break;
            }
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (body, None),
            };
            let opt = find_long(table, name)?;
            let display = format!("--{}", opt.long.unwrap_or(name));
            let value = match (opt.arg, inline) {
                (HasArg::No, Some(_)) => return Err(GetoptError::UnexpectedValue(display)),
                (HasArg::No, None) | (HasArg::Optional, None) => None,
                (_, Some(v)) => Some(v),
                (HasArg::Required, None) => {
                    let v = args.get(i).ok_or(GetoptError::MissingValue(display))?;
                    i += 1;
                    Some(v.clone())
                }
            };
            out.push((opt.name, value));
        } else if let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) {
            for (pos, c) in cluster.char_indices() {
                let opt = table
                    .iter()
                    .find(|o| o.short == Some(c))
                    .ok_or_else(|| GetoptError::Unknown(format!("-{c}")))?;
                if opt.arg == HasArg::No {
                    out.push((opt.name, None));
                    continue;
                }
                let rest = &cluster[pos + c.len_utf8()..];
                let value = if !rest.is_empty() {
                    Some(rest.to_owned())
                } else if opt.arg == HasArg::Required {
                    let v = args
                        .get(i)
                        .ok_or_else(|| GetoptError::MissingValue(format!("-{c}")))?;
                    i += 1;
                    Some(v.clone())
                } else {
                    None
                };
                out.push((opt.name, value));
                break;
            }
        } else {
            return Err(GetoptError::Positional(arg.clone()));
        }
    }
    Ok(out)
}

fn find_long<'t>(table: &'t [Opt], name: &str) -> Result<&'t Opt, GetoptError> {
    if let Some(exact) = table.iter().find(|o| o.long == Some(name)) {
        return Ok(exact);
    }
    let candidates: Vec<&Opt> = table
        .iter()
        .filter(|o| o.long.is_some_and(|l| l.starts_with(name)))
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(GetoptError::Unknown(format!("--{name}"))),
        many => Err(GetoptError::Ambiguous {
            given: format!("--{name}"),
            candidates: many
                .iter()
                .filter_map(|o| o.long)
                .map(|l| format!("--{l}"))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[Opt] = &[
        Opt::both('a', "auto-start", HasArg::No),
        Opt::long("forward-mode", HasArg::Required),
        Opt::long("stats-period", HasArg::Required),
        Opt::long("stats-format", HasArg::Required),
        Opt::long("record-burst-stats", HasArg::No),
        Opt::short('p', "p", HasArg::Required),
        Opt::short('P', "P", HasArg::No),
        Opt::short('L', "L", HasArg::No),
        Opt::long("opt", HasArg::Optional),
    ];

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn long_forms() {
        let got = scan(
            &args(&[
                "--forward-mode=txonly",
                "--stats-period",
                "2",
                "-a",
                "--forward",
                "io",
                "--opt",
                "--opt=x",
            ]),
            TABLE,
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                ("forward-mode", Some("txonly".into())),
                ("stats-period", Some("2".into())),
                ("auto-start", None),
                ("forward-mode", Some("io".into())),
                ("opt", None),
                ("opt", Some("x".into())),
            ]
        );
    }

    #[test]
    fn short_forms() {
        let got = scan(&args(&["-PL", "-p0x3", "-p", "0x1", "-Pp", "3"]), TABLE).unwrap();
        assert_eq!(
            got,
            vec![
                ("P", None),
                ("L", None),
                ("p", Some("0x3".into())),
                ("p", Some("0x1".into())),
                ("P", None),
                ("p", Some("3".into()))
            ]
        );
    }

    #[test]
    fn errors_name_the_option() {
        assert_eq!(
            scan(&args(&["--no-such"]), TABLE),
            Err(GetoptError::Unknown("--no-such".into()))
        );
        assert!(matches!(
            scan(&args(&["--stats"]), TABLE),
            Err(GetoptError::Ambiguous { .. })
        ));
        assert_eq!(
            scan(&args(&["--stats-period"]), TABLE),
            Err(GetoptError::MissingValue("--stats-period".into()))
        );
        assert_eq!(
            scan(&args(&["--auto-start=1"]), TABLE),
            Err(GetoptError::UnexpectedValue("--auto-start".into()))
        );
        assert_eq!(
            scan(&args(&["-x"]), TABLE),
            Err(GetoptError::Unknown("-x".into()))
        );
        assert_eq!(
            scan(&args(&["-p"]), TABLE),
            Err(GetoptError::MissingValue("-p".into()))
        );
        assert_eq!(
            scan(&args(&["stray"]), TABLE),
            Err(GetoptError::Positional("stray".into()))
        );
        assert_eq!(
            scan(&args(&["--", "x"]), TABLE),
            Err(GetoptError::Positional("x".into()))
        );
    }
}
