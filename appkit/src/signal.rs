//! Stopping: SIGINT/SIGTERM (pods are deleted with SIGTERM), `--duration` and the stdin prompt
//! all set one shared flag that every engine polls between bursts.

use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// How long a signal that arrives while the EAL is still initialising waits for the
/// initialisation to end before the process exits without it: `rte_eal_init` can block for good
/// (a server-mode virtio-user port waits there for its client), and a pod being deleted must
/// not hang until its grace period runs out.
const START_GRACE: Duration = Duration::from_secs(1);

/// A shared stop flag. Cloning is cheap; checking it is one relaxed load.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    flag: Arc<AtomicBool>,
    /// Set once the EAL is initialised: from then on a signal stops the app cleanly.
    started: Arc<AtomicBool>,
}

impl Stop {
    pub fn new() -> Self {
        Stop::default()
    }

    #[inline]
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    pub fn set(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    /// Marks the EAL initialised (call right after `Eal::init`); returns whether a signal
    /// arrived meanwhile, in which case the app should clean up and exit without forwarding.
    pub fn started(&self) -> bool {
        self.started.store(true, Ordering::Release);
        self.is_set()
    }

    fn is_started(&self) -> bool {
        self.started.load(Ordering::Acquire)
    }

    /// Sleeps up to `d`, waking early when the flag is set. Returns whether it is set.
    pub fn sleep(&self, d: Duration) -> bool {
        // A deadline beyond what the clock can hold is no deadline.
        let Some(end) = Instant::now().checked_add(d) else {
            while !self.is_set() {
                std::thread::sleep(Duration::from_millis(20));
            }
            return true;
        };
        while !self.is_set() {
            let now = Instant::now();
            if now >= end {
                break;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(20)));
        }
        self.is_set()
    }

    /// Sets the flag on SIGINT, SIGTERM or SIGHUP, printing what the C apps print
    /// (`Signal 15 received, preparing to exit...`). Install it before `Eal::init`: a signal
    /// during the initialisation stops the app as soon as the EAL is up (see [`Stop::started`])
    /// or, if the EAL stays in its initialisation, exits the process with status 128 + signal
    /// after [`START_GRACE`]. Further signals while the app stops are reported and otherwise
    /// ignored: stopping is bounded (receivers drain for at most 2 s), and exiting with lcores
    /// still running would tear DPDK down under them.
    pub fn on_signals(&self) -> std::io::Result<()> {
        self.on_signals_announced(|sig| println!("\n\nSignal {sig} received, preparing to exit..."))
    }

    /// Like [`on_signals`](Self::on_signals), with `announce` saying what to print (Debian's
    /// testpmd 22.11 prints nothing on stdout, for instance).
    pub fn on_signals_announced(&self, announce: fn(i32)) -> std::io::Result<()> {
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        let stop = self.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for sig in signals.forever() {
                    if stop.is_set() {
                        eprintln!("Signal {sig} received again: already stopping");
                        continue;
                    }
                    announce(sig);
                    stop.set();
                    if !stop.is_started() && !stop.wait_started(START_GRACE) {
                        eprintln!(
                            "Signal {sig} received while the EAL is still initialising (a \
                             server-mode virtio-user port waits there for its client): exiting"
                        );
                        std::process::exit(128 + sig);
                    }
                }
            })?;
        Ok(())
    }

    /// Waits up to `d` for [`Stop::started`]; whether it came.
    fn wait_started(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        while !self.is_started() {
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// Sets the flag after `d`.
    pub fn after(&self, d: Duration) {
        let stop = self.clone();
        std::thread::Builder::new()
            .name("duration".into())
            .spawn(move || {
                if !stop.sleep(d) {
                    stop.set();
                }
            })
            .expect("cannot spawn the duration timer thread");
    }

    /// testpmd's interactive stop without `--stats-period`: a line on stdin ("Press enter to
    /// exit") sets the flag. Unlike testpmd, end of input does not: in a pod stdin is at EOF
    /// from the start, and the engine must keep running until a signal or `--duration`.
    pub fn on_enter(&self) {
        let stop = self.clone();
        let _ = std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || {
                let mut line = String::new();
                if let Ok(n) = std::io::stdin().lock().read_line(&mut line) {
                    if n > 0 {
                        stop.set();
                    }
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_sets_the_flag() {
        let stop = Stop::new();
        stop.after(Duration::from_millis(30));
        assert!(!stop.is_set());
        assert!(stop.sleep(Duration::from_secs(5)));
    }
}
