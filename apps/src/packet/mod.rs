//! Packet views over byte slices, in the smoltcp style: a view checks once that the buffer is
//! long enough for its header, then reads and writes fields in place without copying.
//!
//! The engines build frames into mbuf data and parse what they receive with these views; they
//! never allocate.

pub mod arp;
pub mod checksum;
pub mod ether;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod udp;

/// A buffer too short for the header a view was asked to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("truncated packet: {what} needs {needed} bytes, buffer has {available}")]
pub struct Truncated {
    pub what: &'static str,
    pub needed: usize,
    pub available: usize,
}

pub(crate) fn check_len(what: &'static str, buf: &[u8], needed: usize) -> Result<(), Truncated> {
    if buf.len() < needed {
        return Err(Truncated {
            what,
            needed,
            available: buf.len(),
        });
    }
    Ok(())
}

#[inline]
pub(crate) fn get_u16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
pub(crate) fn set_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[inline]
pub(crate) fn set_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}
