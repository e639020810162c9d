//! Owned packet buffers.

use std::fmt;
use std::ptr::NonNull;

use dpdk_sys::rte_mbuf;

/// Packet type values (`RTE_PTYPE_*`) as found in [`Mbuf::packet_type`] and reported by
/// [`Port::supported_ptypes`](crate::Port::supported_ptypes).
pub mod ptype {
    macro_rules! ptypes {
        ($($name:ident = $sys:ident;)*) => {
            $(#[doc = concat!("`", stringify!($sys), "`")] pub const $name: u32 = dpdk_sys::$sys;)*
        };
    }
    ptypes! {
        UNKNOWN = RTE_PTYPE_UNKNOWN;
        L2_ETHER = RTE_PTYPE_L2_ETHER;
        L3_IPV4 = RTE_PTYPE_L3_IPV4;
        L3_IPV4_EXT = RTE_PTYPE_L3_IPV4_EXT;
        L3_IPV4_EXT_UNKNOWN = RTE_PTYPE_L3_IPV4_EXT_UNKNOWN;
        L3_IPV6 = RTE_PTYPE_L3_IPV6;
        L3_IPV6_EXT = RTE_PTYPE_L3_IPV6_EXT;
        L3_IPV6_EXT_UNKNOWN = RTE_PTYPE_L3_IPV6_EXT_UNKNOWN;
        L3_MASK = RTE_PTYPE_L3_MASK;
        L4_TCP = RTE_PTYPE_L4_TCP;
        L4_UDP = RTE_PTYPE_L4_UDP;
        L4_MASK = RTE_PTYPE_L4_MASK;
        ALL_MASK = RTE_PTYPE_ALL_MASK;
    }
}

/// An owned DPDK packet buffer (`struct rte_mbuf`), possibly a chain of segments.
///
/// It is freed back to its mempool exactly once, when dropped (or handed to a PMD by
/// [`TxQueue::tx`](crate::TxQueue::tx), which then owns it). It is `Send` (mbufs move between
/// lcores) but not `Clone`: there is no shared-data aliasing, so `data_mut` is sound.
///
/// Data accessors cover the first segment ([`data`](Self::data)) or every segment
/// ([`segments`](Self::segments)); headers always sit in the first one.
///
/// A second owner of the same buffer does not compile:
///
/// ```compile_fail
/// fn second_owner(m: &dpdk::Mbuf) -> dpdk::Mbuf {
///     m.clone() // error: `Mbuf` is not `Clone` (this clones the reference)
/// }
/// ```
///
/// Moving it to another thread does:
///
/// ```
/// fn free_there(m: dpdk::Mbuf) {
///     std::thread::spawn(move || drop(m));
/// }
/// ```
#[repr(transparent)]
pub struct Mbuf(NonNull<rte_mbuf>);

// SAFETY: an Mbuf is the unique owner of its rte_mbuf; DPDK mbufs may be used and freed on any
// thread (the mempool put path is thread-safe).
unsafe impl Send for Mbuf {}

impl Mbuf {
    /// Takes ownership of a raw mbuf.
    ///
    /// # Safety
    /// `raw` must be a valid mbuf, not owned by anything else (refcnt 1, not in a ring), with a
    /// consistent segment chain.
    pub(crate) unsafe fn from_raw(raw: NonNull<rte_mbuf>) -> Self {
        Mbuf(raw)
    }

    fn raw(&self) -> &rte_mbuf {
        // SAFETY: we own a valid mbuf (type invariant); shared access through &self.
        unsafe { self.0.as_ref() }
    }

    fn raw_mut(&mut self) -> &mut rte_mbuf {
        // SAFETY: we own a valid mbuf exclusively (type invariant); &mut self.
        unsafe { self.0.as_mut() }
    }

    /// Total packet length over all segments (`pkt_len`).
    #[inline]
    pub fn len(&self) -> usize {
        self.raw().pkt_len() as usize
    }

    /// Whether the packet holds no data.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of segments.
    #[inline]
    pub fn segment_count(&self) -> u16 {
        self.raw().nb_segs()
    }

    /// Input port recorded by the PMD on receive.
    #[inline]
    pub fn port(&self) -> u16 {
        self.raw().port()
    }

