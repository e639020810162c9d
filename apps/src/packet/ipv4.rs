//! IPv4 headers.

use std::net::Ipv4Addr;

use super::{check_len, checksum, get_u16, get_u32, set_u16, set_u32, Truncated};

pub const HEADER_LEN: usize = 20;

/// IP protocol numbers the engines look at.
pub mod protocol {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
}

/// A view of an IPv4 header (options included) at the start of a buffer.
#[derive(Debug)]
pub struct Packet<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks only that the fixed 20-byte header fits; validity checks are the caller's policy
    /// (l3fwd and RFC 1812 disagree on what to drop).
    pub fn new_checked(buf: T) -> Result<Self, Truncated> {
        check_len("IPv4 header", buf.as_ref(), HEADER_LEN)?;
        Ok(Packet { buf })
    }

    /// The first byte: version in the high nibble, header length in 32-bit words in the low.
    pub fn version_ihl(&self) -> u8 {
        self.buf.as_ref()[0]
    }

    pub fn version(&self) -> u8 {
        self.version_ihl() >> 4
    }

    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(self.version_ihl() & 0x0f) * 4
    }

    pub fn tos(&self) -> u8 {
        self.buf.as_ref()[1]
    }

    pub fn total_len(&self) -> u16 {
        get_u16(self.buf.as_ref(), 2)
    }

    pub fn ident(&self) -> u16 {
        get_u16(self.buf.as_ref(), 4)
    }

    pub fn frag_field(&self) -> u16 {
        get_u16(self.buf.as_ref(), 6)
    }

    pub fn ttl(&self) -> u8 {
        self.buf.as_ref()[8]
    }

    pub fn protocol(&self) -> u8 {
        self.buf.as_ref()[9]
    }

    pub fn checksum(&self) -> u16 {
        get_u16(self.buf.as_ref(), 10)
    }

    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.src_u32())
    }

    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.dst_u32())
    }

    #[inline]
    pub fn src_u32(&self) -> u32 {
        get_u32(self.buf.as_ref(), 12)
    }

    #[inline]
    pub fn dst_u32(&self) -> u32 {
        get_u32(self.buf.as_ref(), 16)
    }

    /// Whether the header checksum verifies (false if the header length runs past the buffer).
    pub fn checksum_ok(&self) -> bool {
        let b = self.buf.as_ref();
        let len = self.header_len();
        len >= HEADER_LEN && len <= b.len() && checksum::sum(0, &b[..len]) == 0xffff
    }

    /// The bytes after the header (empty if the header length runs past the buffer).
    pub fn payload(&self) -> &[u8] {
        self.buf.as_ref().get(self.header_len()..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_version_ihl(&mut self, v: u8) {
        self.buf.as_mut()[0] = v;
    }

    pub fn set_tos(&mut self, v: u8) {
        self.buf.as_mut()[1] = v;
    }

    pub fn set_total_len(&mut self, v: u16) {
        set_u16(self.buf.as_mut(), 2, v);
    }

    pub fn set_ident(&mut self, v: u16) {
        set_u16(self.buf.as_mut(), 4, v);
    }

    pub fn set_frag_field(&mut self, v: u16) {
        set_u16(self.buf.as_mut(), 6, v);
    }

    pub fn set_ttl(&mut self, v: u8) {
        self.buf.as_mut()[8] = v;
    }

    pub fn set_protocol(&mut self, v: u8) {
        self.buf.as_mut()[9] = v;
    }

    pub fn set_checksum(&mut self, v: u16) {
        set_u16(self.buf.as_mut(), 10, v);
    }

    pub fn set_src(&mut self, a: Ipv4Addr) {
        set_u32(self.buf.as_mut(), 12, a.into());
    }

    pub fn set_dst(&mut self, a: Ipv4Addr) {
        set_u32(self.buf.as_mut(), 16, a.into());
    }

    /// Computes and stores the header checksum over `header_len()` bytes.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let len = self.header_len().min(self.buf.as_ref().len());
        let c = checksum::checksum(&self.buf.as_ref()[..len]);
        self.set_checksum(c);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = self.header_len();
        self.buf.as_mut().get_mut(len..).unwrap_or(&mut [])
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
}
