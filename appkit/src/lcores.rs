//! Running one forwarding job per lcore next to a monitor (periodic statistics).
//!
//! Everything is panic-safe: a panic in any job or in the monitor sets the stop flag, so the
//! others return; everything is joined; the first panic comes back as the error.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

use dpdk::{panic_message, Eal, LcoreError};
use thiserror::Error;

use crate::signal::Stop;

/// Work for one lcore: runs until the stop flag is set. It may borrow what outlives the run.
pub struct Job<'a> {
    pub lcore: u32,
    pub work: Box<dyn FnOnce() + Send + 'a>,
}

impl<'a> Job<'a> {
    pub fn new(lcore: u32, work: impl FnOnce() + Send + 'a) -> Self {
        Job {
            lcore,
            work: Box::new(work),
        }
    }
}

impl std::fmt::Debug for Job<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Job(lcore {})", self.lcore)
    }
}

/// Who failed in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Participant {
    /// The job of this lcore.
    Lcore(u32),
    /// The monitor (periodic statistics).
    Monitor,
}

impl fmt::Display for Participant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Participant::Lcore(lcore) => write!(f, "lcore {lcore}"),
            Participant::Monitor => f.write_str("the monitor"),
        }
    }
}

/// Why a run failed: the first failure, in the order they happened.
#[derive(Debug, Error)]
pub enum LcoresError {
    /// A job could not be launched (two jobs for one lcore, an lcore that is not enabled).
    #[error(transparent)]
    Launch(#[from] LcoreError),
    #[error("cannot start the monitor thread: {0}")]
    MonitorThread(std::io::Error),
    #[error("{who} panicked: {message}")]
    Panicked { who: Participant, message: String },
}

/// The first failure of a run; later ones (often consequences of the first) are dropped.
#[derive(Default)]
struct FirstFailure(Mutex<Option<LcoresError>>);

impl FirstFailure {
    fn record(&self, error: LcoresError) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(error);
    }

    fn is_empty(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).is_none()
    }

    fn take(self) -> Option<LcoresError> {
        self.0.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs `work` for `who`. A panic is recorded (before anyone can see the stop flag, so that
/// it is first if it caused the others) and sets `stop`.
fn guarded(who: Participant, work: impl FnOnce(), stop: &Stop, first: &FirstFailure) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(work)) {
        first.record(LcoresError::Panicked {
            who,
            message: panic_message(&*payload),
        });
        stop.set();
    }
}

/// Runs each job on its lcore and `monitor` alongside, and returns when all have returned.
///
/// A job for the main lcore runs on this thread while the monitor runs on a helper thread;
/// without one, the monitor runs here. The monitor must return once `stop` is set; when it
/// or the main lcore's job returns, `stop` is set. A panic anywhere sets `stop`; once
/// everything has been joined, the first panic is the error.
pub fn run<'env>(
    eal: &Eal,
    jobs: Vec<Job<'env>>,
    stop: &Stop,
    monitor: impl FnOnce() + Send + 'env,
) -> Result<(), LcoresError> {
    let main = eal.main_lcore();
    let failures = FirstFailure::default();
    let first = &failures;
    eal.scope(|s| {
        let mut main_job = None;
        let mut handles = Vec::new();
        for Job { lcore, work } in jobs {
            let launched = if lcore == main {
                if main_job.is_some() {
                    Err(LcoreError::Busy(main))
                } else {
                    main_job = Some(work);
                    Ok(())
                }
            } else {
                s.launch(lcore, move || {
                    guarded(Participant::Lcore(lcore), work, stop, first)
                })
                .map(|h| handles.push(h))
            };
            if let Err(e) = launched {
                first.record(e.into());
                stop.set();
                break;
            }
        }

        if first.is_empty() {
            std::thread::scope(|threads| match main_job {
                Some(work) => {
                    let monitor = std::thread::Builder::new()
                        .name("monitor".into())
                        .spawn_scoped(threads, move || {
                            guarded(Participant::Monitor, monitor, stop, first);
                            stop.set();
                        });
                    match monitor {
                        Ok(_) => guarded(Participant::Lcore(main), work, stop, first),
                        Err(e) => first.record(LcoresError::MonitorThread(e)),
                    }
                    stop.set();
                }
                None => {
                    guarded(Participant::Monitor, monitor, stop, first);
                    stop.set();
                }
            });
        }

        for h in handles {
            // Jobs catch their own panics; a join error is one the job could not catch.
            if let Err(e) = h.join() {
                first.record(e.into());
            }
        }
    });
    failures.take().map_or(Ok(()), Err)
}