    /// The PMD's packet type classification (`RTE_PTYPE_*`), 0 when the PMD does not parse.
    #[inline]
    pub fn packet_type(&self) -> u32 {
        self.raw().packet_type()
    }

    /// Offload flags (`RTE_MBUF_F_*`).
    #[inline]
    pub fn ol_flags(&self) -> u64 {
        self.raw().ol_flags
    }

    /// Free bytes in front of the data in the first segment.
    #[inline]
    pub fn headroom(&self) -> usize {
        self.raw().data_off() as usize
    }

    /// Free bytes after the data in the last segment.
    pub fn tailroom(&self) -> usize {
        let last = self.last_segment();
        // SAFETY: `last` is a valid segment of our chain.
        let m = unsafe { last.as_ref() };
        m.buf_len() as usize - m.data_off() as usize - m.data_len() as usize
    }

    /// The data of the first segment.
    #[inline]
    pub fn data(&self) -> &[u8] {
        let m = self.raw();
        // SAFETY: buf_addr + data_off points to data_len initialised bytes inside the segment's
        // buffer (mbuf invariant); borrowed from &self, so no mutable alias exists.
        unsafe {
            std::slice::from_raw_parts(
                (m.buf_addr as *const u8).add(m.data_off() as usize),
                m.data_len() as usize,
            )
        }
    }

    /// The data of the first segment, writable.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        let m = self.raw_mut();
        // SAFETY: as in `data`; exclusive through &mut self, and the buffer is not shared
        // (refcnt 1: we never create indirect or cloned mbufs).
        unsafe {
            std::slice::from_raw_parts_mut(
                (m.buf_addr as *mut u8).add(m.data_off() as usize),
                m.data_len() as usize,
            )
        }
    }

    /// Every segment's data, in order.
    pub fn segments(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut next = Some(self.0);
        std::iter::from_fn(move || {
            let seg = next?;
            // SAFETY: `seg` is a valid segment of the chain we own; borrowed from &self.
            let m = unsafe { seg.as_ref() };
            next = NonNull::new(m.next);
            // SAFETY: as in `data`, for this segment.
            Some(unsafe {
                std::slice::from_raw_parts(
                    (m.buf_addr as *const u8).add(m.data_off() as usize),
                    m.data_len() as usize,
                )
            })
        })
    }

