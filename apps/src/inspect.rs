//! `dpdk-app ports [EAL args]`: what the EAL made of the given devices, without forwarding.
//!
//! In a pod this answers "did the vDPA device probe, with which MAC and link?" before an app is
//! blamed; it starts each port to read the link, then closes it.

use dpdk::{Eal, EalError, Mempool, MempoolError, PortBuilder, PortError};

/// Errors of the port inspection.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(transparent)]
    Eal(#[from] EalError),
    #[error(transparent)]
    Mempool(#[from] MempoolError),
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("the EAL found no ports: check the --vdev / -a arguments and the device paths")]
    NoPorts,
}

/// Initialises the EAL from `eal_args`, starts every port and prints one line per port.
pub fn run(eal_args: &[String]) -> Result<(), InspectError> {
    let argv = std::iter::once("dpdk-app").chain(eal_args.iter().map(String::as_str));
    let (eal, _) = Eal::init(argv)?;
    println!("{}", Eal::version());
    let ports = eal.port_ids();
    if ports.is_empty() {
        return Err(InspectError::NoPorts);
    }
    let pool = Mempool::new_pktmbuf(
        &eal,
        "inspect_pool",
        1023 * ports.len() as u32 + 1023,
        32,
        dpdk::DEFAULT_DATA_ROOM,
    )?;
    for id in ports {
        let builder = PortBuilder::new(&eal, id)?;
        let info = builder.info().clone();
        let started = builder.start(&pool)?;
        let link = started.port.link()?;
        println!(
            "port {id}: name={} driver={} mac={} link={} speed={}Mbps max_rxq={} max_txq={} rx_offload_capa={:#x} tx_offload_capa={:#x}",
            info.name,
            info.driver,
            started.port.mac_addr()?,
            if link.up { "up" } else { "down" },
            link.speed_mbps,
            info.max_rx_queues,
            info.max_tx_queues,
            info.rx_offload_capa,
            info.tx_offload_capa,
        );
    }
    Ok(())
}
