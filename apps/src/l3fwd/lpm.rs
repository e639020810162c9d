//! Longest-prefix-match routing through DPDK's own `rte_lpm`/`rte_lpm6` (so lookups equal C
//! l3fwd's by construction), sized as C sizes them.

use std::net::{Ipv4Addr, Ipv6Addr};

use dpdk::{Eal, Lpm, Lpm6, LpmError};

use super::rules::LpmRoute;
use crate::sample_args::PortMask;

/// C's `IPV4_L3FWD_LPM_MAX_RULES` and `IPV4_L3FWD_LPM_NUMBER_TBL8S`.
const V4_RULES: u32 = 1024;
const V4_TBL8S: u32 = 1 << 8;
/// C's `IPV6_L3FWD_LPM_MAX_RULES` and `IPV6_L3FWD_LPM_NUMBER_TBL8S`.
const V6_RULES: u32 = 1024;
const V6_TBL8S: u32 = 1 << 16;

/// The IPv4 and IPv6 route tables of LPM mode.
#[derive(Debug)]
pub struct LpmTables {
    pub v4: Lpm,
    pub v6: Lpm6,
}

impl LpmTables {
    /// Creates the tables and installs the routes whose port is enabled (C's "skip unused
    /// ports"); `installed` is told about each route added.
    pub fn new(
        eal: &Eal,
        v4: &[LpmRoute<Ipv4Addr>],
        v6: &[LpmRoute<Ipv6Addr>],
        enabled: PortMask,
        mut installed: impl FnMut(&dyn std::fmt::Display, u16),
    ) -> Result<Self, LpmError> {
        let mut t4 = Lpm::new(eal, "IPV4_L3FWD_LPM", V4_RULES, V4_TBL8S)?;
        for r in v4.iter().filter(|r| enabled.contains(r.port.into())) {
            t4.add(r.prefix, r.depth, r.port.into())?;
            installed(r, r.port.into());
        }
        let mut t6 = Lpm6::new(eal, "IPV6_L3FWD_LPM", V6_RULES, V6_TBL8S)?;
        for r in v6.iter().filter(|r| enabled.contains(r.port.into())) {
            t6.add(r.prefix, r.depth, r.port.into())?;
            installed(r, r.port.into());
        }
        Ok(LpmTables { v4: t4, v6: t6 })
    }
}
