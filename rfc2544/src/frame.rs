//! Frame sizes: fixed sizes as RFC 2544 counts them, one IMIX, and the rate arithmetic.
//!
//! Sizes are Ethernet frame lengths **including the 4-byte FCS** (RFC 2544 §9 and every tool in
//! the anchors count that way), so a "64-byte frame" is 60 bytes the generator writes plus the
//! FCS the NIC appends; [`FrameSize::len_without_fcs`] gives what the engine builds.
//!
//! # IMIX
//!
//! One definition, the "simple IMIX" of RFC 6985 usage and NFVbench: **64, 594 and 1518 bytes in
//! the ratio 7:4:1, mean 4342/12 = 361.83 bytes** (64 and 1518 are RFC 6985's genome letters `a`
//! and `g`; 594 is not one of its standard sizes). CSIT's 64/570/1518 28:16:4 and TRex's
//! 28:20:4 mixes are different ones; results are comparable only between equal mixes. The generator sends it as the 12-frame cycle [`IMIX_PATTERN`], interleaved so
//! that every prefix of the stream is within one frame of the ratio for each size (a smooth
//! weighted round robin), hence a trial of any length, even one stopped early, offers the stated
//! mix and mean size. Rates of an IMIX stream are frames per second; bit rates use the mean.
//!
//! # Bit rates
//!
//! - L2: the frame as counted above, `size * 8` bits per frame.
//! - L1: the frame plus 20 bytes on the wire, 7 preamble + 1 start-of-frame delimiter + 12
//!   inter-frame gap; 10 GbE carries 14.88 Mpps of 64-byte frames.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// The smallest frame: Ethernet's minimum, FCS included.
pub const MIN_FRAME: u16 = 64;
/// The largest frame: the common jumbo size, FCS included.
pub const MAX_FRAME: u16 = 9000;
/// The Ethernet frame check sequence, which the NIC appends and which sizes here include.
pub const FCS_LEN: u16 = 4;
/// Preamble and start-of-frame delimiter (8) plus the minimum inter-frame gap (12): what each
/// frame costs on the wire beyond its L2 size.
pub const L1_OVERHEAD: u16 = 20;

/// The frame sizes RFC 2544 §9 asks for on Ethernet.
pub const RFC2544_SIZES: [u16; 7] = [64, 128, 256, 512, 1024, 1280, 1518];

/// The simple IMIX: (size, share of 12).
pub const IMIX_MIX: [(u16, u32); 3] = [(64, 7), (594, 4), (1518, 1)];

/// The IMIX cycle as sent: 7 × 64, 4 × 594 and 1 × 1518 interleaved by smooth weighted round
/// robin, so any prefix holds each size within one frame of its share.
pub const IMIX_PATTERN: [u16; 12] = [64, 594, 64, 64, 594, 64, 1518, 64, 594, 64, 594, 64];

/// The IMIX mean frame size in bytes, FCS included: (7·64 + 4·594 + 1518) / 12.
pub const IMIX_MEAN: f64 = 4342.0 / 12.0;

/// What `--frame-sizes` accepts, for `--help`.
pub const FRAME_SIZES_HELP: &str = "\
  --frame-sizes LIST     comma-separated frame sizes to test, each 64..9000 bytes including the
                         4-byte FCS, or imix (default 64,128,256,512,1024,1280,1518: RFC 2544 §9)
                         imix = simple IMIX: 64, 594 and 1518 bytes in the ratio 7:4:1 (mean
                         361.83 B), sent as the 12-frame cycle 64 594 64 64 594 64 1518 64 594 64
                         594 64; rates count frames, bit rates use the mean size";

/// One frame size of a search: a fixed length, or the IMIX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameSize {
    /// Every frame this long, FCS included, in `MIN_FRAME..=MAX_FRAME`.
    Fixed(u16),
    /// The simple IMIX (see the module documentation).
    Imix,
}

impl FrameSize {
    /// A fixed size, checked against `MIN_FRAME..=MAX_FRAME`.
    pub fn fixed(bytes: u16) -> Result<FrameSize, Error> {
        match bytes {
            MIN_FRAME..=MAX_FRAME => Ok(FrameSize::Fixed(bytes)),
            b if b < MIN_FRAME => Err(Error::FrameSize {
                item: b.to_string(),
                why: "is too small",
            }),
            b => Err(Error::FrameSize {
                item: b.to_string(),
                why: "is too large",
            }),
        }
    }

    /// The RFC 2544 §9 list.
    pub fn rfc2544_sizes() -> Vec<FrameSize> {
        RFC2544_SIZES.iter().map(|&s| FrameSize::Fixed(s)).collect()
    }

    /// The mean frame size in bytes, FCS included (the size itself for a fixed size).
    pub fn mean_bytes(self) -> f64 {
        match self {
            FrameSize::Fixed(b) => f64::from(b),
            FrameSize::Imix => IMIX_MEAN,
        }
    }

