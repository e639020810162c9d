//! ICMPv4 echo messages (RFC 792).

mod field {
    use crate::field::Field;

    pub(crate) const TYPE: usize = 0;
    pub(crate) const CODE: usize = 1;
    pub(crate) const CHECKSUM: Field = 2..4;
    pub(crate) const REST_OF_HEADER: Field = 4..8;
}

/// Length of the header (type, code, checksum and the echo identifier and sequence number).
pub const HEADER_LEN: usize = field::REST_OF_HEADER.end;
/// Message type: echo reply.
pub const ECHO_REPLY: u8 = 0;
/// Message type: echo request.
pub const ECHO_REQUEST: u8 = 8;

view! {
    /// A view of an ICMPv4 header at the start of a buffer.
    pub struct Packet;
    /// `Err(Truncated)` if the 8-byte header does not fit; otherwise no accessor panics.
    check_len("ICMP header", HEADER_LEN);
}

accessors! {
    Packet {
        /// The message type ([`ECHO_REQUEST`], [`ECHO_REPLY`], ...).
        u8 msg_type / set_msg_type = field::TYPE;
        /// The checksum field.
        u16 checksum / set_checksum = field::CHECKSUM;
    }
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// The message code.
    #[inline]
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {}
