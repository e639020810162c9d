//! Errors of the safe layer: one enum per area, each carrying DPDK's errno and its
//! `rte_strerror` text, so a failure says which call failed on which object and why.

use std::ffi::CStr;
use std::fmt;

/// An error number as DPDK reports it (`rte_errno`, or the negated return value of a call).
///
/// Displayed with `rte_strerror`, which also knows DPDK's own codes (`E_RTE_SECONDARY`,
/// `E_RTE_NO_CONFIG`) beyond the libc ones.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// The current thread's `rte_errno`.
    pub fn last() -> Self {
        // SAFETY: reads a thread-local integer; valid on any thread.
        Errno(unsafe { dpdk_sys::shim_rte_errno() })
    }

    /// Interprets a DPDK return value of the `-errno` convention.
    pub(crate) fn from_ret(ret: i32) -> Self {
        Errno(ret.checked_neg().unwrap_or(i32::MAX))
    }

    /// `rte_strerror` text of this error number.
    pub fn message(self) -> String {
        // SAFETY: rte_strerror accepts any int and returns a pointer to a NUL-terminated string
        // that is either static or in a thread-local buffer valid until the next call on this
        // thread; we copy it out immediately.
        let ptr = unsafe { dpdk_sys::rte_strerror(self.0) };
        if ptr.is_null() {
            return format!("unknown error {}", self.0);
        }
        // SAFETY: non-null, NUL-terminated per rte_strerror's contract (see above).
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned()
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (errno {})", self.message(), self.0)
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Errno({}: {})", self.0, self.message())
    }
}

/// Errors of EAL initialisation.
#[derive(Debug, thiserror::Error)]
pub enum EalError {
    /// `Eal::init` was already called in this process; DPDK cannot be initialised twice.
    #[error(
        "the EAL is already initialised in this process (DPDK allows one rte_eal_init per process)"
    )]
    AlreadyInitialized,
    /// An argument cannot be passed to C.
    #[error("EAL argument {index} ({arg:?}) contains a NUL byte")]
    NulInArgument { index: usize, arg: String },
    /// `rte_eal_init` failed; DPDK has printed its own diagnostics to stderr as well.
    #[error("rte_eal_init failed: {errno}")]
    Init { errno: Errno },
}

/// Errors of mempool creation and mbuf allocation.
#[derive(Debug, thiserror::Error)]
pub enum MempoolError {
    #[error("mempool name {name:?} is invalid: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("cannot create mempool {name:?} of {size} mbufs: {errno}")]
    Create {
        name: String,
        size: u32,
        errno: Errno,
    },
    /// The pool has fewer free mbufs than requested.
    #[error("mempool {name:?} exhausted: cannot allocate {wanted} mbufs")]
    Exhausted { name: String, wanted: usize },
}

/// Errors of port (ethdev) configuration and control.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("port {port} does not exist (ports available: {available})")]
    NoSuchPort { port: u16, available: u16 },
    #[error("port {port}: {what}: {errno}")]
    Call {
        port: u16,
        what: &'static str,
        errno: Errno,
    },
    #[error("port {port}: {what}")]
    Invalid { port: u16, what: String },
}

impl PortError {
    pub(crate) fn call(port: u16, what: &'static str, ret: i32) -> Self {
        PortError::Call {
            port,
            what,
            errno: Errno::from_ret(ret),
        }
    }
}

/// Errors of launching work on lcores.
#[derive(Debug, thiserror::Error)]
pub enum LcoreError {
    #[error("lcore {0} is not an enabled worker lcore of this EAL (check -l / --main-lcore)")]
    NotWorker(u32),
    #[error("lcore {0} is still running or has not been joined")]
    Busy(u32),
    #[error("lcore {lcore} panicked: {message}")]
    Panicked { lcore: u32, message: String },
}

/// Errors of the longest-prefix-match tables.
#[derive(Debug, thiserror::Error)]
pub enum LpmError {
    #[error("LPM table name {name:?} is invalid: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("cannot create LPM table {name:?}: {errno}")]
    Create { name: String, errno: Errno },
    #[error("cannot add route {route} to LPM table {name:?}: {errno}")]
    Add {
        name: String,
        route: String,
        errno: Errno,
    },
}
