//! IPv6 fixed headers.

use std::net::Ipv6Addr;

use super::{check_len, get_u16, set_u16, Truncated};

pub const HEADER_LEN: usize = 40;

/// A view of an IPv6 fixed header at the start of a buffer.
#[derive(Debug)]
pub struct Packet<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_checked(buf: T) -> Result<Self, Truncated> {
        check_len("IPv6 header", buf.as_ref(), HEADER_LEN)?;
        Ok(Packet { buf })
    }

    pub fn version(&self) -> u8 {
        self.buf.as_ref()[0] >> 4
    }

    pub fn payload_len(&self) -> u16 {
        get_u16(self.buf.as_ref(), 4)
    }

    pub fn next_header(&self) -> u8 {
        self.buf.as_ref()[6]
    }

    pub fn hop_limit(&self) -> u8 {
        self.buf.as_ref()[7]
    }

    pub fn src_bytes(&self) -> &[u8; 16] {
        self.buf.as_ref()[8..24].try_into().unwrap()
    }

    pub fn dst_bytes(&self) -> &[u8; 16] {
        self.buf.as_ref()[24..40].try_into().unwrap()
    }

    pub fn src(&self) -> Ipv6Addr {
        Ipv6Addr::from(*self.src_bytes())
    }

    pub fn dst(&self) -> Ipv6Addr {
        Ipv6Addr::from(*self.dst_bytes())
    }

    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Version 6, traffic class and flow label 0.
    pub fn set_version_default(&mut self) {
        self.buf.as_mut()[0..4].copy_from_slice(&[0x60, 0, 0, 0]);
    }

    pub fn set_payload_len(&mut self, v: u16) {
        set_u16(self.buf.as_mut(), 4, v);
    }

    pub fn set_next_header(&mut self, v: u8) {
        self.buf.as_mut()[6] = v;
    }

    pub fn set_hop_limit(&mut self, v: u8) {
        self.buf.as_mut()[7] = v;
    }

    pub fn set_src(&mut self, a: Ipv6Addr) {
        self.buf.as_mut()[8..24].copy_from_slice(&a.octets());
    }

    pub fn set_dst(&mut self, a: Ipv6Addr) {
        self.buf.as_mut()[24..40].copy_from_slice(&a.octets());
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
