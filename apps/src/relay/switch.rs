//! The forwarding decisions of the relay: an Ethernet learning switch per network segment.
//!
//! In the cluster, each traffic-test network is a VLAN on the NIC's embedded switch: the VF
//! tags on egress and strips on ingress, so pods see untagged frames and only reach pods of the
//! same VLAN. The relay reproduces exactly that: one learning bridge per segment, and no frame
//! ever crosses segments.
//!
//! Ports may also be given the MAC their device owns (`--port-mac`), as a VF's is known to the
//! NIC's switch: a unicast frame to an owned MAC goes to its owner only, and one to a MAC that
//! no port owns reaches only ports without a declared MAC (there by learning or flooding, as a
//! promiscuous forwarder's VF would get it), never a port that owns another MAC. That is what
//! makes a generator aiming at a MAC its peer's device does not own see nothing arrive, on the
//! machine as on the NIC. Broadcast and multicast still flood the whole segment.

use rustc_hash::FxHashMap;

use dpdk::MacAddr;

/// Upper bound on learned addresses per segment; beyond it unknown destinations are flooded.
const MAX_LEARNED: usize = 4096;

/// Where a frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// To one port of the same segment.
    To(u16),
    /// To every other port of the segment (broadcast, multicast, unknown unicast without
    /// declared owners).
    Flood,
    /// To the other ports of the segment that own no declared MAC (unicast to a MAC no port
    /// owns); filtered if there are none.
    FloodUnowned,
    /// Nowhere: the destination sits behind the input port, or the port is in no segment.
    Filter,
}

/// A named segment and its member ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub name: String,
    pub ports: Vec<u16>,
}

/// Learning bridges, one per segment.
#[derive(Debug)]
pub struct Switch {
    segments: Vec<Segment>,
    segment_of: Vec<Option<usize>>,
    learned: Vec<FxHashMap<MacAddr, u16>>,
    /// The MAC each port's device owns (`--port-mac`), by port id.
    owner_mac: Vec<Option<MacAddr>>,
    /// Per segment: owned MAC to port.
    owned: Vec<FxHashMap<MacAddr, u16>>,
}

impl Switch {
    /// Builds the switch; each port may belong to at most one segment (checked by the caller's
    /// option parsing).
    pub fn new(segments: Vec<Segment>) -> Self {
        let max_port = segments
            .iter()
            .flat_map(|s| s.ports.iter())
            .copied()
            .max()
            .map_or(0, usize::from);
        let mut segment_of = vec![None; max_port + 1];
        for (i, s) in segments.iter().enumerate() {
            for &p in &s.ports {
                segment_of[usize::from(p)] = Some(i);
            }
        }
        let learned = segments.iter().map(|_| FxHashMap::default()).collect();
        let owned = segments.iter().map(|_| FxHashMap::default()).collect();
        Switch {
            segments,
            owner_mac: vec![None; segment_of.len()],
            segment_of,
            learned,
            owned,
        }
    }

    /// Declares that `port`'s device owns `mac` (ports in no segment are ignored).
    pub fn own(&mut self, port: u16, mac: MacAddr) {
        let Some(seg) = self.segment_of.get(usize::from(port)).copied().flatten() else {
            return;
        };
        self.owner_mac[usize::from(port)] = Some(mac);
        self.owned[seg].insert(mac, port);
    }

    fn is_owner(&self, port: u16) -> bool {
        self.owner_mac
            .get(usize::from(port))
            .is_some_and(Option::is_some)
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The segment a port belongs to.
    pub fn segment_of(&self, port: u16) -> Option<&Segment> {
        let i = (*self.segment_of.get(usize::from(port))?)?;
        Some(&self.segments[i])
    }

    /// Learns `src` behind `in_port` and decides where a frame to `dst` goes.
    #[inline]
    pub fn decide(&mut self, in_port: u16, src: MacAddr, dst: MacAddr) -> Forward {
        let Some(seg) = self.segment_of.get(usize::from(in_port)).copied().flatten() else {
            return Forward::Filter;
        };
        let table = &mut self.learned[seg];
        if !is_multicast(src)
            && table.get(&src) != Some(&in_port)
            && (table.len() < MAX_LEARNED || table.contains_key(&src))
        {
            table.insert(src, in_port);
        }
        if is_multicast(dst) {
            return Forward::Flood;
        }
        if !self.owned[seg].is_empty() {
            return match self.owned[seg].get(&dst) {
                Some(&p) if p == in_port => Forward::Filter,
                Some(&p) => Forward::To(p),
                None => match self.learned[seg].get(&dst) {
                    Some(&p) if p != in_port && !self.is_owner(p) => Forward::To(p),
                    _ => Forward::FloodUnowned,
                },
            };
        }
        match table.get(&dst) {
            Some(&p) if p == in_port => Forward::Filter,
            Some(&p) => Forward::To(p),
            None => Forward::Flood,
        }
    }

    /// The ports a flooded frame from `in_port` goes to; with `unowned_only`, only those
    /// without a declared MAC ([`Forward::FloodUnowned`]).
    pub fn flood_ports(&self, in_port: u16, unowned_only: bool) -> impl Iterator<Item = u16> + '_ {
        self.segment_of(in_port).into_iter().flat_map(move |s| {
            s.ports
                .iter()
                .copied()
                .filter(move |&p| p != in_port && !(unowned_only && self.is_owner(p)))
        })
    }
}

