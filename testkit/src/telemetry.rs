//! A client of DPDK's telemetry socket (`/var/run/dpdk/<file-prefix>/dpdk_telemetry.v2`),
//! which every DPDK process serves, C or ours: the one way to read the port counters of both
//! identically, at the moments we choose, without touching their command lines or output.
//!
//! The socket is `SOCK_SEQPACKET`: on connect the server sends one JSON object describing
//! itself; then each command (e.g. `/ethdev/stats,0`) is answered by one JSON object
//! `{"<command>": <value>}`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::fd::OwnedFd;
use rustix::net::{self, AddressFamily, RecvFlags, SendFlags, SocketAddrUnix, SocketType};
use serde_json::Value;

/// How long a command may take to be answered.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// DPDK's default `max_output_len`; answers are never longer.
const MAX_REPLY: usize = 16 * 1024;

/// Why telemetry could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("telemetry socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("telemetry {command}: unexpected answer {answer}")]
    Answer { command: String, answer: String },
}

/// The socket path of the process started with `--file-prefix=<prefix>`.
pub fn socket_path(prefix: &str) -> PathBuf {
    Path::new("/var/run/dpdk")
        .join(prefix)
        .join("dpdk_telemetry.v2")
}

/// A connection to one process's telemetry.
#[derive(Debug)]
pub struct Telemetry {
    fd: OwnedFd,
    path: PathBuf,
}

impl Telemetry {
    /// Connects and reads the server's greeting.
    pub fn connect(path: &Path) -> Result<Self, TelemetryError> {
        let io = |source: rustix::io::Errno| TelemetryError::Io {
            path: path.to_owned(),
            source: source.into(),
        };
        let fd = net::socket(AddressFamily::UNIX, SocketType::SEQPACKET, None).map_err(io)?;
        let addr = SocketAddrUnix::new(path).map_err(io)?;
        net::connect(&fd, &addr).map_err(io)?;
        net::sockopt::set_socket_timeout(&fd, net::sockopt::Timeout::Recv, Some(REPLY_TIMEOUT))
            .map_err(io)?;
        let telemetry = Telemetry {
            fd,
            path: path.to_owned(),
        };
        telemetry.receive("(greeting)")?;
        Ok(telemetry)
    }

    /// Sends `command` and returns the value of its answer.
    pub fn query(&self, command: &str) -> Result<Value, TelemetryError> {
        net::send(&self.fd, command.as_bytes(), SendFlags::empty()).map_err(|e| {
            TelemetryError::Io {
                path: self.path.clone(),
                source: e.into(),
            }
        })?;
        let mut answer = self.receive(command)?;
        // The answer is keyed by the command without its parameters.
        let key = command.split(',').next().unwrap_or(command);
        match answer.get_mut(key).map(Value::take) {
            Some(value) if !value.is_null() => Ok(value),
            _ => Err(TelemetryError::Answer {
                command: command.to_owned(),
                answer: answer.to_string(),
            }),
        }
    }

    /// The counters of port `port` (`/ethdev/stats,<port>`).
    pub fn port_stats(&self, port: u16) -> Result<PortStats, TelemetryError> {
        let command = format!("/ethdev/stats,{port}");
        let value = self.query(&command)?;
        serde_json::from_value(value.clone()).map_err(|_| TelemetryError::Answer {
            command,
            answer: value.to_string(),
        })
    }

    fn receive(&self, command: &str) -> Result<Value, TelemetryError> {
        let mut buf = vec![0u8; MAX_REPLY];
        let (n, _) = net::recv(&self.fd, &mut buf[..], RecvFlags::empty()).map_err(|e| {
            TelemetryError::Io {
                path: self.path.clone(),
                source: e.into(),
            }
        })?;
        serde_json::from_slice(&buf[..n]).map_err(|_| TelemetryError::Answer {
            command: command.to_owned(),
            answer: String::from_utf8_lossy(&buf[..n]).into_owned(),
        })
    }
}

/// The packet counters of `/ethdev/stats` (`struct rte_eth_stats`) that benchmarks read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
pub struct PortStats {
    pub ipackets: u64,
    pub opackets: u64,
    pub imissed: u64,
    pub oerrors: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A telemetry server speaking DPDK's protocol for one client: greeting, then each
    /// (command, answer) in turn.
    fn serve(path: &Path, exchanges: &'static [(&'static str, &'static str)]) -> impl FnOnce() {
        let server = net::socket(AddressFamily::UNIX, SocketType::SEQPACKET, None).unwrap();
        net::bind(&server, &SocketAddrUnix::new(path).unwrap()).unwrap();
        net::listen(&server, 1).unwrap();
        let thread = std::thread::spawn(move || {
            let conn = net::accept(&server).unwrap();
            let greeting = br#"{"version": "DPDK 22.11.11", "pid": 1, "max_output_len": 16384}"#;
            net::send(&conn, greeting, SendFlags::empty()).unwrap();
            for (command, answer) in exchanges {
                let mut buf = [0u8; 256];
                let (n, _) = net::recv(&conn, &mut buf[..], RecvFlags::empty()).unwrap();
                assert_eq!(std::str::from_utf8(&buf[..n]).unwrap(), *command);
                net::send(&conn, answer.as_bytes(), SendFlags::empty()).unwrap();
            }
        });
        move || thread.join().unwrap()
    }

    #[test]
    fn reads_port_stats_and_refuses_null_answers() {
        let dir = crate::ScratchDir::new("telemetry");
        let path = dir.join("dpdk_telemetry.v2");
        let done = serve(
            &path,
            &[
                (
                    "/ethdev/stats,1",
                    r#"{"/ethdev/stats": {"ipackets": 5, "opackets": 7, "ibytes": 320, "imissed": 1, "oerrors": 0, "q_ipackets": [5]}}"#,
                ),
                ("/ethdev/stats,9", r#"{"/ethdev/stats": null}"#),
            ],
        );
        let t = Telemetry::connect(&path).unwrap();
        assert_eq!(
            t.port_stats(1).unwrap(),
            PortStats {
                ipackets: 5,
                opackets: 7,
                imissed: 1,
                oerrors: 0
            }
        );
        assert!(matches!(
            t.port_stats(9),
            Err(TelemetryError::Answer { command, .. }) if command == "/ethdev/stats,9"
        ));
        done();
        assert!(matches!(
            Telemetry::connect(&dir.join("absent")),
            Err(TelemetryError::Io { .. })
        ));
        assert_eq!(
            socket_path("p1"),
            Path::new("/var/run/dpdk/p1/dpdk_telemetry.v2")
        );
    }
}
