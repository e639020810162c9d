//! The per-packet decisions of C l3fwd's x86 path (`l3fwd_lpm_sse.h`, `l3fwd_em_hlm.h`,
//! `l3fwd_sse.h`, `l3fwd_common.h`), on plain bytes so they can be checked without DPDK:
//!
//! * the destination is the route's port; a lookup miss, and any packet whose type is neither
//!   IPv4 nor IPv6 (LPM) or not TCP/UDP over IPv4/IPv6 (EM), goes back out of its RX port;
//! * every packet gets its first 12 bytes replaced by the destination port's addresses
//!   (`--eth-dest` or `02:00:00:00:00:<port>`, then the port's own MAC);
//! * a packet typed IPv4 gets C's `DO_RFC_1812_CHECKS` treatment: TTL decremented and the
//!   checksum incremented as a little-endian 16-bit word (no TTL check, TTL 0 wraps, the
//!   checksum is not verified), and dropped if its first byte is outside 0x45..=0x4f or its
//!   total length is below 20;
//! * EM looks up groups of 8 packets at once when their packet types, ANDed, say "IPv4 (or
//!   IPv6) with TCP or UDP" (hash-lookup-multi, the x86 default), else packet by packet.
//!
//! C reads these fixed offsets without checking the frame length. Here bytes past the end of a
//! short frame read as zero and writes past its end are discarded (C writes them into the
//! mbuf's spare room, where they are not part of the frame either).
//!
//! `--strict-rfc1812` replaces C's IPv4 treatment by a stricter one, see [`Router::strict`].

use dpdk::ptype::{L3_IPV4, L3_IPV6, L3_MASK, L4_TCP, L4_UDP};
use dpdk::Mbuf;
use packet::checksum;

use super::em::{key4, key6, ExactMatch, Key4, Key6, V4_KEY_END, V6_KEY_END};
use super::lpm::LpmTables;
use super::ptype::{self, Source};
use crate::l2fwd::forward::rewrite;
use crate::monitor::MAX_PORTS;
use crate::sample_args::PortMask;
use crate::txbuffer::BURST;

/// The destination of a packet to drop (C's `BAD_PORT`).
pub const BAD_PORT: u16 = u16::MAX;

/// C's `EM_HASH_LOOKUP_COUNT` on x86.
const EM_GROUP: usize = 8;

/// Exact-match tables; only one of them is filled (IPv6 with `--ipv6`), the other misses.
#[derive(Debug)]
pub struct EmTables {
    pub v4: ExactMatch<2>,
    pub v6: ExactMatch<5>,
    pub enabled: PortMask,
}

impl EmTables {
    /// The port for a looked-up port number: C keeps it only if it is an enabled port.
    #[inline]
    fn port(&self, found: Option<u16>, rx: u16) -> u16 {
        match found {
            Some(p) if self.enabled.contains(p) => p,
            _ => rx,
        }
    }

    #[inline]
    fn v4(&self, frame: &[u8], rx: u16) -> u16 {
        let key: Key4 = peek::<V4_KEY_END, _>(frame, key4);
        self.port(self.v4.get(&key), rx)
    }

    #[inline]
    fn v6(&self, frame: &[u8], rx: u16) -> u16 {
        let key: Key6 = peek::<V6_KEY_END, _>(frame, key6);
        self.port(self.v6.get(&key), rx)
    }

    /// C's `em_get_dst_port`.
    #[inline]
    fn route(&self, frame: &[u8], ptype: u32, rx: u16) -> u16 {
        let tcp_or_udp = ptype & (L4_TCP | L4_UDP) != 0;
        match ptype & L3_MASK {
            L3_IPV4 if tcp_or_udp => self.v4(frame, rx),
            L3_IPV6 if tcp_or_udp => self.v6(frame, rx),
            _ => rx,
        }
    }
}

/// The lookup tables of the selected mode.
#[derive(Debug)]
pub enum Tables {
    Lpm(LpmTables),
    Em(EmTables),
}

