//! IPv4 headers (RFC 791).

use std::net::Ipv4Addr;

use crate::{check_len, checksum, get_u32, set_u32, Error, Result};

pub(crate) mod field {
    use crate::field::Field;

    pub(crate) const VER_IHL: usize = 0;
    pub(crate) const TOS: usize = 1;
    pub(crate) const LENGTH: Field = 2..4;
    pub(crate) const IDENT: Field = 4..6;
    pub(crate) const FLG_OFF: Field = 6..8;
    pub(crate) const TTL: usize = 8;
    pub(crate) const PROTOCOL: usize = 9;
    pub(crate) const CHECKSUM: Field = 10..12;
    pub(crate) const SRC_ADDR: Field = 12..16;
    pub(crate) const DST_ADDR: Field = 16..20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// IP protocol numbers the engines look at.
pub mod protocol {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
}

view! {
    /// A view of an IPv4 header (options included) at the start of a buffer.
    pub struct Packet;
    /// `Err(Truncated)` if the fixed 20-byte header does not fit; otherwise no accessor
    /// panics. Nothing else is checked: what to do with a bad version, header length, total
    /// length or checksum is the caller's policy (l3fwd and RFC 1812 disagree); [`Repr::parse`]
    /// checks them all.
    check_len("IPv4 header", HEADER_LEN);
}

accessors! {
    Packet {
        /// The first byte: version in the high nibble, header length in 32-bit words in the low.
        u8 version_ihl / set_version_ihl = field::VER_IHL;
        /// The type of service (DSCP and ECN) byte.
        u8 tos / set_tos = field::TOS;
        /// The total length field: header and payload, in bytes.
        u16 total_len / set_total_len = field::LENGTH;
        /// The identification field.
        u16 ident / set_ident = field::IDENT;
        /// Flags (high 3 bits) and fragment offset, as one word.
        u16 frag_field / set_frag_field = field::FLG_OFF;
        /// Time to live.
        u8 ttl / set_ttl = field::TTL;
        /// The protocol of the payload ([`protocol`]).
        u8 protocol / set_protocol = field::PROTOCOL;
        /// The header checksum field.
        u16 checksum / set_checksum = field::CHECKSUM;
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// The version (4 in an IPv4 header).
    #[inline]
    pub fn version(&self) -> u8 {
        self.version_ihl() >> 4
    }

    /// Header length in bytes.
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.version_ihl() & 0x0f) * 4
    }

    /// The source address.
    #[inline]
    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.src_u32())
    }

    /// The destination address.
    #[inline]
    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.dst_u32())
    }

    /// The source address as a big-endian number.
    #[inline]
    pub fn src_u32(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::SRC_ADDR)
    }

    /// The destination address as a big-endian number.
    #[inline]
    pub fn dst_u32(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::DST_ADDR)
    }

    /// Whether the header checksum verifies (false if the header length runs past the buffer).
    #[inline]
    pub fn checksum_ok(&self) -> bool {
        let b = self.buffer.as_ref();
        let len = self.header_len();
        len >= HEADER_LEN && len <= b.len() && checksum::sum(0, &b[..len]) == 0xffff
    }

    /// The bytes after the header, to the end of the buffer (empty if the header length runs
    /// past the buffer).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the source address.
    #[inline]
    pub fn set_src(&mut self, a: Ipv4Addr) {
        set_u32(self.buffer.as_mut(), field::SRC_ADDR, a.into());
    }

    /// Sets the destination address.
    #[inline]
    pub fn set_dst(&mut self, a: Ipv4Addr) {
        set_u32(self.buffer.as_mut(), field::DST_ADDR, a.into());
    }

    /// Computes and stores the header checksum over `header_len()` bytes (as many as the
    /// buffer has).
    #[inline]
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let len = self.header_len().min(self.buffer.as_ref().len());
        let c = checksum::checksum(&self.buffer.as_ref()[..len]);
        self.set_checksum(c);
    }

    /// The bytes after the header, writable (empty if the header length runs past the
    /// buffer).
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = self.header_len();
        self.buffer.as_mut().get_mut(len..).unwrap_or(&mut [])
    }
}

/// An IPv4 header as testpmd's generators write it: no options, type of service 0,
/// identification 0, no flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: u8,
    /// Payload bytes after the header (total length minus header length).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
}

