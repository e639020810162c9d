//! Command-line plumbing shared by every app: splitting `EAL args -- app args`, and splitting
//! `*_EXTRA_ARGS` environment values like a POSIX shell would.

use std::iter::Peekable;
use std::str::Chars;

use netutil::escape::unprintable;
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
    #[error("the escapes of a $'...' quote make bytes that are not UTF-8 in {input:?}")]
    NotUtf8 { input: String },
}

/// Splits `input` into words like a POSIX shell, without expansions: whitespace separates
/// words, single quotes keep everything literally, double quotes keep everything but `\"`,
/// `\\`, `\$` and `` \` `` escapes, a backslash outside quotes escapes the next character, and
/// `$'...'` (POSIX.1-2024, bash, zsh, ksh) reads C-style escapes: `\n`, `\t`, `\r`, `\a`,
/// `\b`, `\e`, `\f`, `\v`, `\\`, `\'`, `\"`, `\?`, `\xHH` and octal `\NNN`.
pub fn shell_split(input: &str) -> Result<Vec<String>, ShellSplitError> {
    let unterminated = |quote| ShellSplitError::Unterminated {
        quote,
        input: input.into(),
    };
    let mut words = Vec::new();
    // Bytes, as `\xHH` escapes may make any; checked to be UTF-8 at the end of each word.
    let mut word: Vec<u8> = Vec::new();
    let mut in_word = false;
    let mut chars = input.chars().peekable();
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
                        Some(c) => push_char(&mut word, c),
                        None => return Err(unterminated("single")),
                    }
                }
            }
            '$' if chars.peek() == Some(&'\'') => {
                chars.next();
                in_word = true;
                ansi_c_quote(&mut chars, &mut word).ok_or_else(|| unterminated("$'...'"))?;
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => push_char(&mut word, c),
                            Some('\n') => {}
                            Some(c) => {
                                push_char(&mut word, '\\');
                                push_char(&mut word, c);
                            }
                            None => return Err(unterminated("double")),
                        },
                        Some(c) => push_char(&mut word, c),
                        None => return Err(unterminated("double")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => {
                    in_word = true;
                    push_char(&mut word, c);
                }
                None => {
                    return Err(ShellSplitError::TrailingBackslash {
                        input: input.into(),
                    })
                }
            },
            c => {
                in_word = true;
                push_char(&mut word, c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
        .into_iter()
        .map(|w| {
            String::from_utf8(w).map_err(|_| ShellSplitError::NotUtf8 {
                input: input.into(),
            })
        })
        .collect()
}

/// Reads the rest of a `$'...'` quote (after `$'`) into `word`; `None` if it does not end.
fn ansi_c_quote(chars: &mut Peekable<Chars<'_>>, word: &mut Vec<u8>) -> Option<()> {
    loop {
        let byte = match chars.next()? {
            '\'' => return Some(()),
            '\\' => match chars.next()? {
                'a' => 0x07,
                'b' => 0x08,
                'e' | 'E' => 0x1b,
                'f' => 0x0c,
                'n' => b'\n',
                'r' => b'\r',
                't' => b'\t',
                'v' => 0x0b,
                c @ ('\\' | '\'' | '"' | '?') => c as u8,
                'x' if chars.peek().is_some_and(char::is_ascii_hexdigit) => digits(chars, 16, 0, 2),
                c @ '0'..='7' => digits(chars, 8, c.to_digit(8).unwrap_or(0), 2),
                c => {
                    word.push(b'\\');
                    push_char(word, c);
                    continue;
                }
            },
            c => {
                push_char(word, c);
                continue;
            }
        };
        word.push(byte);
    }
}

/// `value` followed by up to `max` more digits of `radix` from `chars`, as one byte (octal
/// above 377 wraps, as in bash).
fn digits(chars: &mut Peekable<Chars<'_>>, radix: u32, mut value: u32, max: usize) -> u8 {
    for _ in 0..max {
        let Some(d) = chars.peek().and_then(|c| c.to_digit(radix)) else {
            break;
        };
        chars.next();
        value = value * radix + d;
    }
    (value & 0xff) as u8
}

fn push_char(word: &mut Vec<u8>, c: char) {
    word.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
}

/// Quotes `word` for a POSIX shell when it needs it (the inverse of [`shell_split`]).
///
/// A word with control characters or other unprintable ones (a newline, an escape sequence)
/// is written as a `$'...'` quote with escapes, so that a command line stays one line: it is
/// logged (`ENTER dpdk-app: ...`), and a newline inside plain quotes would start a line that
/// reads like a second, forged log entry.
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,@%+^".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else if word.chars().any(unprintable) {
        let mut quoted = String::from("$'");
        for c in word.chars() {
            match c {
                '\\' | '\'' => {
                    quoted.push('\\');
                    quoted.push(c);
                }
                '\n' => quoted.push_str("\\n"),
                '\t' => quoted.push_str("\\t"),
                '\r' => quoted.push_str("\\r"),
                c if unprintable(c) => {
                    for b in c.encode_utf8(&mut [0; 4]).bytes() {
                        quoted.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => quoted.push(c),
            }
        }
        quoted.push('\'');
        quoted
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A command line that a POSIX shell splits back into `words`, on one line.
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
    fn control_characters_stay_on_one_line_and_round_trip() {
        let words = s(&[
            "--eth-peer=0,x\nENTER dpdk-app: rm -rf /",
            "a\r\tb",
            "\u{1b}[2J'\\",
            "bidi\u{202e}",
            "Zürich",
        ]);
        let line = shell_join(&words);
        assert_eq!(
            line,
            r"$'--eth-peer=0,x\nENTER dpdk-app: rm -rf /' $'a\r\tb' $'\x1b[2J\'\\' \
              $'bidi\xe2\x80\xae' 'Zürich'"
                .replace("\\\n              ", "")
        );
        assert_eq!(shell_split(&line).unwrap(), words);
    }

    #[test]
    fn ansi_c_quotes_as_bash_reads_them() {
        assert_eq!(
            shell_split(r"$'a\x41\101\0101\e\?\q' x$'\''y $'\xZ'").unwrap(),
            s(&["aAA\u{8}1\u{1b}?\\q", "x'y", "\\xZ"])
        );
        assert!(matches!(
            shell_split("$'abc"),
            Err(ShellSplitError::Unterminated {
                quote: "$'...'",
                ..
            })
        ));
        assert!(matches!(
            shell_split(r"$'\xff'"),
            Err(ShellSplitError::NotUtf8 { .. })
        ));
        // Only unquoted: inside double quotes and after a backslash `$'` is literal.
        assert_eq!(shell_split(r#""$'a'" \$'b'"#).unwrap(), s(&["$'a'", "$b"]));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// `*_EXTRA_ARGS` are untrusted: splitting never panics, and whatever the words, the
        /// logged command line is one printable line that splits back into them.
        #[test]
        fn split_never_panics_and_join_round_trips(
            input in r#"([ a-z'"\\$\n\t=,-]|\$'|\\x[0-9a-fA-F]{0,2}|\\[0-7]{1,3}|\PC){0,40}"#,
            words in proptest::collection::vec(proptest::prelude::any::<String>(), 0..6),
        ) {
            let _ = shell_split(&input);
            let line = shell_join(&words);
            proptest::prop_assert!(!line.chars().any(unprintable), "{}", line);
            proptest::prop_assert_eq!(shell_split(&line).unwrap(), words);
        }
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
