//! Commands of DPDK's telemetry socket (`/var/run/dpdk/PREFIX/dpdk_telemetry.v2`, read by
//! `dpdk-telemetry.py`) answered by Rust closures.
//!
//! DPDK's callback is a bare C function pointer without user data, but it is handed the command
//! it was invoked for; so one trampoline serves every command and finds the closure by name in a
//! process-wide table. DPDK has no way to unregister a command, so an entry lives as long as the
//! process; registering the same command again replaces its closure (DPDK is told once).
//!
//! Answers are flat dicts of unsigned integers and strings, which DPDK 22.11 and 24.11 both
//! serialise the same way. (22.11 allows only arrays inside a dict; keys such as `port0/rx`
//! group figures without nesting.)

use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, RwLock};

use thiserror::Error;

use crate::error::Errno;

/// A value in a telemetry answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An unsigned integer (`rte_tel_data_add_dict_u64`/`_uint`).
    U64(u64),
    /// A string (at most 127 bytes are sent: DPDK truncates longer ones).
    Str(String),
}

/// A telemetry answer: a dict in the order the entries were added (DPDK sends at most 256).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dict(Vec<(String, Value)>);

impl Dict {
    /// An empty dict.
    pub fn new() -> Self {
        Dict::default()
    }

    /// Adds an unsigned integer under `name`.
    pub fn u64(&mut self, name: impl Into<String>, v: u64) -> &mut Self {
        self.0.push((name.into(), Value::U64(v)));
        self
    }

    /// Adds a string under `name`.
    pub fn str(&mut self, name: impl Into<String>, v: impl Into<String>) -> &mut Self {
        self.0.push((name.into(), Value::Str(v.into())));
        self
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[(String, Value)] {
        &self.0
    }
}

/// Why a command could not be registered.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TelemetryError {
    /// DPDK requires `/` first, then letters, digits, `_` or `/`, fewer than 56 bytes in all.
    #[error("invalid telemetry command {0:?}: expected /name (letters, digits, _ and /, under 56 bytes)")]
    InvalidCommand(String),
    /// The help text holds a NUL byte.
    #[error("the help of telemetry command {0} holds a NUL byte")]
    InvalidHelp(String),
    /// DPDK refused it (`rte_telemetry_register_cmd`).
    #[error("cannot register telemetry command {cmd}: {errno}")]
    Register {
        /// The command.
        cmd: String,
        /// DPDK's error.
        errno: Errno,
    },
}

type Handler = dyn Fn(&str) -> Dict + Send + Sync;

/// The commands registered by this process, by name.
static COMMANDS: RwLock<Vec<(CString, Arc<Handler>)>> = RwLock::new(Vec::new());

/// DPDK's `MAX_CMD_LEN`, with its NUL.
const MAX_CMD_LEN: usize = 56;

fn valid_name(name: &str, first_slash: bool) -> bool {
    (!first_slash || name.starts_with('/'))
        && name.len() > usize::from(first_slash)
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'/')
}

/// Registers `cmd` (e.g. `/dpdk_app/stats`) with `help`; each request runs `handler` with the
/// request's parameters (what follows the command after a comma, or "") on DPDK's telemetry
/// thread. A panic in the handler answers the request with an error instead of unwinding into C.
pub fn register(
    cmd: &str,
    help: &str,
    handler: impl Fn(&str) -> Dict + Send + Sync + 'static,
) -> Result<(), TelemetryError> {
    if !valid_name(cmd, true) || cmd.len() >= MAX_CMD_LEN {
        return Err(TelemetryError::InvalidCommand(cmd.to_owned()));
    }
    let c_cmd = CString::new(cmd).map_err(|_| TelemetryError::InvalidCommand(cmd.to_owned()))?;
    let c_help = CString::new(help).map_err(|_| TelemetryError::InvalidHelp(cmd.to_owned()))?;
    let mut commands = COMMANDS.write().unwrap_or_else(|e| e.into_inner());
    if let Some(entry) = commands.iter_mut().find(|(c, _)| *c == c_cmd) {
        entry.1 = Arc::new(handler);
        return Ok(());
    }
    // SAFETY: both strings are valid and NUL-terminated for the call (DPDK copies them into its
    // own table); the trampoline is a plain extern "C" fn valid for the whole process. The
    // write lock is held, so the trampoline cannot look the command up before it is in the
    // table below.
    let ret = unsafe {
        dpdk_sys::rte_telemetry_register_cmd(c_cmd.as_ptr(), Some(trampoline), c_help.as_ptr())
    };
    if ret < 0 {
        return Err(TelemetryError::Register {
            cmd: cmd.to_owned(),
            errno: Errno::from_ret(ret),
        });
    }
    commands.push((c_cmd, Arc::new(handler)));
    Ok(())
}

