//! Running one forwarding job per lcore next to a monitor (periodic statistics).

use std::panic::{self, AssertUnwindSafe};

use dpdk::{Eal, LcoreError};

use crate::signal::Stop;

/// Work for one lcore: runs until the stop flag is set.
pub struct Job {
    pub lcore: u32,
    pub work: Box<dyn FnOnce() + Send + 'static>,
}

impl Job {
    pub fn new(lcore: u32, work: impl FnOnce() + Send + 'static) -> Self {
        Job {
            lcore,
            work: Box::new(work),
        }
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Job(lcore {})", self.lcore)
    }
}

/// Sets the stop flag when dropped during a panic, so one failing lcore stops the others.
struct StopOnPanic(Stop);

impl Drop for StopOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.set();
        }
    }
}

/// Runs each job on its lcore and `monitor` alongside, and returns when all jobs returned.
///
/// A job for the main lcore runs on this thread while the monitor runs on a helper thread;
/// without one, the monitor runs here. The monitor must return once `stop` is set. A panicking
/// job sets `stop` and is reported after everything has been joined.
pub fn run(
    eal: &Eal,
    jobs: Vec<Job>,
    stop: &Stop,
    monitor: impl FnOnce() + Send + 'static,
) -> Result<(), LcoreError> {
    eal.scope(|s| {
        let main = eal.main_lcore();
        let mut main_job = None;
        let mut handles = Vec::new();
        let mut first_error = None;
        for job in jobs {
            if job.lcore == main {
                main_job = Some(job.work);
                continue;
            }
            let guard = StopOnPanic(stop.clone());
            let work = job.work;
            match s.launch(job.lcore, move || {
                let _guard = guard;
                work()
            }) {
                Ok(h) => handles.push(h),
                Err(e) => {
                    stop.set();
                    first_error.get_or_insert(e);
                    break;
                }
            }
        }

        if let Some(work) = main_job.filter(|_| first_error.is_none()) {
            let monitor = std::thread::Builder::new()
                .name("monitor".into())
                .spawn(monitor)
                .expect("cannot spawn the monitor thread");
            let result = panic::catch_unwind(AssertUnwindSafe(work));
            stop.set();
            let _ = monitor.join();
            if let Err(payload) = result {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                first_error.get_or_insert(LcoreError::Panicked {
                    lcore: main,
                    message,
                });
            }
        } else if first_error.is_none() {
            monitor();
        }

        for h in handles {
            if let Err(e) = h.join() {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    })
}