    /// The length of frame number `i` of a stream of this size, FCS included: the size itself,
    /// or the IMIX cycle.
    pub fn frame_len(self, i: u64) -> u16 {
        match self {
            FrameSize::Fixed(b) => b,
            FrameSize::Imix => IMIX_PATTERN[(i % IMIX_PATTERN.len() as u64) as usize],
        }
    }

    /// What the generator writes into the buffer for frame `i`: its length without the FCS
    /// (0 for a hand-built size below the FCS, which [`FrameSize::fixed`] refuses).
    pub fn len_without_fcs(self, i: u64) -> u16 {
        self.frame_len(i).saturating_sub(FCS_LEN)
    }

    /// The largest frame of the stream (what buffers must hold).
    pub fn max_len(self) -> u16 {
        match self {
            FrameSize::Fixed(b) => b,
            FrameSize::Imix => 1518,
        }
    }

    /// L2 gigabits per second at `pps` frames per second (FCS counted, preamble and gap not).
    pub fn l2_gbps(self, pps: f64) -> f64 {
        pps * self.mean_bytes() * 8.0 / 1e9
    }

    /// L1 gigabits per second at `pps`: the L2 rate plus 20 bytes of preamble and gap per frame,
    /// which is what the link's speed limits.
    pub fn l1_gbps(self, pps: f64) -> f64 {
        pps * (self.mean_bytes() + f64::from(L1_OVERHEAD)) * 8.0 / 1e9
    }

    /// The most frames per second a link of `line_gbps` (L1) can carry at this size; 14.88 Mpps
    /// for 64-byte frames at 10 Gb/s. `None` for a rate that is not a positive number.
    pub fn line_rate_pps(self, line_gbps: f64) -> Option<f64> {
        (line_gbps.is_finite() && line_gbps > 0.0)
            .then(|| line_gbps * 1e9 / ((self.mean_bytes() + f64::from(L1_OVERHEAD)) * 8.0))
    }

    /// `64` or `imix`: the name in progress lines and tables.
    pub fn label(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for FrameSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameSize::Fixed(b) => write!(f, "{b}"),
            FrameSize::Imix => f.write_str("imix"),
        }
    }
}

impl FromStr for FrameSize {
    type Err = Error;

    /// One item of `--frame-sizes`: a decimal size or `imix` (any case), surrounding blanks
    /// ignored.
    fn from_str(item: &str) -> Result<FrameSize, Error> {
        let t = item.trim();
        let bad = |why| Error::FrameSize {
            item: t.to_string(),
            why,
        };
        if t.eq_ignore_ascii_case("imix") {
            return Ok(FrameSize::Imix);
        }
        if t.is_empty() {
            return Err(bad("is empty"));
        }
        if !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("is not a number of bytes"));
        }
        // All digits: the only failure left is overflow, which is "too large" too.
        match t.parse::<u32>() {
            Ok(n) if n < u32::from(MIN_FRAME) => Err(bad("is too small")),
            Ok(n) if n <= u32::from(MAX_FRAME) => Ok(FrameSize::Fixed(n as u16)),
            _ => Err(bad("is too large")),
        }
    }
}

/// Parses a `--frame-sizes` list such as `64,512,1518,imix`, in the order given. An empty list,
/// an empty item and a size listed twice are errors (the report keys results by size).
pub fn parse_frame_sizes(list: &str) -> Result<Vec<FrameSize>, Error> {
    if list.trim().is_empty() {
        return Err(Error::NoFrameSizes);
    }
    let mut sizes = Vec::new();
    for item in list.split(',') {
        let size: FrameSize = item.parse()?;
        if sizes.contains(&size) {
            return Err(Error::FrameSize {
                item: item.trim().to_string(),
                why: "is listed twice",
            });
        }
        sizes.push(size);
    }
    Ok(sizes)
}

/// `64` as a JSON number, the IMIX as `"imix"`.
impl Serialize for FrameSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FrameSize::Fixed(b) => s.serialize_u16(*b),
            FrameSize::Imix => s.serialize_str("imix"),
        }
    }
}