/// A packet as the decisions see it: its bytes and the device's packet type.
pub trait Frame {
    fn bytes(&mut self) -> &mut [u8];
    /// The whole packet's length (all segments).
    fn packet_len(&self) -> usize;
    fn device_ptype(&self) -> u32;
}

impl Frame for Mbuf {
    #[inline]
    fn bytes(&mut self) -> &mut [u8] {
        self.data_mut()
    }

    #[inline]
    fn packet_len(&self) -> usize {
        self.len()
    }

    #[inline]
    fn device_ptype(&self) -> u32 {
        self.packet_type()
    }
}

/// A frame in ordinary memory with the packet type a device gave it (0: none, as from net_pcap
/// or virtio): the decisions without DPDK, for tests and benchmarks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedFrame(pub Vec<u8>, pub u32);

impl Frame for OwnedFrame {
    fn bytes(&mut self) -> &mut [u8] {
        &mut self.0
    }

    fn packet_len(&self) -> usize {
        self.0.len()
    }

    fn device_ptype(&self) -> u32 {
        self.1
    }
}

/// Where packets go and how they are rewritten; shared read-only by all lcores.
#[derive(Debug)]
pub struct Router {
    pub tables: Tables,
    /// Per port, the 12 address bytes written into packets sent there (C's `val_eth`).
    pub headers: [[u8; 12]; MAX_PORTS],
    /// `--strict-rfc1812`: for IPv4, drop what RFC 1812 §5.2.2 and §5.3.1 say a router must
    /// not forward (frame shorter than the header, version not 4, header length below 5 words
    /// or beyond the frame, bad header checksum, total length below the header length or
    /// beyond the frame, TTL of 0 or 1 — no ICMP is sent), and update the checksum by RFC 1624.
    pub strict: bool,
}

impl Router {
    /// Decides the destination of each packet of a burst from port `rx` and rewrites it;
    /// `dst[i]` becomes packet i's TX port, or [`BAD_PORT`] to drop it.
    pub fn decide<F: Frame>(
        &self,
        pkts: &mut [F],
        rx: u16,
        source: Source,
        dst: &mut [u16],
    ) -> Burst {
        assert!(
            pkts.len() <= BURST && dst.len() >= pkts.len(),
            "a burst holds at most {BURST} packets"
        );
        let dst = &mut dst[..pkts.len()];
        // One copy of the per-packet loops for each packet type source and IPv4 treatment, so
        // that neither is chosen per packet.
        let software = source == Source::Software;
        let bytes = match (&self.tables, software, self.strict) {
            (Tables::Lpm(t), false, false) => self.decide_lpm::<_, false, false>(t, pkts, rx, dst),
            (Tables::Lpm(t), false, true) => self.decide_lpm::<_, false, true>(t, pkts, rx, dst),
            (Tables::Lpm(t), true, false) => self.decide_lpm::<_, true, false>(t, pkts, rx, dst),
            (Tables::Lpm(t), true, true) => self.decide_lpm::<_, true, true>(t, pkts, rx, dst),
            (Tables::Em(t), false, false) => self.decide_em::<_, false, false>(t, pkts, rx, dst),
            (Tables::Em(t), false, true) => self.decide_em::<_, false, true>(t, pkts, rx, dst),
            (Tables::Em(t), true, false) => self.decide_em::<_, true, false>(t, pkts, rx, dst),
            (Tables::Em(t), true, true) => self.decide_em::<_, true, true>(t, pkts, rx, dst),
        };
        // Branch-free, so that it vectorises: is every destination the first one?
        let first = dst.first().copied().unwrap_or(BAD_PORT);
        let differ = dst.iter().fold(0, |acc, &d| acc | (d ^ first));
        Burst {
            bytes,
            uniform: (differ == 0 && first != BAD_PORT).then_some(first),
        }
    }

