//! Each port's MAC as DPDK reads it back from the device, next to the MAC the pod's
//! network-status announced for it.
//!
//! Why: on vhost-vdpa the two can differ, and nothing else says so. The pod entrypoint passes the
//! network-status MAC to virtio_user as `mac=`; virtio_user tries to set it, reads the device's
//! back and keeps that one, logging only "Device MAC update failed" at INFO. mlx5_vdpa cannot
//! change its MAC after `vdpa dev add` (its `set_config` is a stub), and sriov-cni applies the
//! annotation's MAC to the VF's admin MAC, not to the vDPA device. A generator aiming at the
//! network-status MAC then sends to an address that nobody owns, and the sink sees nothing.
//!
//! The entrypoint records what network-status says ([`set_expected`]) before it runs the app
//! in-process; each engine calls [`check`] for every port it starts. Run directly (no
//! entrypoint), there is nothing to compare and [`check`] stays silent.

use std::sync::OnceLock;

use dpdk::MacAddr;

/// What network-status says about one DPDK port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The DPDK port id (the entrypoint's port order).
    pub port: u16,
    /// The pod interface and network, for the log (`net1 (default/vdpa-net)`).
    pub interface: String,
    /// The network-status MAC, if it had a valid one.
    pub mac: Option<MacAddr>,
}

static EXPECTED: OnceLock<Vec<Expected>> = OnceLock::new();

/// Records the network-status MACs of this process's ports (once; later calls are ignored).
pub fn set_expected(ports: Vec<Expected>) {
    let _ = EXPECTED.set(ports);
}

/// How a port's device MAC compares with network-status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing recorded for this port.
    Unknown,
    /// The device has the network-status MAC.
    Match,
    /// The device has another MAC: frames sent to the network-status MAC will not arrive.
    Mismatch { network_status: MacAddr },
}

/// Compares `device` (what DPDK reads back for `port`) with network-status, logs the result
/// (a mismatch as a warning saying what it means and what to do) and returns it.
pub fn check(port: u16, device: MacAddr) -> Verdict {
    let Some(e) = EXPECTED
        .get()
        .and_then(|v| v.iter().find(|e| e.port == port))
    else {
        return Verdict::Unknown;
    };
    let Some(ns) = e.mac else {
        eprintln!(
            "Port {port} ({}): device MAC {device}; network-status gives no MAC",
            e.interface
        );
        return Verdict::Unknown;
    };
    let verdict = compare(device, ns);
    match &verdict {
        Verdict::Match => eprintln!(
            "Port {port} ({}): device MAC {device}, network-status MAC {ns}: they match",
            e.interface
        ),
        _ => eprintln!("WARNING: {}", mismatch_text(port, &e.interface, device, ns)),
    }
    verdict
}

fn compare(device: MacAddr, ns: MacAddr) -> Verdict {
    if device == ns {
        Verdict::Match
    } else {
        Verdict::Mismatch { network_status: ns }
    }
}

/// The warning for a port whose device does not own its network-status MAC.
pub fn mismatch_text(port: u16, interface: &str, device: MacAddr, ns: MacAddr) -> String {
    format!(
        "Port {port} ({interface}): the device owns MAC {device}, but network-status says {ns}. \
         The device kept its own MAC (vhost-vdpa devices such as mlx5_vdpa cannot take the one \
         the CNI asked for; the CNI set it on the VF instead), so frames sent to {ns} will not \
         reach this port. Generators should learn this port's MAC (--eth-peer=P,auto on the \
         generator, --announce here) or be given {device}; or create the vDPA device with the \
         wanted MAC on the node (vdpa dev add ... mac {ns}) or use a CNI that sets it on the \
         vDPA device (ovs-cni, docs/kubernetes.md)."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_says_what_and_what_to_do() {
        let (dev, ns) = (
            MacAddr([2, 0x0d, 0xee, 0, 1, 0]),
            MacAddr([0x0c, 0xfe, 0xc0, 0xff, 0xee, 0x10]),
        );
        assert_eq!(compare(ns, ns), Verdict::Match);
        assert_eq!(compare(dev, ns), Verdict::Mismatch { network_status: ns });
        let t = mismatch_text(0, "net1", dev, ns);
        for needle in [
            "02:0d:ee:00:01:00",
            "0c:fe:c0:ff:ee:10",
            "--eth-peer=p,auto",
            "--announce",
            "vdpa dev add",
        ] {
            assert!(t.to_ascii_lowercase().contains(needle), "{needle}: {t}");
        }
        assert_eq!(check(7, dev), Verdict::Unknown, "nothing recorded");
    }
}
