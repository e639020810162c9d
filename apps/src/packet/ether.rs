//! Ethernet II frames, with 802.1Q/802.1ad tag awareness.

use dpdk::MacAddr;

use super::{check_len, get_u16, set_u16, Truncated};

pub const HEADER_LEN: usize = 14;
pub const VLAN_TAG_LEN: usize = 4;

/// Ethertypes the engines look at.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88A8;
    pub const IPV6: u16 = 0x86DD;
}

/// A view of an Ethernet header at the start of a buffer.
#[derive(Debug)]
pub struct Frame<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    pub fn new_checked(buf: T) -> Result<Self, Truncated> {
        check_len("Ethernet header", buf.as_ref(), HEADER_LEN)?;
        Ok(Frame { buf })
    }

    pub fn dst(&self) -> MacAddr {
        MacAddr(self.buf.as_ref()[0..6].try_into().unwrap())
    }

    pub fn src(&self) -> MacAddr {
        MacAddr(self.buf.as_ref()[6..12].try_into().unwrap())
    }

    /// The ethertype field right after the addresses (a VLAN TPID if tagged).
    pub fn ethertype(&self) -> u16 {
        get_u16(self.buf.as_ref(), 12)
    }

    /// Ethertype and offset of the L3 header after skipping up to two VLAN tags.
    pub fn inner_ethertype(&self) -> Option<(u16, usize)> {
        let b = self.buf.as_ref();
        let mut off = 12;
        for _ in 0..2 {
            let t = get_u16(b, off);
            if t != ethertype::VLAN && t != ethertype::QINQ {
                return Some((t, off + 2));
            }
            off += VLAN_TAG_LEN;
            if b.len() < off + 2 {
                return None;
            }
        }
        Some((get_u16(b, off), off + 2))
    }

    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[HEADER_LEN..]
    }

    pub fn into_inner(self) -> T {
        self.buf
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    pub fn set_dst(&mut self, mac: MacAddr) {
        self.buf.as_mut()[0..6].copy_from_slice(&mac.0);
    }

    pub fn set_src(&mut self, mac: MacAddr) {
        self.buf.as_mut()[6..12].copy_from_slice(&mac.0);
    }

    pub fn set_ethertype(&mut self, t: u16) {
        set_u16(self.buf.as_mut(), 12, t);
    }

    /// Exchanges source and destination addresses in place.
    pub fn swap_addresses(&mut self) {
        let b = self.buf.as_mut();
        let mut dst = [0u8; 6];
        dst.copy_from_slice(&b[0..6]);
        b.copy_within(6..12, 0);
        b[6..12].copy_from_slice(&dst);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut()[HEADER_LEN..]
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
}
