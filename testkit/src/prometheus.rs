//! The Prometheus tools against a running app: plain HTTP GETs of `/metrics`, `promtool check
//! metrics`, and a real Prometheus server (Debian's `prometheus`) scraping it on loopback,
//! queried through its HTTP API. Nothing here mocks the ecosystem's side.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Proc, ScratchDir};

/// `GET path` on `addr` over HTTP/1.0: the status code and the body. `None` when nothing
/// answers (not yet listening).
pub fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// `promtool check metrics` on `text`: `Ok` with its output, or `Err` with what it said.
pub fn promtool_check(text: &str) -> Result<String, String> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run promtool (apt-get install prometheus): {e}"))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(text.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(said)
    } else {
        Err(said)
    }
}

/// A port nobody listens on now (bound and released; good enough on loopback in a test).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A Prometheus server on loopback with its own configuration and storage in a scratch
/// directory, scraping one target every second; killed when dropped.
pub struct Server {
    pub addr: SocketAddr,
    _proc: Proc,
    _dir: ScratchDir,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "prometheus on {}", self.addr)
    }
}

impl Server {
    /// Starts `prometheus` scraping `target` (`HOST:PORT`, path `/metrics`) and waits until
    /// it is ready.
    pub fn start(target: SocketAddr, ready_within: Duration) -> Server {
        let dir = ScratchDir::new("prometheus");
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - \
                 job_name: dpdk-app\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write prometheus.yml");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let log = dir.join("prometheus.log");
        let proc = Proc::spawn_logged(
            "prometheus",
            Command::new("prometheus")
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.join("data").display()
                ))
                .arg(format!("--web.listen-address={addr}")),
            None,
            &log,
        );
        let server = Server {
            addr,
            _proc: proc,
            _dir: dir,
        };
        let deadline = Instant::now() + ready_within;
        while !matches!(get(addr, "/-/ready"), Some((200, _))) {
            assert!(
                Instant::now() < deadline,
                "prometheus not ready on {addr} within {ready_within:?}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    /// `/api/v1/query?query=QUERY`: the result vector (`data.result`).
    pub fn query(&self, query: &str) -> Vec<Value> {
        let path = format!("/api/v1/query?query={}", percent_encode(query));
        let Some((200, body)) = get(self.addr, &path) else {
            return Vec::new();
        };
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// The state of the scrape target as Prometheus sees it (`up`, last error).
    pub fn targets(&self) -> String {
        get(self.addr, "/api/v1/targets")
            .map(|(_, b)| b)
            .unwrap_or_default()
    }

    /// Waits until `query` returns one sample with the value `want`; panics with the last
    /// answer and the target's state after `timeout`.
    pub fn wait_for_value(&self, query: &str, want: f64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let result = self.query(query);
            let value = result
                .first()
                .and_then(|r| r["value"][1].as_str()?.parse::<f64>().ok());
            if result.len() == 1 && value == Some(want) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus: {query} = {result:?}, want {want}; targets: {}",
                self.targets()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// Percent-encodes a query parameter (RFC 3986 unreserved characters stay).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
