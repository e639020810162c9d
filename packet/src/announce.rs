//! The MAC announcement: a small broadcast frame a receiver (`testpmd --announce`) sends on
//! each port so that a generator on the same network (`--eth-peer=P,auto`) learns the MAC the
//! receiver's device really has.
//!
//! Why: on real vDPA hardware the MAC in the pod's network-status is not always the one the
//! device owns. sriov-cni sets the annotation's MAC as the VF's admin MAC, while an mlx5 vDPA
//! device keeps the MAC it was given at `vdpa dev add` (its `set_config` is a stub) and
//! virtio_user keeps the device's after trying `mac=`. A generator aiming at the network-status
//! MAC then sends to an address nobody owns; one aiming at the announced MAC does not.
//!
//! The frame is untagged Ethernet (the VF tags and strips the VLAN), destination broadcast,
//! source the announcing port's MAC, EtherType [`ETHERTYPE`] (IEEE 802 "local experimental
//! EtherType 1", meant for exactly this kind of private protocol), then this payload:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `D9 A7 4E 11` |
//! | 4 | version, [`VERSION`] |
//! | 5 | flags: bit 0 = the port has received traffic |
//! | 6..8 | the announcing port's ethdev id, big-endian (for logs) |
//! | 8..14 | the port's MAC as the device reports it |
//!
//! The frame is padded to the 60-byte Ethernet minimum ([`FRAME_LEN`]). Receivers must not
//! trust it further than "someone on this network says it owns this MAC": [`Repr::parse`]
//! rejects wrong magic or version and a MAC that is multicast or all-zero, and nothing reads
//! beyond the fixed 14 bytes.

use crate::{ether, get_mac, get_u16, set_u16, Error, MacAddr, Result};

mod field {
    use crate::field::Field;

    pub(crate) const MAGIC: Field = 0..4;
    pub(crate) const VERSION: usize = 4;
    pub(crate) const FLAGS: usize = 5;
    pub(crate) const PORT: Field = 6..8;
    pub(crate) const MAC: Field = 8..14;
}

/// IEEE 802 local experimental EtherType 1.
pub const ETHERTYPE: u16 = 0x88B5;
/// Length of the announcement payload.
pub const LEN: usize = field::MAC.end;
/// The first four bytes of every announcement.
pub const MAGIC: [u8; 4] = [0xD9, 0xA7, 0x4E, 0x11];
/// The only version this code reads and writes.
pub const VERSION: u8 = 1;
/// A whole announcement frame: the Ethernet minimum without FCS.
pub const FRAME_LEN: usize = 60;
/// Flag bit: the announcing port has received traffic.
const FLAG_RECEIVING: u8 = 1;

view! {
    /// A view of an announcement payload (what follows the Ethernet header).
    pub struct Packet;
    /// `Err(Truncated)` if the 14 bytes do not fit; otherwise no accessor panics.
    check_len("MAC announcement", LEN);
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Whether the payload starts with [`MAGIC`].
    #[inline]
    pub fn has_magic(&self) -> bool {
        self.buffer.as_ref()[field::MAGIC] == MAGIC
    }

    /// The version byte.
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION]
    }

    /// The flags byte.
    #[inline]
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    /// The announcing port's id.
    #[inline]
    pub fn port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::PORT)
    }

    /// The announced MAC.
    #[inline]
    pub fn mac(&self) -> MacAddr {
        get_mac(self.buffer.as_ref(), field::MAC)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes magic and version.
    #[inline]
    pub fn set_header(&mut self) {
        let b = self.buffer.as_mut();
        b[field::MAGIC].copy_from_slice(&MAGIC);
        b[field::VERSION] = VERSION;
    }

    /// Sets the flags byte.
    #[inline]
    pub fn set_flags(&mut self, flags: u8) {
        self.buffer.as_mut()[field::FLAGS] = flags;
    }

    /// Sets the port id.
    #[inline]
    pub fn set_port(&mut self, port: u16) {
        set_u16(self.buffer.as_mut(), field::PORT, port);
    }

    /// Sets the announced MAC.
    #[inline]
    pub fn set_mac(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[field::MAC].copy_from_slice(&mac.0);
    }
}

/// An announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// The MAC the announcing port's device owns.
    pub mac: MacAddr,
    /// The announcing port's ethdev id.
    pub port: u16,
    /// Whether the announcing port has received traffic yet.
    pub receiving: bool,
}

