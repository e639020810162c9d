//! UDP headers (RFC 768).

use crate::{check_len, Error, Result};

pub(crate) mod field {
    use crate::field::Field;

    pub(crate) const SRC_PORT: Field = 0..2;
    pub(crate) const DST_PORT: Field = 2..4;
    pub(crate) const LENGTH: Field = 4..6;
    pub(crate) const CHECKSUM: Field = 6..8;
}

/// Length of the header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

view! {
    /// A view of a UDP header at the start of a buffer.
    pub struct Packet;
    /// `Err(Truncated)` if the 8-byte header does not fit; otherwise no accessor panics. The
    /// length field is not checked ([`Repr::parse`] does).
    check_len("UDP header", HEADER_LEN);
}

accessors! {
    Packet {
        /// The source port.
        u16 src_port / set_src_port = field::SRC_PORT;
        /// The destination port.
        u16 dst_port / set_dst_port = field::DST_PORT;
        /// The length field: header and payload, in bytes.
        u16 len / set_len = field::LENGTH;
        /// The checksum field (0: none).
        u16 checksum / set_checksum = field::CHECKSUM;
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Whether the length field says there is no payload.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() as usize <= HEADER_LEN
    }

    /// The bytes after the header, to the end of the buffer.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// The bytes after the header, writable.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// A UDP header as testpmd's generators write it: checksum 0 (none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload bytes after the header (length field minus 8).
    pub payload_len: usize,
}

impl Repr {
    /// Reads a header whose length field is at least 8 and within the buffer. The checksum is
    /// not verified (that needs the IP pseudo-header).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        let len = usize::from(packet.len());
        if len < HEADER_LEN {
            return Err(Error::Malformed {
                what: "UDP header",
                why: "length below 8 bytes",
            });
        }
        check_len("UDP datagram", packet.buffer.as_ref(), len)?;
        Ok(Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            payload_len: len - HEADER_LEN,
        })
    }

    /// The bytes [`Self::emit`] writes (the header, not the payload).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into `packet` (at least [`HEADER_LEN`] bytes), checksum 0. The
    /// length is truncated to 16 bits.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len((HEADER_LEN + self.payload_len) as u16);
        packet.set_checksum(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let mut b = [0u8; 12];
        let mut d = Packet::new_checked(&mut b[..]).unwrap();
        d.set_src_port(9);
        d.set_dst_port(1001);
        d.set_len(12);
        assert_eq!(
            (d.src_port(), d.dst_port(), d.len(), d.checksum()),
            (9, 1001, 12, 0)
        );
        assert_eq!(d.payload().len(), 4);
        assert!(Packet::new_checked(&b[..7]).is_err());
    }

    #[test]
    fn repr_round_trip_and_length_checks() {
        let repr = Repr {
            src_port: 1000,
            dst_port: 1001,
            payload_len: 4,
        };
        let mut b = [0xffu8; 12];
        repr.emit(&mut Packet::new_unchecked(&mut b[..]));
        assert_eq!(Repr::parse(&Packet::new_unchecked(&b[..])), Ok(repr));
        assert!(matches!(
            Repr::parse(&Packet::new_unchecked(&b[..11])),
            Err(Error::Truncated { needed: 12, .. })
        ));
        b[4..6].copy_from_slice(&7u16.to_be_bytes());
        assert!(matches!(
            Repr::parse(&Packet::new_unchecked(&b[..])),
            Err(Error::Malformed { .. })
        ));
    }
}
