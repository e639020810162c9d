//! Ethernet II frames, with 802.1Q/802.1ad tag awareness.

use crate::{get_u16, MacAddr, Result};

pub(crate) mod field {
    use crate::field::Field;

    pub(crate) const DESTINATION: Field = 0..6;
    pub(crate) const SOURCE: Field = 6..12;
    pub(crate) const ETHERTYPE: Field = 12..14;
    pub(crate) const PAYLOAD: usize = 14;
}

/// Length of the untagged header: addresses and ethertype.
pub const HEADER_LEN: usize = field::PAYLOAD;
/// Length of one 802.1Q/802.1ad tag (TPID and TCI).
pub const VLAN_TAG_LEN: usize = 4;

/// Ethertypes the engines look at.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// An 802.1Q (VLAN) tag follows.
    pub const VLAN: u16 = 0x8100;
    /// An 802.1ad (QinQ service) tag follows.
    pub const QINQ: u16 = 0x88A8;
    /// IPv6.
    pub const IPV6: u16 = 0x86DD;
}

view! {
    /// A view of an Ethernet header at the start of a buffer.
    pub struct Frame;
    /// `Err(Truncated)` if the buffer is shorter than the untagged header; otherwise no
    /// accessor panics.
    check_len("Ethernet header", HEADER_LEN);
}

accessors! {
    Frame {
        /// The destination address.
        mac dst / set_dst = field::DESTINATION;
        /// The source address.
        mac src / set_src = field::SOURCE;
        /// The ethertype field right after the addresses (a VLAN TPID if tagged).
        u16 ethertype / set_ethertype = field::ETHERTYPE;
    }
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Ethertype and offset of the L3 header after skipping up to two VLAN tags; `None` if a
    /// tag runs past the buffer.
    pub fn inner_ethertype(&self) -> Option<(u16, usize)> {
        let b = self.buffer.as_ref();
        let mut at = field::ETHERTYPE;
        for _ in 0..2 {
            let t = get_u16(b, at.clone());
            if t != ethertype::VLAN && t != ethertype::QINQ {
                return Some((t, at.end));
            }
            at = at.start + VLAN_TAG_LEN..at.end + VLAN_TAG_LEN;
            if b.len() < at.end {
                return None;
            }
        }
        Some((get_u16(b, at.clone()), at.end))
    }

    /// The bytes after the untagged header.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Exchanges source and destination addresses in place.
    #[inline]
    pub fn swap_addresses(&mut self) {
        let b = self.buffer.as_mut();
        let mut dst = [0u8; 6];
        dst.copy_from_slice(&b[field::DESTINATION]);
        b.copy_within(field::SOURCE, field::DESTINATION.start);
        b[field::SOURCE].copy_from_slice(&dst);
    }

    /// The bytes after the untagged header, writable.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD..]
    }
}

/// An untagged Ethernet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Destination address.
    pub dst: MacAddr,
    /// Source address.
    pub src: MacAddr,
    /// What follows the header (or a VLAN TPID).
    pub ethertype: u16,
}

impl Repr {
    /// Reads the header of `frame` (every 14 bytes are a header).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(frame: &Frame<&T>) -> Result<Repr> {
        frame.check_len()?;
        Ok(Repr {
            dst: frame.dst(),
            src: frame.src(),
            ethertype: frame.ethertype(),
        })
    }

    /// The bytes [`Self::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into `frame` (at least [`HEADER_LEN`] bytes).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, frame: &mut Frame<&mut T>) {
        frame.set_dst(self.dst);
        frame.set_src(self.src);
        frame.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_swap() {
        let mut b = [0u8; 60];
        let mut f = Frame::new_checked(&mut b[..]).unwrap();
        f.set_dst(MacAddr([1, 2, 3, 4, 5, 6]));
        f.set_src(MacAddr([7, 8, 9, 10, 11, 12]));
        f.set_ethertype(ethertype::IPV4);
        f.swap_addresses();
        assert_eq!(f.dst(), MacAddr([7, 8, 9, 10, 11, 12]));
        assert_eq!(f.src(), MacAddr([1, 2, 3, 4, 5, 6]));
        assert_eq!(f.inner_ethertype(), Some((ethertype::IPV4, 14)));
        assert!(Frame::new_checked(&b[..13]).is_err());
    }

    #[test]
    fn skips_vlan_tags() {
        let mut b = [0u8; 30];
        b[12..14].copy_from_slice(&ethertype::QINQ.to_be_bytes());
        b[16..18].copy_from_slice(&ethertype::VLAN.to_be_bytes());
        b[20..22].copy_from_slice(&ethertype::IPV6.to_be_bytes());
        assert_eq!(
            Frame::new_checked(&b[..]).unwrap().inner_ethertype(),
            Some((ethertype::IPV6, 22))
        );
        assert_eq!(
            Frame::new_checked(&b[..17]).unwrap().inner_ethertype(),
            None
        );
    }

    #[test]
    fn repr_round_trip() {
        let repr = Repr {
            dst: MacAddr([0xff; 6]),
            src: MacAddr::locally_administered(3),
            ethertype: ethertype::ARP,
        };
        let mut b = [0u8; HEADER_LEN];
        repr.emit(&mut Frame::new_unchecked(&mut b[..]));
        assert_eq!(Repr::parse(&Frame::new_unchecked(&b[..])), Ok(repr));
        assert_eq!(
            Repr::parse(&Frame::new_unchecked(&b[..13])),
            Err(crate::Error::Truncated {
                what: "Ethernet header",
                needed: 14,
                available: 13
            })
        );
    }
}
