//! Exact-match routing: C l3fwd's 5-tuple keys and a hash table that answers exactly as its
//! `rte_hash` does (same key bytes in, same port out), with a cheap multiplicative hash
//! instead of CRC32 and no SipHash on the fast path.
//!
//! The key is whatever lies at fixed header offsets, masked, as C loads it with one (IPv4) or
//! three (IPv6) 16-byte reads: the protocol byte, both addresses and the first four bytes after
//! the fixed header. So IPv4 options stand where the ports would be, and for protocols without
//! ports (ICMP) the first payload bytes are part of the key, exactly as in C.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::rules::EmRoute;

/// Frame bytes an IPv4 key reads: up to 24 bytes into the IP header.
pub const V4_KEY_END: usize = 14 + 24;
/// Frame bytes an IPv6 key reads: up to 44 bytes into the IP header.
pub const V6_KEY_END: usize = 14 + 44;

/// IPv4 key: frame bytes 22..38 (IP TTL to the 4 bytes after a 20-byte header), keeping the
/// protocol, addresses and ports (`mask0` in C).
pub type Key4 = [u64; 2];
/// IPv6 key: frame bytes 18..58 (IP payload length to the 4 bytes after the fixed header),
/// keeping the next header, addresses and ports (`mask1`, `mask2` in C; the rest of C's third
/// 16-byte word is masked to zero and left out).
pub type Key6 = [u64; 5];

/// Bytes 0..8 of the IPv4 key window: TTL, protocol, checksum, source address; keep protocol
/// and source.
const MASK4: u64 = u64::from_le_bytes([0, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff]);
/// Bytes 0..8 of the IPv6 key window: payload length, next header, hop limit, 4 source bytes.
const MASK6: u64 = u64::from_le_bytes([0, 0, 0xff, 0, 0xff, 0xff, 0xff, 0xff]);

#[inline]
fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The IPv4 key of a frame.
#[inline]
pub fn key4(frame: &[u8; V4_KEY_END]) -> Key4 {
    [le64(frame, 22) & MASK4, le64(frame, 30)]
}

/// The IPv6 key of a frame.
#[inline]
pub fn key6(frame: &[u8; V6_KEY_END]) -> Key6 {
    [
        le64(frame, 18) & MASK6,
        le64(frame, 26),
        le64(frame, 34),
        le64(frame, 42),
        le64(frame, 50),
    ]
}

/// The key a packet matching `route` has (built as such a packet's header, then read like one).
pub fn route_key4(route: &EmRoute<Ipv4Addr>) -> Key4 {
    let mut f = [0u8; V4_KEY_END];
    f[23] = route.proto;
    f[26..30].copy_from_slice(&route.src.octets());
    f[30..34].copy_from_slice(&route.dst.octets());
    f[34..36].copy_from_slice(&route.src_port.to_be_bytes());
    f[36..38].copy_from_slice(&route.dst_port.to_be_bytes());
    key4(&f)
}

/// The key a packet matching `route` has.
pub fn route_key6(route: &EmRoute<Ipv6Addr>) -> Key6 {
    let mut f = [0u8; V6_KEY_END];
    f[20] = route.proto;
    f[22..38].copy_from_slice(&route.src.octets());
    f[38..54].copy_from_slice(&route.dst.octets());
    f[54..56].copy_from_slice(&route.src_port.to_be_bytes());
    f[56..58].copy_from_slice(&route.dst_port.to_be_bytes());
    key6(&f)
}

/// An open-addressing hash table from fixed-size keys to ports.
#[derive(Debug, Clone)]
pub struct ExactMatch<const W: usize> {
    keys: Box<[[u64; W]]>,
    /// `EMPTY` marks a free slot (a key may be all zeros, so keys cannot mark it).
    ports: Box<[u16]>,
    mask: usize,
    len: usize,
}

const EMPTY: u16 = u16::MAX;

