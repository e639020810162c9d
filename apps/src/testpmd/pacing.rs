//! `--tx-rate`: a token bucket on the TSC, one per transmitting stream.
//!
//! Credit accrues at `rate` packets per second and is taken a burst at a time, so the average
//! rate is exact whenever the lcore polls often enough; credit is capped (at 10 ms worth, and
//! at least two bursts) so that after a stall the bucket catches up quickly without sending an
//! unbounded burst. Packets the PMD refused are refunded, so the rate counts accepted packets.

/// Credit is kept in units of 1/hz packet, so that `ticks * rate` is exact integer math.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: u64,
    hz: u64,
    credit: u128,
    cap: u128,
    last: u64,
}

impl TokenBucket {
    /// A bucket for `rate` packets per second on a clock of `hz` ticks per second, starting
    /// empty at `now`.
    pub fn new(rate: u64, hz: u64, burst: u16, now: u64) -> Self {
        let cap_packets = (rate / 100).max(2 * u64::from(burst));
        TokenBucket {
            rate,
            hz: hz.max(1),
            credit: 0,
            cap: u128::from(cap_packets) * u128::from(hz.max(1)),
            last: now,
        }
    }

    /// How many of `want` packets may go now; their credit is taken.
    #[inline]
    pub fn take(&mut self, now: u64, want: u16) -> u16 {
        let elapsed = now.wrapping_sub(self.last);
        self.last = now;
        self.credit = (self.credit + u128::from(elapsed) * u128::from(self.rate)).min(self.cap);
        let available = self.credit / u128::from(self.hz);
        let n = available.min(u128::from(want)) as u16;
        self.credit -= u128::from(n) * u128::from(self.hz);
        n
    }

    /// Returns the credit of `n` packets that were not sent after all.
    #[inline]
    pub fn refund(&mut self, n: u16) {
        self.credit = (self.credit + u128::from(n) * u128::from(self.hz)).min(self.cap);
    }
}

/// Splits a per-port rate over `streams` streams; the first ones get the remainder.
pub fn share(rate: u64, streams: usize, index: usize) -> u64 {
    let n = streams.max(1) as u64;
    rate / n + u64::from((index as u64) < rate % n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_rate_is_exact() {
        let hz = 2_500_000_000;
        let mut b = TokenBucket::new(100_000, hz, 32, 0);
        let mut sent = 0u64;
        // Poll every 7 µs for one second.
        let step = hz / 1_000_000 * 7;
        let mut t = 0;
        while t < hz {
            t += step;
            sent += u64::from(b.take(t, 32));
        }
        assert!((99_990..=100_000).contains(&sent), "{sent}");
    }

    #[test]
    fn stall_catches_up_up_to_the_cap() {
        let hz = 1_000_000;
        let mut b = TokenBucket::new(10_000, hz, 32, 0);
        // After 1 s without polling, at most the cap (100 packets = 10 ms) is available.
        let mut got = 0;
        loop {
            let n = b.take(hz, 32);
            if n == 0 {
                break;
            }
            got += n;
        }
        assert_eq!(got, 100);
        b.refund(5);
        assert_eq!(b.take(hz, 32), 5);
    }

    #[test]
    fn slow_rates_send_single_packets() {
        let hz = 1_000;
        let mut b = TokenBucket::new(10, hz, 32, 0);
        assert_eq!(b.take(50, 32), 0);
        assert_eq!(b.take(100, 32), 1);
        assert_eq!(b.take(150, 32), 0);
    }

    #[test]
    fn rate_is_shared_over_streams() {
        assert_eq!(
            (0..3).map(|i| share(10, 3, i)).collect::<Vec<_>>(),
            vec![4, 3, 3]
        );
        assert_eq!(share(7, 1, 0), 7);
    }
}
