//! `*_EXTRA_ARGS` split into words as a POSIX shell would (`shlex`: quotes and backslashes, no
//! expansions), and the logged command line (`ENTER dpdk-app: ...`) joined back so that it
//! reads the same when pasted into a shell.

use netutil::escape::unprintable;

/// A variable value that is not a valid shell word list (an unterminated quote, a trailing
/// backslash).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid shell word list (unterminated quote or trailing backslash): {input:?}")]
pub struct ShellSplitError {
    /// The value, escaped for the log.
    pub input: String,
}

/// Splits `input` into words like a POSIX shell, without expansions.
pub fn shell_split(input: &str) -> Result<Vec<String>, ShellSplitError> {
    shlex::split(input).ok_or_else(|| ShellSplitError {
        input: netutil::escape::printable(input).into_owned(),
    })
}

/// Quotes `word` for a POSIX shell when it needs it.
///
/// A word with control characters or other unprintable ones (a newline, an escape sequence)
/// is written as a `$'...'` quote with escapes, so that a command line stays one line: it is
/// logged, and a newline inside plain quotes would start a line that reads like a second,
/// forged log entry. bash, zsh and ksh read `$'...'`; `*_EXTRA_ARGS` need it never (a pod's
/// variables do not carry control characters on purpose), so [`shell_split`] does not.
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,@%+^".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.to_owned();
    }
    if !word.chars().any(unprintable) {
        return format!("'{}'", word.replace('\'', r"'\''"));
    }
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
            shell_split(r#"'a b' "c \"d\"" e\ f ''"#).unwrap(),
            s(&["a b", r#"c "d""#, "e f", ""])
        );
        assert_eq!(shell_split("").unwrap(), Vec::<String>::new());
        for bad in ["a 'b", "a \"b", "a \\"] {
            assert!(shell_split(bad).is_err(), "{bad}");
        }
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
        assert!(line.contains(" plain "), "{line}");
    }

    #[test]
    fn control_characters_stay_on_one_line() {
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
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// `*_EXTRA_ARGS` are untrusted: splitting never panics; the logged command line is
        /// one printable line, and words without control characters split back as they were.
        #[test]
        fn split_never_panics_and_join_is_one_line(
            input in r#"([ a-z'"\\$\n\t=,#-]|\PC){0,40}"#,
            words in proptest::collection::vec(proptest::prelude::any::<String>(), 0..6),
            printable in proptest::collection::vec("[ -~]{0,12}", 0..6),
        ) {
            let _ = shell_split(&input);
            let line = shell_join(&words);
            proptest::prop_assert!(!line.chars().any(unprintable), "{}", line);
            let line = shell_join(&printable);
            proptest::prop_assert_eq!(shell_split(&line).unwrap(), printable);
        }
    }
}
