//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).

/// One's-complement sum of `data` as big-endian 16-bit words, folded to 16 bits, added to
/// `initial` (a partial sum, e.g. of a pseudo-header).
#[inline]
pub fn sum(initial: u32, data: &[u8]) -> u16 {
    let mut acc = u64::from(initial);
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(*last) << 8;
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum field value for `data` (with the checksum field itself zeroed).
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !sum(0, data)
}

/// Updates checksum `old_cksum` after a 16-bit word of the covered data changed from `old` to
/// `new` (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')).
#[inline]
pub fn update_u16(old_cksum: u16, old: u16, new: u16) -> u16 {
    let mut acc = u32::from(!old_cksum) + u32::from(!old) + u32::from(new);
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2.
        assert_eq!(
            sum(0, &[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(
            sum(0, &[0x12, 0x34, 0x56]),
            sum(0, &[0x12, 0x34, 0x56, 0x00])
        );
    }

    #[test]
    fn incremental_matches_full_recomputation() {
        let mut hdr = [
            0x45, 0, 0, 0x54, 0, 0, 0x40, 0, 0x40, 0x01, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let c = checksum(&hdr);
        hdr[10..12].copy_from_slice(&c.to_be_bytes());
        for ttl in (0..=0x40u8).rev() {
            let old = u16::from_be_bytes([hdr[8], hdr[9]]);
            hdr[8] = ttl;
            let new = u16::from_be_bytes([hdr[8], hdr[9]]);
            let upd = update_u16(u16::from_be_bytes([hdr[10], hdr[11]]), old, new);
            hdr[10..12].copy_from_slice(&upd.to_be_bytes());
            assert_eq!(sum(0, &hdr), 0xffff, "ttl {ttl}: header must verify");
        }
    }
}