impl Repr {
    /// Reads and validates an announcement payload.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        let bad = |why| Error::Malformed {
            what: "MAC announcement",
            why,
        };
        if !packet.has_magic() {
            return Err(bad("no magic"));
        }
        if packet.version() != VERSION {
            return Err(bad("unknown version"));
        }
        let mac = packet.mac();
        if mac.0[0] & 1 == 1 {
            return Err(bad("announced MAC is multicast"));
        }
        if mac.0 == [0; 6] {
            return Err(bad("announced MAC is all zeros"));
        }
        Ok(Repr {
            mac,
            port: packet.port(),
            receiving: packet.flags() & FLAG_RECEIVING != 0,
        })
    }

    /// The bytes [`Self::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        LEN
    }

    /// Writes the payload into `packet` (at least [`LEN`] bytes).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_header();
        packet.set_flags(if self.receiving { FLAG_RECEIVING } else { 0 });
        packet.set_port(self.port);
        packet.set_mac(self.mac);
    }

    /// The whole frame: broadcast from [`Self::mac`], EtherType [`ETHERTYPE`], this payload,
    /// zero padding to [`FRAME_LEN`].
    pub fn frame(&self) -> [u8; FRAME_LEN] {
        let mut buf = [0u8; FRAME_LEN];
        let (hdr, payload) = buf.split_at_mut(ether::HEADER_LEN);
        ether::Repr {
            dst: MacAddr([0xff; 6]),
            src: self.mac,
            ethertype: ETHERTYPE,
        }
        .emit(&mut ether::Frame::new_unchecked(hdr));
        self.emit(&mut Packet::new_unchecked(payload));
        buf
    }
}

/// Whether `frame` (untagged Ethernet) carries EtherType [`ETHERTYPE`] and the announcement's
/// [`MAGIC`]: the cheap test the forwarding paths make per packet, before any parsing. Other
/// users of the experimental EtherType are not announcements: forwarders pass them on as the
/// C programs do.
#[inline]
pub fn is_announcement(frame: &[u8]) -> bool {
    let magic = ether::HEADER_LEN + field::MAGIC.start..ether::HEADER_LEN + field::MAGIC.end;
    frame
        .get(12..14)
        .is_some_and(|t| u16::from_be_bytes([t[0], t[1]]) == ETHERTYPE)
        && frame.get(magic) == Some(&MAGIC[..])
}

/// Reads the announcement in `frame`, if it is one and valid. The announced MAC must be the
/// frame's source: a frame relayed with a rewritten source is not believed.
pub fn decode(frame: &[u8]) -> Result<Repr> {
    let eth = ether::Frame::new_checked(frame)?;
    if eth.ethertype() != ETHERTYPE {
        return Err(Error::Malformed {
            what: "MAC announcement",
            why: "not EtherType 0x88B5",
        });
    }
    let repr = Repr::parse(&Packet::new_checked(eth.payload())?)?;
    if repr.mac != eth.src() {
        return Err(Error::Malformed {
            what: "MAC announcement",
            why: "announced MAC differs from the frame's source",
        });
    }
    Ok(repr)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([0x02, 0x0d, 0xee, 0x00, 0x01, 0x00]);

    #[test]
    fn frame_roundtrip() {
        let a = Repr {
            mac: MAC,
            port: 1,
            receiving: true,
        };
        let f = a.frame();
        assert!(is_announcement(&f));
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[6..12], &MAC.0);
        assert_eq!(&f[14..18], &MAGIC);
        assert_eq!(decode(&f), Ok(a));
        assert_eq!(a.buffer_len(), LEN);
        let quiet = Repr {
            receiving: false,
            ..a
        };
        assert_eq!(decode(&quiet.frame()), Ok(quiet));
    }

    #[test]
    fn rejects_what_it_should_without_panicking() {
        let good = Repr {
            mac: MAC,
            port: 0,
            receiving: false,
        }
        .frame();
        // Every truncation is an error, never a panic.
        for n in 0..ether::HEADER_LEN + LEN {
            assert!(decode(&good[..n]).is_err(), "{n} bytes");
        }
        assert!(decode(&good[..ether::HEADER_LEN + LEN]).is_ok());
        let mut f = good;
        f[14] ^= 1;
        assert!(decode(&f).unwrap_err().to_string().contains("no magic"));
        let mut f = good;
        f[18] = 2;
        assert!(decode(&f).unwrap_err().to_string().contains("version"));
        let mut f = good;
        f[22] |= 1;
        f[6] |= 1;
        assert!(decode(&f).unwrap_err().to_string().contains("multicast"));
        let mut f = good;
        f[22..28].fill(0);
        f[6..12].fill(0);
        assert!(decode(&f).unwrap_err().to_string().contains("all zeros"));
        let mut f = good;
        f[11] ^= 0x10;
        assert!(decode(&f).unwrap_err().to_string().contains("source"));
        let mut f = good;
        f[13] = 0x00;
        assert!(!is_announcement(&f));
        assert!(decode(&f).is_err());
        assert!(!is_announcement(&[0x88]));
        // The experimental EtherType with another payload is someone else's frame.
        let mut foreign = [0x5a; 60];
        foreign[12..14].copy_from_slice(&ETHERTYPE.to_be_bytes());
        assert!(!is_announcement(&foreign));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: every byte value at every position of a valid frame.
        let good = Repr {
            mac: MAC,
            port: 7,
            receiving: true,
        }
        .frame();
        for at in 0..good.len() {
            for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut f = good;
                f[at] = v;
                let _ = decode(&f);
            }
        }
    }
}
