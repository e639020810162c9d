//! ARP for IPv4 over Ethernet.

use dpdk::MacAddr;

use super::{check_len, get_u16, get_u32, set_u16, set_u32, Truncated};

pub const LEN: usize = 28;
pub const OP_REQUEST: u16 = 1;
pub const OP_REPLY: u16 = 2;

/// A view of an Ethernet/IPv4 ARP message at the start of a buffer.
#[derive(Debug)]
pub struct Packet<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_checked(buf: T) -> Result<Self, Truncated> {
        check_len("ARP message", buf.as_ref(), LEN)?;
        Ok(Packet { buf })
    }

    /// Hardware type 1 (Ethernet), protocol IPv4, address lengths 6 and 4.
    pub fn is_ethernet_ipv4(&self) -> bool {
        let b = self.buf.as_ref();
        get_u16(b, 0) == 1 && get_u16(b, 2) == 0x0800 && b[4] == 6 && b[5] == 4
    }

    pub fn operation(&self) -> u16 {
        get_u16(self.buf.as_ref(), 6)
    }

    pub fn sender_mac(&self) -> MacAddr {
        MacAddr(self.buf.as_ref()[8..14].try_into().unwrap())
    }

    pub fn sender_ip(&self) -> u32 {
        get_u32(self.buf.as_ref(), 14)
    }

    pub fn target_mac(&self) -> MacAddr {
        MacAddr(self.buf.as_ref()[18..24].try_into().unwrap())
    }

    pub fn target_ip(&self) -> u32 {
        get_u32(self.buf.as_ref(), 24)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_operation(&mut self, op: u16) {
        set_u16(self.buf.as_mut(), 6, op);
    }

    pub fn set_sender(&mut self, mac: MacAddr, ip: u32) {
        let b = self.buf.as_mut();
        b[8..14].copy_from_slice(&mac.0);
        set_u32(b, 14, ip);
    }

    pub fn set_target(&mut self, mac: MacAddr, ip: u32) {
        let b = self.buf.as_mut();
        b[18..24].copy_from_slice(&mac.0);
        set_u32(b, 24, ip);
    }
}
