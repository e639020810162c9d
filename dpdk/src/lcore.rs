//! Running work on worker lcores, in scopes that join it all before they end.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_int, c_void};
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::eal::Eal;
use crate::error::LcoreError;

/// The lcore id of the calling thread, `None` on threads the EAL does not know.
pub fn current_lcore() -> Option<u32> {
    // SAFETY: reads a thread-local; valid on any thread.
    let id = unsafe { dpdk_sys::shim_rte_lcore_id() };
    (id < dpdk_sys::RTE_MAX_LCORE).then_some(id)
}

/// Worker lcores with a launched job that the main lcore has not waited for yet (it may be
/// running, or finished and not joined). Only the main lcore changes it: launches and waits
/// happen there (`Eal` is neither `Send` nor `Sync`, nor is a scope).
static CLAIMED: [AtomicBool; dpdk_sys::RTE_MAX_LCORE as usize] =
    [const { AtomicBool::new(false) }; dpdk_sys::RTE_MAX_LCORE as usize];

/// Whether the calling thread is the main lcore and no worker lcore can be running a job of
/// ours: then no other lcore is inside a mempool cache, and counts of mbufs in use are exact
/// (see [`Mempool`](crate::Mempool)).
pub(crate) fn quiescent() -> bool {
    // SAFETY: reads configuration written once by rte_eal_init; callers hold an object made
    // from the Eal, so the EAL is initialised.
    let main = unsafe { dpdk_sys::rte_get_main_lcore() };
    current_lcore() == Some(main) && CLAIMED.iter().all(|c| !c.load(Ordering::Acquire))
}

/// Waits (on the main lcore) until the job on `lcore` has returned, and releases the lcore.
fn wait(lcore: u32) {
    // SAFETY: called on the main lcore (only from a scope or a join handle, which are neither
    // Send nor Sync and are created from &Eal); `lcore` is a worker we launched on.
    unsafe { dpdk_sys::rte_eal_wait_lcore(lcore) };
    CLAIMED[lcore as usize].store(false, Ordering::Release);
}

type Slot<T> = Arc<Mutex<Option<std::thread::Result<T>>>>;

struct Job<F, T> {
    f: F,
    slot: Slot<T>,
    /// The scope's count of jobs that panicked and were not joined.
    unjoined_panics: Arc<AtomicUsize>,
}

/// A scope for work on worker lcores, made by [`Eal::scope`]; every job launched in it has
/// returned when the scope ends, so jobs may borrow what outlives the scope.
///
/// A scope lives on the main lcore: it is neither `Send` nor `Sync`, so jobs cannot launch
/// other jobs (DPDK launches and waits on the main lcore only):
///
/// ```compile_fail
/// # let (eal, _) = dpdk::Eal::init(["app", "-l", "0-2"]).unwrap();
/// eal.scope(|s| {
///     s.launch(1, || s.launch(2, || ())).unwrap(); // error: the scope cannot be shared
/// });
/// ```
///
/// A job cannot borrow a local that does not outlive the scope:
///
/// ```compile_fail
/// # let (eal, _) = dpdk::Eal::init(["app", "-l", "0,1"]).unwrap();
/// eal.scope(|s| {
///     let local = vec![1, 2, 3];
///     s.launch(1, || local.len()).unwrap(); // error: the job may outlive `local`
/// });
/// ```
///
/// The same job with the local declared outside the scope compiles:
///
/// ```no_run
/// # let (eal, _) = dpdk::Eal::init(["app", "-l", "0,1"]).unwrap();
/// let local = vec![1, 2, 3];
/// eal.scope(|s| {
///     s.launch(1, || local.len()).unwrap();
/// });
/// ```
#[derive(Debug)]
pub struct LcoreScope<'scope, 'env: 'scope> {
    eal: &'env Eal,
    /// Lcores whose job of this scope has not been joined.
    unjoined: RefCell<Vec<u32>>,
    unjoined_panics: Arc<AtomicUsize>,
    /// Invariant in both lifetimes, as `std::thread::Scope`.
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

/// Handle to a job launched with [`LcoreScope::launch`]; [`join`](Self::join) waits for its
/// result.
///
/// It cannot leave its scope, so it cannot outlive the [`Eal`] either: joining after the EAL
/// has been cleaned up does not compile.
///
/// ```compile_fail
/// # let (eal, _) = dpdk::Eal::init(["app", "-l", "0,1"]).unwrap();
/// let h = eal.scope(|s| s.launch(1, || 42).unwrap()); // error: the handle escapes the scope
/// drop(eal);
/// h.join().unwrap();
/// ```
///
/// Joining inside the scope compiles:
///
/// ```no_run
/// # let (eal, _) = dpdk::Eal::init(["app", "-l", "0,1"]).unwrap();
/// let answer = eal.scope(|s| s.launch(1, || 42).unwrap().join().unwrap());
/// drop(eal);
/// assert_eq!(answer, 42);
/// ```
///
/// Joining happens on the main lcore, so the handle is neither `Send` nor `Sync`. Dropping it
/// without joining lets the job run on; the scope waits for it at its end (and the lcore stays
/// taken until then).
#[derive(Debug)]
pub struct LcoreJoinHandle<'scope, T> {
    lcore: u32,
    slot: Slot<T>,
    unjoined: &'scope RefCell<Vec<u32>>,
    unjoined_panics: &'scope AtomicUsize,
}

