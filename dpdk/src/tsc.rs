//! The time-stamp counter: DPDK's clock for pacing and latency.

/// Current TSC value (`rte_rdtsc`).
#[inline]
pub fn rdtsc() -> u64 {
    // SAFETY: reads the CPU's time-stamp counter; no memory is touched.
    unsafe { dpdk_sys::shim_rte_rdtsc() }
}

/// TSC ticks per second as measured by the EAL (`rte_get_tsc_hz`); 0 before EAL init.
pub fn hz() -> u64 {
    // SAFETY: reads a value the EAL computed at init (0 if not initialised); no preconditions.
    unsafe { dpdk_sys::rte_get_tsc_hz() }
}
