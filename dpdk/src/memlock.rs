//! The locked-memory limit. vhost-vdpa pins every page DPDK hands the device (and testpmd
//! `mlockall`s by default), so a pod needs `RLIMIT_MEMLOCK` raised, as the original entrypoint's
//! `ulimit -l unlimited` did; without `CAP_SYS_RESOURCE` (or `IPC_LOCK` for the pinning itself)
//! only the soft limit can be raised, up to the hard one.

/// `RLIMIT_MEMLOCK` before and after [`raise_memlock_limit`], in bytes (`None` = unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemlockLimits {
    /// Soft limit before.
    pub before_soft: Option<u64>,
    /// Hard limit before.
    pub before_hard: Option<u64>,
    /// Soft limit after.
    pub after_soft: Option<u64>,
    /// Hard limit after.
    pub after_hard: Option<u64>,
}

#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux x86_64, not everywhere
fn to_option(v: libc::rlim_t) -> Option<u64> {
    (v != libc::RLIM_INFINITY).then_some(v as u64)
}

fn get() -> std::io::Result<libc::rlimit> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(lim)
}

fn set(lim: libc::rlimit) -> bool {
    // SAFETY: setrlimit reads one rlimit struct; failure leaves the limit unchanged.
    unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim) == 0 }
}

/// Raises the locked-memory limit as far as permitted: to unlimited when the process may raise
/// its hard limit, otherwise the soft limit up to the hard one. Never lowers anything.
pub fn raise_memlock_limit() -> std::io::Result<MemlockLimits> {
    let before = get()?;
    let unlimited = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    if !set(unlimited) && before.rlim_cur != before.rlim_max {
        set(libc::rlimit {
            rlim_cur: before.rlim_max,
            rlim_max: before.rlim_max,
        });
    }
    let after = get()?;
    Ok(MemlockLimits {
        before_soft: to_option(before.rlim_cur),
        before_hard: to_option(before.rlim_max),
        after_soft: to_option(after.rlim_cur),
        after_hard: to_option(after.rlim_max),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_lowers_and_reaches_the_hard_limit() {
        let l = raise_memlock_limit().unwrap();
        let as_num = |v: Option<u64>| v.unwrap_or(u64::MAX);
        assert!(as_num(l.after_soft) >= as_num(l.before_soft));
        assert!(as_num(l.after_hard) >= as_num(l.before_hard));
        assert_eq!(
            l.after_soft, l.after_hard,
            "soft limit raised to the hard one"
        );
    }
}
