//! Ethernet MAC addresses.

use std::fmt;
use std::str::FromStr;

/// A 48-bit Ethernet address. Displayed as DPDK's tools print it (`0C:FE:C0:FF:EE:00`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The address DPDK's testpmd and l2fwd use for peers by default: `02:00:00:00:00:<n>`.
    #[inline]
    pub const fn locally_administered(n: u8) -> Self {
        MacAddr([0x02, 0, 0, 0, 0, n])
    }

    /// The six bytes, first on the wire first.
    #[inline]
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddr({self})")
    }
}

/// A string that is not six colon-separated hex octets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address {0:?}: expected six hex octets like 0c:fe:c0:ff:ee:00")]
pub struct MacAddrParseError(
    /// The string as given.
    pub String,
);

impl FromStr for MacAddr {
    type Err = MacAddrParseError;

    /// Accepts `XX:XX:XX:XX:XX:XX` in either case (also with `-` separators).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || MacAddrParseError(s.to_owned());
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut out {
            let part = parts.next().ok_or_else(err)?;
            if part.len() != 2 {
                return Err(err());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_like_testpmd() {
        let mac: MacAddr = "0c:fe:c0:ff:ee:0a".parse().unwrap();
        assert_eq!(mac.0, [0x0c, 0xfe, 0xc0, 0xff, 0xee, 0x0a]);
        assert_eq!(mac.to_string(), "0C:FE:C0:FF:EE:0A");
        assert_eq!(
            MacAddr::locally_administered(3).to_string(),
            "02:00:00:00:00:03"
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "0c:fe:c0:ff:ee",
            "0c:fe:c0:ff:ee:00:11",
            "0c:fe:c0:ff:ee:0g",
            "c:fe:c0:ff:ee:00",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }
}
