//! RFC 2544 throughput search for `dpdk-app rfc2544`: the pure part.
//!
//! - [`frame`]: frame sizes (RFC 2544 §9 list, one stated IMIX), `--frame-sizes` parsing, the
//!   IMIX frame sequence for the generator, L1/L2 bit rates.
//! - [`search`]: a clock-free state machine that finds the NDR (no loss) and the PDR (loss within
//!   `--pdr-loss`) of one frame size in one pass.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
pub mod frame;
pub mod search;
pub mod units;

pub use error::Error;
