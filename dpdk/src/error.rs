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
    NulInArgument {
        /// Position in argv (0 = program name).
        index: usize,
        /// The argument.
        arg: String,
    },
    /// `rte_eal_init` failed; DPDK has printed its own diagnostics to stderr as well.
    #[error("rte_eal_init failed: {errno}")]
    Init {
        /// `rte_errno` after the call.
        errno: Errno,
    },
}

/// Errors of mempool creation and mbuf allocation.
#[derive(Debug, thiserror::Error)]
pub enum MempoolError {
    /// The name is empty, too long for DPDK or holds a NUL byte.
    #[error("mempool name {name:?} is invalid: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `rte_pktmbuf_pool_create` failed (no memory, a pool of that name exists, ...).
    #[error("cannot create mempool {name:?} of {size} mbufs: {errno}")]
    Create {
        /// The pool's name.
        name: String,
        /// Mbufs asked for.
        size: u32,
        /// `rte_errno` after the call.
        errno: Errno,
    },
    /// The pool has fewer free mbufs than requested.
    #[error("mempool {name:?} exhausted: cannot allocate {wanted} mbufs")]
    Exhausted {
        /// The pool's name.
        name: String,
        /// Mbufs asked for.
        wanted: usize,
    },
}

/// Errors of port (ethdev) configuration and control.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// No usable ethdev port has this id.
    #[error("port {port} does not exist (ports available: {available})")]
    NoSuchPort {
        /// The id asked for.
        port: u16,
        /// How many ports the EAL found.
        available: u16,
    },
    /// A DPDK call on the port failed.
    #[error("port {port}: {what}: {errno}")]
    Call {
        /// The port.
        port: u16,
        /// The DPDK function.
        what: &'static str,
        /// The error it returned.
        errno: Errno,
    },
    /// The configuration asked for is not possible on this port.
    #[error("port {port}: {what}")]
    Invalid {
        /// The port.
        port: u16,
        /// What is wrong.
        what: String,
    },
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
    /// The lcore is not a worker of this EAL (the main lcore, or not in `-l`).
    #[error("lcore {0} is not an enabled worker lcore of this EAL (check -l / --main-lcore)")]
    NotWorker(u32),
    /// The lcore runs a job, or ran one that has not been joined.
    #[error("lcore {0} is still running or has not been joined")]
    Busy(u32),
    /// The job panicked; the panic was caught on its lcore.
    #[error("lcore {lcore} panicked: {message}")]
    Panicked {
        /// The lcore the job ran on.
        lcore: u32,
        /// The panic's message.
        message: String,
    },
}

/// Errors of the longest-prefix-match tables.
#[derive(Debug, thiserror::Error)]
pub enum LpmError {
    /// The name is empty, too long for DPDK or holds a NUL byte.
    #[error("LPM table name {name:?} is invalid: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `rte_lpm_create` / `rte_lpm6_create` failed.
    #[error("cannot create LPM table {name:?}: {errno}")]
    Create {
        /// The table's name.
        name: String,
        /// `rte_errno` after the call.
        errno: Errno,
    },
    /// A route could not be added (table full, depth out of range).
    #[error("cannot add route {route} to LPM table {name:?}: {errno}")]
    Add {
        /// The table's name.
        name: String,
        /// The route, as `prefix/depth -> next hop`.
        route: String,
        /// The error DPDK returned.
        errno: Errno,
    },
}
