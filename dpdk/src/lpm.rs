//! Longest-prefix-match routing tables (`rte_lpm`, `rte_lpm6`), as DPDK's l3fwd uses them.

use std::ffi::CString;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ptr::NonNull;

use crate::eal::Eal;
use crate::error::{Errno, LpmError};
use crate::resources::Registration;

fn table_name(name: &str) -> Result<CString, LpmError> {
    // RTE_LPM_NAMESIZE is 32; the internal memzone name adds a prefix.
    if name.is_empty() || name.len() > 24 {
        return Err(LpmError::InvalidName {
            name: name.to_owned(),
            reason: "must be 1 to 24 bytes",
        });
    }
    CString::new(name).map_err(|_| LpmError::InvalidName {
        name: name.to_owned(),
        reason: "contains a NUL byte",
    })
}

/// An IPv4 LPM table mapping prefixes to 24-bit next hops.
///
/// Lookups are read-only and may run on several lcores at once; changes need `&mut self`.
pub struct Lpm {
    raw: NonNull<dpdk_sys::rte_lpm>,
    name: String,
    _registration: Registration,
}

// SAFETY: the table lives in DPDK shared memory; lookups (&self) only read it, and DPDK documents
// concurrent lookups as safe; mutation requires &mut self.
unsafe impl Send for Lpm {}
// SAFETY: see above.
unsafe impl Sync for Lpm {}

impl Lpm {
    /// Creates a table for up to `max_rules` routes with `tbl8s` second-level groups (for
    /// prefixes longer than /24).
    pub fn new(_eal: &Eal, name: &str, max_rules: u32, tbl8s: u32) -> Result<Self, LpmError> {
        let c_name = table_name(name)?;
        let config = dpdk_sys::rte_lpm_config {
            max_rules,
            number_tbl8s: tbl8s,
            flags: 0,
        };
        // SAFETY: EAL initialised; valid name and config, both copied by DPDK.
        let raw = unsafe {
            dpdk_sys::rte_lpm_create(c_name.as_ptr(), dpdk_sys::rte_socket_id() as i32, &config)
        };
        let raw = NonNull::new(raw).ok_or_else(|| LpmError::Create {
            name: name.to_owned(),
            errno: Errno::last(),
        })?;
        Ok(Lpm {
            raw,
            name: name.to_owned(),
            _registration: Registration::new(),
        })
    }

    /// Adds (or replaces) a route.
    pub fn add(&mut self, prefix: Ipv4Addr, depth: u8, next_hop: u32) -> Result<(), LpmError> {
        // SAFETY: valid table, exclusive access through &mut self.
        let ret =
            unsafe { dpdk_sys::rte_lpm_add(self.raw.as_ptr(), u32::from(prefix), depth, next_hop) };
        if ret < 0 {
            return Err(LpmError::Add {
                name: self.name.clone(),
                route: format!("{prefix}/{depth} -> {next_hop}"),
                errno: Errno::from_ret(ret),
            });
        }
        Ok(())
    }

    /// The next hop of the longest matching prefix, if any.
    ///
    /// This is `rte_lpm_lookup` (a `static inline` C function) written out, so that it inlines
    /// into per-packet loops: the same table memory read the same way gives the same answers.
    #[inline]
    pub fn lookup(&self, addr: u32) -> Option<u32> {
        let lpm = self.raw.as_ptr();
        // SAFETY: `lpm` is a valid table for as long as `self` lives and nothing mutates it
        // through &self. `addr >> 8` is below 2^24, the tbl24 length. rte_lpm_tbl_entry is a
        // 32-bit bitfield (next_hop:24, valid:1, valid_group:1, depth:6) read as the u32 that
        // rte_lpm_lookup reads.
        let mut entry = unsafe {
            *std::ptr::addr_of!((*lpm).tbl24)
                .cast::<u32>()
                .add((addr >> 8) as usize)
        };
        if entry & dpdk_sys::RTE_LPM_VALID_EXT_ENTRY_BITMASK
            == dpdk_sys::RTE_LPM_VALID_EXT_ENTRY_BITMASK
        {
            let group = (entry & 0x00ff_ffff) as usize;
            let index =
                usize::from(addr as u8) + group * dpdk_sys::RTE_LPM_TBL8_GROUP_NUM_ENTRIES as usize;
            // SAFETY: a valid extended tbl24 entry holds the index of an allocated tbl8 group
            // of RTE_LPM_TBL8_GROUP_NUM_ENTRIES entries (rte_lpm's invariant), and the low
            // byte of the address selects one of them.
            entry = unsafe { *(*lpm).tbl8.cast::<u32>().add(index) };
        }
        (entry & dpdk_sys::RTE_LPM_LOOKUP_SUCCESS != 0).then_some(entry & 0x00ff_ffff)
    }
}

