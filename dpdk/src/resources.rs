//! Bookkeeping that decides when `rte_eal_cleanup` is safe.
//!
//! Every object whose memory lives in DPDK's heap (mempools, ports, LPM tables) registers here.
//! [`Eal`](crate::Eal)'s drop cleans up only when none are left; otherwise memory some object may
//! still reach would be unmapped. Objects that cannot be freed (a mempool with mbufs still out)
//! never deregister, which keeps the EAL alive until the process exits.

use std::sync::atomic::{AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// A registration, released on drop. Owners `mem::forget` it when they leak their object.
#[derive(Debug)]
pub(crate) struct Registration(());

impl Registration {
    pub(crate) fn new() -> Self {
        LIVE.fetch_add(1, Ordering::AcqRel);
        Registration(())
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

pub(crate) fn live() -> usize {
    LIVE.load(Ordering::Acquire)
}
