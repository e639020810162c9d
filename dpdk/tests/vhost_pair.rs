//! Two processes, the path vDPA pods use: a `net_vhost` port (vhost-user server socket) in one
//! process and a `virtio_user` port on that socket in the other. Packets of known content cross
//! in both directions and must arrive intact, each exactly once, counted exactly.
//!
//! The program re-runs itself as the two peers, per memory mode.

mod common;

use std::time::{Duration, Instant};

use common::{build, verify, Arrivals};
use dpdk::{Batch, Eal, Mempool, PortBuilder, RxQueue, TxQueue};
use testkit::{assert_success, describe, DpdkLock, MemoryMode, Proc, ScratchDir};

const N: u32 = 20_000;
const TO_VHOST: [u8; 4] = *b"V2H ";
const TO_VIRTIO: [u8; 4] = *b"H2V ";
const DEADLINE: Duration = Duration::from_secs(60);

fn main() {
    common::handle_list("vhost_pair");
    match common::role().as_deref() {
        Some("vhost") => peer(TO_VIRTIO, TO_VHOST, true),
        Some("virtio") => peer(TO_VHOST, TO_VIRTIO, false),
        Some(other) => panic!("unknown role {other}"),
        None => orchestrate(),
    }
}

fn orchestrate() {
    let _lock = DpdkLock::acquire();
    let (cpu_a, cpu_b) = testkit::two_cpus();
    for mode in MemoryMode::available(1024) {
        let dir = ScratchDir::new("vhost-pair");
        let sock = dir.join("vhost.sock");
        let eal = |role: &str, cpu: usize, vdev: String| {
            let prefix = testkit::unique_prefix(role);
            let mut args = mode.eal_args(256);
            args.extend([
                "--no-pci".into(),
                "-l".into(),
                cpu.to_string(),
                "--file-prefix".into(),
                prefix.clone(),
                vdev,
            ]);
            (args, prefix)
        };
        let (vhost_args, vhost_prefix) = eal(
            "vhost",
            cpu_a,
            format!("--vdev=net_vhost0,iface={},queues=1", sock.display()),
        );
        let vhost = Proc::spawn(
            "vhost peer",
            &mut common::self_command("vhost", &vhost_args),
            Some(&vhost_prefix),
        );
        testkit::wait_for_path(&sock, Duration::from_secs(30)).expect("vhost-user socket");
        let (virtio_args, virtio_prefix) = eal(
            "virtio",
            cpu_b,
            format!("--vdev=net_virtio_user0,path={},queues=1", sock.display()),
        );
        let virtio = Proc::spawn(
            "virtio peer",
            &mut common::self_command("virtio", &virtio_args),
            Some(&virtio_prefix),
        );

        let (virtio_out, virtio_killed) = virtio.wait(DEADLINE + Duration::from_secs(10));
        let (vhost_out, vhost_killed) = vhost.wait(Duration::from_secs(20));
        assert_success(
            &format!("virtio peer ({})", mode.name()),
            &virtio_out,
            virtio_killed,
        );
        assert_success(
            &format!("vhost peer ({})", mode.name()),
            &vhost_out,
            vhost_killed,
        );
        for (name, out) in [("virtio", &virtio_out), ("vhost", &vhost_out)] {
            let expected = format!("ok: sent {N} received {N}\n");
            assert!(
                String::from_utf8_lossy(&out.stdout).contains(&expected),
                "{}",
                describe(name, out)
            );
        }
        println!(
            "vhost_pair ({}): {N} packets each way, intact and counted exactly",
            mode.name()
        );
    }
}

/// One peer: sends N packets tagged `out_tag`, receives N tagged `in_tag`, then keeps polling a
/// little longer so that a duplicate or stray packet would be caught.
fn peer(in_tag: [u8; 4], out_tag: [u8; 4], is_vhost: bool) {
    let (eal, _) = Eal::init(common::child_eal_args()).expect("EAL init");
    let pool = Mempool::new_pktmbuf(&eal, "pair_pool", 8191, 256, 2048 + 128).expect("pool");
    let mut started = PortBuilder::new(&eal, 0)
        .expect("port 0")
        .start(&pool)
        .expect("start");
    let port = started.port.clone();
    let (mut rx, mut tx) = (started.rx.remove(0), started.tx.remove(0));
    let deadline = Instant::now() + DEADLINE;

    let (sent, arrivals) = exchange(&pool, &mut rx, &mut tx, in_tag, out_tag, deadline);
    assert_eq!(sent, N, "sent only {sent} of {N} before the deadline");
    assert!(
        arrivals.complete(),
        "received only {} of {N} before the deadline",
        arrivals.count
    );

    if is_vhost {
        // Stay until the virtio peer has read everything and disconnected (link goes down).
        let mut inbox = Batch::new(32);
        while port.link().map(|l| l.up).unwrap_or(false)
            && Instant::now() < deadline + Duration::from_secs(10)
        {
            assert_eq!(rx.rx(&mut inbox), 0, "unexpected extra packet");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let stats = port.stats().expect("stats");
    assert_eq!(stats.ipackets, u64::from(N), "port RX counter");
    assert_eq!(stats.opackets, u64::from(N), "port TX counter");
    println!("ok: sent {sent} received {}", arrivals.count);
    drop((rx, tx, started, port, pool));
    drop(eal);
}

fn exchange(
    pool: &Mempool,
    rx: &mut RxQueue,
    tx: &mut TxQueue,
    in_tag: [u8; 4],
    out_tag: [u8; 4],
    deadline: Instant,
) -> (u32, Arrivals) {
    let mut arrivals = Arrivals::new(N as usize);
    let mut outbox = Batch::new(32);
    let mut inbox = Batch::new(32);
    let mut next = 0u32;
    let mut quiet_since: Option<Instant> = None;
    loop {
        while next < N && !outbox.is_full() {
            outbox.push(build(pool, out_tag, next)).expect("room");
            next += 1;
        }
        tx.tx(&mut outbox);
        rx.rx(&mut inbox);
        for m in inbox.drain() {
            arrivals.record(verify(&m, in_tag));
        }
        let sent = next - outbox.len() as u32;
        if sent == N && arrivals.complete() {
            // Done; poll 200 ms more for duplicates (Arrivals panics on them).
            let since = *quiet_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_millis(200) {
                return (sent, arrivals);
            }
        }
        if Instant::now() > deadline {
            return (sent, arrivals);
        }
    }
}
