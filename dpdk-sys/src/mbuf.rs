//! `struct rte_mbuf` fields by name on every supported DPDK.
//!
//! 22.11 and 23.11 declare `data_off`, `nb_segs`, `port`, `pkt_len`, `data_len` and `buf_len`
//! directly in `struct rte_mbuf` (between zero-size `RTE_MARKER`s); 24.11 groups them in
//! anonymous unions with `rearm_data` and `rx_descriptor_fields1`, which bindgen turns into
//! nested `__bindgen_anon_*` members (`cfg(dpdk_mbuf_unions)`). The offsets did not change
//! (asserted in lib.rs), only the path to each field. These accessors give the safe layer one
//! spelling for both.

use crate::rte_mbuf;

#[cfg(not(dpdk_mbuf_unions))]
mod groups {
    use crate::rte_mbuf;

    /// The fields rearmed on RX (`data_off`, `refcnt`, `nb_segs`, `port`).
    pub(super) type Rearm = rte_mbuf;
    /// The fields set on RX from the descriptor (`packet_type` .. `buf_len`).
    pub(super) type RxFields = rte_mbuf;

    #[inline(always)]
    pub(super) fn rearm(m: &rte_mbuf) -> &Rearm {
        m
    }
    #[inline(always)]
    pub(super) fn rearm_mut(m: &mut rte_mbuf) -> &mut Rearm {
        m
    }
    #[inline(always)]
    pub(super) fn rx(m: &rte_mbuf) -> &RxFields {
        m
    }
    #[inline(always)]
    pub(super) fn rx_mut(m: &mut rte_mbuf) -> &mut RxFields {
        m
    }
}

#[cfg(dpdk_mbuf_unions)]
mod groups {
    use crate::{
        rte_mbuf, rte_mbuf__bindgen_ty_1__bindgen_ty_1, rte_mbuf__bindgen_ty_2__bindgen_ty_1,
    };

    pub(super) type Rearm = rte_mbuf__bindgen_ty_1__bindgen_ty_1;
    pub(super) type RxFields = rte_mbuf__bindgen_ty_2__bindgen_ty_1;

    // SAFETY (all four): each union has two members covering the same 8 or 24 bytes, an
    // integer array (`rearm_data`, `rx_descriptor_fields1`) and a struct of plain integers and
    // integer unions; every bit pattern is valid for both, so viewing the bytes as the struct
    // is sound, and the borrow follows the borrow of the mbuf.
    #[inline(always)]
    pub(super) fn rearm(m: &rte_mbuf) -> &Rearm {
        // SAFETY: see above.
        unsafe { &m.__bindgen_anon_1.__bindgen_anon_1 }
    }
    #[inline(always)]
    pub(super) fn rearm_mut(m: &mut rte_mbuf) -> &mut Rearm {
        // SAFETY: see above.
        unsafe { &mut m.__bindgen_anon_1.__bindgen_anon_1 }
    }
    #[inline(always)]
    pub(super) fn rx(m: &rte_mbuf) -> &RxFields {
        // SAFETY: see above.
        unsafe { &m.__bindgen_anon_2.__bindgen_anon_1 }
    }
    #[inline(always)]
    pub(super) fn rx_mut(m: &mut rte_mbuf) -> &mut RxFields {
        // SAFETY: see above.
        unsafe { &mut m.__bindgen_anon_2.__bindgen_anon_1 }
    }
}

macro_rules! fields {
    ($($(#[$doc:meta])* $name:ident, $name_mut:ident: $ty:ty, $group:ident, $group_mut:ident;)*) => {
        impl rte_mbuf {
            $(
                $(#[$doc])*
                #[inline(always)]
                pub fn $name(&self) -> $ty {
                    groups::$group(self).$name
                }
                $(#[$doc])*
                #[inline(always)]
                pub fn $name_mut(&mut self) -> &mut $ty {
                    &mut groups::$group_mut(self).$name
                }
            )*
        }
    };
}

fields! {
    /// `data_off`: where the data starts in the segment buffer.
    data_off, data_off_mut: u16, rearm, rearm_mut;
    /// `nb_segs`: segments in the chain (valid in the first one).
    nb_segs, nb_segs_mut: u16, rearm, rearm_mut;
    /// `port`: the input port.
    port, port_mut: u16, rearm, rearm_mut;
    /// `pkt_len`: total length over all segments.
    pkt_len, pkt_len_mut: u32, rx, rx_mut;
    /// `data_len`: data in this segment.
    data_len, data_len_mut: u16, rx, rx_mut;
    /// `buf_len`: size of the segment buffer.
    buf_len, buf_len_mut: u16, rx, rx_mut;
}

impl rte_mbuf {
    /// `packet_type`: the PMD's `RTE_PTYPE_*` classification.
    #[inline(always)]
    pub fn packet_type(&self) -> u32 {
        // SAFETY: `packet_type` shares its union with bitfields of the same four bytes; every
        // bit pattern is a valid u32.
        unsafe { groups::rx(self).__bindgen_anon_1.packet_type }
    }
}
