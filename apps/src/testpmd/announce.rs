//! MAC announcements in testpmd [ours]: `--announce` receivers tell generators on the same
//! network which MAC their device really owns, and `--eth-peer=P,auto` generators learn it.
//!
//! Why: a vDPA device may own another MAC than the pod's network-status says (see
//! `appkit::portmacs`), so a fixed `--eth-peer` from the manifest can aim at an address nobody
//! owns. The wire format is [`packet::announce`].
//!
//! Per port, [`PortTable`] holds what the lcores share: the learned peer (written by whichever
//! lcore receives on the port, read by whichever transmits on it), the traffic received (for
//! "traffic arrived" in announcements and for the silent-port warning) and counts of
//! announcements heard and sent. Announcements are taken out of every received burst before
//! anything counts or forwards it: they are never traffic, never forwarded, and appear only in
//! the ethdev counters and in the counts here. [`watch`] runs beside the monitor and logs
//! learned peers and silent ports.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpdk::{Batch, MacAddr, Mempool, TxQueue};
use packet::announce;

use super::options::MAX_PORTS;
use crate::signal::Stop;

/// Announcement interval before the port has received traffic.
pub const EAGER: Duration = Duration::from_secs(1);
/// Announcement interval once traffic arrives (a generator restarted later still learns).
pub const RELAXED: Duration = Duration::from_secs(10);

/// What the lcores share per port, indexed by port id.
#[derive(Debug)]
pub struct PortTable {
    ports: Vec<PortState>,
}

#[derive(Debug, Default)]
struct PortState {
    /// The learned peer: the MAC's six bytes in the low 48 bits, bit 48 set; 0: none yet.
    peer: AtomicU64,
    /// Frames received that were not announcements.
    traffic: AtomicU64,
    /// Valid announcements received.
    heard: AtomicU64,
    /// Frames with the announcement EtherType that failed validation.
    invalid: AtomicU64,
    /// Announcements sent.
    sent: AtomicU64,
}

const LEARNED: u64 = 1 << 48;

fn pack(mac: MacAddr) -> u64 {
    let mut w = [0u8; 8];
    w[..6].copy_from_slice(&mac.0);
    u64::from_le_bytes(w) | LEARNED
}

fn unpack(v: u64) -> Option<MacAddr> {
    (v & LEARNED != 0).then(|| {
        let b = v.to_le_bytes();
        MacAddr([b[0], b[1], b[2], b[3], b[4], b[5]])
    })
}

impl PortTable {
    pub fn new() -> Arc<Self> {
        Arc::new(PortTable {
            ports: (0..MAX_PORTS).map(|_| PortState::default()).collect(),
        })
    }

    fn port(&self, port: u16) -> Option<&PortState> {
        self.ports.get(usize::from(port))
    }

    /// The peer learned on `port`, if any.
    #[inline]
    pub fn peer(&self, port: u16) -> Option<MacAddr> {
        self.port(port)
            .and_then(|p| unpack(p.peer.load(Ordering::Relaxed)))
    }

    /// Frames of traffic `port` received so far.
    pub fn traffic(&self, port: u16) -> u64 {
        self.port(port)
            .map_or(0, |p| p.traffic.load(Ordering::Relaxed))
    }

    /// Announcements `port` heard (valid) and sent.
    pub fn announcements(&self, port: u16) -> (u64, u64, u64) {
        self.port(port).map_or((0, 0, 0), |p| {
            (
                p.heard.load(Ordering::Relaxed),
                p.invalid.load(Ordering::Relaxed),
                p.sent.load(Ordering::Relaxed),
            )
        })
    }

    /// Takes the announcements out of a burst received on `port` (learning the peer from valid
    /// ones), counts the rest as traffic, and returns how many frames remain.
    #[inline]
    pub fn take_announcements(&self, batch: &mut Batch, port: u16) -> usize {
        let Some(state) = self.port(port) else {
            return batch.len();
        };
        if batch.iter().any(|m| announce::is_announcement(m.data())) {
            batch.retain_mut(|m| {
                if !announce::is_announcement(m.data()) {
                    return true;
                }
                match announce::decode(m.data()) {
                    Ok(a) => {
                        state.heard.fetch_add(1, Ordering::Relaxed);
                        state.peer.store(pack(a.mac), Ordering::Relaxed);
                    }
                    Err(_) => {
                        state.invalid.fetch_add(1, Ordering::Relaxed);
                    }
                }
                false
            });
        }
        let n = batch.len();
        if n > 0 {
            state.traffic.fetch_add(n as u64, Ordering::Relaxed);
        }
        n
    }
}

/// Frees the MAC announcements in a burst and returns how many: what l2fwd and l3fwd do
/// before counting, as announcements are neither traffic nor to be forwarded.
#[inline]
pub fn drop_announcements(batch: &mut Batch) -> usize {
    if batch.iter().any(|m| announce::is_announcement(m.data())) {
        batch.retain_mut(|m| !announce::is_announcement(m.data()))
    } else {
        0
    }
}

/// A stream that announces its TX port: the frame and when the next one is due.
#[derive(Debug)]
pub struct Announcer {
    port: u16,
    mac: MacAddr,
    next: u64,
    hz: u64,
    table: Arc<PortTable>,
    batch: Batch,
}

impl Announcer {
    pub fn new(port: u16, mac: MacAddr, hz: u64, table: Arc<PortTable>) -> Self {
        Announcer {
            port,
            mac,
            next: 0,
            hz,
            table,
            batch: Batch::new(1),
        }
    }

