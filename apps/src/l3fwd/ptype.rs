//! Packet types: where l3fwd gets them and the software classifiers of `--parse-ptype`.
//!
//! C l3fwd decides on `mbuf->packet_type`. A device that classifies the types each lookup
//! needs fills it; otherwise C needs `--parse-ptype`, which installs an RX callback parsing the
//! headers in software, differently for LPM and EM. We run the same software classification
//! whenever the device cannot (virtio, pcap) instead of refusing to start.

use dpdk::ptype::{
    L3_IPV4, L3_IPV4_EXT, L3_IPV4_EXT_UNKNOWN, L3_IPV6, L3_IPV6_EXT, L3_IPV6_EXT_UNKNOWN, L4_TCP,
    L4_UDP,
};
use packet::ether::ethertype::{IPV4 as ETHERTYPE_IPV4, IPV6 as ETHERTYPE_IPV6};
use packet::ipv4::protocol::{TCP as PROTO_TCP, UDP as PROTO_UDP};

use super::Lookup;

/// Where an RX queue's packet types come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The PMD's classification in the mbuf.
    Device,
    /// Our software parse of the lookup mode, as `--parse-ptype` does in C.
    Software,
}

/// Whether a device that classifies `supported` (as `rte_eth_dev_get_supported_ptypes` lists
/// them for the L3 and L4 masks) serves `lookup`, by C's `lpm_check_ptype`/`em_check_ptype`.
pub fn device_suffices(lookup: Lookup, supported: &[u32]) -> bool {
    match lookup {
        Lookup::Lpm => {
            supported.iter().any(|p| p & L3_IPV4 != 0) && supported.iter().any(|p| p & L3_IPV6 != 0)
        }
        Lookup::Em => [L3_IPV4_EXT, L3_IPV6_EXT, L4_TCP, L4_UDP]
            .iter()
            .all(|t| supported.contains(t)),
    }
}

/// The outer ethertype, read as one 16-bit word (cheaper to match than two bytes).
#[inline(always)]
fn ethertype(frame: &[u8]) -> u16 {
    u16::from_be_bytes([frame[12], frame[13]])
}

/// The packet type C's `lpm_parse_ptype` gives a frame (its first 14 bytes): the outer
/// ethertype only, so VLAN-tagged frames are not IP.
#[inline]
pub fn parse_lpm(frame: &[u8; 14]) -> u32 {
    match ethertype(frame) {
        ETHERTYPE_IPV4 => L3_IPV4_EXT_UNKNOWN,
        ETHERTYPE_IPV6 => L3_IPV6_EXT_UNKNOWN,
        _ => 0,
    }
}

/// The packet type C's `em_parse_ptype` gives a frame (its first 34 bytes): IPv4 without
/// options is `L3_IPV4` plus TCP or UDP, with options `L3_IPV4_EXT`; IPv6 carrying TCP or UDP
/// directly is `L3_IPV6` plus the L4 type, other IPv6 `L3_IPV6_EXT_UNKNOWN`.
#[inline]
pub fn parse_em(frame: &[u8; 34]) -> u32 {
    match ethertype(frame) {
        ETHERTYPE_IPV4 => {
            if frame[14] & 0x0f != 5 {
                return L3_IPV4_EXT;
            }
            L3_IPV4
                | match frame[23] {
                    PROTO_TCP => L4_TCP,
                    PROTO_UDP => L4_UDP,
                    _ => 0,
                }
        }
        ETHERTYPE_IPV6 => match frame[20] {
            PROTO_TCP => L3_IPV6 | L4_TCP,
            PROTO_UDP => L3_IPV6 | L4_UDP,
            _ => L3_IPV6_EXT_UNKNOWN,
        },
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ethertype: u16, b14: u8, ipv4_proto: u8, ipv6_next: u8) -> [u8; 34] {
        let mut f = [0u8; 34];
        f[12..14].copy_from_slice(&ethertype.to_be_bytes());
        f[14] = b14;
        f[20] = ipv6_next;
        f[23] = ipv4_proto;
        f
    }

    fn head(f: &[u8; 34]) -> &[u8; 14] {
        f.first_chunk().unwrap()
    }

    #[test]
    fn lpm_looks_at_the_outer_ethertype_only() {
        assert_eq!(parse_lpm(head(&frame(0x0800, 0x45, 17, 0))), 0x90);
        assert_eq!(parse_lpm(head(&frame(0x0800, 0x00, 0, 0))), 0x90);
        assert_eq!(parse_lpm(head(&frame(0x86dd, 0x60, 0, 17))), 0xe0);
        assert_eq!(parse_lpm(head(&frame(0x8100, 0, 0, 0))), 0);
        assert_eq!(parse_lpm(head(&frame(0x0806, 0, 0, 0))), 0);
    }

    #[test]
    fn em_classifies_like_em_parse_ptype() {
        assert_eq!(parse_em(&frame(0x0800, 0x45, 17, 0)), L3_IPV4 | L4_UDP);
        assert_eq!(parse_em(&frame(0x0800, 0x45, 6, 0)), L3_IPV4 | L4_TCP);
        assert_eq!(parse_em(&frame(0x0800, 0x45, 1, 0)), L3_IPV4);
        // IHL is all that counts: version 6 in an IPv4 ethertype with IHL 5 is "IPv4".
        assert_eq!(parse_em(&frame(0x0800, 0x65, 17, 0)), L3_IPV4 | L4_UDP);
        assert_eq!(parse_em(&frame(0x0800, 0x46, 17, 0)), L3_IPV4_EXT);
        assert_eq!(parse_em(&frame(0x86dd, 0x60, 0, 17)), L3_IPV6 | L4_UDP);
        assert_eq!(parse_em(&frame(0x86dd, 0x60, 0, 6)), L3_IPV6 | L4_TCP);
        assert_eq!(parse_em(&frame(0x86dd, 0x60, 0, 58)), L3_IPV6_EXT_UNKNOWN);
        assert_eq!(parse_em(&frame(0x8100, 0x45, 17, 17)), 0);
    }

    #[test]
    fn device_checks() {
        assert!(!device_suffices(Lookup::Lpm, &[]));
        assert!(!device_suffices(Lookup::Lpm, &[L3_IPV4]));
        assert!(device_suffices(
            Lookup::Lpm,
            &[L3_IPV4_EXT_UNKNOWN, L3_IPV6_EXT_UNKNOWN]
        ));
        assert!(!device_suffices(
            Lookup::Em,
            &[L3_IPV4, L3_IPV6, L4_TCP, L4_UDP]
        ));
        assert!(device_suffices(
            Lookup::Em,
            &[L3_IPV4_EXT, L3_IPV6_EXT, L4_TCP, L4_UDP, L3_IPV4]
        ));
    }
}
