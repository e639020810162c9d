//! RFC 2544 throughput search for `dpdk-app rfc2544`: the pure part.
//!
//! - [`frame`]: frame sizes (RFC 2544 §9 list, one stated IMIX), `--frame-sizes` parsing, the
//!   IMIX frame sequence for the generator, L1/L2 bit rates.
//! - [`search`]: a clock-free state machine that finds the NDR (no loss) and the PDR (loss within
//!   `--pdr-loss`) of one frame size in one pass; [`sweep`] runs it over a list of sizes with
//!   trial ids that never repeat and the duration cap shared out.
//! - [`report`]: `rfc2544.json` (serde model), `rfc2544.html` (self-contained, inline SVG), the
//!   RFC 2544 §26 text table and the per-trial progress line.
//! - [`cli`]: the option help text and value parsers the engine's command line uses.
//!
//! The DPDK engine (in the `dpdk-app` crate) is a loop:
//!
//! ```
//! use rfc2544::{frame::FrameSize, search::{SearchConfig, TrialOutcome}, sweep::Sweep};
//!
//! let cfg = SearchConfig::builder().resolution(0.01).build()?;
//! let mut sweep = Sweep::new(cfg, vec![FrameSize::Fixed(64), FrameSize::Imix])?;
//! while let Some(trial) = sweep.next_trial() {
//!     // Run trial.spec on the ports with trial.size frames; here a DUT that carries 2 Mpps.
//!     let spec = trial.spec;
//!     let d = spec.duration.as_secs_f64();
//!     let sent = (spec.rate_pps.unwrap_or(10e6) * d) as u64;
//!     let received = sent.min((2e6 * d) as u64);
//!     let outcome = TrialOutcome { sent, received, duration_s: d, ..Default::default() };
//!     let progress = sweep.record(spec.id, outcome)?;
//!     let _line = rfc2544::report::progress_line(&progress);
//! }
//! let report = sweep.report(None);
//! let ndr = report.results[0].ndr.as_ref().unwrap();
//! assert!(ndr.rate_pps <= 2e6 && ndr.rate_pps > 2e6 / 1.01);
//! # Ok::<(), rfc2544::Error>(())
//! ```
//!
//! No DPDK, no clock, no `unsafe`: everything here is tested against a simulated DUT
//! (`tests/simulated_dut.rs`).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cli;
mod error;
pub mod frame;
pub mod report;
pub mod search;
pub mod sweep;
pub mod units;

pub use error::Error;
