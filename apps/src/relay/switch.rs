//! The forwarding decisions of the relay: an Ethernet learning switch per network segment.
//!
//! In the cluster, each traffic-test network is a VLAN on the NIC's embedded switch: the VF
//! tags on egress and strips on ingress, so pods see untagged frames and only reach pods of the
//! same VLAN. The relay reproduces exactly that: one learning bridge per segment, and no frame
//! ever crosses segments.

use rustc_hash::FxHashMap;

use dpdk::MacAddr;

/// Upper bound on learned addresses per segment; beyond it unknown destinations are flooded.
const MAX_LEARNED: usize = 4096;

/// Where a frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// To one port of the same segment.
    To(u16),
    /// To every other port of the segment (broadcast, multicast, unknown unicast).
    Flood,
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
        Switch {
            segments,
            segment_of,
            learned,
        }
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
        match table.get(&dst) {
            Some(&p) if p == in_port => Forward::Filter,
            Some(&p) => Forward::To(p),
            None => Forward::Flood,
        }
    }

    /// The ports a flooded frame from `in_port` goes to.
    pub fn flood_ports(&self, in_port: u16) -> impl Iterator<Item = u16> + '_ {
        self.segment_of(in_port)
            .into_iter()
            .flat_map(move |s| s.ports.iter().copied().filter(move |&p| p != in_port))
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
        assert_eq!(sw.flood_ports(0).collect::<Vec<_>>(), [2]);
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
        assert_eq!(sw.flood_ports(1).collect::<Vec<_>>(), [3]);
        assert_eq!(sw.decide(3, mac(0x12), mac(0x11)), Forward::To(1));
        assert_eq!(sw.segment_of(3).unwrap().name, "vlan2000");
        assert_eq!(
            sw.decide(7, mac(1), mac(2)),
            Forward::Filter,
            "port in no segment"
        );
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