    /// Sends an announcement on `tx` if one is due at `now` (TSC). The frame is not counted as
    /// traffic (only in the table and the ethdev counters); one the PMD refuses is retried at
    /// the next burst.
    #[inline]
    pub fn poll(&mut self, now: u64, pool: &Mempool, tx: &mut TxQueue) {
        if now < self.next {
            return;
        }
        let receiving = self.table.traffic(self.port) > 0;
        let frame = announce::Repr {
            mac: self.mac,
            port: self.port,
            receiving,
        }
        .frame();
        if pool.alloc_bulk(&mut self.batch, 1).is_err() {
            return;
        }
        if let Some(m) = self.batch.iter_mut().next() {
            if let Some(d) = m.append(frame.len()) {
                d.copy_from_slice(&frame);
            }
        }
        if tx.tx(&mut self.batch) == 1 {
            let every = if receiving { RELAXED } else { EAGER };
            self.next = now + (every.as_secs_f64() * self.hz as f64) as u64;
            if let Some(p) = self.table.port(self.port) {
                p.sent.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.batch.clear();
    }
}

/// One port as [`watch`] sees it.
#[derive(Debug, Clone)]
pub struct Watched {
    pub port: u16,
    pub mac: MacAddr,
    /// The peer is learned (`--eth-peer=P,auto`).
    pub auto_peer: bool,
    /// The port receives traffic in this mode (silent-port warnings).
    pub receives: bool,
}

/// Until `stop`: logs each auto peer when learned (or changed), and warns about each
/// receiving port that got no traffic for `silence` (again after each further `silence`),
/// with the checks to make. `None`: no silence warnings.
pub fn watch(table: &PortTable, ports: &[Watched], silence: Option<Duration>, stop: &Stop) {
    let start = Instant::now();
    let mut peers: Vec<Option<MacAddr>> = vec![None; ports.len()];
    let mut last: Vec<(u64, Instant)> = vec![(0, start); ports.len()];
    let mut waiting_told = vec![start; ports.len()];
    loop {
        for (i, w) in ports.iter().enumerate() {
            if w.auto_peer {
                match table.peer(w.port) {
                    Some(peer) if Some(peer) != peers[i] => {
                        let was = peers[i].map_or(String::new(), |m| format!(" (was {m})"));
                        println!(
                            "Port {}: peer MAC {peer} learned from its MAC announcement{was}; \
                             sending to it",
                            w.port
                        );
                        peers[i] = Some(peer);
                    }
                    Some(_) => {}
                    None if waiting_told[i].elapsed() >= RELAXED => {
                        waiting_told[i] = Instant::now();
                        eprintln!(
                        "WARNING: Port {} (--eth-peer={},auto): no MAC announcement heard for {} s, \
                         so nothing is sent on it. Start the receiver with --announce; check that \
                         both pods' networks are on the same VLAN and that the link is up.",
                        w.port,
                        w.port,
                        start.elapsed().as_secs()
                    );
                    }
                    None => {}
                }
            }
            if let (true, Some(silence)) = (w.receives, silence) {
                let seen = table.traffic(w.port);
                if seen != last[i].0 {
                    last[i] = (seen, Instant::now());
                } else if last[i].1.elapsed() >= silence {
                    last[i].1 = Instant::now();
                    eprintln!("WARNING: {}", silent_text(w.port, w.mac, seen, silence));
                }
            }
        }
        if stop.sleep(Duration::from_millis(250)) {
            return;
        }
    }
}

/// The silent-port warning: what was (not) received, and what to check.
pub fn silent_text(port: u16, mac: MacAddr, seen: u64, silence: Duration) -> String {
    let what = if seen == 0 {
        "has received nothing".to_owned()
    } else {
        format!("has received nothing more (after {seen} frames)")
    };
    format!(
        "Port {port} {what} for {} s. Checks: (1) MACs: the generator must send to {mac}, the MAC \
         this port's device owns, which may differ from network-status (see the port's MAC line \
         at start; --eth-peer=P,auto on the generator with --announce here learns it); (2) VLAN: \
         both pods' networks must be on the same VLAN (their NetworkAttachmentDefinitions); (3) \
         link: the port's link must be up (\"Checking link statuses\"); (4) on the node: `vdpa \
         dev show` and `vdpa dev config show` list the vDPA device and the MAC it really has.",
        silence.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_pack_and_unpack() {
        let m = MacAddr([0x02, 0x0d, 0xee, 0, 1, 0]);
        assert_eq!(unpack(pack(m)), Some(m));
        assert_eq!(unpack(0), None);
        assert_eq!(unpack(pack(MacAddr([0xff; 6]))), Some(MacAddr([0xff; 6])));
        let t = PortTable::new();
        assert_eq!(t.peer(0), None);
        assert_eq!(
            t.peer(u16::MAX),
            None,
            "out of range is no peer, not a panic"
        );
        t.port(1).unwrap().peer.store(pack(m), Ordering::Relaxed);
        assert_eq!(t.peer(1), Some(m));
    }

    #[test]
    fn the_silence_warning_names_the_checks() {
        let t = silent_text(
            0,
            MacAddr([2, 0x0d, 0xee, 0, 1, 0]),
            0,
            Duration::from_secs(10),
        );
        for needle in [
            "received nothing for 10 s",
            "02:0D:EE:00:01:00",
            "VLAN",
            "link",
            "vdpa dev show",
        ] {
            assert!(t.contains(needle), "{needle}: {t}");
        }
        assert!(
            silent_text(0, MacAddr::default(), 5, Duration::from_secs(3))
                .contains("after 5 frames")
        );
    }
}
