//! The one error type of the crate, and the small "what is wrong with this field" part that the
//! pure parsers return before the caller knows which file the text came from.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::devargs::DevargError;
use crate::escape::{self, printable};

/// What is wrong with one field (or one line) of an input.
///
/// Parsers that work on text (`downward::parse`, `network_status::parse`, ...) return it inside a
/// [`FieldError`]; [`crate::discover()`] adds the file or variable name and returns an
/// [`Error::Input`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A line of a downward-API file is not `key="<Go-quoted string>"`.
    MalformedLine(String),
    /// The text is not JSON, or not JSON of the expected shape.
    InvalidJson(String),
    /// A required field is absent.
    MissingField,
    /// A field holds a JSON value of the wrong kind; the string says what was expected.
    WrongType(&'static str),
    /// A device-info `type` this crate does not know.
    UnknownType(String),
    /// A device-info `version` this crate does not know.
    UnknownVersion(String),
    /// A field holds a value outside its set of allowed values.
    UnknownValue {
        /// The value found.
        value: String,
        /// The allowed values, for the message.
        expected: &'static str,
    },
    /// A value that has the right kind but cannot be used; the string says why.
    InvalidValue(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::MalformedLine(why) => write!(f, "malformed line: {}", printable(why)),
            Problem::InvalidJson(why) => write!(f, "invalid JSON: {}", printable(why)),
            Problem::MissingField => f.write_str("required field is missing"),
            Problem::WrongType(expected) => write!(f, "expected {expected}"),
            Problem::UnknownType(t) => write!(
                f,
                "unknown device-info type {t:?} (expected pci, vdpa, vhost-user or memif)"
            ),
            Problem::UnknownVersion(v) => write!(
                f,
                "unsupported device-info version {v:?} (expected 1.0.0 or 1.1.0, optionally with a leading v)"
            ),
            Problem::UnknownValue { value, expected } => {
                write!(f, "unknown value {value:?} (expected {expected})")
            }
            Problem::InvalidValue(why) => f.write_str(&printable(why)),
        }
    }
}

/// A [`Problem`] located at a field path inside one input, e.g. `[1].device-info.vdpa.driver` or
/// `line 3`. An empty path means the input as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{problem}", at(field))]
pub struct FieldError {
    /// Where in the input, as a JSON-ish path or `line N`.
    pub field: String,
    /// What is wrong there.
    pub problem: Problem,
}

impl FieldError {
    /// A problem at `field`.
    pub fn new(field: impl Into<String>, problem: Problem) -> Self {
        Self {
            field: field.into(),
            problem,
        }
    }

    /// Names the input (file or variable) the field belongs to.
    pub fn in_input(self, input: impl Into<String>) -> Error {
        Error::Input {
            input: input.into(),
            field: self.field,
            problem: self.problem,
        }
    }
}

/// Everything that can go wrong between the pod's files and an [`crate::EalPlan`].
///
/// Every variant names the file, directory or environment variable it is about, so the message
/// alone tells an operator what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad content in a file or variable.
    #[error("{}: {}{problem}", printable(input), at(field))]
    Input {
        /// The file path or `environment variable NAME`.
        input: String,
        /// The field or line inside it (may be empty).
        field: String,
        /// What is wrong.
        problem: Problem,
    },
    /// A configuration variable has a value that cannot be used.
    #[error("environment variable {var}={value:?}: {}", printable(reason))]
    Env {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// An environment variable that is read is not valid UTF-8 (its name or its value).
    #[error(
        "environment variable {} is not valid UTF-8: \"{}\"",
        escape::bytes(name.as_bytes()),
        escape::bytes(value.as_bytes())
    )]
    NotUnicode {
        /// The variable's name.
        name: OsString,
        /// Its value.
        value: OsString,
    },
    /// A directory that must exist does not.
    #[error("{what} {} does not exist (set {var} to point elsewhere)", shown(path))]
    MissingDir {
        /// What the directory should hold.
        what: &'static str,
        /// The variable (or flag) that chooses it.
        var: &'static str,
        /// The directory.
        path: PathBuf,
    },
    /// A file or directory exists (or should) but cannot be read.
    #[error("cannot read {}: {source}", shown(path))]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A device path named by device-info is absent, is not what the device type needs, or
    /// cannot go into a device argument ([`crate::devargs::check_path`]).
    #[error(
        "{}: device path {}: {}",
        printable(interface),
        shown(path),
        printable(reason)
    )]
    DevicePath {
        /// The interface, as `network (interface)`.
        interface: String,
        /// The path from device-info.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A planned device argument breaks the rule of [`crate::devargs::validate`].
    #[error(
        "{}: device argument {}: {problem}",
        printable(interface),
        printable(devarg)
    )]
    Devarg {
        /// The interface, as `network (interface)`.
        interface: String,
        /// The device argument.
        devarg: String,
        /// What is wrong with it.
        problem: DevargError,
    },
    /// Nothing DPDK can drive was found; the message lists what was found and where it looked.
    #[error(
        "no usable DPDK port for {app}: {}; looked in {}",
        printable(found),
        printable(looked)
    )]
    NoUsableDevice {
        /// The app being planned.
        app: String,
        /// Every interface found and why it is not usable.
        found: String,
        /// The directories and variables consulted.
        looked: String,
    },
    /// The process may run on fewer CPUs than the app needs.
    #[error(
        "{app} needs at least {needed} usable CPUs, but {} allows only {cpus:?}",
        printable(source_name)
    )]
    TooFewCpus {
        /// The app being planned.
        app: String,
        /// How many it needs.
        needed: usize,
        /// Where the CPU list came from.
        source_name: String,
        /// The usable CPUs.
        cpus: Vec<u32>,
    },
    /// An app name that is not testpmd, l2fwd, l3fwd or rfc2544.
    #[error("unknown app {given:?} (expected one of: testpmd, l2fwd, l3fwd, rfc2544)")]
    UnknownApp {
        /// The name given.
        given: String,
    },
    /// A variable naming an app that is not testpmd, l2fwd, l3fwd or rfc2544.
    #[error(
        "{var}={:?} is not an app: expected one of testpmd, l2fwd, l3fwd, rfc2544",
        printable(given)
    )]
    UnknownAppIn {
        /// The variable.
        var: &'static str,
        /// Its value.
        given: String,
    },
    /// A [`crate::PlanOptions`] value, or the plan it leads to, cannot be used.
    #[error("plan option {option}: {}", printable(reason))]
    PlanOption {
        /// The option.
        option: &'static str,
        /// Why.
        reason: String,
    },
}

/// A path from the pod's configuration, printable on one line ([`printable`]).
fn shown(path: &Path) -> String {
    printable(&path.to_string_lossy()).into_owned()
}

/// Renders a field path as a `"path: "` prefix, or nothing for the whole input.
fn at(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{}: ", printable(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_input_and_field() {
        let e = FieldError::new(
            "[1].device-info.vdpa.driver",
            Problem::UnknownValue {
                value: "foo".into(),
                expected: "vhost or virtio",
            },
        )
        .in_input("/etc/podnetinfo/annotations");
        assert_eq!(
            e.to_string(),
            "/etc/podnetinfo/annotations: [1].device-info.vdpa.driver: \
             unknown value \"foo\" (expected vhost or virtio)"
        );
    }

    #[test]
    fn whole_input_problem_has_no_empty_field() {
        let e = FieldError::new("", Problem::InvalidJson("EOF".into())).in_input("x");
        assert_eq!(e.to_string(), "x: invalid JSON: EOF");
    }
}
