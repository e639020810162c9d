//! The packets txonly and flowgen send, built once per stream and patched per packet, byte for
//! byte as testpmd 22.11 builds them (txonly.c, flowgen.c): Ethernet/IPv4/UDP, IP header
//! checksum in software, UDP checksum 0, IP id 0, TTL 64. Where testpmd leaves the payload as
//! whatever the mbuf held, we write zeros and the [probe](crate::probe).

use std::net::Ipv4Addr;

use crate::probe::{self, PROBE_OFF};
use crate::{checksum, ether, ipv4, udp, MacAddr};

const IP_OFF: usize = ether::HEADER_LEN;
const UDP_OFF: usize = IP_OFF + ipv4::HEADER_LEN;

/// One stream's packet, patched in place before each copy into an mbuf.
#[derive(Debug, Clone)]
pub struct Template {
    bytes: Vec<u8>,
    /// Whether the packet is long enough for a probe and probes are on.
    probe: bool,
}

/// The addresses and ports of a template.
#[derive(Debug, Clone, Copy)]
pub struct Addresses {
    /// Ethernet source.
    pub src_mac: MacAddr,
    /// Ethernet destination.
    pub dst_mac: MacAddr,
    /// IPv4 source.
    pub src_ip: Ipv4Addr,
    /// IPv4 destination.
    pub dst_ip: Ipv4Addr,
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port.
    pub dst_port: u16,
}

impl Template {
    /// testpmd txonly: `len` bytes (sum of `--txpkts`), src MAC = TX port, dst = its peer.
    pub fn txonly(addrs: Addresses, len: usize, probe: Option<(u16, u16)>) -> Self {
        Self::build(addrs, len, probe)
    }

    /// testpmd flowgen: fixed MACs 00:01:02:03:04:00 -> :01, 10.254.0.0 -> 10.253.0.0 (+ flow),
    /// UDP 1000 -> 1001, and `txpkts - 4` bytes ("Adjust FCS").
    pub fn flowgen(txpkts_len: usize, probe: Option<(u16, u16)>) -> Self {
        let addrs = Addresses {
            src_mac: MacAddr([0, 1, 2, 3, 4, 0]),
            dst_mac: MacAddr([0, 1, 2, 3, 4, 1]),
            src_ip: Ipv4Addr::new(10, 254, 0, 0),
            dst_ip: Ipv4Addr::new(10, 253, 0, 0),
            src_port: 1000,
            dst_port: 1001,
        };
        Self::build(addrs, txpkts_len.saturating_sub(4).max(PROBE_OFF), probe)
    }

    /// `len`: at least [`PROBE_OFF`] (testpmd's minimum of 42 bytes: the headers; shorter
    /// lengths are raised to it). `probe`: (stream id, clock id) to stamp, if probes are on.
    fn build(a: Addresses, len: usize, probe: Option<(u16, u16)>) -> Self {
        let len = len.max(PROBE_OFF);
        let mut bytes = vec![0u8; len];
        ether::Repr {
            dst: a.dst_mac,
            src: a.src_mac,
            ethertype: ether::ethertype::IPV4,
        }
        .emit(&mut ether::Frame::new_unchecked(&mut bytes[..]));
        ipv4::Repr {
            src: a.src_ip,
            dst: a.dst_ip,
            protocol: ipv4::protocol::UDP,
            payload_len: len - UDP_OFF,
            ttl: 64,
        }
        .emit(&mut ipv4::Packet::new_unchecked(&mut bytes[IP_OFF..]));
        udp::Repr {
            src_port: a.src_port,
            dst_port: a.dst_port,
            payload_len: len - PROBE_OFF,
        }
        .emit(&mut udp::Packet::new_unchecked(&mut bytes[UDP_OFF..]));
        let probe = match probe {
            Some((stream, clock)) if len >= PROBE_OFF + probe::LEN => {
                probe::write_header(&mut bytes[PROBE_OFF..], stream, clock);
                true
            }
            _ => false,
        };
        Template { bytes, probe }
    }