    /// LPM in one pass per packet: classify, look up (C's processx4_step1/2), rewrite;
    /// returns the bytes of the burst.
    #[inline(always)]
    fn decide_lpm<F: Frame, const SOFTWARE: bool, const STRICT: bool>(
        &self,
        t: &LpmTables,
        pkts: &mut [F],
        rx: u16,
        dst: &mut [u16],
    ) -> u64 {
        let mut bytes = 0;
        for (p, d) in pkts.iter_mut().zip(dst.iter_mut()) {
            bytes += p.packet_len() as u64;
            let device = if SOFTWARE { 0 } else { p.device_ptype() };
            let frame = p.bytes();
            let (ty, addr) = peek::<34, _>(frame, |f| {
                let ty = if SOFTWARE {
                    ptype::parse_lpm(f.first_chunk().expect("34 > 14"))
                } else {
                    device
                };
                (ty, u32::from_be_bytes([f[30], f[31], f[32], f[33]]))
            });
            let to = if ty & L3_IPV4 != 0 {
                // Next hops are ports (at most 255 from a rule file): C's u16 truncation is
                // a no-op.
                t.v4(addr).map_or(rx, |hop| hop as u16)
            } else {
                route_lpm(t, frame, ty, rx)
            };
            *d = self.finish::<STRICT>(frame, ty, to);
        }
        bytes
    }

    /// EM: classify the burst, look it up in groups of 8 (C's hash-lookup-multi), rewrite;
    /// returns the bytes of the burst.
    #[inline(always)]
    fn decide_em<F: Frame, const SOFTWARE: bool, const STRICT: bool>(
        &self,
        t: &EmTables,
        pkts: &mut [F],
        rx: u16,
        dst: &mut [u16],
    ) -> u64 {
        let mut bytes = 0;
        let mut ptypes = [0u32; BURST];
        for (p, ty) in pkts.iter_mut().zip(&mut ptypes) {
            bytes += p.packet_len() as u64;
            *ty = if SOFTWARE {
                peek(p.bytes(), ptype::parse_em)
            } else {
                p.device_ptype()
            };
        }
        route_em_burst(t, pkts, &ptypes[..pkts.len()], rx, dst);
        for ((p, d), &ty) in pkts.iter_mut().zip(dst.iter_mut()).zip(&ptypes) {
            *d = self.finish::<STRICT>(p.bytes(), ty, *d);
        }
        bytes
    }

    /// Writes the destination's addresses and applies the IPv4 treatment (C's
    /// `process_packet`, or the strict one); returns the destination, or [`BAD_PORT`].
    #[inline]
    pub fn finish<const STRICT: bool>(&self, frame: &mut [u8], ptype: u32, dst: u16) -> u16 {
        // Destinations are port ids (below MAX_PORTS, a power of two): the mask only spares
        // the bounds check.
        let header = &self.headers[usize::from(dst) & (MAX_PORTS - 1)];
        if ptype & L3_IPV4 == 0 {
            rewrite(frame, header);
            return dst;
        }
        if STRICT {
            rewrite(frame, header);
            return if rfc1812_strict(frame) { dst } else { BAD_PORT };
        }
        window::<26, _>(frame, |f| {
            f[..12].copy_from_slice(header);
            let ihl = f[14].wrapping_sub(0x45);
            f[22] = f[22].wrapping_sub(1);
            let sum = u16::from_le_bytes([f[24], f[25]]).wrapping_add(1);
            f[24..26].copy_from_slice(&sum.to_le_bytes());
            let bad = (ihl > 0x4f - 0x45) | (u16::from_be_bytes([f[16], f[17]]) < 20);
            if bad {
                BAD_PORT
            } else {
                dst
            }
        })
    }
}

/// What the engine needs to know about a decided burst besides each packet's destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    /// The packets' lengths together.
    pub bytes: u64,
    /// The port every packet goes to, if they all go to the same one (none is dropped).
    pub uniform: Option<u16>,
}

