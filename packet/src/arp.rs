//! ARP for IPv4 over Ethernet (RFC 826).

use std::net::Ipv4Addr;

use crate::{get_mac, get_u16, get_u32, set_u16, set_u32, Error, MacAddr, Result};

mod field {
    use crate::field::Field;

    pub(crate) const HTYPE: Field = 0..2;
    pub(crate) const PTYPE: Field = 2..4;
    pub(crate) const HLEN: usize = 4;
    pub(crate) const PLEN: usize = 5;
    pub(crate) const OPER: Field = 6..8;
    pub(crate) const SHA: Field = 8..14;
    pub(crate) const SPA: Field = 14..18;
    pub(crate) const THA: Field = 18..24;
    pub(crate) const TPA: Field = 24..28;
}

/// Length of an Ethernet/IPv4 ARP message.
pub const LEN: usize = field::TPA.end;
/// Operation: request.
pub const OP_REQUEST: u16 = 1;
/// Operation: reply.
pub const OP_REPLY: u16 = 2;

const HTYPE_ETHERNET: u16 = 1;
const PTYPE_IPV4: u16 = crate::ether::ethertype::IPV4;

view! {
    /// A view of an Ethernet/IPv4 ARP message at the start of a buffer.
    pub struct Packet;
    /// `Err(Truncated)` if the buffer is shorter than an Ethernet/IPv4 message ([`LEN`]);
    /// otherwise no accessor panics.
    check_len("ARP message", LEN);
}

accessors! {
    Packet {
        /// The operation ([`OP_REQUEST`], [`OP_REPLY`]).
        u16 operation / set_operation = field::OPER;
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Hardware type 1 (Ethernet), protocol IPv4, address lengths 6 and 4.
    #[inline]
    pub fn is_ethernet_ipv4(&self) -> bool {
        let b = self.buffer.as_ref();
        get_u16(b, field::HTYPE) == HTYPE_ETHERNET
            && get_u16(b, field::PTYPE) == PTYPE_IPV4
            && b[field::HLEN] == 6
            && b[field::PLEN] == 4
    }

    /// The sender's hardware address.
    #[inline]
    pub fn sender_mac(&self) -> MacAddr {
        get_mac(self.buffer.as_ref(), field::SHA)
    }

    /// The sender's protocol address, as a big-endian number.
    #[inline]
    pub fn sender_ip(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::SPA)
    }

    /// The target's hardware address.
    #[inline]
    pub fn target_mac(&self) -> MacAddr {
        get_mac(self.buffer.as_ref(), field::THA)
    }

    /// The target's protocol address, as a big-endian number.
    #[inline]
    pub fn target_ip(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::TPA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets hardware type Ethernet, protocol IPv4 and their address lengths.
    #[inline]
    pub fn set_ethernet_ipv4(&mut self) {
        let b = self.buffer.as_mut();
        set_u16(b, field::HTYPE, HTYPE_ETHERNET);
        set_u16(b, field::PTYPE, PTYPE_IPV4);
        b[field::HLEN] = 6;
        b[field::PLEN] = 4;
    }

    /// Sets the sender's addresses (`ip` a big-endian number).
    #[inline]
    pub fn set_sender(&mut self, mac: MacAddr, ip: u32) {
        let b = self.buffer.as_mut();
        b[field::SHA].copy_from_slice(&mac.0);
        set_u32(b, field::SPA, ip);
    }

    /// Sets the target's addresses (`ip` a big-endian number).
    #[inline]
    pub fn set_target(&mut self, mac: MacAddr, ip: u32) {
        let b = self.buffer.as_mut();
        b[field::THA].copy_from_slice(&mac.0);
        set_u32(b, field::TPA, ip);
    }
}

/// An Ethernet/IPv4 ARP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// [`OP_REQUEST`], [`OP_REPLY`] or another operation code.
    pub operation: u16,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address (zero in a request).
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl Repr {
    /// Reads an Ethernet/IPv4 message; other hardware or protocol types are `Malformed`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        if !packet.is_ethernet_ipv4() {
            return Err(Error::Malformed {
                what: "ARP message",
                why: "not Ethernet/IPv4",
            });
        }
        Ok(Repr {
            operation: packet.operation(),
            sender_mac: packet.sender_mac(),
            sender_ip: packet.sender_ip().into(),
            target_mac: packet.target_mac(),
            target_ip: packet.target_ip().into(),
        })
    }

    /// The bytes [`Self::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        LEN
    }

    /// Writes the message into `packet` (at least [`LEN`] bytes).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_ethernet_ipv4();
        packet.set_operation(self.operation);
        packet.set_sender(self.sender_mac, self.sender_ip.into());
        packet.set_target(self.target_mac, self.target_ip.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_round_trip_and_rejects_other_types() {
        let repr = Repr {
            operation: OP_REQUEST,
            sender_mac: MacAddr([2, 0, 0, 0, 0, 9]),
            sender_ip: Ipv4Addr::new(10, 0, 0, 9),
            target_mac: MacAddr::default(),
            target_ip: Ipv4Addr::new(10, 0, 0, 1),
        };
        let mut b = [0u8; LEN];
        repr.emit(&mut Packet::new_unchecked(&mut b[..]));
        assert_eq!(&b[..8], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(Repr::parse(&Packet::new_unchecked(&b[..])), Ok(repr));
        b[5] = 16; // IPv6 address length
        assert!(matches!(
            Repr::parse(&Packet::new_unchecked(&b[..])),
            Err(Error::Malformed { .. })
        ));
        assert!(Packet::new_checked(&b[..LEN - 1]).is_err());
    }
}
