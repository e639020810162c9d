//! Packet buffer pools.

use std::ffi::CString;
use std::fmt;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use dpdk_sys::{rte_mbuf, rte_mempool};

use crate::batch::Batch;
use crate::eal::Eal;
use crate::error::{Errno, MempoolError};
use crate::lcore;
use crate::mbuf::Mbuf;
use crate::resources::Registration;

/// A pool of packet buffers (`rte_pktmbuf_pool_create`).
///
/// Cheap to clone (shared ownership) and usable from any lcore.
///
/// When the last handle is dropped the pool is *retired*, and freed only when two things hold:
/// every mbuf has come back (mbufs do not hold a handle, so freeing earlier would leave them
/// dangling), and nothing else can be touching the pool. The count of mbufs in use cannot tell
/// the second: an lcore freeing an mbuf into its per-lcore cache raises the cache's length
/// before it writes the pointer, so a count taken meanwhile can read zero while the pool's
/// memory is still being written. The decision is therefore made only on the main lcore while
/// no job launched in an [`Eal::scope`](crate::Eal::scope) is unjoined (no worker lcore can
/// be in a cache; threads outside the EAL have no cache and free straight into the pool's
/// ring, whose count is updated last). Retired pools are examined when a pool is created or
/// dropped, when a job is joined, when a scope ends and when the [`Eal`] is dropped; one
/// whose mbufs never all come back stays allocated, and keeps the EAL from cleaning up.
#[derive(Clone)]
pub struct Mempool {
    inner: Arc<Inner>,
}

struct Inner {
    raw: NonNull<rte_mempool>,
    name: String,
    data_room: u16,
    /// Moves to the retired pool on drop.
    registration: Option<Registration>,
}

/// A pool whose handles are all gone, waiting to be freed.
struct Retired {
    raw: NonNull<rte_mempool>,
    name: String,
    /// Keeps the EAL from cleaning up under the pool until it is freed.
    _registration: Option<Registration>,
}

// SAFETY: a retired pool is only counted and freed, under the RETIRED lock, on the main lcore
// while no worker lcore runs a job of ours (`sweep` checks `lcore::quiescent`).
unsafe impl Send for Retired {}

/// Pools retired and not yet freed.
static RETIRED: Mutex<Vec<Retired>> = Mutex::new(Vec::new());

/// Frees the retired pools whose mbufs have all come back, if the calling thread is the main
/// lcore and no worker lcore can be running a job (otherwise the in-use count is not exact,
/// see [`Mempool`]).
pub(crate) fn sweep() {
    if !lcore::quiescent() {
        return;
    }
    let mut retired = RETIRED.lock().unwrap_or_else(|e| e.into_inner());
    retired.retain(|pool| {
        // SAFETY: a valid pool (not freed yet); quiescent, so no other lcore is in one of its
        // caches and the count is exact.
        let in_use = unsafe { dpdk_sys::rte_mempool_in_use_count(pool.raw.as_ptr()) };
        if in_use > 0 {
            return true;
        }
        // SAFETY: no handle remains, every mbuf is back in the pool and nothing can be
        // putting one into it (see above), so nothing refers to the pool's memory any more.
        unsafe { dpdk_sys::rte_mempool_free(pool.raw.as_ptr()) };
        false
    });
}

/// Called by `Eal`'s drop after every lcore has been waited for: frees what can be freed and
/// reports the pools that stay (their registrations keep the EAL from cleaning up).
pub(crate) fn sweep_at_exit() {
    sweep();
    for pool in RETIRED.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        // SAFETY: a valid pool (retired pools are never freed outside `sweep`).
        let in_use = unsafe { dpdk_sys::rte_mempool_in_use_count(pool.raw.as_ptr()) };
        tracing::warn!(pool = %pool.name, in_use, "mempool dropped with mbufs still allocated; leaking it");
    }
}

// SAFETY: rte_mempool get/put are multi-producer/multi-consumer safe; the pointer itself is
// only freed in Drop, when no handle (on any thread) remains.
unsafe impl Send for Inner {}
// SAFETY: see above; shared access only performs thread-safe mempool operations.
unsafe impl Sync for Inner {}