/// Longest-prefix-match lookups (DPDK's tables; a fake in unit tests).
pub trait LpmLookup {
    fn v4(&self, addr: u32) -> Option<u32>;
    fn v6(&self, addr: &[u8; 16]) -> Option<u32>;
}

impl LpmLookup for LpmTables {
    #[inline]
    fn v4(&self, addr: u32) -> Option<u32> {
        self.v4.lookup(addr)
    }

    #[inline]
    fn v6(&self, addr: &[u8; 16]) -> Option<u32> {
        self.v6.lookup(addr)
    }
}

/// C's `lpm_get_dst_port`: IPv4 by destination address, then IPv6, else the RX port.
#[inline]
fn route_lpm(t: &impl LpmLookup, frame: &[u8], ptype: u32, rx: u16) -> u16 {
    let found = if ptype & L3_IPV4 != 0 {
        let addr = peek::<34, _>(frame, |f| u32::from_be_bytes([f[30], f[31], f[32], f[33]]));
        t.v4(addr)
    } else if ptype & L3_IPV6 != 0 {
        peek::<54, _>(frame, |f| {
            t.v6(f[38..54].try_into().expect("16 address bytes"))
        })
    } else {
        None
    };
    // Next hops are ports (at most 255 from a rule file): the u16 truncation of C is a no-op.
    found.map_or(rx, |hop| hop as u16)
}

/// C's `l3fwd_em_process_packets`: groups of 8 whose ANDed types are uniformly IPv4 or IPv6
/// with TCP or UDP are looked up without checking each packet's own type; the rest (and the
/// tail after the last full group) packet by packet.
fn route_em_burst<F: Frame>(
    t: &EmTables,
    pkts: &mut [F],
    ptypes: &[u32],
    rx: u16,
    dst: &mut [u16],
) {
    let grouped = pkts.len() / EM_GROUP * EM_GROUP;
    for start in (0..grouped).step_by(EM_GROUP) {
        let group = start..start + EM_GROUP;
        let all = ptypes[group.clone()]
            .iter()
            .fold(L3_MASK | L4_TCP | L4_UDP, |acc, t| acc & t);
        let tcp_or_udp = all & (L4_TCP | L4_UDP) != 0;
        for i in group {
            let frame = pkts[i].bytes();
            dst[i] = match all & L3_MASK {
                L3_IPV4 if tcp_or_udp => t.v4(frame, rx),
                L3_IPV6 if tcp_or_udp => t.v6(frame, rx),
                _ => t.route(frame, ptypes[i], rx),
            };
        }
    }
    for i in grouped..pkts.len() {
        dst[i] = t.route(pkts[i].bytes(), ptypes[i], rx);
    }
}

/// The strict IPv4 check and update; false to drop.
fn rfc1812_strict(frame: &mut [u8]) -> bool {
    let Some(ip) = frame.get_mut(14..) else {
        return false;
    };
    if ip.len() < 20 || ip[0] >> 4 != 4 {
        return false;
    }
    let header_len = usize::from(ip[0] & 0x0f) * 4;
    let total_len = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if header_len < 20
        || header_len > ip.len()
        || total_len < header_len
        || total_len > ip.len()
        || checksum::sum(0, &ip[..header_len]) != 0xffff
        || ip[8] <= 1
    {
        return false;
    }
    let old = u16::from_be_bytes([ip[8], ip[9]]);
    ip[8] -= 1;
    let new = u16::from_be_bytes([ip[8], ip[9]]);
    let sum = checksum::update_u16(u16::from_be_bytes([ip[10], ip[11]]), old, new);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    true
}

/// Runs `f` on the first `N` bytes of `frame`, zero-filled past its end.
#[inline(always)]
fn peek<const N: usize, R>(frame: &[u8], f: impl FnOnce(&[u8; N]) -> R) -> R {
    match frame.first_chunk::<N>() {
        Some(w) => f(w),
        None => f(&zero_filled(frame)),
    }
}

