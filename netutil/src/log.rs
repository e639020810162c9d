//! Decisions and warnings, both logged as they are made and kept for the caller.
//!
//! A pod's log is often all an operator has, so every choice (which file, which device, which
//! memory mode) is one `tracing` line; the same text is returned in [`crate::Discovery`] and
//! [`crate::EalPlan`] so `dpdk-app discover --json` can show it too.

use crate::escape::printable;

/// Accumulates decision lines and warning lines, each [`printable`]: they quote names, paths
/// and values from the pod's input, and every one must stay one line.
#[derive(Debug, Default)]
pub(crate) struct Log {
    pub(crate) notes: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

impl Log {
    /// Records a decision.
    pub(crate) fn note(&mut self, msg: impl Into<String>) {
        let msg = printable(&msg.into()).into_owned();
        tracing::info!("{msg}");
        self.notes.push(msg);
    }

    /// Records something the operator should probably fix.
    pub(crate) fn warn(&mut self, msg: impl Into<String>) {
        let msg = printable(&msg.into()).into_owned();
        tracing::warn!("{msg}");
        self.warnings.push(msg);
    }
}
