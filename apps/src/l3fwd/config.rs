//! `--config="(port,queue,lcore)[,...]"`: which lcore polls which RX queue of which port, and
//! the checks C l3fwd makes on it (`check_lcore_params`, `check_port_config`,
//! `get_port_n_rx_queues`, `init_lcore_rx_queues`).

use std::collections::BTreeMap;

use thiserror::Error;

use crate::sample_args::{parse_tuples, PortMask, SampleArgError};

/// C's `MAX_RX_QUEUE_PER_PORT`.
const MAX_RX_QUEUE_PER_PORT: u16 = 128;
/// C's `MAX_RX_QUEUE_PER_LCORE`.
const MAX_RX_QUEUE_PER_LCORE: usize = 16;

/// One `(port,queue,lcore)` tuple: lcore `lcore` polls RX queue `queue` of port `port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LcoreParam {
    pub port: u16,
    pub queue: u16,
    pub lcore: u32,
}

/// The configuration C l3fwd uses without `--config` (`lcore_params_array_default`).
pub const DEFAULT: [LcoreParam; 9] = {
    const fn p(port: u16, queue: u16, lcore: u32) -> LcoreParam {
        LcoreParam { port, queue, lcore }
    }
    [
        p(0, 0, 2),
        p(0, 1, 2),
        p(0, 2, 2),
        p(1, 0, 2),
        p(1, 1, 2),
        p(1, 2, 2),
        p(2, 0, 2),
        p(3, 0, 3),
        p(3, 1, 3),
    ]
};

/// A `--config` that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error(transparent)]
    Syntax(#[from] SampleArgError),
    #[error("invalid queue number: {0} (at most {max})", max = MAX_RX_QUEUE_PER_PORT - 1)]
    Queue(u16),
    #[error("port {0} is not enabled in port mask {1}")]
    PortNotEnabled(u16, PortMask),
    #[error("queue ids of the port {0} must be in sequence and must start with 0")]
    QueueSequence(u16),
    #[error("too many queues ({count}) for lcore: {lcore} (at most {MAX_RX_QUEUE_PER_LCORE})")]
    LcoreQueues { lcore: u32, count: usize },
}

/// Parses the tuples of `--config` (ports 0..31, queues 0..1023, lcores 0..127 as in C).
pub fn parse(value: &str) -> Result<Vec<LcoreParam>, ConfigError> {
    let tuples = parse_tuples("--config", value, [31, 1023, 127])?;
    Ok(tuples
        .into_iter()
        .map(|[port, queue, lcore]| LcoreParam {
            port: port as u16,
            queue: queue as u16,
            lcore: lcore as u32,
        })
        .collect())
}

/// The queue layout a valid `--config` describes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    /// RX queues of each port that has any.
    pub rx_queues: BTreeMap<u16, u16>,
    /// `(port, queue)` pairs each lcore polls, in `--config` order.
    pub lcores: BTreeMap<u32, Vec<(u16, u16)>>,
}

/// Checks `params` against the port mask, as C does before touching a device: queue ids below
/// 128 and, per port, `0, 1, 2, ...` in order of appearance; ports enabled; at most 16 queues
/// per lcore. Whether the lcores and ports exist is checked once the EAL runs.
pub fn layout(params: &[LcoreParam], mask: PortMask) -> Result<Layout, ConfigError> {
    let mut layout = Layout::default();
    for p in params {
        if p.queue >= MAX_RX_QUEUE_PER_PORT {
            return Err(ConfigError::Queue(p.queue));
        }
        if !mask.contains(p.port) {
            return Err(ConfigError::PortNotEnabled(p.port, mask));
        }
        let next = layout.rx_queues.entry(p.port).or_insert(0);
        if p.queue != *next {
            return Err(ConfigError::QueueSequence(p.port));
        }
        *next += 1;
        let queues = layout.lcores.entry(p.lcore).or_default();
        if queues.len() >= MAX_RX_QUEUE_PER_LCORE {
            return Err(ConfigError::LcoreQueues {
                lcore: p.lcore,
                count: queues.len() + 1,
            });
        }
        queues.push((p.port, p.queue));
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lp(port: u16, queue: u16, lcore: u32) -> LcoreParam {
        LcoreParam { port, queue, lcore }
    }

    #[test]
    fn parses_the_pod_config() {
        assert_eq!(
            parse("\"(0,0,1),(1,0,1)\"").unwrap(),
            [lp(0, 0, 1), lp(1, 0, 1)]
        );
        assert!(matches!(parse("(0,0)"), Err(ConfigError::Syntax(_))));
        assert!(matches!(parse("(0,0,128)"), Err(ConfigError::Syntax(_))));
        assert!(matches!(parse("(32,0,1)"), Err(ConfigError::Syntax(_))));
    }

    #[test]
    fn layouts() {
        let l = layout(&parse("(0,0,1),(1,0,1),(0,1,2)").unwrap(), PortMask(3)).unwrap();
        assert_eq!(l.rx_queues, BTreeMap::from([(0, 2), (1, 1)]));
        assert_eq!(
            l.lcores,
            BTreeMap::from([(1, vec![(0, 0), (1, 0)]), (2, vec![(0, 1)])])
        );
        let l = layout(&DEFAULT, PortMask(0xf)).unwrap();
        assert_eq!(
            l.rx_queues,
            BTreeMap::from([(0, 3), (1, 3), (2, 1), (3, 2)])
        );
        assert_eq!(l.lcores[&2].len(), 7);
    }

    #[test]
    fn layout_errors() {
        let err = |s: &str, mask| layout(&parse(s).unwrap(), PortMask(mask)).unwrap_err();
        assert_eq!(
            err("(0,0,1),(1,0,1)", 1),
            ConfigError::PortNotEnabled(1, PortMask(1))
        );
        assert_eq!(err("(0,1,1)", 1), ConfigError::QueueSequence(0));
        assert_eq!(err("(0,0,1),(0,0,2)", 1), ConfigError::QueueSequence(0));
        assert_eq!(err("(0,128,1)", 1), ConfigError::Queue(128));
        let many: Vec<String> = (0..17).map(|q| format!("(0,{q},1)")).collect();
        assert_eq!(
            err(&many.join(","), 1),
            ConfigError::LcoreQueues {
                lcore: 1,
                count: 17
            }
        );
        assert_eq!(
            layout(&DEFAULT, PortMask(3)).unwrap_err(),
            ConfigError::PortNotEnabled(2, PortMask(3))
        );
    }
}
