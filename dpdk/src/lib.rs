//! A safe layer over DPDK 22.11: the EAL, packet mempools, mbufs, bursts, ports with their RX/TX
//! queues, work on lcores and longest-prefix-match tables.
//!
//! The types encode DPDK's usage rules so that misuse does not compile or is reported as an error:
//!
//! * [`Eal`] can be initialised once per process, and is neither `Send` nor `Sync`, so lcore
//!   launches and the final cleanup happen on the main lcore;
//! * an [`Mbuf`] is owned, `Send`, not `Clone`, and freed exactly once when dropped;
//! * a [`Batch`] holds a burst; packets that [`TxQueue::tx`] did not take stay in it;
//! * an [`RxQueue`]/[`TxQueue`] is handed out once per queue, is `Send` but neither `Clone` nor
//!   `Sync`, so one lcore at a time polls it;
//! * a [`Port`] handle can be cloned and shared between threads: its control calls are
//!   serialised per port (DPDK's control path is not thread-safe); the fast path takes no lock;
//! * work runs on worker lcores inside a scope ([`Eal::scope`]) that waits for all of it before
//!   it ends, so jobs may borrow from the caller and no join can happen after the EAL is gone;
//! * mempools, ports and tables are released only when nothing can still point into them, and the
//!   EAL is cleaned up only when they all are.
//!
//! ```no_run
//! use dpdk::{Batch, Eal, Mempool, PortBuilder};
//!
//! let (eal, _app_args) = Eal::init(["app", "--no-huge", "-m", "256", "--vdev=net_ring0"])?;
//! let pool = Mempool::new_pktmbuf(&eal, "pool", 8191, 256, 2048 + 128)?;
//! let mut started = PortBuilder::new(&eal, 0)?.start(&pool)?;
//! let (mut rx, mut tx) = (started.rx.remove(0), started.tx.remove(0));
//! let mut burst = Batch::new(32);
//! pool.alloc_bulk(&mut burst, 32)?;
//! tx.tx(&mut burst);
//! rx.rx(&mut burst);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod batch;
mod eal;
mod error;
mod lcore;
mod lpm;
mod mbuf;
mod memlock;
mod mempool;
mod port;
mod resources;
pub mod telemetry;
pub mod tsc;

pub use batch::{Batch, Drain};
pub use eal::Eal;
pub use error::{EalError, Errno, LcoreError, LpmError, MempoolError, PortError};
pub use lcore::{current_lcore, panic_message, LcoreJoinHandle, LcoreScope};
pub use lpm::{Lpm, Lpm6};
pub use mbuf::{ptype, Mbuf};
pub use memlock::{raise_memlock_limit, MemlockLimits};
pub use mempool::Mempool;
pub use packet::{MacAddr, MacAddrParseError};
pub use port::{
    offload, Link, Port, PortBuilder, PortInfo, PortStats, RxQueue, StartedPort, TxQueue,
};

/// How many ports this DPDK build supports (`RTE_MAX_ETHPORTS`): every port id is below it, so
/// per-port tables indexed by port id can be fixed arrays of this length.
pub const MAX_PORTS: usize = dpdk_sys::RTE_MAX_ETHPORTS as usize;

/// The mbuf data room the C apps use (`RTE_MBUF_DEFAULT_BUF_SIZE`: 2048 bytes of frame after
/// `RTE_PKTMBUF_HEADROOM`), so a standard frame fits one segment as it does in testpmd.
pub const DEFAULT_DATA_ROOM: u16 = dpdk_sys::RTE_MBUF_DEFAULT_BUF_SIZE as u16;
