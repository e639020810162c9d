//! The one error type of the crate.
//!
//! Every way the crate can refuse an input is a variant here: a bad item of `--frame-sizes`, a
//! search setting out of range (NaN, zero or negative durations, rates that cannot be offered),
//! and a trial outcome handed back for a trial the search did not ask for. Messages name the
//! option as the user typed it (`--pdr-loss`, not `pdr_loss`), because that is what they see.

use thiserror::Error;

/// Why an input was refused.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// One item of a `--frame-sizes` list is not a size in range nor `imix`.
    #[error("--frame-sizes: {item:?} {why} (allowed: {min}..={max} bytes including the 4-byte FCS, or imix)",
        min = crate::frame::MIN_FRAME, max = crate::frame::MAX_FRAME)]
    FrameSize {
        /// The item as written.
        item: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `--frame-sizes` had no items.
    #[error("--frame-sizes: the list is empty")]
    NoFrameSizes,
    /// A setting holds a value the search cannot use.
    #[error("{option} {value:?}: {why}")]
    InvalidValue {
        /// The option, as on the command line.
        option: &'static str,
        /// The value as given (or as formatted, for numbers).
        value: String,
        /// Why it is refused, with the allowed range.
        why: String,
    },
    /// An outcome was recorded for a trial id the search is not waiting for (a stale or
    /// duplicated call from the engine); the search state is unchanged.
    #[error("trial {id} is not the trial in progress ({})", .pending.map_or("none".to_string(), |p| p.to_string()))]
    UnexpectedTrial {
        /// The id passed to `record`.
        id: u32,
        /// The id of the trial the search handed out last and waits for, if any.
        pending: Option<u32>,
    },
}

impl Error {
    /// An [`Error::InvalidValue`] for `option`.
    pub(crate) fn invalid(
        option: &'static str,
        value: impl ToString,
        why: impl Into<String>,
    ) -> Error {
        Error::InvalidValue {
            option,
            value: value.to_string(),
            why: why.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_option_and_the_range() {
        let e = Error::FrameSize {
            item: "63".into(),
            why: "is too small",
        };
        assert_eq!(
            e.to_string(),
            "--frame-sizes: \"63\" is too small (allowed: 64..=9000 bytes including the 4-byte FCS, or imix)"
        );
        let e = Error::invalid("--pdr-loss", "NaN", "must be a number in 0..100 %");
        assert_eq!(
            e.to_string(),
            "--pdr-loss \"NaN\": must be a number in 0..100 %"
        );
        let e = Error::UnexpectedTrial {
            id: 3,
            pending: None,
        };
        assert_eq!(e.to_string(), "trial 3 is not the trial in progress (none)");
    }
}
