//! Stopping without losing what is in flight.
//!
//! Between the stop flag and closing the ports, two things can strand frames that were already
//! counted as sent:
//!
//! * a receiver that stops polling while its peer still delivers into its ring. Receivers
//!   therefore keep polling after the stop until nothing has arrived for [`QUIET`] (a
//!   [`Quiesce`]), or [`LIMIT`] passed, so that a peer which never stops sending cannot hold
//!   the exit;
//! * a transmitter whose port shares its rings with another process (virtio-user and vhost
//!   ports): frames it counted as sent are still in a ring the peer reads (virtio's TX ring,
//!   or the virtio peer's RX ring a vhost port writes into), and they are lost when the port
//!   closes first (measured: a receiver descheduled when the vhost sender exited lost the
//!   full ring it had not read yet). [`linger`] keeps such ports open for [`TX_LINGER`] first.
//!
//! Both windows cover the longest scheduler pause measured for a busy-polling process on a
//! loaded 2-core machine (8 ms with one `stress-ng --cpu` hog per core, 12 ms with two, 20 ms
//! with four) several times over, so that a peer descheduled at the wrong moment still gets
//! to run before the window closes.

use std::time::{Duration, Instant};

use dpdk::PortInfo;

/// A receiver is drained once nothing arrived for this long after the stop.
pub const QUIET: Duration = Duration::from_millis(100);
/// A receiver stops draining after this long even if frames keep arriving.
pub const LIMIT: Duration = Duration::from_secs(2);
/// How long a port whose TX completes asynchronously stays open after the last transmit.
pub const TX_LINGER: Duration = Duration::from_millis(250);

/// The drain of a receiver after the stop flag: feed it the packets each pass handled.
#[derive(Debug, Clone)]
pub struct Quiesce {
    started: Instant,
    last_work: Instant,
}

impl Quiesce {
    pub fn new() -> Self {
        let now = Instant::now();
        Quiesce {
            started: now,
            last_work: now,
        }
    }

    /// Records a pass that handled `work` packets; true once the receiver is drained.
    pub fn done(&mut self, work: usize) -> bool {
        self.done_at(work, Instant::now())
    }

    fn done_at(&mut self, work: usize, now: Instant) -> bool {
        if work > 0 {
            self.last_work = now;
        }
        now.duration_since(self.last_work) >= QUIET || now.duration_since(self.started) >= LIMIT
    }
}

impl Default for Quiesce {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether frames a port's PMD accepted can still be waiting for the process at the other end:
/// virtio-user ports (their vhost-user or vhost-vdpa backend takes them from the TX ring later)
/// and vhost ports (the virtio peer reads them from its RX ring later).
pub fn shares_rings_with_a_peer(port: &PortInfo) -> bool {
    matches!(port.driver.as_str(), "net_virtio_user" | "net_vhost")
}

/// Sleeps [`TX_LINGER`] if any of `ports` transmitted and shares its rings with a peer, so
/// that the peer takes the last frames before the port closes.
pub fn linger<'a>(ports: impl IntoIterator<Item = (&'a PortInfo, u64)>) {
    if ports
        .into_iter()
        .any(|(info, transmitted)| transmitted > 0 && shares_rings_with_a_peer(info))
    {
        std::thread::sleep(TX_LINGER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drained_after_a_quiet_period_or_the_limit() {
        let mut q = Quiesce::new();
        let t0 = q.started;
        assert!(!q.done_at(5, t0 + Duration::from_millis(10)));
        assert!(!q.done_at(0, t0 + Duration::from_millis(100)));
        assert!(q.done_at(0, t0 + Duration::from_millis(111)));
        // A peer that keeps sending is cut off at the limit.
        let mut q = Quiesce::new();
        let t0 = q.started;
        for ms in (0..2000).step_by(10) {
            assert!(!q.done_at(1, t0 + Duration::from_millis(ms)), "{ms}");
        }
        assert!(q.done_at(1, t0 + LIMIT));
    }
}
