//! The simulation's processes (relay and pods): started pinned with `taskset`, output into log
//! files, stopped with SIGINT like a pod deletion's SIGTERM, and killed with their EAL files
//! removed if still there when dropped, so neither a failure nor Ctrl-C leaves a poller,
//! hugepage file or runtime directory behind.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::PodsimError;

/// Where EAL keeps a process's runtime files (config, fbarray, sockets) when run as root.
const EAL_RUNTIME_DIR: &str = "/var/run/dpdk";
/// Where EAL creates hugepage files, named after the file prefix.
const HUGEPAGE_DIR: &str = "/dev/hugepages";

/// One running process of the simulation.
#[derive(Debug)]
pub struct Proc {
    name: String,
    child: Option<Child>,
    eal_prefix: String,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

/// How a process ended.
#[derive(Debug, Clone)]
pub struct Exit {
    pub status: ExitStatus,
    /// Whether it had to be killed.
    pub killed: bool,
}

impl Proc {
    /// Starts `program args` on `cpus` (via `taskset -c`, which execs it: the pid is the
    /// program's) with exactly `env`, output to `<logs>/<name>.stdout|.stderr`. `eal_prefix`
    /// maps the pid to the EAL `--file-prefix`, for clean-up.
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[String],
        cpus: &str,
        env: &[(String, String)],
        logs: &Path,
        eal_prefix: impl FnOnce(u32) -> String,
    ) -> Result<Proc, PodsimError> {
        let stdout = logs.join(format!("{name}.stdout"));
        let stderr = logs.join(format!("{name}.stderr"));
        let create = |p: &Path| {
            File::create(p).map_err(|source| PodsimError::Io {
                path: p.to_path_buf(),
                source,
            })
        };
        let mut cmd = Command::new("taskset");
        cmd.arg("-c")
            .arg(cpus)
            .arg(program)
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(create(&stdout)?)
            .stderr(create(&stderr)?);
        let child = cmd.spawn().map_err(|source| PodsimError::Spawn {
            what: name.to_owned(),
            source,
        })?;
        let eal_prefix = eal_prefix(child.id());
        Ok(Proc {
            name: name.to_owned(),
            child: Some(child),
            eal_prefix,
            stdout,
            stderr,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Whether it has exited, and how.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Sends `signal` (`INT`, `TERM`, `KILL`) with kill(1): the apps forbid unsafe code.
    pub fn signal(&self, signal: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(c.id().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Waits up to `timeout` for it to exit by itself (`None` if it is still running).
    pub fn wait_for(&mut self, timeout: Duration, abort: &dyn Fn() -> bool) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_exit() {
                return Some(s);
            }
            if Instant::now() >= deadline || abort() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it: SIGINT (final statistics, exit 0), then SIGKILL after `grace`. Removes its EAL
    /// files either way.
    pub fn stop(mut self, grace: Duration) -> Exit {
        let mut killed = false;
        let status = match self.try_exit() {
            Some(s) => s,
            None => {
                self.signal("INT");
                match self.wait_for(grace, &|| false) {
                    Some(s) => s,
                    None => {
                        killed = true;
                        self.kill()
                    }
                }
            }
        };
        self.child = None;
        remove_eal_files(&self.eal_prefix);
        Exit { status, killed }
    }

    fn kill(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("running");
        let _ = child.kill();
        child.wait().expect("a killed child can be reaped")
    }

    /// The last `lines` lines of its stderr and stdout, to say why it failed.
    pub fn tail(&self, lines: usize) -> String {
        tail_of(&self.stdout, &self.stderr, lines)
    }
}

/// The last lines of a finished process's logs.
pub fn tail_of(stdout: &Path, stderr: &Path, lines: usize) -> String {
    let last = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    };
    format!(
        "--- {} ---\n{}\n--- {} ---\n{}",
        stderr.display(),
        last(stderr),
        stdout.display(),
        last(stdout)
    )
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill();
            self.child = None;
        }
        remove_eal_files(&self.eal_prefix);
    }
}

/// Removes the runtime directory and hugepage files EAL created for `prefix`.
pub fn remove_eal_files(prefix: &str) {
    if prefix.is_empty() {
        return;
    }
    let _ = std::fs::remove_dir_all(Path::new(EAL_RUNTIME_DIR).join(prefix));
    // EAL names them `<prefix>map_<n>`.
    let stem = format!("{prefix}map_");
    if let Ok(entries) = std::fs::read_dir(HUGEPAGE_DIR) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&stem) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
