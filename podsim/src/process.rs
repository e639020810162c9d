//! The simulation's processes (relay and pods): started pinned with `taskset`, output into log
//! files, stopped with SIGINT like a pod deletion's SIGTERM, and killed with their EAL files
//! removed if still there when dropped, so neither a failure nor Ctrl-C leaves a poller,
//! hugepage file or runtime directory behind. Signals, the stop sequence and the EAL clean-up
//! are the test rig's ([`testkit::process`]).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use testkit::process::{self, remove_eal_files};

use super::PodsimError;

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

    /// Waits up to `timeout` for it to exit by itself (`None` if it is still running).
    pub fn wait_for(&mut self, timeout: Duration, abort: &dyn Fn() -> bool) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        process::wait_until(child, timeout, abort)
    }

    /// Stops it: SIGINT (final statistics, exit 0), then SIGKILL after `grace`. Removes its EAL
    /// files either way.
    pub fn stop(mut self, grace: Duration) -> Result<Exit, PodsimError> {
        let mut child = self
            .child
            .take()
            .expect("a Proc owns its child until stopped");
        let stopped = process::stop(&mut child, grace);
        remove_eal_files(&self.eal_prefix);
        let (status, killed) = stopped.map_err(|source| PodsimError::Stop {
            what: self.name.clone(),
            source,
        })?;
        Ok(Exit { status, killed })
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
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        remove_eal_files(&self.eal_prefix);
    }
}
