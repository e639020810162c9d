//! EAL initialisation and process-wide queries.

use std::ffi::{c_char, c_int, CStr, CString};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{EalError, Errno};
use crate::resources;

/// Set by the first `Eal::init`, successful or not: DPDK cannot retry after a failed init either.
static INITIALISED: AtomicBool = AtomicBool::new(false);

/// Set by [`Eal::enable_capture`]: the drop undoes it before the EAL's cleanup.
static CAPTURE: AtomicBool = AtomicBool::new(false);

/// The initialised Environment Abstraction Layer of this process.
///
/// At most one exists per process. It is neither `Send` nor `Sync`: the thread that initialised
/// the EAL is the main lcore, and DPDK requires lcore launches, joins and the final cleanup to
/// happen there. Dropping it waits for all worker lcores and calls `rte_eal_cleanup`, unless
/// mempools, ports or tables created from it are still alive (then cleanup is left to process
/// exit, because those objects may still point into DPDK memory).
///
/// It cannot move to another thread (not `Send`)...
///
/// ```compile_fail
/// let (eal, _) = dpdk::Eal::init(["app"]).unwrap();
/// std::thread::spawn(move || drop(eal)); // error: `*const ()` cannot be sent between threads
/// ```
///
/// ... nor be used from one (not `Sync`):
///
/// ```compile_fail
/// let (eal, _) = dpdk::Eal::init(["app"]).unwrap();
/// std::thread::scope(|s| {
///     s.spawn(|| eal.worker_lcores()); // error: `*const ()` cannot be shared between threads
/// });
/// ```
///
/// What it tells can:
///
/// ```no_run
/// let (eal, _) = dpdk::Eal::init(["app"]).unwrap();
/// let workers = eal.worker_lcores();
/// std::thread::spawn(move || drop(workers));
/// ```
#[derive(Debug)]
pub struct Eal {
    _main_lcore_only: PhantomData<*const ()>,
}