impl<const W: usize> ExactMatch<W> {
    /// A table for up to `capacity` keys, kept at most half full.
    pub fn with_capacity(capacity: usize) -> Self {
        let slots = (capacity * 2).next_power_of_two().max(16);
        ExactMatch {
            keys: vec![[0; W]; slots].into_boxed_slice(),
            ports: vec![EMPTY; slots].into_boxed_slice(),
            mask: slots - 1,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn slot(key: &[u64; W]) -> usize {
        let mut h = 0u64;
        for &w in key {
            h = (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            h ^= h >> 29;
        }
        h as usize
    }

    /// Adds a key, or changes the port of a key already present (as `rte_hash_add_key` does).
    pub fn insert(&mut self, key: [u64; W], port: u8) {
        if self.len * 2 >= self.keys.len() {
            self.grow();
        }
        let mut i = Self::slot(&key) & self.mask;
        loop {
            if self.ports[i] == EMPTY {
                self.keys[i] = key;
                self.ports[i] = port.into();
                self.len += 1;
                return;
            }
            if self.keys[i] == key {
                self.ports[i] = port.into();
                return;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The port of `key`, if the table holds it.
    #[inline]
    pub fn get(&self, key: &[u64; W]) -> Option<u16> {
        let mut i = Self::slot(key) & self.mask;
        loop {
            let port = self.ports[i];
            if port == EMPTY {
                return None;
            }
            if self.keys[i] == *key {
                return Some(port);
            }
            i = (i + 1) & self.mask;
        }
    }

    fn grow(&mut self) {
        let mut bigger = ExactMatch::with_capacity(self.keys.len());
        for (key, &port) in self.keys.iter().zip(self.ports.iter()) {
            if port != EMPTY {
                bigger.insert(*key, port as u8);
            }
        }
        *self = bigger;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l3fwd::rules::{default_em_v4, default_em_v6};

    /// A UDP/IPv4 frame of 64 bytes.
    fn udp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> [u8; 64] {
        let mut f = [0u8; 64];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[22] = 64; // TTL: not part of the key
        f[23] = 17;
        f[24..26].copy_from_slice(&[0xab, 0xcd]); // checksum: not part of the key
        f[26..30].copy_from_slice(&src);
        f[30..34].copy_from_slice(&dst);
        f[34..36].copy_from_slice(&sport.to_be_bytes());
        f[36..38].copy_from_slice(&dport.to_be_bytes());
        f
    }

    #[test]
    fn packet_keys_match_route_keys() {
        let mut t = ExactMatch::with_capacity(16);
        for r in default_em_v4() {
            t.insert(route_key4(&r), r.port);
        }
        assert_eq!(t.len(), 16);
        let f = udp4([198, 18, 1, 1], [198, 18, 1, 0], 9, 9);
        assert_eq!(t.get(&key4(f.first_chunk().unwrap())), Some(1));
        // Source and destination swapped, other ports, another protocol: misses.
        let f = udp4([198, 18, 1, 0], [198, 18, 1, 1], 9, 9);
        assert_eq!(t.get(&key4(f.first_chunk().unwrap())), None);
        let f = udp4([198, 18, 1, 1], [198, 18, 1, 0], 9, 10);
        assert_eq!(t.get(&key4(f.first_chunk().unwrap())), None);
        let mut f = udp4([198, 18, 15, 1], [198, 18, 15, 0], 9, 9);
        assert_eq!(t.get(&key4(f.first_chunk().unwrap())), Some(15));
        f[23] = 6;
        assert_eq!(t.get(&key4(f.first_chunk().unwrap())), None);
    }

    #[test]
    fn ipv6_keys() {
        let mut t = ExactMatch::with_capacity(16);
        for r in default_em_v6() {
            t.insert(route_key6(&r), r.port);
        }
        let r = default_em_v6()[3];
        let mut f = [0u8; V6_KEY_END];
        f[12..14].copy_from_slice(&[0x86, 0xdd]);
        f[14] = 0x60;
        f[18..20].copy_from_slice(&[0, 8]); // payload length: not part of the key
        f[20] = 17;
        f[21] = 64; // hop limit: not part of the key
        f[22..38].copy_from_slice(&r.src.octets());
        f[38..54].copy_from_slice(&r.dst.octets());
        f[54..58].copy_from_slice(&[0, 9, 0, 9]);
        assert_eq!(t.get(&key6(&f)), Some(3));
        f[57] = 8;
        assert_eq!(t.get(&key6(&f)), None);
    }

    #[test]
    fn table_is_exact_and_grows() {
        let mut t = ExactMatch::<2>::with_capacity(1);
        t.insert([0, 0], 7);
        for i in 1..1000u64 {
            t.insert([i, i.rotate_left(17)], (i % 200) as u8);
        }
        t.insert([5, 5u64.rotate_left(17)], 99);
        assert_eq!(t.len(), 1000);
        assert_eq!(t.get(&[0, 0]), Some(7));
        assert_eq!(t.get(&[5, 5u64.rotate_left(17)]), Some(99));
        for i in 6..1000u64 {
            assert_eq!(t.get(&[i, i.rotate_left(17)]), Some((i % 200) as u16));
            assert_eq!(t.get(&[i, i]), None);
        }
    }
}