    /// The packet's length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Never true: a template holds at least the Ethernet, IPv4 and UDP headers.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The packet as it stands (stamped by [`Self::stamp`], not by [`Self::write_stamped`]).
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Copies the packet into `dst` (an mbuf's data, [`Self::len`] bytes long), inline for the
    /// common 60- and 64-byte frames: a `memcpy` call per packet costs more than the copy.
    #[inline(always)]
    pub fn write_to(&self, dst: &mut [u8]) {
        fn fixed<const N: usize>(dst: &mut [u8], src: &[u8]) -> bool {
            match (<&mut [u8; N]>::try_from(dst), <&[u8; N]>::try_from(src)) {
                (Ok(d), Ok(s)) => {
                    *d = *s;
                    true
                }
                _ => false,
            }
        }
        if !fixed::<64>(dst, &self.bytes) && !fixed::<60>(dst, &self.bytes) {
            copy_other(dst, &self.bytes);
        }
    }

    /// Copies the packet into `dst` like [`Self::write_to`] and stamps the probe (sequence
    /// number, TSC) there rather than in the template: the copy's 16-byte loads would
    /// otherwise read fields just stored, which the CPU cannot forward from its store buffer
    /// and waits for (measured: ~20 ns per packet, a third of a txonly lcore's time at full
    /// rate over vhost-user).
    #[inline(always)]
    pub fn write_stamped(&self, dst: &mut [u8], seq: u32, tsc: u64) {
        self.write_to(dst);
        if self.probe {
            probe::stamp(&mut dst[PROBE_OFF..], seq, tsc);
        }
    }

    /// Whether packets from this template carry a probe.
    #[inline]
    pub fn has_probe(&self) -> bool {
        self.probe
    }

    /// Sets the probe's sequence number and timestamp (no-op without a probe).
    #[inline]
    pub fn stamp(&mut self, seq: u32, tsc: u64) {
        if self.probe {
            probe::stamp(&mut self.bytes[PROBE_OFF..], seq, tsc);
        }
    }

    /// The destination MAC.
    #[inline]
    pub fn dst_mac(&self) -> MacAddr {
        crate::get_mac(&self.bytes, 0..6)
    }

    /// Replaces the destination MAC (a peer learned from a MAC announcement).
    #[inline]
    pub fn set_dst_mac(&mut self, mac: MacAddr) {
        self.bytes[0..6].copy_from_slice(&mac.0);
    }

    /// Replaces the source address and the header checksum (txonly multi-flow).
    #[inline]
    pub fn set_src_ip(&mut self, ip: u32) {
        self.set_ip(ipv4::field::SRC_ADDR, ip);
    }

    /// Replaces the destination address and the header checksum (flowgen).
    #[inline]
    pub fn set_dst_ip(&mut self, ip: u32) {
        self.set_ip(ipv4::field::DST_ADDR, ip);
    }

    #[inline]
    fn set_ip(&mut self, field: core::ops::Range<usize>, ip: u32) {
        let hdr = &mut self.bytes[IP_OFF..UDP_OFF];
        hdr[field].copy_from_slice(&ip.to_be_bytes());
        hdr[ipv4::field::CHECKSUM].copy_from_slice(&[0, 0]);
        let c = checksum::checksum(hdr);
        hdr[ipv4::field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
}

/// Other lengths, out of line: inlined, LLVM sees that every branch of [`Template::write_to`]
/// copies `len` bytes and merges them into one `memcpy` call (measured: half the time of a
/// txonly lcore at full rate went to libc's memmove).
#[cold]
#[inline(never)]
fn copy_other(dst: &mut [u8], src: &[u8]) {
    dst.copy_from_slice(src);
}

/// txonly `--txonly-multi-flow` (22.11): source `(dst | var << 8) + lcore`.
#[inline]
pub fn multi_flow_src(dst: Ipv4Addr, var: u8, lcore: u32) -> u32 {
    (u32::from(dst) | (u32::from(var) << 8)).wrapping_add(lcore)
}

/// flowgen's destination for flow `n`.
#[inline]
pub fn flowgen_dst(n: u32) -> u32 {
    u32::from(Ipv4Addr::new(10, 253, 0, 0)).wrapping_add(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn txonly_addrs() -> Addresses {
        Addresses {
            src_mac: MacAddr([0x02, 0x70, 0x63, 0x61, 0x70, 0x00]),
            dst_mac: MacAddr::locally_administered(0),
            src_ip: Ipv4Addr::new(198, 18, 0, 1),
            dst_ip: Ipv4Addr::new(198, 18, 0, 2),
            src_port: 9,
            dst_port: 9,
        }
    }

    /// First frames of `dpdk-testpmd --forward-mode=txonly --txonly-multi-flow` on lcore 1 and
    /// of `--forward-mode=flowgen`, captured with net_pcap (payload bytes were zero).
    const TESTPMD_TXONLY_MF: [&str; 2] = [
        "020000000000027063617000080045000032000000004011ee91c6120003c612000200090009001e000000000000000000000000000000000000000000000000",
        "020000000000027063617000080045000032000000004011ed91c6120103c612000200090009001e000000000000000000000000000000000000000000000000",
    ];
    const TESTPMD_FLOWGEN: [&str; 2] = [
        "00010203040100010203040008004500002e00000000401164c50afe00000afd000003e803e9001a0000000000000000000000000000000000000000",
        "00010203040100010203040008004500002e00000000401164c40afe00000afd000103e803e9001a0000000000000000000000000000000000000000",
    ];

    #[test]
    fn txonly_multi_flow_matches_testpmd_capture() {
        let mut t = Template::txonly(txonly_addrs(), 64, None);
        for (var, want) in TESTPMD_TXONLY_MF.iter().enumerate() {
            t.set_src_ip(multi_flow_src(Ipv4Addr::new(198, 18, 0, 2), var as u8, 1));
            assert_eq!(t.bytes(), &hex(want)[..], "packet {var}");
        }
    }

    #[test]
    fn txonly_default_template() {
        let t = Template::txonly(txonly_addrs(), 64, None);
        let ip = ipv4::Packet::new_checked(&t.bytes()[14..]).unwrap();
        assert!(ip.checksum_ok());
        assert_eq!(ip.src(), Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!((ip.total_len(), ip.ttl(), ip.ident()), (50, 64, 0));
        assert!(!t.has_probe());
    }

    #[test]
    fn headers_parse_back_to_the_addresses() {
        let a = txonly_addrs();
        let t = Template::txonly(a, 64, None);
        let eth = ether::Repr::parse(&ether::Frame::new_unchecked(t.bytes())).unwrap();
        assert_eq!((eth.src, eth.dst), (a.src_mac, a.dst_mac));
        let ip = ipv4::Repr::parse(&ipv4::Packet::new_unchecked(&t.bytes()[IP_OFF..])).unwrap();
        assert_eq!((ip.src, ip.dst, ip.payload_len), (a.src_ip, a.dst_ip, 30));
        let u = udp::Repr::parse(&udp::Packet::new_unchecked(&t.bytes()[UDP_OFF..])).unwrap();
        assert_eq!((u.src_port, u.dst_port, u.payload_len), (9, 9, 22));
    }

    #[test]
    fn flowgen_matches_testpmd_capture() {
        let mut t = Template::flowgen(64, None);
        assert_eq!(t.len(), 60);
        for (n, want) in TESTPMD_FLOWGEN.iter().enumerate() {
            t.set_dst_ip(flowgen_dst(n as u32));
            assert_eq!(t.bytes(), &hex(want)[..], "flow {n}");
        }
    }

    #[test]
    fn probe_fits_from_60_bytes_and_leaves_headers_alone() {
        let plain = Template::txonly(txonly_addrs(), 64, None);
        let mut t = Template::txonly(txonly_addrs(), 64, Some((7, 0xabcd)));
        assert!(t.has_probe());
        let mut written = [0u8; 64];
        t.write_stamped(&mut written, 42, 0x1234_5678_9abc);
        t.stamp(42, 0x1234_5678_9abc);
        assert_eq!(
            written,
            t.bytes(),
            "stamping the copy equals copying the stamped template"
        );
        assert_eq!(&t.bytes()[..PROBE_OFF], &plain.bytes()[..PROBE_OFF]);
        let p = probe::decode(t.bytes()).unwrap();
        assert_eq!(
            (p.stream, p.seq, p.clock, p.tsc),
            (7, 42, 0xabcd, 0x1234_5678_9abc)
        );
        assert!(Template::flowgen(64, Some((0, 1))).has_probe());
        assert!(!Template::txonly(txonly_addrs(), 59, Some((0, 1))).has_probe());
    }
}
