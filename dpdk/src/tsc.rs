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

/// TSC ticks per second, measured against `CLOCK_MONOTONIC` the first time it is asked for
/// (about 100 ms); 0 before EAL init.
///
/// The EAL's figure ([`eal_hz`]) is rounded to 10 MHz where the CPU does not report its TSC
/// frequency (AMD, most virtual machines): on a 2596.13 MHz TSC it says 2600 MHz, and a
/// `--tx-rate` paced with it runs 0.15 % slow. The measurement is accurate to about 0.01 %; if
/// it strays more than 2 % from the EAL's figure (a clock jump while measuring), the EAL's
/// figure is used.
pub fn hz() -> u64 {
    static HZ: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let eal = eal_hz();
    if eal == 0 {
        return 0;
    }
    *HZ.get_or_init(|| {
        let measured = measure_hz(std::time::Duration::from_millis(100));
        if measured.abs_diff(eal) <= eal / 50 {
            measured
        } else {
            eal
        }
    })
}

/// TSC ticks per second as the EAL computed it at init (`rte_get_tsc_hz`); 0 before.
pub fn eal_hz() -> u64 {
    // SAFETY: reads a value the EAL computed at init (0 if not initialised); no preconditions.
    unsafe { dpdk_sys::rte_get_tsc_hz() }
}

/// TSC ticks per second over `window` of monotonic time. Each end is a TSC reading taken
/// right next to a clock reading; a pair the scheduler split (more than 20 µs of TSC between
/// the readings around the clock's) is taken again, so a preemption cannot skew the result.
fn measure_hz(window: std::time::Duration) -> u64 {
    fn pair() -> (std::time::Instant, u64) {
        let mut best: Option<(std::time::Instant, u64, u64)> = None;
        for _ in 0..100 {
            let before = rdtsc();
            let at = std::time::Instant::now();
            let after = rdtsc();
            let spread = after.wrapping_sub(before);
            if best.is_none_or(|b| spread < b.2) {
                best = Some((at, before / 2 + after / 2, spread));
            }
            // 20 µs at up to 5 GHz.
            if spread < 100_000 {
                break;
            }
        }
        let (at, tsc, _) = best.expect("at least one reading");
        (at, tsc)
    }
    let (t0, c0) = pair();
    std::thread::sleep(window);
    let (t1, c1) = pair();
    let nanos = t1.duration_since(t0).as_nanos().max(1);
    (u128::from(c1.wrapping_sub(c0)) * 1_000_000_000 / nanos) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_frequency_is_stable() {
        let a = measure_hz(std::time::Duration::from_millis(200));
        let b = measure_hz(std::time::Duration::from_millis(200));
        assert!(a > 100_000_000, "{a}");
        // Two measurements agree to well within the EAL's 10 MHz rounding.
        assert!(a.abs_diff(b) < a / 1000, "{a} vs {b}");
    }
}
