//! Stopping: SIGINT/SIGTERM (pods are deleted with SIGTERM), `--duration` and the stdin prompt
//! all set one shared flag that every engine polls between bursts.

use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// A shared stop flag. Cloning is cheap; checking it is one relaxed load.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn new() -> Self {
        Stop::default()
    }

    #[inline]
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
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
    /// (`Signal 15 received, preparing to exit...`). A second signal exits at once.
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
                        eprintln!("Signal {sig} received again, exiting now");
                        std::process::exit(128 + sig);
                    }
                    announce(sig);
                    stop.set();
                }
            })?;
        Ok(())
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
