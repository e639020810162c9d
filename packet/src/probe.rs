//! The probe: what generated packets carry after their UDP header so that receivers can count
//! loss, reordering and duplicates exactly and measure latency. The receive accounting lives
//! with the engines (`dpdk-app`'s `testpmd::probe`); this is the wire format.
//!
//! Layout (18 bytes, little-endian, so a 60-byte flowgen frame still has room):
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `A5 0F 7E 57` |
//! | 4..6 | stream id (the sender's stream index) |
//! | 6..10 | sequence number, per stream, consecutive over packets the PMD accepted |
//! | 10..12 | clock id: a hash of the sender host's boot id ([`clock_id`]) |
//! | 12..18 | low 48 bits of the sender's TSC, taken once per burst |
//!
//! Generators write it at [`PROBE_OFF`], right after the UDP header of an untagged IPv4 frame
//! without options; [`decode`] looks only there.

use crate::field::Field;
use crate::{ether, ipv4, udp, Error, Result};

mod field {
    use crate::field::Field;

    pub(crate) const MAGIC: Field = 0..4;
    pub(crate) const STREAM: Field = 4..6;
    pub(crate) const SEQ: Field = 6..10;
    pub(crate) const CLOCK: Field = 10..12;
    pub(crate) const TSC: Field = 12..18;
    /// Clock id and TSC, read as one little-endian 64-bit word.
    pub(crate) const CLOCK_TSC: Field = CLOCK.start..TSC.end;
}

/// Length of a probe.
pub const LEN: usize = field::TSC.end;
/// The first four bytes of every probe.
pub const MAGIC: [u8; 4] = [0xA5, 0x0F, 0x7E, 0x57];
/// The TSC bits a probe carries.
pub const TSC_MASK: u64 = (1 << 48) - 1;
/// Where the probe sits in a frame: right after the UDP header of an untagged IPv4 packet.
pub const PROBE_OFF: usize = ether::HEADER_LEN + ipv4::HEADER_LEN + udp::HEADER_LEN;

view! {
    /// A view of a probe at the start of a buffer.
    pub struct Packet;
    /// `Err(Truncated)` if the 18 bytes do not fit; otherwise no accessor panics.
    check_len("probe", LEN);
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Whether the buffer starts with [`MAGIC`].
    #[inline]
    pub fn has_magic(&self) -> bool {
        self.buffer.as_ref()[field::MAGIC] == MAGIC
    }

    /// The stream id.
    #[inline]
    pub fn stream(&self) -> u16 {
        u16::from_le_bytes(bytes(self.buffer.as_ref(), field::STREAM))
    }

    /// The sequence number.
    #[inline]
    pub fn seq(&self) -> u32 {
        u32::from_le_bytes(bytes(self.buffer.as_ref(), field::SEQ))
    }

    /// The sender's clock id.
    #[inline]
    pub fn clock(&self) -> u16 {
        u16::from_le_bytes(bytes(self.buffer.as_ref(), field::CLOCK))
    }

    /// The sender's TSC, 48 bits.
    #[inline]
    pub fn tsc(&self) -> u64 {
        let mut w = [0u8; 8];
        w[..6].copy_from_slice(&self.buffer.as_ref()[field::TSC]);
        u64::from_le_bytes(w)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes [`MAGIC`].
    #[inline]
    pub fn set_magic(&mut self) {
        self.buffer.as_mut()[field::MAGIC].copy_from_slice(&MAGIC);
    }

    /// Sets the stream id.
    #[inline]
    pub fn set_stream(&mut self, stream: u16) {
        self.buffer.as_mut()[field::STREAM].copy_from_slice(&stream.to_le_bytes());
    }

    /// Sets the sequence number.
    #[inline]
    pub fn set_seq(&mut self, seq: u32) {
        self.buffer.as_mut()[field::SEQ].copy_from_slice(&seq.to_le_bytes());
    }

    /// Sets the clock id.
    #[inline]
    pub fn set_clock(&mut self, clock: u16) {
        self.buffer.as_mut()[field::CLOCK].copy_from_slice(&clock.to_le_bytes());
    }

    /// Sets the TSC field to the low 48 bits of `tsc`.
    #[inline]
    pub fn set_tsc(&mut self, tsc: u64) {
        self.buffer.as_mut()[field::TSC].copy_from_slice(&tsc.to_le_bytes()[..6]);
    }
}

/// The `N` bytes of field `f`.
#[inline]
fn bytes<const N: usize>(b: &[u8], f: Field) -> [u8; N] {
    let mut w = [0u8; N];
    w.copy_from_slice(&b[f]);
    w
}

/// A decoded probe: the representation of the 18 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Probe {
    /// The sender's stream index.
    pub stream: u16,
    /// The packet's sequence number in its stream.
    pub seq: u32,
    /// The sender's clock id.
    pub clock: u16,
    /// The sender's TSC when it sent the burst, 48 bits ([`TSC_MASK`]).
    pub tsc: u64,
}

/// The probe's high-level representation, by the name the other headers use.
pub type Repr = Probe;

