//! A burst of packets.

use std::fmt;
use std::mem::MaybeUninit;

use dpdk_sys::rte_mbuf;

use crate::mbuf::Mbuf;

/// A fixed-capacity burst of owned packets: what an RX queue fills and a TX queue drains.
///
/// Packets a TX queue did not take stay at the front of the batch, still owned by the caller,
/// who may retry or drop them. Dropping the batch (or [`clear`](Self::clear)) frees what is left
/// with one bulk call. The capacity is fixed at creation, so the fast path never allocates.
pub struct Batch {
    slots: Box<[MaybeUninit<Mbuf>]>,
    len: usize,
}

impl Batch {
    /// A batch for up to `capacity` packets (at most `u16::MAX`, the burst API's limit).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.min(u16::MAX as usize);
        Batch {
            slots: (0..capacity).map(|_| MaybeUninit::uninit()).collect(),
            len: 0,
        }
    }

    /// Packets in the batch.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch holds no packet.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Packets the batch can hold (fixed at creation).
    #[inline]
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Free slots.
    #[inline]
    pub fn spare(&self) -> usize {
        self.capacity() - self.len
    }

    /// Whether no slot is free.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == self.capacity()
    }

    /// Adds a packet at the end; gives it back if the batch is full.
    #[inline]
    pub fn push(&mut self, mbuf: Mbuf) -> Result<(), Mbuf> {
        if self.is_full() {
            return Err(mbuf);
        }
        self.slots[self.len].write(mbuf);
        self.len += 1;
        Ok(())
    }

    /// Removes the last packet.
    pub fn pop(&mut self) -> Option<Mbuf> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: slot `len` was initialised and is now outside the live range, so it is read
        // (moved out) exactly once.
        Some(unsafe { self.slots[self.len].assume_init_read() })
    }

    /// The packets, in order.
    #[inline]
    pub fn as_slice(&self) -> &[Mbuf] {
        // SAFETY: slots [0, len) are initialised; MaybeUninit<Mbuf> has Mbuf's layout.
        unsafe { std::slice::from_raw_parts(self.slots.as_ptr().cast::<Mbuf>(), self.len) }
    }

    /// The packets, in order, mutable.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [Mbuf] {
        // SAFETY: as in `as_slice`, exclusively borrowed.
        unsafe { std::slice::from_raw_parts_mut(self.slots.as_mut_ptr().cast::<Mbuf>(), self.len) }
    }

    /// The packets, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Mbuf> {
        self.as_slice().iter()
    }

    /// The packets, in order, writable.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Mbuf> {
        self.as_mut_slice().iter_mut()
    }

    /// Frees every packet (one bulk call).
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Frees the packets after the first `len`.
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let count = self.len - len;
        self.len = len;
        // SAFETY: slots [len, len+count) are initialised, now outside the live range, and
        // passed to DPDK exactly once; Mbuf is a transparent rte_mbuf pointer.
        unsafe {
            dpdk_sys::rte_pktmbuf_free_bulk(
                self.slots.as_mut_ptr().add(len).cast::<*mut rte_mbuf>(),
                count as u32,
            )
        }
    }

    /// Keeps the packets for which `keep` returns true (in order), frees the others, and
    /// returns how many were freed.
    pub fn retain_mut(&mut self, mut keep: impl FnMut(&mut Mbuf) -> bool) -> usize {
        let len = self.len;
        let mut kept = 0;
        // Consume the live range slot by slot; `self.len` tracks the compacted prefix so that a
        // panic in `keep` leaks the rest instead of double-freeing it.
        self.len = 0;
        for i in 0..len {
            // SAFETY: slot i (i >= kept) is initialised and read exactly once.
            let mut m = unsafe { self.slots[i].assume_init_read() };
            if keep(&mut m) {
                self.slots[kept].write(m);
                kept += 1;
                self.len = kept;
            }
        }
        len - kept
    }

    /// Moves every packet out, in order. Packets the iterator has not yielded when it is dropped
    /// are freed.
    pub fn drain(&mut self) -> Drain<'_> {
        let end = self.len;
        self.len = 0;
        Drain {
            batch: self,
            next: 0,
            end,
        }
    }

    /// Raw slot pointer and free count, for RX bursts writing after the live range.
    pub(crate) fn spare_raw(&mut self) -> (*mut *mut rte_mbuf, u16) {
        let spare = self.spare() as u16;
        // SAFETY: offset `len` is within (or one past) the slot array.
        let ptr = unsafe { self.slots.as_mut_ptr().add(self.len) }.cast::<*mut rte_mbuf>();
        (ptr, spare)
    }

    /// Marks `n` slots after the live range as initialised.
    ///
    /// # Safety
    /// The `n` slots after the live range must hold valid mbufs now owned by this batch.
    pub(crate) unsafe fn commit(&mut self, n: usize) {
        debug_assert!(n <= self.spare());
        self.len += n;
    }

    /// Raw pointer to the live packets and their count, for TX bursts.
    pub(crate) fn live_raw(&mut self) -> (*mut *mut rte_mbuf, u16) {
        (
            self.slots.as_mut_ptr().cast::<*mut rte_mbuf>(),
            self.len.min(u16::MAX as usize) as u16,
        )
    }

    /// Forgets the first `n` packets (ownership passed elsewhere) and moves the rest to the front.
    ///
    /// # Safety
    /// The first `n` packets must have been handed over (e.g. accepted by `rte_eth_tx_burst`).
    pub(crate) unsafe fn consume_front(&mut self, n: usize) {
        debug_assert!(n <= self.len);
        let rest = self.len - n;
        if rest > 0 && n > 0 {
            // SAFETY: both ranges lie within the slot array; `copy` handles overlap. Slots
            // [0, rest) end up holding the unsent packets, each exactly once.
            unsafe { std::ptr::copy(self.slots.as_ptr().add(n), self.slots.as_mut_ptr(), rest) };
        }
        self.len = rest;
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.clear();
    }
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("len", &self.len)
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl Extend<Mbuf> for Batch {
    /// Adds packets until the batch is full; packets beyond capacity are dropped (freed).
    fn extend<T: IntoIterator<Item = Mbuf>>(&mut self, iter: T) {
        for m in iter {
            if self.push(m).is_err() {
                return;
            }
        }
    }
}

/// Iterator returned by [`Batch::drain`].
pub struct Drain<'a> {
    batch: &'a mut Batch,
    next: usize,
    end: usize,
}

impl Iterator for Drain<'_> {
    type Item = Mbuf;

    #[inline]
    fn next(&mut self) -> Option<Mbuf> {
        if self.next == self.end {
            return None;
        }
        // SAFETY: slots [next, end) were live when draining started and each is read once.
        let m = unsafe { self.batch.slots[self.next].assume_init_read() };
        self.next += 1;
        Some(m)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Drain<'_> {}

impl Drop for Drain<'_> {
    fn drop(&mut self) {
        let rest = self.end - self.next;
        if rest > 0 {
            // SAFETY: slots [next, end) are initialised and not yet yielded; freed once here.
            unsafe {
                dpdk_sys::rte_pktmbuf_free_bulk(
                    self.batch
                        .slots
                        .as_mut_ptr()
                        .add(self.next)
                        .cast::<*mut rte_mbuf>(),
                    rest as u32,
                )
            }
        }
    }
}

impl fmt::Debug for Drain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain")
            .field("remaining", &(self.end - self.next))
            .finish()
    }
}
