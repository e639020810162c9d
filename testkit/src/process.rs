//! What the test rig does to the DPDK processes it starts, shared by [`crate::Proc`] (tests and
//! benches) and the pod simulation (`podsim`): signals through `rustix` (no `kill(1)`), the
//! stop sequence a pod deletion causes, and removing the files an EAL leaves behind.

use std::fs;
use std::io;
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use rustix::process::{kill_process, Pid};

/// Where EAL keeps a process's runtime files (config, fbarray, sockets) when run as root.
const EAL_RUNTIME_DIR: &str = "/var/run/dpdk";
/// Where EAL creates hugepage files, named `<file-prefix>map_<n>`.
const HUGEPAGE_DIR: &str = "/dev/hugepages";

/// The signals the rig sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C: the apps print final statistics and exit 0.
    Int,
    /// What the kubelet sends on pod deletion.
    Term,
    Kill,
    Hup,
    Usr1,
}

impl Signal {
    /// The signal named as kill(1) names it (`INT`, `TERM`, `KILL`, `HUP`, `USR1`).
    pub fn from_name(name: &str) -> Option<Signal> {
        Some(match name {
            "INT" => Signal::Int,
            "TERM" => Signal::Term,
            "KILL" => Signal::Kill,
            "HUP" => Signal::Hup,
            "USR1" => Signal::Usr1,
            _ => return None,
        })
    }

    fn raw(self) -> rustix::process::Signal {
        use rustix::process::Signal as S;
        match self {
            Signal::Int => S::INT,
            Signal::Term => S::TERM,
            Signal::Kill => S::KILL,
            Signal::Hup => S::HUP,
            Signal::Usr1 => S::USR1,
        }
    }
}

/// Sends `signal` to `child` (which has not been reaped, so its pid is still its own).
pub fn send(child: &Child, signal: Signal) -> io::Result<()> {
    let pid = i32::try_from(child.id())
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| io::Error::other(format!("pid {} is not a process id", child.id())))?;
    kill_process(pid, signal.raw()).map_err(io::Error::from)
}

/// Waits up to `timeout` for `child` to exit by itself, polling every 20 ms; `None` if it is
/// still running then or `abort` says to stop waiting.
pub fn wait_until(
    child: &mut Child,
    timeout: Duration,
    abort: &dyn Fn() -> bool,
) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline || abort() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stops `child` as a pod deletion does: SIGINT (the apps print final statistics and exit 0),
/// SIGKILL if it is still running after `grace`. Returns how it ended and whether it had to be
/// killed.
pub fn stop(child: &mut Child, grace: Duration) -> io::Result<(ExitStatus, bool)> {
    if let Some(status) = child.try_wait()? {
        return Ok((status, false));
    }
    send(child, Signal::Int)?;
    match wait_until(child, grace, &|| false) {
        Some(status) => Ok((status, false)),
        None => {
            child.kill()?;
            Ok((child.wait()?, true))
        }
    }
}

/// Removes the runtime directory and hugepage files an EAL with `prefix` created (nothing for
/// an empty prefix, which would match every file).
pub fn remove_eal_files(prefix: &str) {
    if prefix.is_empty() {
        return;
    }
    let _ = fs::remove_dir_all(Path::new(EAL_RUNTIME_DIR).join(prefix));
    let stem = format!("{prefix}map_");
    if let Ok(entries) = fs::read_dir(HUGEPAGE_DIR) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&stem) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Whether a plain program dies of SIGINT depends on what the test runner inherited (a
    /// shell's background job ignores SIGINT, and so does every program it starts), so the
    /// SIGINT path is left to the apps' tests (they install handlers); here: a process that
    /// already ended is not signalled, and one that ignores SIGINT is killed after the grace.
    #[test]
    fn stop_reaps_the_ended_and_kills_the_stubborn() {
        let mut ended = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let status = ended.wait().unwrap();
        let (again, killed) = stop(&mut ended, Duration::from_secs(10)).unwrap();
        assert_eq!((again.code(), killed), (status.code(), false));
        assert_eq!(again.code(), Some(3));

        let mut stubborn = Command::new("sh")
            .args(["-c", "trap '' INT; echo ready; exec sleep 30"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The trap is in place (and inherited by sleep) once the shell says so.
        let mut line = String::new();
        let out = stubborn.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).unwrap();
        assert_eq!(line, "ready\n");
        let (_, killed) = stop(&mut stubborn, Duration::from_millis(300)).unwrap();
        assert!(
            killed,
            "a process ignoring SIGINT is killed after the grace"
        );
    }

    #[test]
    fn signal_names_are_kills() {
        assert_eq!(Signal::from_name("TERM"), Some(Signal::Term));
        assert_eq!(Signal::from_name("term"), None);
    }
}