impl Eal {
    /// Initialises the EAL from a full argv (program name first), as `rte_eal_init` would.
    ///
    /// Returns the EAL and the application arguments that follow `--` (without the `--`).
    /// A second call in the same process returns [`EalError::AlreadyInitialized`].
    pub fn init<I, S>(args: I) -> Result<(Eal, Vec<String>), EalError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let mut c_args = Vec::with_capacity(args.len());
        for (index, arg) in args.iter().enumerate() {
            let c = CString::new(arg.as_str()).map_err(|_| EalError::NulInArgument {
                index,
                arg: arg.clone(),
            })?;
            c_args.push(c);
        }
        if INITIALISED.swap(true, Ordering::AcqRel) {
            return Err(EalError::AlreadyInitialized);
        }
        // The EAL keeps pointers into argv (option values, the program name) for the life of the
        // process, so the strings and the pointer array are leaked on purpose: once per process.
        let argv: &'static mut [*mut c_char] = Vec::leak(
            c_args
                .into_iter()
                .map(CString::into_raw)
                .chain(std::iter::once(std::ptr::null_mut()))
                .collect(),
        );
        let argc = (argv.len() - 1) as c_int;
        // SAFETY: argv holds argc valid, NUL-terminated, leaked (hence 'static) strings followed
        // by a NULL, as C's main() would pass; rte_eal_init may permute the array, which we own.
        let ret = unsafe { dpdk_sys::rte_eal_init(argc, argv.as_mut_ptr()) };
        if ret < 0 {
            return Err(EalError::Init {
                errno: Errno::last(),
            });
        }
        // rte_eal_init consumed `ret` arguments after the program name and stored the program
        // name at argv[ret] (where `--` was, if present); the application's arguments follow.
        let first_app = ret as usize + 1;
        let app_args = argv[first_app.min(argc as usize)..argc as usize]
            .iter()
            .map(|&p| {
                // SAFETY: every entry up to argc is one of our leaked CStrings (getopt only
                // permutes the array).
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            })
            .collect();
        Ok((
            Eal {
                _main_lcore_only: PhantomData,
            },
            app_args,
        ))
    }

    /// The main lcore (`--main-lcore`, default the first of `-l`).
    pub fn main_lcore(&self) -> u32 {
        // SAFETY: EAL is initialised (we hold an Eal); reads configuration.
        unsafe { dpdk_sys::rte_get_main_lcore() }
    }

    /// The enabled worker lcores, in increasing order.
    pub fn worker_lcores(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let mut lcore = u32::MAX; // -1: start of iteration
        loop {
            // SAFETY: EAL is initialised; iterates over lcore configuration (skip main, no wrap).
            lcore = unsafe { dpdk_sys::rte_get_next_lcore(lcore, 1, 0) };
            if lcore >= dpdk_sys::RTE_MAX_LCORE {
                return out;
            }
            out.push(lcore);
        }
    }

    /// NUMA socket of an lcore.
    pub fn lcore_socket(&self, lcore: u32) -> u32 {
        // SAFETY: EAL is initialised; out-of-range ids return SOCKET_ID_ANY-like values, no UB.
        unsafe { dpdk_sys::rte_lcore_to_socket_id(lcore) }
    }

    /// Ids of the usable ethdev ports, in increasing order (`RTE_ETH_FOREACH_DEV`).
    pub fn port_ids(&self) -> Vec<u16> {
        let mut out = Vec::new();
        let mut next = 0u64;
        loop {
            // SAFETY: EAL is initialised; scans the port table for unowned valid ports.
            let port = unsafe { dpdk_sys::rte_eth_find_next_owned_by(next as u16, 0) };
            if port >= u64::from(dpdk_sys::RTE_MAX_ETHPORTS) {
                return out;
            }
            out.push(port as u16);
            next = port + 1;
        }
    }

    /// Lets `dpdk-dumpcap` and `dpdk-pdump` capture this process's ports (`rte_pdump_init`):
    /// they run as DPDK secondary processes with the same `--file-prefix` and ask the primary,
    /// over its multi-process channel, to copy each port's packets to them. Until a capture
    /// starts, the only cost is that channel's handler; while one runs, the RX/TX callbacks
    /// copy the captured packets. Fails where the EAL has no multi-process channel
    /// (`--in-memory`, `--no-shconf`).
    pub fn enable_capture(&self) -> Result<(), Errno> {
        // SAFETY: EAL is initialised (we hold an Eal) and this is the main lcore; registers
        // the pdump multi-process action, which DPDK keeps until rte_pdump_uninit/cleanup.
        let ret = unsafe { dpdk_sys::rte_pdump_init() };
        if ret < 0 {
            return Err(Errno::last());
        }
        CAPTURE.store(true, Ordering::Release);
        Ok(())
    }

    /// The DPDK version string, e.g. `DPDK 22.11.11`.
    pub fn version() -> String {
        // SAFETY: returns a pointer to a static NUL-terminated string; callable any time.
        let p = unsafe { dpdk_sys::rte_version() };
        // SAFETY: see above.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

impl Drop for Eal {
    fn drop(&mut self) {
        // SAFETY: we are on the main lcore (Eal is !Send); waits for every worker to finish.
        unsafe { dpdk_sys::rte_eal_mp_wait_lcore() };
        if CAPTURE.swap(false, Ordering::AcqRel) {
            // SAFETY: pdump was initialised by enable_capture; unregisters its channel action.
            unsafe { dpdk_sys::rte_pdump_uninit() };
        }
        crate::mempool::sweep_at_exit();
        let live = resources::live();
        if live > 0 {
            tracing::debug!(
                live,
                "EAL objects still alive; leaving rte_eal_cleanup to process exit"
            );
            return;
        }
        // SAFETY: no mempool, port or table remains (checked above), all lcores are idle, and
        // no Eal can be created again, so nothing can touch DPDK memory after this.
        let ret = unsafe { dpdk_sys::rte_eal_cleanup() };
        if ret < 0 {
            tracing::warn!("rte_eal_cleanup failed: {}", Errno::from_ret(ret));
        }
    }
}
