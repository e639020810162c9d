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
    #[inline]
    pub fn lookup(&self, addr: u32) -> Option<u32> {
        let mut hop = 0u32;
        // SAFETY: valid table; lookups are read-only and thread-safe; `hop` is writable.
        let ret = unsafe { dpdk_sys::shim_rte_lpm_lookup(self.raw.as_ptr(), addr, &mut hop) };
        (ret == 0).then_some(hop)
    }

    /// Looks up every address of `addrs` in one call (`rte_lpm_lookup_bulk`): `hops[i]`
    /// becomes the next hop of `addrs[i]`, or `default` when no prefix matches (as
    /// `rte_lpm_lookupx4` reports misses). Only the first `min(addrs.len(), hops.len())`
    /// entries are looked up.
    #[inline]
    pub fn lookup_bulk(&self, addrs: &[u32], hops: &mut [u32], default: u32) {
        let n = addrs.len().min(hops.len());
        // SAFETY: valid table (read-only, thread-safe lookups); `addrs` has n readable and
        // `hops` n writable entries.
        unsafe {
            dpdk_sys::shim_rte_lpm_lookup_bulk(
                self.raw.as_ptr(),
                addrs.as_ptr(),
                hops.as_mut_ptr(),
                n as u32,
            )
        };
        for hop in &mut hops[..n] {
            *hop = if *hop & dpdk_sys::RTE_LPM_LOOKUP_SUCCESS != 0 {
                *hop & 0x00ff_ffff
            } else {
                default
            };
        }
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
        // SAFETY: valid table, exclusive access; `octets` is 16 readable bytes.
        let ret =
            unsafe { dpdk_sys::rte_lpm6_add(self.raw.as_ptr(), octets.as_ptr(), depth, next_hop) };
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
        // SAFETY: valid table (read-only, thread-safe lookups), 16-byte address, writable hop.
        let ret = unsafe { dpdk_sys::rte_lpm6_lookup(self.raw.as_ptr(), addr.as_ptr(), &mut hop) };
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