impl<'de> Deserialize<'de> for FrameSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FrameSize, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bytes(u64),
            Name(String),
        }
        let e = |err: Error| serde::de::Error::custom(err.to_string());
        match Raw::deserialize(d)? {
            Raw::Bytes(n) => u16::try_from(n)
                .map_err(|_| Error::FrameSize {
                    item: n.to_string(),
                    why: "is too large",
                })
                .and_then(FrameSize::fixed)
                .map_err(e),
            Raw::Name(s) => s.parse().map_err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_in_order_and_errors_name_the_item() {
        assert_eq!(
            parse_frame_sizes("64, 512,1518,IMIX").unwrap(),
            vec![
                FrameSize::Fixed(64),
                FrameSize::Fixed(512),
                FrameSize::Fixed(1518),
                FrameSize::Imix
            ]
        );
        let err = |s: &str| parse_frame_sizes(s).unwrap_err().to_string();
        assert!(err("64,63").contains("\"63\" is too small"));
        assert!(err("9001").contains("\"9001\" is too large"));
        assert!(err("99999999999999").contains("is too large"));
        assert!(err("64,,128").contains("\"\" is empty"));
        assert!(err("64,jumbo").contains("\"jumbo\" is not a number of bytes"));
        assert!(err("-64").contains("is not a number"));
        assert!(err("64,imix,64").contains("\"64\" is listed twice"));
        assert_eq!(parse_frame_sizes(" ").unwrap_err(), Error::NoFrameSizes);
        assert!(
            err("1e3").contains("64..=9000"),
            "the range is in the message"
        );
    }

    #[test]
    fn fixed_sizes_are_checked() {
        assert!(FrameSize::fixed(64).is_ok() && FrameSize::fixed(9000).is_ok());
        assert!(FrameSize::fixed(63).is_err() && FrameSize::fixed(9001).is_err());
        assert_eq!(FrameSize::rfc2544_sizes().len(), 7);
    }

    #[test]
    fn line_rate_arithmetic() {
        let s64 = FrameSize::Fixed(64);
        let pps = s64.line_rate_pps(10.0).unwrap();
        assert!((pps - 14_880_952.38).abs() < 1.0, "{pps}");
        assert!((s64.l1_gbps(pps) - 10.0).abs() < 1e-9);
        assert!((s64.l2_gbps(pps) - 10.0 * 64.0 / 84.0).abs() < 1e-9);
        let s1518 = FrameSize::Fixed(1518);
        assert!((s1518.line_rate_pps(10.0).unwrap() - 812_743.8).abs() < 1.0);
        assert_eq!(s64.line_rate_pps(f64::NAN), None);
        assert_eq!(s64.line_rate_pps(0.0), None);
        let imix = FrameSize::Imix;
        assert!((imix.mean_bytes() - 361.833).abs() < 1e-3);
        assert!((imix.l1_gbps(1e6) - (361.8333 + 20.0) * 8.0 / 1e3).abs() < 1e-3);
    }

    /// The pattern is what smooth weighted round robin gives for 7:4:1, holds the mix exactly,
    /// and every prefix (over two cycles, since the stream repeats) is within one frame of each
    /// size's share.
    #[test]
    fn imix_pattern_is_the_interleaved_mix() {
        let total: i64 = IMIX_MIX.iter().map(|m| i64::from(m.1)).sum();
        let mut current = [0i64; 3];
        let mut swrr = Vec::new();
        for _ in 0..12 {
            for (c, m) in current.iter_mut().zip(IMIX_MIX) {
                *c += i64::from(m.1);
            }
            let best = (0..3).fold(0, |b, i| if current[i] > current[b] { i } else { b });
            current[best] -= total;
            swrr.push(IMIX_MIX[best].0);
        }
        assert_eq!(swrr, IMIX_PATTERN);
        let mut counts = [0u32; 3];
        for n in 1..=24u64 {
            let len = FrameSize::Imix.frame_len(n - 1);
            let k = IMIX_MIX.iter().position(|m| m.0 == len).unwrap();
            counts[k] += 1;
            for (c, m) in counts.iter().zip(IMIX_MIX) {
                let share = n as f64 * f64::from(m.1) / 12.0;
                assert!(
                    (f64::from(*c) - share).abs() < 1.0,
                    "prefix {n}: {counts:?}"
                );
            }
        }
        let bytes: u32 = IMIX_PATTERN.iter().map(|&b| u32::from(b)).sum();
        assert!((f64::from(bytes) / 12.0 - IMIX_MEAN).abs() < 1e-9);
        assert_eq!(FrameSize::Imix.len_without_fcs(6), 1514);
        assert_eq!(FrameSize::Fixed(2).len_without_fcs(0), 0);
        assert_eq!(FrameSize::Imix.max_len(), 1518);
    }

    #[test]
    fn json_is_a_number_or_imix() {
        let v = serde_json::to_string(&[FrameSize::Fixed(64), FrameSize::Imix]).unwrap();
        assert_eq!(v, "[64,\"imix\"]");
        let back: Vec<FrameSize> = serde_json::from_str(&v).unwrap();
        assert_eq!(back, [FrameSize::Fixed(64), FrameSize::Imix]);
        assert!(serde_json::from_str::<FrameSize>("63").is_err());
        assert!(serde_json::from_str::<FrameSize>("70000").is_err());
        assert!(serde_json::from_str::<FrameSize>("\"big\"").is_err());
    }

    #[test]
    fn help_states_the_imix() {
        assert!(FRAME_SIZES_HELP.contains("64, 594 and 1518 bytes in the ratio 7:4:1"));
        assert!(FRAME_SIZES_HELP.contains(&format!("{IMIX_MEAN:.2}")));
        let cycle: Vec<String> = IMIX_PATTERN.iter().map(u16::to_string).collect();
        let help: String = FRAME_SIZES_HELP
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(help.contains(&cycle.join(" ")));
    }
}