impl Repr {
    /// Reads a valid header: version 4, a header length of at least 20 bytes within the buffer,
    /// a total length between the header length and the buffer's, a verified checksum.
    /// Options, type of service, identification and fragmentation are not represented.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        const WHAT: &str = "IPv4 header";
        packet.check_len()?;
        let malformed = |why| Err(Error::Malformed { what: WHAT, why });
        if packet.version() != 4 {
            return malformed("version is not 4");
        }
        let header_len = packet.header_len();
        if header_len < HEADER_LEN {
            return malformed("header length below 20 bytes");
        }
        let available = packet.buffer.as_ref().len();
        check_len(WHAT, packet.buffer.as_ref(), header_len)?;
        let total_len = usize::from(packet.total_len());
        if total_len < header_len {
            return malformed("total length below the header length");
        }
        if total_len > available {
            return Err(Error::Truncated {
                what: "IPv4 packet",
                needed: total_len,
                available,
            });
        }
        if !packet.checksum_ok() {
            return malformed("bad header checksum");
        }
        Ok(Repr {
            src: packet.src(),
            dst: packet.dst(),
            protocol: packet.protocol(),
            payload_len: total_len - header_len,
            ttl: packet.ttl(),
        })
    }

    /// The bytes [`Self::emit`] writes (the header, not the payload).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into `packet` (at least [`HEADER_LEN`] bytes) with its checksum. The
    /// total length is truncated to 16 bits.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_version_ihl(0x45);
        packet.set_tos(0);
        packet.set_total_len((HEADER_LEN + self.payload_len) as u16);
        packet.set_ident(0);
        packet.set_frag_field(0);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src(self.src);
        packet.set_dst(self.dst);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_verify() {
        let mut b = [0u8; 28];
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_version_ihl(0x45);
        p.set_total_len(28);
        p.set_ttl(64);
        p.set_protocol(protocol::UDP);
        p.set_src(Ipv4Addr::new(198, 18, 0, 1));
        p.set_dst(Ipv4Addr::new(198, 18, 0, 2));
        p.fill_checksum();
        assert!(p.checksum_ok());
        assert_eq!((p.version(), p.header_len(), p.ttl()), (4, 20, 64));
        assert_eq!(p.dst(), Ipv4Addr::new(198, 18, 0, 2));
        assert_eq!(p.payload().len(), 8);
        p.set_ttl(63);
        assert!(!p.checksum_ok());
    }

    #[test]
    fn bad_header_length_is_not_a_panic() {
        let mut b = [0u8; 20];
        b[0] = 0x4f; // 60-byte header in a 20-byte buffer
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(!p.checksum_ok());
        assert!(p.payload().is_empty());
    }

    #[test]
    fn repr_round_trip_and_validation() {
        let repr = Repr {
            src: Ipv4Addr::new(198, 18, 0, 1),
            dst: Ipv4Addr::new(198, 18, 0, 2),
            protocol: protocol::UDP,
            payload_len: 8,
            ttl: 64,
        };
        let mut b = [0u8; 28];
        repr.emit(&mut Packet::new_unchecked(&mut b[..]));
        assert_eq!(Repr::parse(&Packet::new_unchecked(&b[..])), Ok(repr));
        let malformed = |b: &[u8]| {
            matches!(
                Repr::parse(&Packet::new_unchecked(b)),
                Err(Error::Malformed { .. })
            )
        };
        let truncated = |b: &[u8]| {
            matches!(
                Repr::parse(&Packet::new_unchecked(b)),
                Err(Error::Truncated { .. })
            )
        };
        assert!(truncated(&b[..27]), "total length beyond the buffer");
        let mut bad = b;
        bad[8] = 63;
        assert!(malformed(&bad), "checksum");
        let mut bad = b;
        bad[0] = 0x65;
        assert!(malformed(&bad), "version");
        let mut bad = b;
        bad[0] = 0x44;
        assert!(malformed(&bad), "IHL");
        let mut bad = b;
        bad[0] = 0x48; // 32-byte header, buffer of 28
        assert!(truncated(&bad));
        let mut bad = b;
        bad[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert!(malformed(&bad), "total length");
    }
}
