//! Command-line plumbing shared by every app: splitting `EAL args -- app args`, and splitting
//! `*_EXTRA_ARGS` environment values like a POSIX shell would.

use thiserror::Error;

/// Splits an argv (without program name) at the first `--` into EAL and application arguments.
/// Without `--` everything is an EAL argument, as with DPDK's own applications.
pub fn split_eal_app(args: &[String]) -> (&[String], &[String]) {
    match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[]),
    }
}

/// A string that is not a valid shell word list.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShellSplitError {
    #[error("unterminated {quote} quote in {input:?}")]
    Unterminated { quote: &'static str, input: String },
    #[error("trailing backslash in {input:?}")]
    TrailingBackslash { input: String },
}

/// Splits `input` into words like a POSIX shell, without expansions: whitespace separates
/// words, single quotes keep everything literally, double quotes keep everything but `\"`,
/// `\\`, `\$` and `` \` `` escapes, a backslash outside quotes escapes the next character.
pub fn shell_split(input: &str) -> Result<Vec<String>, ShellSplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => {
                            return Err(ShellSplitError::Unterminated {
                                quote: "single",
                                input: input.into(),
                            })
                        }
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => {
                                return Err(ShellSplitError::Unterminated {
                                    quote: "double",
                                    input: input.into(),
                                })
                            }
                        },
                        Some(c) => word.push(c),
                        None => {
                            return Err(ShellSplitError::Unterminated {
                                quote: "double",
                                input: input.into(),
                            })
                        }
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => {
                    in_word = true;
                    word.push(c);
                }
                None => {
                    return Err(ShellSplitError::TrailingBackslash {
                        input: input.into(),
                    })
                }
            },
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Quotes `word` for a POSIX shell when it needs it (the inverse of [`shell_split`]).
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,@%+^".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A command line that a POSIX shell splits back into `words`.
pub fn shell_join(words: &[String]) -> String {
    words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn splits_at_double_dash() {
        let args = s(&["-l", "1", "--", "-p", "0x3", "--", "x"]);
        let (eal, app) = split_eal_app(&args);
        assert_eq!(eal, &s(&["-l", "1"])[..]);
        assert_eq!(app, &s(&["-p", "0x3", "--", "x"])[..]);
        let args = s(&["-l", "1"]);
        assert_eq!(split_eal_app(&args), (&args[..], &[][..]));
    }

    #[test]
    fn shell_words() {
        assert_eq!(
            shell_split("  --forward-mode=txonly   --burst 64 ").unwrap(),
            s(&["--forward-mode=txonly", "--burst", "64"])
        );
        assert_eq!(
            shell_split(r#"--config="(0,0,1),(1,0,1)" -p 0x3"#).unwrap(),
            s(&["--config=(0,0,1),(1,0,1)", "-p", "0x3"])
        );
        assert_eq!(
            shell_split(r#"'a b' "c \"d\" \n" e\ f ''"#).unwrap(),
            s(&["a b", r#"c "d" \n"#, "e f", ""])
        );
        assert_eq!(shell_split("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn quoting_round_trips() {
        let words = s(&[
            "--config=(0,0,1),(1,0,1)",
            "plain",
            "",
            "it's",
            "a b",
            "--vdev=virtio_user0,path=/dev/vhost-vdpa-0",
        ]);
        let line = shell_join(&words);
        assert_eq!(shell_split(&line).unwrap(), words);
        assert!(
            line.contains(" plain ")
                && line.contains(" --vdev=virtio_user0,path=/dev/vhost-vdpa-0")
        );
    }

    #[test]
    fn shell_errors() {
        assert!(matches!(
            shell_split("a 'b"),
            Err(ShellSplitError::Unterminated {
                quote: "single",
                ..
            })
        ));
        assert!(matches!(
            shell_split("a \"b"),
            Err(ShellSplitError::Unterminated {
                quote: "double",
                ..
            })
        ));
        assert!(matches!(
            shell_split("a \\"),
            Err(ShellSplitError::TrailingBackslash { .. })
        ));
    }
}