impl Mempool {
    /// Creates a pool of `size` mbufs with a per-lcore cache of `cache_size` and `data_room`
    /// bytes per buffer (headroom included; DPDK's default is 2048 + 128), on the caller's socket.
    ///
    /// `size` is best a power of two minus one (the ring's optimum).
    pub fn new_pktmbuf(
        _eal: &Eal,
        name: &str,
        size: u32,
        cache_size: u32,
        data_room: u16,
    ) -> Result<Self, MempoolError> {
        // RTE_MEMPOOL_NAMESIZE is 32 including the "MP_" prefix the ring gets.
        if name.is_empty() || name.len() > 24 {
            return Err(MempoolError::InvalidName {
                name: name.to_owned(),
                reason: "must be 1 to 24 bytes",
            });
        }
        let c_name = CString::new(name).map_err(|_| MempoolError::InvalidName {
            name: name.to_owned(),
            reason: "contains a NUL byte",
        })?;
        // A retired pool of the same name may be free to go now.
        sweep();
        let cache_size = cache_size.min(dpdk_sys::RTE_MEMPOOL_CACHE_MAX_SIZE);
        // SAFETY: EAL is initialised (we were given &Eal); c_name is a valid C string copied by
        // DPDK; socket -1 means SOCKET_ID_ANY.
        let raw = unsafe {
            dpdk_sys::rte_pktmbuf_pool_create(
                c_name.as_ptr(),
                size,
                cache_size,
                0,
                data_room,
                dpdk_sys::rte_socket_id() as i32,
            )
        };
        let raw = NonNull::new(raw).ok_or_else(|| MempoolError::Create {
            name: name.to_owned(),
            size,
            errno: Errno::last(),
        })?;
        Ok(Mempool {
            inner: Arc::new(Inner {
                raw,
                name: name.to_owned(),
                data_room,
                registration: Some(Registration::new()),
            }),
        })
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Total number of mbufs in the pool.
    pub fn capacity(&self) -> u32 {
        // SAFETY: valid pool pointer; reads a constant field.
        unsafe { self.inner.raw.as_ref().size }
    }

    /// Mbufs currently available (in the ring and the lcore caches).
    pub fn available(&self) -> u32 {
        // SAFETY: valid pool; the count is computed from thread-safe ring state.
        unsafe { dpdk_sys::rte_mempool_avail_count(self.inner.raw.as_ptr()) }
    }

    /// Mbufs currently allocated.
    pub fn in_use(&self) -> u32 {
        // SAFETY: as in `available`.
        unsafe { dpdk_sys::rte_mempool_in_use_count(self.inner.raw.as_ptr()) }
    }

    /// Data room of each buffer (headroom included).
    pub fn data_room(&self) -> u16 {
        self.inner.data_room
    }

    /// Allocates one mbuf (reset, empty, with the default headroom).
    pub fn alloc(&self) -> Result<Mbuf, MempoolError> {
        // SAFETY: valid pool; returns NULL or an mbuf we now own exclusively.
        let raw = unsafe { dpdk_sys::shim_rte_pktmbuf_alloc(self.inner.raw.as_ptr()) };
        match NonNull::new(raw) {
            // SAFETY: a freshly allocated mbuf with refcnt 1, owned by nobody else.
            Some(raw) => Ok(unsafe { Mbuf::from_raw(raw) }),
            None => Err(self.exhausted(1)),
        }
    }

    /// Allocates `n` mbufs at the end of `batch` in one call, all or nothing.
    pub fn alloc_bulk(&self, batch: &mut Batch, n: usize) -> Result<(), MempoolError> {
        let (ptr, spare) = batch.spare_raw();
        let n = n.min(spare as usize);
        // SAFETY: `ptr` has room for `spare` >= n pointers; on success DPDK writes n valid,
        // exclusively owned mbufs there.
        let ret = unsafe {
            dpdk_sys::shim_rte_pktmbuf_alloc_bulk(
                self.inner.raw.as_ptr(),
                ptr.cast::<*mut rte_mbuf>(),
                n as u32,
            )
        };
        if ret != 0 {
            return Err(self.exhausted(n));
        }
        // SAFETY: the n slots after the live range were just filled with owned mbufs.
        unsafe { batch.commit(n) };
        Ok(())
    }

    pub(crate) fn as_raw(&self) -> *mut rte_mempool {
        self.inner.raw.as_ptr()
    }

    fn exhausted(&self, wanted: usize) -> MempoolError {
        MempoolError::Exhausted {
            name: self.inner.name.clone(),
            wanted,
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        RETIRED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Retired {
                raw: self.raw,
                name: std::mem::take(&mut self.name),
                _registration: self.registration.take(),
            });
        sweep();
    }
}

impl fmt::Debug for Mempool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mempool")
            .field("name", &self.inner.name)
            .field("capacity", &self.capacity())
            .field("in_use", &self.in_use())
            .finish()
    }
}