/// The one callback DPDK knows: finds the closure of `cmd` and writes its answer into `d`.
///
/// # Safety
///
/// Called by DPDK's telemetry thread with `cmd` a NUL-terminated command, `params` NULL or
/// NUL-terminated, and `d` the request's data (valid for the call).
unsafe extern "C" fn trampoline(
    cmd: *const c_char,
    params: *const c_char,
    d: *mut dpdk_sys::rte_tel_data,
) -> c_int {
    if cmd.is_null() || d.is_null() {
        return -libc_einval();
    }
    // SAFETY: DPDK passes the NUL-terminated command it matched (see the function's contract).
    let cmd = unsafe { CStr::from_ptr(cmd) };
    let params = if params.is_null() {
        String::new()
    } else {
        // SAFETY: non-NULL parameters are NUL-terminated (the contract above).
        unsafe { CStr::from_ptr(params) }
            .to_string_lossy()
            .into_owned()
    };
    let handler = {
        let commands = COMMANDS.read().unwrap_or_else(|e| e.into_inner());
        match commands.iter().find(|(c, _)| c.as_c_str() == cmd) {
            Some((_, h)) => h.clone(),
            None => return -libc_einval(),
        }
    };
    let Ok(dict) = catch_unwind(AssertUnwindSafe(|| handler(&params))) else {
        return -libc_einval();
    };
    // SAFETY: `d` is the request's data (contract); starting a dict resets it.
    let ret = unsafe { dpdk_sys::rte_tel_data_start_dict(d) };
    if ret < 0 {
        return ret;
    }
    for (name, value) in dict.entries() {
        // DPDK rejects other names; skipping them keeps the rest of the answer.
        let Some(c_name) = valid_name(name, false)
            .then(|| CString::new(name.as_str()).ok())
            .flatten()
        else {
            continue;
        };
        // Entries past DPDK's limit (256) are refused one by one; the answer holds the rest.
        match value {
            // SAFETY: `d` is a started dict; the name is a valid NUL-terminated string.
            Value::U64(v) => unsafe {
                dpdk_sys::shim_rte_tel_data_add_dict_u64(d, c_name.as_ptr(), *v);
            },
            Value::Str(s) => {
                let c_value = CString::new(s.replace('\0', "")).unwrap_or_default();
                // SAFETY: as above; DPDK copies (and truncates) the value.
                unsafe {
                    dpdk_sys::rte_tel_data_add_dict_string(d, c_name.as_ptr(), c_value.as_ptr());
                }
            }
        }
    }
    0
}

/// EINVAL, without a libc dependency.
const fn libc_einval() -> c_int {
    22
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_dpdk_sees_them() {
        for bad in [
            "",
            "stats",
            "/",
            "/a b",
            "/a,b",
            &format!("/{}", "x".repeat(60)),
        ] {
            assert_eq!(
                register(bad, "h", |_| Dict::new()),
                Err(TelemetryError::InvalidCommand(bad.to_owned())),
                "{bad:?}"
            );
        }
        assert!(matches!(
            register("/ok", "a\0b", |_| Dict::new()),
            Err(TelemetryError::InvalidHelp(_))
        ));
    }
}
