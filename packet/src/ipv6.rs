//! IPv6 fixed headers (RFC 8200).

use std::net::Ipv6Addr;

pub(crate) mod field {
    use crate::field::Field;

    pub(crate) const VER_TC_FLOW: Field = 0..4;
    pub(crate) const LENGTH: Field = 4..6;
    pub(crate) const NXT_HDR: usize = 6;
    pub(crate) const HOP_LIMIT: usize = 7;
    pub(crate) const SRC_ADDR: Field = 8..24;
    pub(crate) const DST_ADDR: Field = 24..40;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

view! {
    /// A view of an IPv6 fixed header at the start of a buffer.
    pub struct Packet;
    /// `Err(Truncated)` if the fixed 40-byte header does not fit; otherwise no accessor
    /// panics. The payload length is not checked.
    check_len("IPv6 header", HEADER_LEN);
}

accessors! {
    Packet {
        /// The payload length field (extension headers included).
        u16 payload_len / set_payload_len = field::LENGTH;
        /// The next header (protocol) field.
        u8 next_header / set_next_header = field::NXT_HDR;
        /// The hop limit.
        u8 hop_limit / set_hop_limit = field::HOP_LIMIT;
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// The version (6 in an IPv6 header).
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TC_FLOW.start] >> 4
    }

    /// The source address's bytes.
    #[inline]
    pub fn src_bytes(&self) -> &[u8; 16] {
        self.buffer.as_ref()[field::SRC_ADDR]
            .try_into()
            .expect("16 bytes")
    }

    /// The destination address's bytes.
    #[inline]
    pub fn dst_bytes(&self) -> &[u8; 16] {
        self.buffer.as_ref()[field::DST_ADDR]
            .try_into()
            .expect("16 bytes")
    }

    /// The source address.
    #[inline]
    pub fn src(&self) -> Ipv6Addr {
        Ipv6Addr::from(*self.src_bytes())
    }

    /// The destination address.
    #[inline]
    pub fn dst(&self) -> Ipv6Addr {
        Ipv6Addr::from(*self.dst_bytes())
    }

    /// The bytes after the fixed header, to the end of the buffer.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Version 6, traffic class and flow label 0.
    #[inline]
    pub fn set_version_default(&mut self) {
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&[0x60, 0, 0, 0]);
    }

    /// Sets the source address.
    #[inline]
    pub fn set_src(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a.octets());
    }

    /// Sets the destination address.
    #[inline]
    pub fn set_dst(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a.octets());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let mut b = [0u8; 48];
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_version_default();
        p.set_payload_len(8);
        p.set_next_header(17);
        p.set_hop_limit(64);
        p.set_dst("2001:200:0:1::2".parse().unwrap());
        assert_eq!(
            (p.version(), p.payload_len(), p.next_header(), p.hop_limit()),
            (6, 8, 17, 64)
        );
        assert_eq!(p.dst(), "2001:200:0:1::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.payload().len(), 8);
        assert!(Packet::new_checked(&b[..39]).is_err());
    }
}