impl Probe {
    /// Reads a probe; a buffer that does not start with [`MAGIC`] is `Malformed`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Probe> {
        packet.check_len()?;
        if !packet.has_magic() {
            return Err(Error::Malformed {
                what: "probe",
                why: "no magic",
            });
        }
        Ok(Probe {
            stream: packet.stream(),
            seq: packet.seq(),
            clock: packet.clock(),
            tsc: packet.tsc(),
        })
    }

    /// The bytes [`Self::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        LEN
    }

    /// Writes the probe into `packet` (at least [`LEN`] bytes); bits of `tsc` above 48 are
    /// dropped.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_magic();
        packet.set_stream(self.stream);
        packet.set_seq(self.seq);
        packet.set_clock(self.clock);
        packet.set_tsc(self.tsc);
    }
}

/// Writes the constant part of a probe (magic, stream, clock) at the start of `buf`.
#[inline]
pub fn write_header(buf: &mut [u8], stream: u16, clock: u16) {
    let mut p = Packet::new_unchecked(buf);
    p.set_magic();
    p.set_stream(stream);
    p.set_clock(clock);
}

/// Writes the per-packet part of a probe (sequence number, TSC) at the start of `buf`.
#[inline]
pub fn stamp(buf: &mut [u8], seq: u32, tsc: u64) {
    let mut p = Packet::new_unchecked(buf);
    p.set_seq(seq);
    p.set_tsc(tsc);
}

/// The probe in an untagged Ethernet/IPv4 (no options)/UDP frame, if there is one.
#[inline]
pub fn decode(frame: &[u8]) -> Option<Probe> {
    let p: &[u8; LEN] = frame.get(PROBE_OFF..PROBE_OFF + LEN)?.try_into().ok()?;
    // Ethertype IPv4 and a 20-byte IPv4 header (bytes 12..15), UDP (byte 23): word compares,
    // since every received packet goes through here.
    const ETHERTYPE: usize = ether::field::ETHERTYPE.start;
    const PROTOCOL: usize = ether::HEADER_LEN + ipv4::field::PROTOCOL;
    let l3 = u32::from_le_bytes([
        frame[ETHERTYPE],
        frame[ETHERTYPE + 1],
        frame[ETHERTYPE + 2],
        0,
    ]);
    if l3 != 0x0045_0008 || frame[PROTOCOL] != 17 || p[field::MAGIC] != MAGIC {
        return None;
    }
    // Clock id and TSC share one little-endian load: 16 bits of clock, 48 of TSC.
    let clock_tsc = u64::from_le_bytes(p[field::CLOCK_TSC].try_into().expect("8 bytes"));
    let (stream, seq) = (field::STREAM.start, field::SEQ.start);
    Some(Probe {
        stream: u16::from_le_bytes([p[stream], p[stream + 1]]),
        seq: u32::from_le_bytes([p[seq], p[seq + 1], p[seq + 2], p[seq + 3]]),
        clock: clock_tsc as u16,
        tsc: clock_tsc >> 16,
    })
}

/// This host's clock id: FNV-1a of the kernel's boot id, folded to 16 bits. Processes (and
/// containers) on one host share it, and the TSC with it.
pub fn clock_id() -> u16 {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let mut h: u32 = 0x811c_9dc5;
    for b in boot.trim().bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    (h ^ (h >> 16)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flowgen frame (60 bytes) with a probe.
    fn frame(stream: u16, seq: u32, clock: u16, tsc: u64) -> Vec<u8> {
        let mut t = crate::template::Template::flowgen(64, Some((stream, clock)));
        t.stamp(seq, tsc);
        t.bytes().to_vec()
    }

    #[test]
    fn encode_decode_roundtrip() {
        let f = frame(513, 0xdead_beef, 0x1234, 0xffff_0123_4567_89ab);
        assert_eq!(
            decode(&f),
            Some(Probe {
                stream: 513,
                seq: 0xdead_beef,
                clock: 0x1234,
                tsc: 0x0123_4567_89ab
            })
        );
        assert_eq!(decode(&f[..59]), None, "too short");
        let mut not_udp = f.clone();
        not_udp[23] = 6;
        assert_eq!(decode(&not_udp), None);
        let mut no_magic = f;
        no_magic[PROBE_OFF] ^= 1;
        assert_eq!(decode(&no_magic), None);
    }

    #[test]
    fn view_repr_and_decode_agree() {
        let f = frame(7, 42, 0xabcd, 0x1234_5678_9abc);
        let probe = Probe::parse(&Packet::new_unchecked(&f[PROBE_OFF..])).unwrap();
        assert_eq!(Some(probe), decode(&f));
        let mut b = [0u8; LEN];
        probe.emit(&mut Packet::new_unchecked(&mut b[..]));
        assert_eq!(&b[..], &f[PROBE_OFF..PROBE_OFF + LEN]);
        assert_eq!(
            &b[..],
            &[
                0xA5, 0x0F, 0x7E, 0x57, 7, 0, 42, 0, 0, 0, 0xcd, 0xab, 0xbc, 0x9a, 0x78, 0x56,
                0x34, 0x12
            ],
            "the layout in the module documentation"
        );
        b[0] = 0;
        assert!(Probe::parse(&Packet::new_unchecked(&b[..])).is_err());
        assert!(Packet::new_checked(&b[..LEN - 1]).is_err());
    }
}
