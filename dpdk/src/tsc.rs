//! The time-stamp counter: DPDK's clock for pacing and latency.

/// Current TSC value (`rte_rdtsc`). On x86_64 it is the RDTSC instruction inline, as
/// `rte_rdtsc` compiles to, instead of a call into the shim on every forwarding loop.
#[inline]
pub fn rdtsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: RDTSC only reads the time-stamp counter (every x86_64 CPU has one); no memory
    // is touched.
    return unsafe { core::arch::x86_64::_rdtsc() };
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: reads the CPU's time-stamp counter; no memory is touched.
    unsafe {
        dpdk_sys::shim_rte_rdtsc()
    }
}

/// TSC ticks per second as measured by the EAL (`rte_get_tsc_hz`); 0 before EAL init.
pub fn hz() -> u64 {
    // SAFETY: reads a value the EAL computed at init (0 if not initialised); no preconditions.
    unsafe { dpdk_sys::rte_get_tsc_hz() }
}
