//! Packet views over byte buffers, in the style of smoltcp's `wire` module, and the frames the
//! traffic generators send.
//!
//! Each header has
//!
//! - a private `field` module naming its byte ranges (`SRC_PORT: Field = 0..2`) instead of bare
//!   offsets;
//! - a view, `Packet<T: AsRef<[u8]>>` (Ethernet's is [`ether::Frame`]), over a buffer that starts
//!   with the header: [`new_unchecked`](udp::Packet::new_unchecked) wraps it,
//!   [`check_len`](udp::Packet::check_len) checks once that the fixed header fits (so that no
//!   getter or setter panics), [`new_checked`](udp::Packet::new_checked) does both; getters read
//!   fields in place, setters (for `T: AsMut<[u8]>`) write them, `into_inner` gives the buffer
//!   back;
//! - where the header has a natural high-level form, a `Repr` with `parse` (validates what the
//!   view does not: length fields, version, checksum) and `emit` ([`ether::Repr`],
//!   [`arp::Repr`], [`ipv4::Repr`], [`udp::Repr`], [`probe::Probe`]).
//!
//! The views check lengths only: what to do with a bad checksum or a header length that runs
//! past the frame is the engine's policy (C l3fwd and RFC 1812 disagree). They never allocate,
//! and their getters are `#[inline]` for the per-packet paths.
//!
//! Beyond the headers: [`checksum`] (RFC 1071, RFC 1624), [`template`] (the frames testpmd's
//! txonly and flowgen send, byte for byte) and [`probe`] (the 18 bytes generators write after
//! the UDP header so that receivers count loss and measure latency) and [`announce`] (the frame
//! receivers send so generators learn the MAC their device really owns). [`MacAddr`] is the
//! Ethernet address every crate of the workspace uses.
//!
//! ```
//! use std::net::Ipv4Addr;
//!
//! use packet::template::{Addresses, Template};
//! use packet::{ether, ipv4, probe, udp, MacAddr};
//!
//! let addrs = Addresses {
//!     src_mac: MacAddr::locally_administered(1),
//!     dst_mac: MacAddr::locally_administered(2),
//!     src_ip: Ipv4Addr::new(198, 18, 0, 1),
//!     dst_ip: Ipv4Addr::new(198, 18, 0, 2),
//!     src_port: 9,
//!     dst_port: 9,
//! };
//! let mut template = Template::txonly(addrs, 64, Some((0, 0xc10c)));
//! template.stamp(1, 0x1234);
//!
//! let frame = ether::Frame::new_checked(template.bytes())?;
//! assert_eq!(frame.ethertype(), ether::ethertype::IPV4);
//! let ip = ipv4::Packet::new_checked(frame.payload())?;
//! let ip_repr = ipv4::Repr::parse(&ip)?;
//! assert_eq!((ip_repr.dst, ip_repr.payload_len), (addrs.dst_ip, 30));
//! let udp = udp::Repr::parse(&udp::Packet::new_checked(ip.payload())?)?;
//! assert_eq!(udp.payload_len, 22);
//! let stamped = probe::decode(template.bytes()).expect("a probe");
//! assert_eq!((stamped.stream, stamped.seq, stamped.tsc), (0, 1, 0x1234));
//! # Ok::<(), packet::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// Declares a view over a buffer that starts with a header: the struct
/// `$name<T: AsRef<[u8]>>`, `new_unchecked`, `new_checked`, `check_len` (`Err(Truncated)` if the
/// buffer is shorter than `$len` bytes; documented by the caller), `into_inner` and
/// `AsRef<[u8]>`. Getters and setters are written out per header.
macro_rules! view {
    (
        $(#[$attr:meta])*
        pub struct $name:ident;
        $(#[$check_doc:meta])*
        check_len($what:literal, $len:expr);
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Wraps `buffer` without checking its length (the accessors then may panic).
            #[inline]
            pub const fn new_unchecked(buffer: T) -> Self {
                $name { buffer }
            }

            /// Wraps `buffer` after [`Self::check_len`].
            #[inline]
            pub fn new_checked(buffer: T) -> $crate::Result<Self> {
                let view = Self::new_unchecked(buffer);
                view.check_len()?;
                Ok(view)
            }

            $(#[$check_doc])*
            #[inline]
            pub fn check_len(&self) -> $crate::Result<()> {
                $crate::check_len($what, self.buffer.as_ref(), $len)
            }

            /// The buffer.
            #[inline]
            pub fn into_inner(self) -> T {
                self.buffer
            }
        }

        impl<T: AsRef<[u8]>> AsRef<[u8]> for $name<T> {
            fn as_ref(&self) -> &[u8] {
                self.buffer.as_ref()
            }
        }
    };
}

/// Declares the getters and setters of a view's fixed fields, one line each:
/// `kind getter / setter = field;` with `kind` one of `u8` (a byte index), `u16`, `u32` (big
/// endian) or `mac` (six bytes), the field from the header's `field` module. Getters need
/// `T: AsRef<[u8]>`, setters `AsMut<[u8]>` too; both are `#[inline]` and panic only on a
/// buffer that failed `check_len`. Fields with a policy (lengths, checksums computed over
/// more than the field, addresses as `std::net` types) are written out per header.
macro_rules! accessors {
    ($view:ident { $( $(#[$doc:meta])* $kind:ident $get:ident / $set:ident = $field:expr; )* }) => {
        impl<T: AsRef<[u8]>> $view<T> {
            $(
                $(#[$doc])*
                #[inline]
                pub fn $get(&self) -> accessors!(@ty $kind) {
                    accessors!(@get $kind, self.buffer.as_ref(), $field)
                }
            )*
        }

        impl<T: AsRef<[u8]> + AsMut<[u8]>> $view<T> {
            $(
                #[doc = concat!("Sets the field [`Self::", stringify!($get), "`] reads.")]
                #[inline]
                pub fn $set(&mut self, v: accessors!(@ty $kind)) {
                    accessors!(@set $kind, self.buffer.as_mut(), $field, v)
                }
            )*
        }
    };
    (@ty u8) => { u8 };
    (@ty u16) => { u16 };
    (@ty u32) => { u32 };
    (@ty mac) => { $crate::MacAddr };
    (@get u8, $b:expr, $f:expr) => { $b[$f] };
    (@get u16, $b:expr, $f:expr) => { $crate::get_u16($b, $f) };
    (@get u32, $b:expr, $f:expr) => { $crate::get_u32($b, $f) };
    (@get mac, $b:expr, $f:expr) => { $crate::get_mac($b, $f) };
    (@set u8, $b:expr, $f:expr, $v:expr) => { $b[$f] = $v };
    (@set u16, $b:expr, $f:expr, $v:expr) => { $crate::set_u16($b, $f, $v) };
    (@set u32, $b:expr, $f:expr, $v:expr) => { $crate::set_u32($b, $f, $v) };
    (@set mac, $b:expr, $f:expr, $v:expr) => { $b[$f].copy_from_slice(&$v.0) };
}

pub mod announce;
pub mod arp;
pub mod checksum;
pub mod ether;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
mod mac;
pub mod probe;
pub mod template;
pub mod udp;

pub use mac::{MacAddr, MacAddrParseError};

/// Why a buffer could not be read as a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The buffer is too short for what was asked of it.
    #[error("truncated packet: {what} needs {needed} bytes, buffer has {available}")]
    Truncated {
        /// The header or message, e.g. `"IPv4 header"`.
        what: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// The bytes are there but do not make a valid header.
    #[error("malformed {what}: {why}")]
    Malformed {
        /// The header or message.
        what: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// The result of parsing a header.
pub type Result<T> = core::result::Result<T, Error>;

/// Byte ranges of header fields.
pub(crate) mod field {
    /// The bytes of a multi-byte field.
    pub(crate) type Field = core::ops::Range<usize>;
}

/// `Err(Truncated)` unless `buf` holds at least `needed` bytes.
#[inline]
pub(crate) fn check_len(what: &'static str, buf: &[u8], needed: usize) -> Result<()> {
    if buf.len() < needed {
        return Err(Error::Truncated {
            what,
            needed,
            available: buf.len(),
        });
    }
    Ok(())
}

/// The big-endian 16-bit field at `f` (two bytes).
#[inline]
pub(crate) fn get_u16(b: &[u8], f: field::Field) -> u16 {
    u16::from_be_bytes([b[f.start], b[f.start + 1]])
}

/// Stores `v` big-endian in the 16-bit field at `f`.
#[inline]
pub(crate) fn set_u16(b: &mut [u8], f: field::Field, v: u16) {
    b[f].copy_from_slice(&v.to_be_bytes());
}

/// The big-endian 32-bit field at `f` (four bytes).
#[inline]
pub(crate) fn get_u32(b: &[u8], f: field::Field) -> u32 {
    let at = f.start;
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Stores `v` big-endian in the 32-bit field at `f`.
#[inline]
pub(crate) fn set_u32(b: &mut [u8], f: field::Field, v: u32) {
    b[f].copy_from_slice(&v.to_be_bytes());
}

/// The six bytes of an Ethernet address field.
#[inline]
pub(crate) fn get_mac(b: &[u8], f: field::Field) -> MacAddr {
    let mut a = [0u8; 6];
    a.copy_from_slice(&b[f]);
    MacAddr(a)
}