/// Runs `f` on the first `N` bytes of `frame` for writing; for a shorter frame, on a
/// zero-filled copy whose first bytes are written back.
#[inline(always)]
fn window<const N: usize, R>(frame: &mut [u8], f: impl FnOnce(&mut [u8; N]) -> R) -> R {
    match frame.first_chunk_mut::<N>() {
        Some(w) => f(w),
        None => {
            let mut w = zero_filled(frame);
            let r = f(&mut w);
            write_back(frame, &w);
            r
        }
    }
}

// The short-frame copies stay out of line, so that the fixed-size accesses of the common case
// are not merged with them into variable-length `memcpy` calls.

#[cold]
#[inline(never)]
fn zero_filled<const N: usize>(frame: &[u8]) -> [u8; N] {
    let mut w = [0u8; N];
    w[..frame.len()].copy_from_slice(frame);
    w
}

#[cold]
#[inline(never)]
fn write_back<const N: usize>(frame: &mut [u8], w: &[u8; N]) {
    let n = frame.len();
    frame.copy_from_slice(&w[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l3fwd::em::{route_key4, route_key6};
    use crate::l3fwd::rules::{default_em_v4, default_em_v6};
    use dpdk::ptype::{L3_IPV4_EXT, L3_IPV4_EXT_UNKNOWN, L3_IPV6_EXT_UNKNOWN};

    /// Routes 10.0.0.0/8 and 2001:db8::/32 to port 1, nothing else.
    struct FakeLpm;

    impl LpmLookup for FakeLpm {
        fn v4(&self, addr: u32) -> Option<u32> {
            (addr >> 24 == 10).then_some(1)
        }

        fn v6(&self, addr: &[u8; 16]) -> Option<u32> {
            (addr[..4] == [0x20, 0x01, 0x0d, 0xb8]).then_some(1)
        }
    }

    proptest::proptest! {
        /// Frames off the wire are anything: every packet of a burst gets a destination (an
        /// enabled port or BAD_PORT), whatever its bytes, length and device packet type, with
        /// either table, either packet type source and either IPv4 treatment; no panic.
        #[test]
        fn arbitrary_frames_get_a_decision_without_panics(
            frames in proptest::collection::vec(
                (proptest::collection::vec(proptest::num::u8::ANY, 0..200), proptest::num::u32::ANY),
                1..=BURST,
            ),
            rx in 0u16..2,
            ipv6 in proptest::bool::ANY,
            strict in proptest::bool::ANY,
            software in proptest::bool::ANY,
        ) {
            let r = em_router(ipv6, strict);
            let mut pkts: Vec<OwnedFrame> =
                frames.into_iter().map(|(b, t)| OwnedFrame(b, t)).collect();
            let mut dst = [0u16; BURST];
            let source = if software { Source::Software } else { Source::Device };
            r.decide(&mut pkts, rx, source, &mut dst);
            for &d in &dst[..pkts.len()] {
                proptest::prop_assert!(d == BAD_PORT || d < 2, "{}", d);
            }
        }
    }

    /// `finish` with the router's own IPv4 treatment.
    fn fin(r: &Router, frame: &mut [u8], ptype: u32, dst: u16) -> u16 {
        if r.strict {
            r.finish::<true>(frame, ptype, dst)
        } else {
            r.finish::<false>(frame, ptype, dst)
        }
    }

    fn headers() -> [[u8; 12]; MAX_PORTS] {
        std::array::from_fn(|p| {
            let mut h = [0u8; 12];
            h[5] = p as u8;
            h[6] = 0xaa;
            h[11] = p as u8;
            h
        })
    }

    fn em_router(ipv6: bool, strict: bool) -> Router {
        let mut v4 = ExactMatch::with_capacity(16);
        let mut v6 = ExactMatch::with_capacity(16);
        for r in default_em_v4().iter().filter(|r| r.port < 2) {
            v4.insert(route_key4(r), r.port);
        }
        if ipv6 {
            v4 = ExactMatch::with_capacity(16);
            for r in default_em_v6().iter().filter(|r| r.port < 2) {
                v6.insert(route_key6(r), r.port);
            }
        }
        Router {
            tables: Tables::Em(EmTables {
                v4,
                v6,
                enabled: PortMask(0b11),
            }),
            headers: headers(),
            strict,
        }
    }

    /// An IPv4 frame: 14-byte Ethernet header, then the given IP header bytes, then payload.
    fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, ports: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        f[..12].fill(0xee);
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[16..18].copy_from_slice(&50u16.to_be_bytes());
        f[22] = 64;
        f[23] = proto;
        f[26..30].copy_from_slice(&src);
        f[30..34].copy_from_slice(&dst);
        f[34..38].copy_from_slice(&ports);
        let c = checksum::checksum(&f[14..34]);
        f[24..26].copy_from_slice(&c.to_be_bytes());
        f
    }

    fn ipv6(dst_prefix: [u8; 8], next: u8) -> Vec<u8> {
        let mut f = vec![0u8; 70];
        f[12..14].copy_from_slice(&[0x86, 0xdd]);
        f[14] = 0x60;
        f[20] = next;
        f[21] = 64;
        f[38..46].copy_from_slice(&dst_prefix);
        f
    }

    #[test]
    fn lpm_routes_and_misses() {
        let hit = ipv4([1, 1, 1, 1], [10, 0, 0, 1], 17, [0; 4]);
        assert_eq!(route_lpm(&FakeLpm, &hit, L3_IPV4_EXT_UNKNOWN, 0), 1);
        let miss = ipv4([1, 1, 1, 1], [11, 0, 0, 1], 17, [0; 4]);
        assert_eq!(route_lpm(&FakeLpm, &miss, L3_IPV4_EXT_UNKNOWN, 0), 0);
        // Without an IP packet type, the address is not even looked at.
        assert_eq!(route_lpm(&FakeLpm, &hit, 0, 3), 3);
        let v6 = ipv6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 5], 17);
        assert_eq!(route_lpm(&FakeLpm, &v6, L3_IPV6_EXT_UNKNOWN, 0), 1);
        assert_eq!(route_lpm(&FakeLpm, &v6, L3_IPV4_EXT_UNKNOWN, 0), 0);
        // A short frame reads zeros past its end: 0.0.0.0 misses.
        assert_eq!(route_lpm(&FakeLpm, &hit[..30], L3_IPV4_EXT_UNKNOWN, 2), 2);
    }

    #[test]
    fn ipv4_treatment_is_c_s() {
        let r = em_router(false, false);
        let mut f = ipv4([1, 1, 1, 1], [2, 2, 2, 2], 17, [0; 4]);
        let orig = f.clone();
        assert_eq!(fin(&r, &mut f, L3_IPV4, 1), 1);
        assert_eq!(f[..12], headers()[1]);
        assert_eq!(f[22], 63, "TTL decremented");
        let sum = u16::from_le_bytes([orig[24], orig[25]]).wrapping_add(1);
        assert_eq!(
            f[24..26],
            sum.to_le_bytes(),
            "checksum + 1 as a little-endian word"
        );
        assert_eq!(
            checksum::sum(0, &f[14..34]),
            0xffff,
            "which is RFC 1624 here"
        );
        assert_eq!(f[12..22], orig[12..22]);
        assert_eq!(f[26..], orig[26..]);

        // No TTL check: 0 wraps to 255, 1 becomes 0; the checksum is never verified.
        let mut f = ipv4([1, 1, 1, 1], [2, 2, 2, 2], 17, [0; 4]);
        f[22] = 0;
        f[24..26].copy_from_slice(&[0xff, 0xff]);
        assert_eq!(fin(&r, &mut f, L3_IPV4, 0), 0);
        assert_eq!((f[22], f[24], f[25]), (255, 0, 0));
        f[24..26].copy_from_slice(&[0xff, 0x12]);
        fin(&r, &mut f, L3_IPV4, 0);
        assert_eq!((f[24], f[25]), (0x00, 0x13));

        // Validity: first byte 0x45..=0x4f and total length >= 20.
        for (vihl, ok) in [
            (0x44, false),
            (0x45, true),
            (0x4f, true),
            (0x50, false),
            (0x65, false),
            (0x35, false),
        ] {
            let mut f = ipv4([1, 1, 1, 1], [2, 2, 2, 2], 17, [0; 4]);
            f[14] = vihl;
            let want = if ok { 1 } else { BAD_PORT };
            assert_eq!(fin(&r, &mut f, L3_IPV4, 1), want, "{vihl:#x}");
        }
        for (len, ok) in [(19u16, false), (20, true), (0x0100, true)] {
            let mut f = ipv4([1, 1, 1, 1], [2, 2, 2, 2], 17, [0; 4]);
            f[16..18].copy_from_slice(&len.to_be_bytes());
            assert_eq!(fin(&r, &mut f, L3_IPV4, 1) == 1, ok, "total length {len}");
        }
    }

    #[test]
    fn non_ip_only_gets_addresses() {
        let r = em_router(false, false);
        let mut arp = vec![0x11u8; 60];
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        let orig = arp.clone();
        assert_eq!(fin(&r, &mut arp, 0, 1), 1);
        assert_eq!(arp[..12], headers()[1]);
        assert_eq!(arp[12..], orig[12..]);
        // Runts: the header's first bytes only; an IPv4-typed runt keeps its length.
        let mut runt = vec![0x11u8; 8];
        fin(&r, &mut runt, 0, 1);
        assert_eq!(runt, headers()[1][..8]);
        let mut short = ipv4([1, 1, 1, 1], [2, 2, 2, 2], 17, [0; 4]);
        short.truncate(23);
        assert_eq!(fin(&r, &mut short, L3_IPV4, 1), 1);
        assert_eq!((short.len(), short[22]), (23, 63));
        short.truncate(17);
        assert_eq!(
            fin(&r, &mut short, L3_IPV4, 1),
            BAD_PORT,
            "total length reads 0x??00"
        );
    }

    #[test]
    fn em_decisions() {
        let r = em_router(false, false);
        let Tables::Em(t) = &r.tables else {
            unreachable!()
        };
        let hit = ipv4([198, 18, 1, 1], [198, 18, 1, 0], 17, [0, 9, 0, 9]);
        assert_eq!(t.route(&hit, L3_IPV4 | L4_UDP, 0), 1);
        // A route to a port outside the mask is not installed: 198.18.2.x misses.
        let off = ipv4([198, 18, 2, 1], [198, 18, 2, 0], 17, [0, 9, 0, 9]);
        assert_eq!(t.route(&off, L3_IPV4 | L4_UDP, 0), 0);
        // Only TCP/UDP over option-less IPv4 is looked up.
        assert_eq!(t.route(&hit, L3_IPV4, 0), 0);
        assert_eq!(t.route(&hit, L3_IPV4_EXT | L4_UDP, 0), 0);
        // The IPv6 table is empty without --ipv6.
        let v6 = ipv6([0x20, 0x01, 0x02, 0, 0, 0, 0, 1], 17);
        assert_eq!(t.route(&v6, L3_IPV6 | L4_UDP, 0), 0);
    }

    #[test]
    fn em_ipv6_decisions() {
        let r = em_router(true, false);
        let Tables::Em(t) = &r.tables else {
            unreachable!()
        };
        let route = default_em_v6()[1];
        let mut f = ipv6([0; 8], 17);
        f[22..38].copy_from_slice(&route.src.octets());
        f[38..54].copy_from_slice(&route.dst.octets());
        f[54..58].copy_from_slice(&[0, 9, 0, 9]);
        assert_eq!(t.route(&f, L3_IPV6 | L4_UDP, 0), 1);
        // IPv4 misses with --ipv6, even an IPv4 route's exact tuple.
        let v4 = ipv4([198, 18, 1, 1], [198, 18, 1, 0], 17, [0, 9, 0, 9]);
        assert_eq!(t.route(&v4, L3_IPV4 | L4_UDP, 0), 0);
    }

    #[test]
    fn em_groups_of_eight_trust_the_and_of_their_types() {
        let r = em_router(false, false);
        let hit = ipv4([198, 18, 1, 1], [198, 18, 1, 0], 17, [0, 9, 0, 9]);
        let typed = |t: u32| OwnedFrame(hit.clone(), t);
        // Device types: seven say IPv4+UDP, one says IPv4 with options + UDP. ANDed they read
        // IPv4+UDP, so C looks all eight up, including the one it would not look up alone.
        let mut pkts: Vec<OwnedFrame> = (0..7).map(|_| typed(L3_IPV4 | L4_UDP)).collect();
        pkts.push(typed(L3_IPV4_EXT | L4_UDP));
        let mut dst = [0u16; 8];
        r.decide(&mut pkts, 0, Source::Device, &mut dst);
        assert_eq!(dst, [1; 8]);
        // The same packet as the ninth, outside a full group: looked at alone, not routed.
        pkts.push(typed(L3_IPV4_EXT | L4_UDP));
        let mut dst = [0u16; 9];
        for p in &mut pkts {
            p.0 = hit.clone();
        }
        r.decide(&mut pkts, 0, Source::Device, &mut dst);
        assert_eq!(dst[..8], [1; 8]);
        assert_eq!(dst[8], 0);
        // Software types of a mixed group: per packet (the ICMP one goes back to port 0).
        let mut pkts: Vec<OwnedFrame> = (0..8).map(|_| OwnedFrame(hit.clone(), 0)).collect();
        pkts[3].0[23] = 1;
        pkts[3].0[24..26].copy_from_slice(&[0, 0]);
        let mut dst = [0u16; 8];
        r.decide(&mut pkts, 0, Source::Software, &mut dst);
        assert_eq!(dst, [1, 1, 1, 0, 1, 1, 1, 1]);
        assert!(
            pkts.iter().all(|p| p.0[22] == 63),
            "every IPv4 packet's TTL decremented"
        );
    }

    #[test]
    fn strict_mode() {
        let r = em_router(false, true);
        let good = ipv4([1, 1, 1, 1], [2, 2, 2, 2], 17, [0; 4]);
        let mut f = good.clone();
        assert_eq!(fin(&r, &mut f, L3_IPV4, 1), 1);
        assert_eq!(f[22], 63);
        assert_eq!(checksum::sum(0, &f[14..34]), 0xffff);
        let bad = |edit: &dyn Fn(&mut Vec<u8>)| {
            let mut f = good.clone();
            edit(&mut f);
            fin(&r, &mut f, L3_IPV4, 1) == BAD_PORT
        };
        assert!(bad(&|f| f[22] = 1), "TTL 1 expires");
        assert!(bad(&|f| f[22] = 0), "TTL 0");
        assert!(bad(&|f| f[25] ^= 1), "bad checksum");
        assert!(bad(&|f| f.truncate(30)), "truncated header");
        assert!(bad(&|f| f.truncate(60)), "total length beyond the frame");
        assert!(
            bad(&|f| {
                f[14] = 0x46;
                let c = checksum::checksum(&{
                    let mut h = f[14..38].to_vec();
                    h[10] = 0;
                    h[11] = 0;
                    h
                });
                f[24..26].copy_from_slice(&c.to_be_bytes());
                f[16..18].copy_from_slice(&22u16.to_be_bytes());
            }),
            "total length below the header length"
        );
        assert!(!bad(&|_| {}));
    }
}
