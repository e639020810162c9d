//! Safe layer over DPDK (in progress).
