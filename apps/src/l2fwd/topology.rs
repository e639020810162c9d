//! Which port forwards to which, and which lcore polls which port: C l2fwd's start-up logic as
//! pure functions of the port mask, the ports the EAL found and the enabled lcores.

use std::collections::BTreeMap;

use crate::sample_args::PortMask;

/// The forwarding plan: every used port with its destination port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairs {
    /// Destination of each used port, keyed (and so ordered) by port id.
    pub dst: BTreeMap<u16, u16>,
    /// An odd number of ports left the last one forwarding to itself.
    pub odd: bool,
}

impl Pairs {
    /// Pairs the ports of `mask` as C l2fwd does: by `portmap` when given (ports of the mask
    /// outside it are unused), else consecutive ports in id order, the last one alone with
    /// itself when their number is odd.
    pub fn new(mask: PortMask, portmap: Option<&[(u16, u16)]>) -> Self {
        let mut dst = BTreeMap::new();
        let mut odd = false;
        match portmap {
            Some(pairs) => {
                for &(a, b) in pairs {
                    dst.insert(a, b);
                    dst.insert(b, a);
                }
            }
            None => {
                let ports: Vec<u16> = mask.ports().collect();
                for pair in ports.chunks(2) {
                    match *pair {
                        [a, b] => {
                            dst.insert(a, b);
                            dst.insert(b, a);
                        }
                        [last] => {
                            dst.insert(last, last);
                            odd = true;
                        }
                        _ => unreachable!("chunks(2) yields one or two ports"),
                    }
                }
            }
        }
        Pairs { dst, odd }
    }

    /// The used ports, in id order.
    pub fn ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.dst.keys().copied()
    }
}

/// The RX ports each lcore polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// `(lcore, RX ports)` for lcores with work, in lcore order.
    pub lcores: Vec<(u32, Vec<u16>)>,
    /// Some lcore polls more than `-q` ports because there were not enough lcores.
    pub overcommitted: bool,
}

/// Gives each of `lcores` (sorted) up to `per_lcore` of `ports`, in order, as C l2fwd does;
/// ports left over when the lcores run out go round-robin to the lcores (where C l2fwd exits
/// with "Not enough cores").
pub fn assign(ports: &[u16], lcores: &[u32], per_lcore: usize) -> Assignment {
    let mut out: Vec<(u32, Vec<u16>)> = lcores.iter().map(|&l| (l, Vec::new())).collect();
    let capacity = lcores.len() * per_lcore;
    for (i, &port) in ports.iter().enumerate() {
        let slot = if i < capacity {
            i / per_lcore
        } else {
            (i - capacity) % lcores.len()
        };
        out[slot].1.push(port);
    }
    out.retain(|(_, p)| !p.is_empty());
    Assignment {
        lcores: out,
        overcommitted: ports.len() > capacity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dst(p: &Pairs) -> Vec<(u16, u16)> {
        p.dst.iter().map(|(&a, &b)| (a, b)).collect()
    }

    #[test]
    fn consecutive_pairs() {
        let p = Pairs::new(PortMask(0b1111), None);
        assert_eq!(dst(&p), [(0, 1), (1, 0), (2, 3), (3, 2)]);
        assert!(!p.odd);
        let p = Pairs::new(PortMask(0b10110), None);
        assert_eq!(dst(&p), [(1, 2), (2, 1), (4, 4)]);
        assert!(p.odd);
        let p = Pairs::new(PortMask(0b1), None);
        assert_eq!(dst(&p), [(0, 0)]);
    }

    #[test]
    fn portmap_pairs() {
        let p = Pairs::new(PortMask(0b1111), Some(&[(0, 3), (2, 1)]));
        assert_eq!(dst(&p), [(0, 3), (1, 2), (2, 1), (3, 0)]);
        let p = Pairs::new(PortMask(0b111), Some(&[(2, 2)]));
        assert_eq!(dst(&p), [(2, 2)]);
        assert_eq!(p.ports().collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn lcore_assignment() {
        let a = assign(&[0, 1, 2, 3], &[0, 1, 2, 3], 1);
        assert_eq!(
            a.lcores,
            [(0, vec![0]), (1, vec![1]), (2, vec![2]), (3, vec![3])]
        );
        assert!(!a.overcommitted);
        let a = assign(&[0, 1, 2], &[1, 4], 2);
        assert_eq!(a.lcores, [(1, vec![0, 1]), (4, vec![2])]);
        // The pod case: one lcore, two ports, -q 1.
        let a = assign(&[0, 1], &[1], 1);
        assert_eq!(a.lcores, [(1, vec![0, 1])]);
        assert!(a.overcommitted);
        let a = assign(&[0, 1, 2, 3, 4], &[0, 1], 2);
        assert_eq!(a.lcores, [(0, vec![0, 1, 4]), (1, vec![2, 3])]);
    }
}
