//! Which CPU each process of the simulation runs on, and how the pollers give CPUs away.
//!
//! Every process busy-polls, and two pollers that feed each other on one CPU starve each other:
//! the scheduler lets one fill a 256-entry ring and then spin uselessly until its slice ends
//! (measured on 2 cores: generator and relay sharing a CPU moved about 40 kpps). So each
//! process that can sleep when it has nothing to do does (`--idle-sleep-us`), and the pods are
//! kept apart:
//!
//! * 3 or more CPUs: relay, generator and receivers each on their own CPU (a forwarder pod gets
//!   the fourth if there is one, else shares with the sink, both sleeping when idle).
//! * 2 CPUs: generator on the first, sink and relay on the second: the relay and the sink both
//!   sleep when idle, so they hand the CPU to each other at every empty round, while the
//!   generator paces on a CPU of its own. A forwarder pod joins the generator: both sleep
//!   when idle, and the relay's CPU already carries every frame twice.
//! * 1 CPU: everything on it, all sleeping when idle.
//!
//! The pods learn their CPUs as in Kubernetes, from their affinity (`taskset -c`), and plan
//! their lcores from it.

use std::fmt;

/// What a pod does in the traffic test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends (testpmd txonly).
    Generator,
    /// Forwards between networks (l2fwd, l3fwd) in the demo's forwarder topology.
    Forwarder,
    /// Receives and counts (testpmd rxonly).
    Sink,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Generator => "generator",
            Role::Forwarder => "forwarder",
            Role::Sink => "sink",
        })
    }
}

/// Microseconds an idle poller sleeps: short enough that a 256-entry ring does not overflow at
/// the paced rates while the other side sleeps, long enough to yield the CPU.
pub const IDLE_SLEEP_US: u32 = 20;

/// CPUs and idle sleeps of every process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub relay_cpu: u32,
    /// `--idle-sleep-us` of the relay (0: busy-poll).
    pub relay_idle_sleep_us: u32,
    /// Per role, the CPU its pods are pinned to and their `--idle-sleep-us`.
    pub generator: (u32, u32),
    pub forwarder: (u32, u32),
    pub sink: (u32, u32),
}

impl Placement {
    /// The placement for the CPUs this process may use.
    pub fn for_cpus(cpus: &[u32]) -> Placement {
        let cpu = |i: usize| {
            cpus.get(i)
                .copied()
                .unwrap_or(cpus.first().copied().unwrap_or(0))
        };
        let s = IDLE_SLEEP_US;
        match cpus.len() {
            0 | 1 => Placement {
                relay_cpu: cpu(0),
                relay_idle_sleep_us: s,
                generator: (cpu(0), s),
                forwarder: (cpu(0), s),
                sink: (cpu(0), s),
            },
            2 => Placement {
                relay_cpu: cpu(1),
                relay_idle_sleep_us: s,
                generator: (cpu(0), s),
                forwarder: (cpu(0), s),
                sink: (cpu(1), s),
            },
            n => Placement {
                relay_cpu: cpu(0),
                relay_idle_sleep_us: 0,
                generator: (cpu(1), 0),
                forwarder: if n > 3 { (cpu(3), 0) } else { (cpu(2), s) },
                sink: (cpu(2), s),
            },
        }
    }

    /// The placement for this process's affinity.
    pub fn for_this_machine() -> Placement {
        let cpus = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| netutil::cpus::from_status(&s).ok())
            .unwrap_or_else(|| vec![0]);
        Placement::for_cpus(&cpus)
    }

    /// The CPU and idle sleep of a pod in `role`.
    pub fn of(&self, role: Role) -> (u32, u32) {
        match role {
            Role::Generator => self.generator,
            Role::Forwarder => self.forwarder,
            Role::Sink => self.sink,
        }
    }

    /// One line per process, for logs and reports.
    pub fn describe(&self) -> String {
        let sleep = |us: u32| {
            if us == 0 {
                "busy-polls".to_owned()
            } else {
                format!("sleeps {us} us when idle")
            }
        };
        format!(
            "relay on CPU {} ({}); generator on CPU {} ({}); sink on CPU {} ({})",
            self.relay_cpu,
            sleep(self.relay_idle_sleep_us),
            self.generator.0,
            sleep(self.generator.1),
            self.sink.0,
            sleep(self.sink.1)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_feeding_pollers_apart() {
        let two = Placement::for_cpus(&[0, 1]);
        assert_ne!(two.generator.0, two.sink.0);
        assert_ne!(two.generator.0, two.relay_cpu, "generator paces alone");
        assert!(
            two.relay_idle_sleep_us > 0 && two.sink.1 > 0,
            "sharers yield"
        );
        let four = Placement::for_cpus(&[2, 3, 4, 5]);
        let cpus = [
            four.relay_cpu,
            four.generator.0,
            four.sink.0,
            four.forwarder.0,
        ];
        assert_eq!(cpus, [2, 3, 4, 5]);
        let three = Placement::for_cpus(&[0, 1, 2]);
        assert_eq!(
            three.forwarder,
            (2, IDLE_SLEEP_US),
            "shares with the sink, yielding"
        );
        assert_eq!(three.sink, (2, IDLE_SLEEP_US));
        assert_eq!(Placement::for_cpus(&[7]).of(Role::Sink), (7, IDLE_SLEEP_US));
    }
}