impl Drop for Lpm {
    fn drop(&mut self) {
        // SAFETY: we own the table and no borrow of it remains.
        unsafe { dpdk_sys::rte_lpm_free(self.raw.as_ptr()) }
    }
}

impl fmt::Debug for Lpm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lpm").field("name", &self.name).finish()
    }
}

/// An IPv6 LPM table mapping prefixes to 21-bit next hops.
pub struct Lpm6 {
    raw: NonNull<dpdk_sys::rte_lpm6>,
    name: String,
    _registration: Registration,
}

// SAFETY: as for Lpm.
unsafe impl Send for Lpm6 {}
// SAFETY: as for Lpm.
unsafe impl Sync for Lpm6 {}

impl Lpm6 {
    /// Creates a table for up to `max_rules` routes with `tbl8s` groups.
    pub fn new(_eal: &Eal, name: &str, max_rules: u32, tbl8s: u32) -> Result<Self, LpmError> {
        let c_name = table_name(name)?;
        let config = dpdk_sys::rte_lpm6_config {
            max_rules,
            number_tbl8s: tbl8s,
            flags: 0,
        };
        // SAFETY: EAL initialised; valid name and config, both copied by DPDK.
        let raw = unsafe {
            dpdk_sys::rte_lpm6_create(c_name.as_ptr(), dpdk_sys::rte_socket_id() as i32, &config)
        };
        let raw = NonNull::new(raw).ok_or_else(|| LpmError::Create {
            name: name.to_owned(),
            errno: Errno::last(),
        })?;
        Ok(Lpm6 {
            raw,
            name: name.to_owned(),
            _registration: Registration::new(),
        })
    }

    /// Adds (or replaces) a route.
    pub fn add(&mut self, prefix: Ipv6Addr, depth: u8, next_hop: u32) -> Result<(), LpmError> {
        let octets = prefix.octets();
        // 22.11 takes `const uint8_t *ip`, 24.11 `const struct rte_ipv6_addr *` (`uint8_t a[16]`,
        // align 1): the same 16 bytes either way.
        let ip = octets.as_ptr().cast();
        // SAFETY: valid table, exclusive access; `ip` points to 16 readable bytes.
        let ret = unsafe { dpdk_sys::rte_lpm6_add(self.raw.as_ptr(), ip, depth, next_hop) };
        if ret < 0 {
            return Err(LpmError::Add {
                name: self.name.clone(),
                route: format!("{prefix}/{depth} -> {next_hop}"),
                errno: Errno::from_ret(ret),
            });
        }
        Ok(())
    }

    /// The next hop of the longest matching prefix, if any.
    #[inline]
    pub fn lookup(&self, addr: &[u8; 16]) -> Option<u32> {
        let mut hop = 0u32;
        // SAFETY: valid table (read-only, thread-safe lookups), 16-byte address (as in `add`),
        // writable hop.
        let ret =
            unsafe { dpdk_sys::rte_lpm6_lookup(self.raw.as_ptr(), addr.as_ptr().cast(), &mut hop) };
        (ret == 0).then_some(hop)
    }
}

impl Drop for Lpm6 {
    fn drop(&mut self) {
        // SAFETY: we own the table and no borrow of it remains.
        unsafe { dpdk_sys::rte_lpm6_free(self.raw.as_ptr()) }
    }
}

impl fmt::Debug for Lpm6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lpm6").field("name", &self.name).finish()
    }
}