fn is_multicast(mac: MacAddr) -> bool {
    mac.0[0] & 1 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(n: u8) -> MacAddr {
        MacAddr([0x0c, 0xfe, 0xc0, 0xff, 0xee, n])
    }

    fn two_vlans() -> Switch {
        Switch::new(vec![
            Segment {
                name: "vlan1000".into(),
                ports: vec![0, 2],
            },
            Segment {
                name: "vlan2000".into(),
                ports: vec![1, 3],
            },
        ])
    }

    #[test]
    fn learns_and_forwards_within_a_segment() {
        let mut sw = two_vlans();
        assert_eq!(
            sw.decide(0, mac(0), mac(0x10)),
            Forward::Flood,
            "unknown destination"
        );
        assert_eq!(sw.flood_ports(0, false).collect::<Vec<_>>(), [2]);
        assert_eq!(
            sw.decide(2, mac(0x10), mac(0)),
            Forward::To(0),
            "learned from the first frame"
        );
        assert_eq!(sw.decide(0, mac(0), mac(0x10)), Forward::To(2));
        assert_eq!(
            sw.decide(0, mac(0), MacAddr([0xff; 6])),
            Forward::Flood,
            "broadcast"
        );
        assert_eq!(
            sw.decide(2, mac(0x99), mac(0x10)),
            Forward::Filter,
            "destination behind the input port"
        );
    }

    #[test]
    fn segments_never_mix() {
        let mut sw = two_vlans();
        sw.decide(0, mac(0), mac(0x10));
        // The same MAC seen on the other VLAN is a different host as far as VLAN 2000 knows.
        assert_eq!(sw.decide(1, mac(0x11), mac(0)), Forward::Flood);
        assert_eq!(sw.flood_ports(1, false).collect::<Vec<_>>(), [3]);
        assert_eq!(sw.decide(3, mac(0x12), mac(0x11)), Forward::To(1));
        assert_eq!(sw.segment_of(3).unwrap().name, "vlan2000");
        assert_eq!(
            sw.decide(7, mac(1), mac(2)),
            Forward::Filter,
            "port in no segment"
        );
    }

    #[test]
    fn owned_macs_reach_only_their_owner() {
        let mut sw = Switch::new(vec![Segment {
            name: "vlan1000".into(),
            ports: vec![0, 2, 4],
        }]);
        sw.own(0, mac(0));
        sw.own(2, mac(0x10));
        // Port 4 owns nothing: a promiscuous forwarder.
        assert_eq!(sw.decide(0, mac(0), mac(0x10)), Forward::To(2));
        assert_eq!(sw.decide(2, mac(0x10), mac(0x10)), Forward::Filter);
        assert_eq!(
            sw.decide(0, mac(0), mac(0x77)),
            Forward::FloodUnowned,
            "a MAC nobody owns"
        );
        assert_eq!(sw.flood_ports(0, true).collect::<Vec<_>>(), [4]);
        assert_eq!(sw.flood_ports(0, false).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(sw.decide(4, mac(0x77), mac(0)), Forward::To(0));
        assert_eq!(sw.decide(0, mac(0), mac(0x77)), Forward::To(4), "learned");
        // A learned MAC behind an owner port does not open it to other MACs.
        sw.decide(2, mac(0x55), mac(0));
        assert_eq!(sw.decide(0, mac(0), mac(0x55)), Forward::FloodUnowned);
        assert_eq!(
            sw.decide(0, mac(0), MacAddr([0xff; 6])),
            Forward::Flood,
            "broadcast floods"
        );
        sw.own(9, mac(9));
        assert_eq!(sw.decide(9, mac(9), mac(0)), Forward::Filter, "no segment");
    }

    #[test]
    fn multicast_sources_are_not_learned() {
        let mut sw = two_vlans();
        sw.decide(0, MacAddr([0x01, 0, 0x5e, 0, 0, 1]), mac(5));
        assert_eq!(
            sw.decide(2, mac(9), MacAddr([0x01, 0, 0x5e, 0, 0, 1])),
            Forward::Flood
        );
    }
}
