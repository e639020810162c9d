//! UDP headers.

use super::{check_len, get_u16, set_u16, Truncated};

pub const HEADER_LEN: usize = 8;

/// A view of a UDP header at the start of a buffer.
#[derive(Debug)]
pub struct Datagram<T> {
    buf: T,
}

impl<T: AsRef<[u8]>> Datagram<T> {
    pub fn new_checked(buf: T) -> Result<Self, Truncated> {
        check_len("UDP header", buf.as_ref(), HEADER_LEN)?;
        Ok(Datagram { buf })
    }

    pub fn src_port(&self) -> u16 {
        get_u16(self.buf.as_ref(), 0)
    }

    pub fn dst_port(&self) -> u16 {
        get_u16(self.buf.as_ref(), 2)
    }

    pub fn len(&self) -> u16 {
        get_u16(self.buf.as_ref(), 4)
    }

    pub fn is_empty(&self) -> bool {
        self.len() as usize <= HEADER_LEN
    }

    pub fn checksum(&self) -> u16 {
        get_u16(self.buf.as_ref(), 6)
    }

    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Datagram<T> {
    pub fn set_src_port(&mut self, v: u16) {
        set_u16(self.buf.as_mut(), 0, v);
    }

    pub fn set_dst_port(&mut self, v: u16) {
        set_u16(self.buf.as_mut(), 2, v);
    }

    pub fn set_len(&mut self, v: u16) {
        set_u16(self.buf.as_mut(), 4, v);
    }

    pub fn set_checksum(&mut self, v: u16) {
        set_u16(self.buf.as_mut(), 6, v);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut()[HEADER_LEN..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let mut b = [0u8; 12];
        let mut d = Datagram::new_checked(&mut b[..]).unwrap();
        d.set_src_port(9);
        d.set_dst_port(1001);
        d.set_len(12);
        assert_eq!(
            (d.src_port(), d.dst_port(), d.len(), d.checksum()),
            (9, 1001, 12, 0)
        );
        assert_eq!(d.payload().len(), 4);
        assert!(Datagram::new_checked(&b[..7]).is_err());
    }
}
