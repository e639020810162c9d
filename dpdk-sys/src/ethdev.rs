//! `struct rte_eth_link` fields by name on every supported DPDK.
//!
//! 24.11 wraps the fields in an anonymous union with `val64` (for atomic reads), so bindgen
//! moves them, and the bitfield getters it generates, into a nested `__bindgen_anon_1` member
//! (`cfg(dpdk_eth_link_union)`). These methods read the same on every series: `link_speed()`
//! everywhere, and on 24.11 also the bitfield getters 22.11's bindings have on `rte_eth_link`
//! itself (`link_status()`, `link_duplex()`, `link_autoneg()`).

use crate::rte_eth_link;

#[cfg(not(dpdk_eth_link_union))]
impl rte_eth_link {
    /// `link_speed` in Mb/s (`RTE_ETH_SPEED_NUM_*`).
    #[inline]
    pub fn link_speed(&self) -> u32 {
        self.link_speed
    }
}

#[cfg(dpdk_eth_link_union)]
impl rte_eth_link {
    #[inline]
    fn fields(&self) -> &crate::rte_eth_link__bindgen_ty_1__bindgen_ty_1 {
        // SAFETY: the union's members are `val64` (a u64) and this struct of a u32 and
        // bitfields in the same 8 bytes; every bit pattern is valid for both.
        unsafe { &self.__bindgen_anon_1.__bindgen_anon_1 }
    }

    /// `link_speed` in Mb/s (`RTE_ETH_SPEED_NUM_*`).
    #[inline]
    pub fn link_speed(&self) -> u32 {
        self.fields().link_speed
    }

    /// `link_status`: `RTE_ETH_LINK_UP` or `RTE_ETH_LINK_DOWN`.
    #[inline]
    pub fn link_status(&self) -> u16 {
        self.fields().link_status()
    }

    /// `link_duplex`: `RTE_ETH_LINK_FULL_DUPLEX` or `RTE_ETH_LINK_HALF_DUPLEX`.
    #[inline]
    pub fn link_duplex(&self) -> u16 {
        self.fields().link_duplex()
    }

    /// `link_autoneg`: `RTE_ETH_LINK_AUTONEG` or `RTE_ETH_LINK_FIXED`.
    #[inline]
    pub fn link_autoneg(&self) -> u16 {
        self.fields().link_autoneg()
    }
}
