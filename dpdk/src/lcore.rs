//! Running work on worker lcores.

use std::any::Any;
use std::ffi::{c_int, c_void};
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use crate::eal::Eal;
use crate::error::LcoreError;

/// The lcore id of the calling thread, `None` on threads the EAL does not know.
pub fn current_lcore() -> Option<u32> {
    // SAFETY: reads a thread-local; valid on any thread.
    let id = unsafe { dpdk_sys::shim_rte_lcore_id() };
    (id < dpdk_sys::RTE_MAX_LCORE).then_some(id)
}

type Slot<T> = Arc<Mutex<Option<std::thread::Result<T>>>>;

struct Job<F, T> {
    f: F,
    slot: Slot<T>,
}

/// Handle to work launched with [`Eal::launch`]; [`join`](Self::join) waits for its result.
///
/// Joining happens on the main lcore, so the handle is not `Send`. Dropping it without joining
/// lets the work run on; the EAL waits for it when it is dropped.
#[derive(Debug)]
pub struct LcoreJoinHandle<T> {
    lcore: u32,
    slot: Slot<T>,
    _main_lcore_only: PhantomData<*const ()>,
}

impl<T> LcoreJoinHandle<T> {
    pub fn lcore(&self) -> u32 {
        self.lcore
    }

    /// Waits for the work to finish and returns its result, or the panic message if it panicked.
    pub fn join(self) -> Result<T, LcoreError> {
        // SAFETY: called on the main lcore (handle is !Send and created from &Eal); the lcore id
        // is an enabled worker (checked at launch).
        unsafe { dpdk_sys::rte_eal_wait_lcore(self.lcore) };
        let result = self.slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        match result {
            Some(Ok(value)) => Ok(value),
            Some(Err(payload)) => Err(LcoreError::Panicked {
                lcore: self.lcore,
                message: panic_message(&*payload),
            }),
            None => Err(LcoreError::Panicked {
                lcore: self.lcore,
                message: "the lcore finished without a result".into(),
            }),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

unsafe extern "C" fn trampoline<F, T>(arg: *mut c_void) -> c_int
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // SAFETY: `arg` is the Box<Job> leaked by `Eal::launch` for exactly this call.
    let job = unsafe { Box::from_raw(arg.cast::<Job<F, T>>()) };
    let Job { f, slot } = *job;
    // Unwinding across the C frame would be undefined behaviour: catch it and report it.
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    let failed = result.is_err();
    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
    c_int::from(failed)
}

impl Eal {
    /// Runs `f` on worker lcore `lcore` (`rte_eal_remote_launch`).
    ///
    /// The closure must own what it uses (`'static`) and be `Send`; a panic inside it is caught
    /// and returned by [`LcoreJoinHandle::join`].
    pub fn launch<F, T>(&self, lcore: u32, f: F) -> Result<LcoreJoinHandle<T>, LcoreError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if !self.worker_lcores().contains(&lcore) {
            return Err(LcoreError::NotWorker(lcore));
        }
        let slot: Slot<T> = Arc::new(Mutex::new(None));
        let job = Box::into_raw(Box::new(Job {
            f,
            slot: slot.clone(),
        }));
        // SAFETY: we are on the main lcore (&Eal is !Send); `lcore` is an enabled worker; the
        // trampoline takes ownership of `job` if and only if the launch succeeds.
        let ret =
            unsafe { dpdk_sys::rte_eal_remote_launch(Some(trampoline::<F, T>), job.cast(), lcore) };
        if ret != 0 {
            // SAFETY: the launch failed, so the trampoline never ran and `job` is still ours.
            drop(unsafe { Box::from_raw(job) });
            return Err(LcoreError::Busy(lcore));
        }
        Ok(LcoreJoinHandle {
            lcore,
            slot,
            _main_lcore_only: PhantomData,
        })
    }
}