impl<T> LcoreJoinHandle<'_, T> {
    /// The lcore the job runs on.
    pub fn lcore(&self) -> u32 {
        self.lcore
    }

    /// Waits for the job to return and gives its result, or the panic message if it panicked.
    pub fn join(self) -> Result<T, LcoreError> {
        wait(self.lcore);
        self.unjoined.borrow_mut().retain(|&l| l != self.lcore);
        crate::mempool::sweep();
        let result = self.slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        match result {
            Some(Ok(value)) => Ok(value),
            Some(Err(payload)) => {
                self.unjoined_panics.fetch_sub(1, Ordering::AcqRel);
                Err(LcoreError::Panicked {
                    lcore: self.lcore,
                    message: panic_message(&*payload),
                })
            }
            None => Err(LcoreError::Panicked {
                lcore: self.lcore,
                message: "the lcore finished without a result".into(),
            }),
        }
    }
}

/// The text of a panic payload (`&str` or `String`, as `panic!` makes them), as
/// [`LcoreError::Panicked`] carries it.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
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
    F: FnOnce() -> T + Send,
    T: Send,
{
    // SAFETY: `arg` is the Box<Job> leaked by `LcoreScope::launch` for exactly this call.
    let job = unsafe { Box::from_raw(arg.cast::<Job<F, T>>()) };
    let Job {
        f,
        slot,
        unjoined_panics,
    } = *job;
    // Unwinding across the C frame would be undefined behaviour: catch it and report it.
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    let failed = result.is_err();
    if failed {
        unjoined_panics.fetch_add(1, Ordering::AcqRel);
    }
    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
    // Everything the job owned, its result included if the handle is gone, is dropped here,
    // before the lcore returns to WAIT (which is what ends the scope's wait).
    drop(slot);
    c_int::from(failed)
}

impl<'scope, 'env> LcoreScope<'scope, 'env> {
    /// Runs `f` on worker lcore `lcore` (`rte_eal_remote_launch`).
    ///
    /// `f` may borrow anything that outlives the scope. A panic inside it is caught and
    /// returned by [`LcoreJoinHandle::join`]. An lcore runs one job at a time: launching on an
    /// lcore whose job of this or an enclosing scope has not been joined is
    /// [`LcoreError::Busy`].
    pub fn launch<F, T>(
        &'scope self,
        lcore: u32,
        f: F,
    ) -> Result<LcoreJoinHandle<'scope, T>, LcoreError>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        if !self.eal.worker_lcores().contains(&lcore) {
            return Err(LcoreError::NotWorker(lcore));
        }
        if CLAIMED[lcore as usize].load(Ordering::Acquire) {
            return Err(LcoreError::Busy(lcore));
        }
        let slot: Slot<T> = Arc::new(Mutex::new(None));
        let job = Box::into_raw(Box::new(Job {
            f,
            slot: slot.clone(),
            unjoined_panics: self.unjoined_panics.clone(),
        }));
        // SAFETY: we are on the main lcore (the scope is neither Send nor Sync); `lcore` is an
        // enabled worker; the trampoline takes ownership of `job` if and only if the launch
        // succeeds. The job may borrow data of lifetime 'scope: the scope waits for this lcore
        // before it ends (a handle cannot leave the scope, and `Eal::scope` waits for every
        // unjoined job even when the scope's closure panics).
        let ret =
            unsafe { dpdk_sys::rte_eal_remote_launch(Some(trampoline::<F, T>), job.cast(), lcore) };
        if ret != 0 {
            // SAFETY: the launch failed, so the trampoline never ran and `job` is still ours.
            drop(unsafe { Box::from_raw(job) });
            return Err(LcoreError::Busy(lcore));
        }
        CLAIMED[lcore as usize].store(true, Ordering::Release);
        self.unjoined.borrow_mut().push(lcore);
        Ok(LcoreJoinHandle {
            lcore,
            slot,
            unjoined: &self.unjoined,
            unjoined_panics: &self.unjoined_panics,
        })
    }
}

impl Eal {
    /// Runs `f` with a scope in which work can be launched on worker lcores, waits for every
    /// job launched in it, and returns what `f` returned.
    ///
    /// Like [`std::thread::scope`]: jobs may borrow from the caller (no `'static` bound), and
    /// all of them have returned when `scope` returns, also when `f` panics (the panic is then
    /// resumed after the wait). A job that panicked and was not joined makes `scope` panic
    /// after the wait.
    ///
    /// ```no_run
    /// # let (eal, _) = dpdk::Eal::init(["app", "-l", "0-2"]).unwrap();
    /// let totals = [1u64, 2, 3];
    /// let sum: u64 = eal.scope(|s| {
    ///     let handles: Vec<_> = eal
    ///         .worker_lcores()
    ///         .into_iter()
    ///         .map(|lcore| s.launch(lcore, || totals.iter().sum::<u64>()).unwrap())
    ///         .collect();
    ///     handles.into_iter().map(|h| h.join().unwrap()).sum()
    /// });
    /// # let _ = sum;
    /// ```
    pub fn scope<'env, F, R>(&'env self, f: F) -> R
    where
        F: for<'scope> FnOnce(&'scope LcoreScope<'scope, 'env>) -> R,
    {
        let scope = LcoreScope {
            eal: self,
            unjoined: RefCell::new(Vec::new()),
            unjoined_panics: Arc::new(AtomicUsize::new(0)),
            _scope: PhantomData,
            _env: PhantomData,
        };
        let result = panic::catch_unwind(AssertUnwindSafe(|| f(&scope)));
        for lcore in scope.unjoined.take() {
            wait(lcore);
        }
        crate::mempool::sweep();
        match result {
            Err(payload) => panic::resume_unwind(payload),
            Ok(_) if scope.unjoined_panics.load(Ordering::Acquire) > 0 => {
                panic!("a job launched in an lcore scope panicked and was not joined")
            }
            Ok(value) => value,
        }
    }
}