    /// Copies the whole packet (all segments) into a vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        self.segments().for_each(|s| out.extend_from_slice(s));
        out
    }

    #[inline]
    fn last_segment(&self) -> NonNull<rte_mbuf> {
        let mut seg = self.0;
        // SAFETY: walks the valid chain we own until `next` is NULL.
        while let Some(next) = NonNull::new(unsafe { seg.as_ref() }.next) {
            seg = next;
        }
        seg
    }

    /// Appends `len` bytes at the end of the packet (in the last segment) and returns them.
    /// `None` (packet unchanged) if the last segment lacks tailroom.
    #[inline]
    pub fn append(&mut self, len: usize) -> Option<&mut [u8]> {
        // One walk of the chain (none for the usual single segment) serves both the tailroom
        // check and the update: generators call this once per packet.
        let mut last = self.last_segment();
        let (buf, start) = {
            // SAFETY: `last` is a valid segment we own exclusively (&mut self); this reference
            // ends before the head is borrowed again below (the two may be the same mbuf).
            let m = unsafe { last.as_mut() };
            let start = m.data_off() as usize + m.data_len() as usize;
            if len > m.buf_len() as usize - start {
                return None;
            }
            *m.data_len_mut() += len as u16; // fits: start + len <= buf_len <= u16::MAX
            (m.buf_addr as *mut u8, start)
        };
        *self.raw_mut().pkt_len_mut() += len as u32;
        // SAFETY: [start, start+len) lies within the segment buffer (checked against buf_len)
        // and is exclusively ours for the lifetime of &mut self.
        Some(unsafe { std::slice::from_raw_parts_mut(buf.add(start), len) })
    }

    /// Prepends `len` bytes in front of the data (first segment) and returns them. `None` if the
    /// headroom is too small.
    pub fn prepend(&mut self, len: usize) -> Option<&mut [u8]> {
        if len > self.headroom() {
            return None;
        }
        let m = self.raw_mut();
        *m.data_off_mut() -= len as u16;
        *m.data_len_mut() += len as u16;
        *m.pkt_len_mut() += len as u32;
        Some(&mut self.data_mut()[..len])
    }

    /// Removes `len` bytes from the front of the first segment. `None` if it holds fewer.
    pub fn adj(&mut self, len: usize) -> Option<()> {
        let m = self.raw_mut();
        if len > m.data_len() as usize {
            return None;
        }
        *m.data_off_mut() += len as u16;
        *m.data_len_mut() -= len as u16;
        *m.pkt_len_mut() -= len as u32;
        Some(())
    }

    /// Removes `len` bytes from the end of the last segment. `None` if it holds fewer.
    pub fn trim(&mut self, len: usize) -> Option<()> {
        let mut last = self.last_segment();
        {
            // SAFETY: valid segment we own exclusively; the reference ends before the head is
            // borrowed again (they may be the same mbuf).
            let m = unsafe { last.as_mut() };
            if len > m.data_len() as usize {
                return None;
            }
            *m.data_len_mut() -= len as u16;
        }
        *self.raw_mut().pkt_len_mut() -= len as u32;
        Some(())
    }

    /// Whether every segment comes from `pool` and owns its data (neither indirect nor with
    /// an external buffer): what fast mbuf freeing needs. The first segment's fields share
    /// the cache line a PMD reads anyway; chains are walked.
    #[inline]
    pub(crate) fn fast_free_ok(&self, pool: *mut dpdk_sys::rte_mempool) -> bool {
        const SHARED: u64 = dpdk_sys::RTE_MBUF_F_INDIRECT | dpdk_sys::RTE_MBUF_F_EXTERNAL;
        let ok = |m: &rte_mbuf| m.pool == pool && m.ol_flags & SHARED == 0;
        let head = self.raw();
        if head.nb_segs() <= 1 {
            return ok(head);
        }
        let mut next = Some(self.0);
        while let Some(seg) = next {
            // SAFETY: `seg` is a valid segment of the chain we own; borrowed from &self.
            let m = unsafe { seg.as_ref() };
            if !ok(m) {
                return false;
            }
            next = NonNull::new(m.next);
        }
        true
    }

    /// Appends `tail`'s segments to this packet (`rte_pktmbuf_chain`). On failure (too many
    /// segments) both packets are returned unchanged.
    pub fn chain(self, tail: Mbuf) -> Result<Mbuf, (Mbuf, Mbuf)> {
        // SAFETY: both are valid, distinct mbuf chains we own.
        let ret = unsafe { dpdk_sys::shim_rte_pktmbuf_chain(self.0.as_ptr(), tail.0.as_ptr()) };
        if ret == 0 {
            // The head now owns the tail's segments and frees them with itself.
            std::mem::forget(tail);
            Ok(self)
        } else {
            Err((self, tail))
        }
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // SAFETY: we own the chain; it is freed exactly once, here.
        unsafe { dpdk_sys::shim_rte_pktmbuf_free(self.0.as_ptr()) }
    }
}

/// The first segment's data, so the `packet` crate's views wrap an mbuf directly
/// (`ether::Frame::new_checked(&mbuf)`, `ipv4::Packet::new_unchecked(&mut mbuf)`) with no copy
/// and no separate slice borrow. Frames the engines parse fit one segment (they receive into
/// [`crate::DEFAULT_DATA_ROOM`]-sized buffers); multi-segment data is [`Mbuf::segments`].
///
/// ```no_run
/// # fn f(mbuf: &mut dpdk::Mbuf) -> Result<(), packet::Error> {
/// use packet::ether;
/// let mut frame = ether::Frame::new_checked(mbuf)?;
/// let src = frame.src();
/// frame.set_src(frame.dst());
/// frame.set_dst(src);
/// # Ok(()) }
/// ```
impl AsRef<[u8]> for Mbuf {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.data()
    }
}

/// See the [`AsRef`] impl: the first segment's data, writable.
impl AsMut<[u8]> for Mbuf {
    #[inline]
    fn as_mut(&mut self) -> &mut [u8] {
        self.data_mut()
    }
}

impl fmt::Debug for Mbuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mbuf")
            .field("len", &self.len())
            .field("segments", &self.segment_count())
            .field("port", &self.port())
            .finish()
    }
}
