//! Single-process checks of the safe layer against real DPDK: packets through `net_ring`
//! loopback ports with counts and contents checked, leftover ownership after partial TX, mbuf
//! and batch operations without leaks, lcore launches, LPM tables and EAL errors.
//!
//! The program re-runs itself as a child per memory mode (one EAL per process).

mod common;

use std::time::Duration;

use common::{build, verify, Arrivals};
use dpdk::{
    offload, Batch, Eal, EalError, LcoreError, Lpm, Lpm6, Mempool, MempoolError, PortBuilder,
    PortError,
};
use testkit::{assert_success, describe, DpdkLock, MemoryMode, Proc};

const CHECKS: &[&str] = &[
    "eal-args",
    "eal-once",
    "ports",
    "pool",
    "port-start",
    "loopback",
    "leftovers",
    "mbuf-ops",
    "batch-ops",
    "exhaustion",
    "lcores",
    "retired-pools",
    "fast-free",
    "lpm",
    "stats",
    "port-control",
    "no-leak",
];

fn main() {
    common::handle_list("loopback");
    match common::role().as_deref() {
        Some("child") => child(),
        Some("bad-eal") => bad_eal(),
        Some(other) => panic!("unknown role {other}"),
        None => orchestrate(),
    }
}

fn orchestrate() {
    let _lock = DpdkLock::acquire();
    for mode in MemoryMode::available(512) {
        let prefix = testkit::unique_prefix("loopback");
        let mut args: Vec<String> = mode.eal_args(256);
        args.extend(
            [
                "--no-pci",
                "-l",
                "0,1",
                "--file-prefix",
                &prefix,
                "--vdev=net_ring0",
                "--vdev=net_ring1",
                "--vdev=net_ring2",
                "--log-level=lib.eal:warning",
                "--",
                "app-arg",
                "--app-flag",
            ]
            .map(String::from),
        );
        let proc = Proc::spawn(
            "loopback child",
            &mut common::self_command("child", &args),
            Some(&prefix),
        );
        let (output, killed) = proc.wait(Duration::from_secs(120));
        assert_success(
            &format!("loopback child ({})", mode.name()),
            &output,
            killed,
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        for check in CHECKS {
            assert!(
                stdout.contains(&format!("ok: {check}\n")),
                "check {check} did not run\n{}",
                describe("child", &output)
            );
        }
        println!("loopback ({}): {} checks passed", mode.name(), CHECKS.len());
    }

    let prefix = testkit::unique_prefix("bad-eal");
    let args = [
        "--no-huge",
        "--file-prefix",
        &prefix,
        "--no-such-eal-option",
    ]
    .map(String::from);
    let proc = Proc::spawn(
        "bad-eal child",
        &mut common::self_command("bad-eal", &args),
        Some(&prefix),
    );
    let (output, killed) = proc.wait(Duration::from_secs(30));
    assert_success("bad-eal child", &output, killed);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("ok: bad-eal\n"),
        "{}",
        describe("bad-eal", &output)
    );
    println!("loopback: EAL error paths passed");
}

fn ok(check: &str) {
    println!("ok: {check}");
}

fn bad_eal() {
    let err = Eal::init(common::child_eal_args()).expect_err("an unknown EAL option must fail");
    match &err {
        EalError::Init { errno } => assert!(errno.0 != 0, "errno must be set"),
        other => panic!("expected Init error, got {other:?}"),
    }
    assert!(
        err.to_string().starts_with("rte_eal_init failed: "),
        "{err}"
    );
    // DPDK cannot retry a failed init, and neither can we.
    assert!(matches!(
        Eal::init(["again"]),
        Err(EalError::AlreadyInitialized)
    ));
    assert!(matches!(
        Eal::init(["x", "nul\0inside"]),
        Err(EalError::NulInArgument { index: 1, .. })
    ));
    ok("bad-eal");
}

fn child() {
    let (eal, app_args) = Eal::init(common::child_eal_args()).expect("EAL init");
    assert_eq!(app_args, ["app-arg", "--app-flag"]);
    ok("eal-args");
    assert!(matches!(
        Eal::init(["again"]),
        Err(EalError::AlreadyInitialized)
    ));
    ok("eal-once");

    assert_eq!(eal.port_ids(), [0, 1, 2]);
    assert!(matches!(
        PortBuilder::new(&eal, 7),
        Err(PortError::NoSuchPort {
            port: 7,
            available: 3
        })
    ));
    ok("ports");

    let pool = Mempool::new_pktmbuf(&eal, "test_pool", 4095, 32, 2048 + 128).expect("pool");
    assert_eq!(pool.capacity(), 4095);
    assert_eq!(pool.in_use(), 0);
    assert_eq!(pool.data_room(), 2176);
    assert!(matches!(
        Mempool::new_pktmbuf(&eal, "a_name_that_is_far_too_long_for_dpdk", 63, 0, 2176),
        Err(MempoolError::InvalidName { .. })
    ));
    ok("pool");

    let builder = PortBuilder::new(&eal, 0)
        .expect("port 0")
        .rx_offloads(offload::RX_CHECKSUM);
    let capa = builder.info().rx_offload_capa;
    assert_eq!(builder.info().driver, "net_ring");
    let mut started = builder.start(&pool).expect("start port 0");
    assert_eq!(
        started.rx_offloads & !capa,
        0,
        "offloads beyond capability requested"
    );
    let port = started.port.clone();
    assert!(
        port.link().expect("link").up,
        "ring port link is up after start"
    );
    let (link, text) = (
        port.link().expect("link"),
        port.link_text().expect("link text"),
    );
    assert!(
        text.starts_with("Link up at ")
            && text.ends_with(if link.autoneg { "Autoneg" } else { "Fixed" }),
        "rte_eth_link_to_str agrees with Link: {text:?} {link:?}"
    );
    port.set_promiscuous(true).expect("promiscuous");
    assert!(
        port.supported_ptypes(dpdk::ptype::ALL_MASK).is_empty(),
        "net_ring classifies no packet types"
    );
    let (mut rx, mut tx) = (started.rx.remove(0), started.tx.remove(0));
    assert_eq!((rx.port(), rx.id(), tx.port(), tx.id()), (0, 0, 0, 0));
    ok("port-start");

    // 1000 packets of varying size and known content go out and come back, in order.
    const N: u32 = 1000;
    let tag = *b"LOOP";
    let mut arrivals = Arrivals::new(N as usize);
    let mut burst = Batch::new(32);
    let mut inbox = Batch::new(64);
    let mut next = 0u32;
    let mut expected_seq = 0u32;
    while !arrivals.complete() {
        while next < N && !burst.is_full() {
            burst.push(build(&pool, tag, next)).expect("room");
            next += 1;
        }
        tx.tx(&mut burst);
        rx.rx(&mut inbox);
        for m in inbox.drain() {
            let seq = verify(&m, tag);
            assert_eq!(seq, expected_seq, "ring loopback keeps order");
            expected_seq += 1;
            arrivals.record(seq);
        }
    }
    assert!(burst.is_empty());
    assert_eq!(pool.in_use(), 0, "every mbuf returned");
    ok("loopback");

    // More packets than the ring holds: what TX did not take stays in the batch, in order.
    const M: u32 = 1100;
    let mut big = Batch::new(M as usize);
    for seq in 0..M {
        big.push(build(&pool, tag, seq)).expect("room");
    }
    let taken = tx.tx(&mut big) as u32;
    assert!(taken > 0 && taken < M, "ring took {taken} of {M}");
    assert_eq!(big.len() as u32, M - taken);
    assert_eq!(
        verify(&big.as_slice()[0], tag),
        taken,
        "leftovers start after what was sent"
    );
    assert_eq!(
        pool.in_use(),
        M,
        "sent and unsent mbufs are all accounted for"
    );
    let mut arrivals = Arrivals::new(M as usize);
    let mut inbox = Batch::new(M as usize);
    while !arrivals.complete() {
        tx.tx(&mut big);
        rx.rx(&mut inbox);
        for m in inbox.drain() {
            arrivals.record(verify(&m, tag));
        }
    }
    assert_eq!(pool.in_use(), 0);
    ok("leftovers");

    mbuf_ops(&pool);
    ok("mbuf-ops");
    batch_ops(&pool);
    ok("batch-ops");

    let mut all = Batch::new(5000);
    let err = pool
        .alloc_bulk(&mut all, 4096)
        .expect_err("more than the pool holds");
    assert!(
        matches!(err, MempoolError::Exhausted { wanted: 4096, .. }),
        "{err}"
    );
    assert!(
        all.is_empty(),
        "a failed bulk allocation leaves the batch unchanged"
    );
    pool.alloc_bulk(&mut all, 4000).expect("4000 of 4095");
    assert_eq!(pool.in_use(), 4000);
    drop(all);
    assert_eq!(pool.in_use(), 0);
    ok("exhaustion");

    lcores(&eal, &pool);
    ok("lcores");

    retired_pools(&eal);
    ok("retired-pools");

    fast_free(&eal, &pool);
    ok("fast-free");

    lpm(&eal);
    ok("lpm");

    let stats = port.stats().expect("stats");
    assert_eq!(stats.opackets, u64::from(N + M));
    assert_eq!(stats.ipackets, u64::from(N + M));
    let xstats = port.xstats().expect("xstats");
    let good = xstats
        .iter()
        .find(|(name, _)| name == "rx_good_packets")
        .expect("rx_good_packets xstat");
    assert_eq!(good.1, stats.ipackets);
    port.reset_stats().expect("reset");
    assert_eq!(port.stats().unwrap().ipackets, 0);
    ok("stats");

    port_control(&port);
    ok("port-control");

    assert!(dpdk::tsc::hz() > 0);
    drop((rx, tx, started, port));
    assert_eq!(pool.in_use(), 0);
    drop(pool);
    ok("no-leak");
    drop(eal);
}

fn mbuf_ops(pool: &Mempool) {
    let mut m = pool.alloc().unwrap();
    assert!(m.is_empty());
    let headroom = m.headroom();
    assert_eq!(headroom, 128);
    let tailroom = m.tailroom();
    assert!(m.append(tailroom + 1).is_none(), "append beyond tailroom");
    m.append(10).unwrap().copy_from_slice(b"0123456789");
    assert!(m.prepend(headroom + 1).is_none(), "prepend beyond headroom");
    m.prepend(2).unwrap().copy_from_slice(b"ab");
    assert_eq!(m.data(), b"ab0123456789");
    m.adj(3).unwrap();
    m.trim(2).unwrap();
    assert_eq!(m.data(), b"1234567");
    assert!(m.adj(8).is_none() && m.trim(8).is_none());
    m.data_mut()[0] = b'X';
    assert_eq!(m.len(), 7);

    let mut tail = pool.alloc().unwrap();
    tail.append(3).unwrap().copy_from_slice(b"xyz");
    let mut chained = m.chain(tail).expect("chain");
    assert_eq!(chained.segment_count(), 2);
    assert_eq!(chained.len(), 10);
    assert_eq!(chained.to_vec(), b"X234567xyz");
    assert_eq!(
        chained.segments().collect::<Vec<_>>(),
        [&b"X234567"[..], b"xyz"]
    );
    chained.append(1).unwrap()[0] = b'!'; // appends to the last segment
    chained.trim(2).unwrap();
    assert_eq!(chained.to_vec(), b"X234567xy");
    assert_eq!(pool.in_use(), 2);
    drop(chained); // frees both segments
    assert_eq!(pool.in_use(), 0);
}

fn batch_ops(pool: &Mempool) {
    let tag = *b"BTCH";
    let mut b = Batch::new(8);
    for seq in 0..8 {
        b.push(build(pool, tag, seq)).unwrap();
    }
    let extra = build(pool, tag, 8);
    let extra = b.push(extra).expect_err("full batch gives the packet back");
    drop(extra);
    let freed = b.retain_mut(|m| verify(m, tag).is_multiple_of(2));
    assert_eq!(freed, 4);
    assert_eq!(
        b.iter().map(|m| verify(m, tag)).collect::<Vec<_>>(),
        [0, 2, 4, 6]
    );
    assert_eq!(pool.in_use(), 4);
    let mut drain = b.drain();
    let first = drain.next().unwrap();
    drop(drain); // frees the three not taken
    assert!(b.is_empty());
    assert_eq!(pool.in_use(), 1);
    b.push(first).unwrap();
    b.extend((10..20).map(|seq| build(pool, tag, seq))); // only 7 fit; the others are freed
    assert_eq!(b.len(), 8);
    assert_eq!(b.pop().map(|m| verify(&m, tag)), Some(16));
    b.truncate(2);
    assert_eq!(pool.in_use(), 2);
    b.clear();
    assert_eq!(pool.in_use(), 0);
}

fn lcores(eal: &Eal, pool: &Mempool) {
    assert_eq!(eal.main_lcore(), 0);
    assert_eq!(eal.worker_lcores(), [1]);
    assert_eq!(dpdk::current_lcore(), Some(0));
    eal.scope(|s| {
        let h = s
            .launch(1, || (dpdk::current_lcore(), 40 + 2))
            .expect("launch");
        assert_eq!(h.lcore(), 1);
        assert!(
            matches!(s.launch(1, || ()), Err(LcoreError::Busy(1))),
            "an lcore runs one job until it is joined"
        );
        assert_eq!(h.join().expect("join"), (Some(1), 42));
        assert!(matches!(s.launch(0, || ()), Err(LcoreError::NotWorker(0))));
        let h = s
            .launch(1, || -> u32 { panic!("boom on purpose") })
            .expect("launch");
        match h.join() {
            Err(LcoreError::Panicked { lcore: 1, message }) => {
                assert!(message.contains("boom on purpose"))
            }
            other => panic!("expected a caught panic, got {other:?}"),
        }
    });

    // Jobs borrow from the caller: the scope joins them before it returns.
    let mut counts = [0u32; 4];
    let total: u32 = eal.scope(|s| {
        s.launch(1, || {
            for (i, c) in counts.iter_mut().enumerate() {
                *c = i as u32 * 10;
            }
        })
        .expect("launch");
        7 // not joined: the scope waits for it
    });
    assert_eq!((total, counts), (7, [0, 10, 20, 30]));

    // A panicking scope still waits for its jobs before the panic goes on.
    let done = std::sync::atomic::AtomicBool::new(false);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        eal.scope(|s| {
            s.launch(1, || {
                std::thread::sleep(Duration::from_millis(200));
                done.store(true, std::sync::atomic::Ordering::Release);
            })
            .expect("launch");
            panic!("scope closure panics on purpose");
        })
    }));
    assert!(caught.is_err());
    assert!(
        done.load(std::sync::atomic::Ordering::Acquire),
        "the job ran to its end before the scope unwound"
    );

    // A job that panicked and was not joined makes the scope panic once all is waited for.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        eal.scope(|s| {
            s.launch(1, || panic!("unjoined job panics on purpose"))
                .expect("launch");
        })
    }));
    let message = caught.expect_err("the scope reports the unjoined panic");
    assert_eq!(
        message.downcast_ref::<&str>(),
        Some(&"a job launched in an lcore scope panicked and was not joined")
    );

    // Queues and mbufs move to a worker lcore: it transmits on port 1, we receive here.
    let mut started = PortBuilder::new(eal, 1)
        .unwrap()
        .start(pool)
        .expect("port 1");
    let mut tx = started.tx.remove(0);
    let mut rx = started.rx.remove(0);
    let tag = *b"LCOR";
    let sent = eal.scope(|s| {
        s.launch(1, || {
            let mut burst = Batch::new(32);
            for seq in 0..100 {
                burst.push(build(pool, tag, seq)).unwrap();
                if burst.is_full() || seq == 99 {
                    while !burst.is_empty() {
                        tx.tx(&mut burst);
                    }
                }
            }
            100u32
        })
        .expect("launch sender")
        .join()
        .unwrap()
    });
    assert_eq!(sent, 100);
    let mut arrivals = Arrivals::new(100);
    let mut inbox = Batch::new(128);
    rx.rx(&mut inbox);
    inbox.iter().for_each(|m| arrivals.record(verify(m, tag)));
    assert!(arrivals.complete(), "received {} of 100", arrivals.count);
    drop(inbox);
    assert_eq!(pool.in_use(), 0);
}

/// Whether a pool of this name exists (DPDK refuses a second one of the same name).
fn pool_exists(eal: &Eal, name: &str) -> bool {
    match Mempool::new_pktmbuf(eal, name, 63, 8, 2176) {
        Ok(_) => false,
        Err(MempoolError::Create { errno, .. }) if errno.0 == libc::EEXIST => true,
        Err(e) => panic!("unexpected error creating {name}: {e}"),
    }
}

/// A pool whose last handle goes is freed only when no other lcore can be touching its
/// caches and all its mbufs are back; until then it stays (and keeps its name).
fn retired_pools(eal: &Eal) {
    let running = std::sync::atomic::AtomicBool::new(true);
    eal.scope(|s| {
        let worker = s
            .launch(1, || {
                while running.load(std::sync::atomic::Ordering::Acquire) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
            .expect("launch");
        // Lets the worker go also when an assertion fails (the scope waits for it).
        struct Release<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                self.0.store(false, std::sync::atomic::Ordering::Release);
            }
        }
        let _release = Release(&running);
        let pool = Mempool::new_pktmbuf(eal, "retired", 63, 8, 2176).expect("pool");
        drop(pool.alloc_bulk(&mut Batch::new(8), 8));
        drop(pool);
        assert!(
            pool_exists(eal, "retired"),
            "not freed while a worker lcore runs (it may be freeing into its cache)"
        );
        running.store(false, std::sync::atomic::Ordering::Release);
        worker.join().expect("join");
        assert!(
            !pool_exists(eal, "retired"),
            "freed once the worker is joined"
        );
    });

    let pool = Mempool::new_pktmbuf(eal, "retired_busy", 63, 8, 2176).expect("pool");
    let m = pool.alloc().expect("mbuf");
    drop(pool);
    assert!(
        pool_exists(eal, "retired_busy"),
        "kept while one of its mbufs is out"
    );
    drop(m);
    assert!(
        !pool_exists(eal, "retired_busy"),
        "freed once its mbufs are back"
    );
}

/// Fast mbuf freeing (the PMD returns sent mbufs to one pool without looking at them) cannot
/// be requested as a bare offload flag, only for one pool, and the TX queues then refuse
/// mbufs that would go back to the wrong pool.
fn fast_free(eal: &Eal, pool: &Mempool) {
    let fast_free = u64::from(dpdk_sys::RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE);
    let err = PortBuilder::new(eal, 2)
        .expect("port 2")
        .tx_offloads(fast_free)
        .start(pool)
        .expect_err("the bare fast-free flag is refused");
    assert!(matches!(err, PortError::Invalid { port: 2, .. }), "{err}");

    let other = Mempool::new_pktmbuf(eal, "other_pool", 63, 0, 2176).expect("pool");
    let mut started = PortBuilder::new(eal, 2)
        .expect("port 2")
        .tx_fast_free(pool)
        .start(pool)
        .expect("start port 2 with fast free");
    let (mut rx, mut tx) = (started.rx.remove(0), started.tx.remove(0));
    let tag = *b"FAST";
    let mut burst = Batch::new(4);
    let mut inbox = Batch::new(4);
    // Packets of the pool go out, in one segment or several.
    burst.push(build(pool, tag, 0)).unwrap();
    let chained = build(pool, tag, 1).chain(pool.alloc().unwrap()).unwrap();
    burst.push(chained).unwrap();
    assert_eq!(tx.tx(&mut burst), 2);
    assert_eq!(rx.rx(&mut inbox), 2);
    inbox.clear();

    // One of another pool (alone, or as a later segment) is refused before anything is sent.
    let refused = |burst: &mut Batch, tx: &mut dpdk::TxQueue| {
        let len = burst.len();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tx.tx(burst)));
        let payload = caught.expect_err("a packet of another pool panics");
        let message = payload
            .downcast_ref::<String>()
            .expect("a formatted message");
        assert!(message.contains("fast mbuf freeing"), "{message}");
        assert_eq!(burst.len(), len, "nothing was sent");
        burst.clear();
    };
    burst.push(build(pool, tag, 2)).unwrap();
    burst.push(build(&other, tag, 3)).unwrap();
    refused(&mut burst, &mut tx);
    let mixed = build(pool, tag, 4).chain(other.alloc().unwrap()).unwrap();
    burst.push(mixed).unwrap();
    refused(&mut burst, &mut tx);
    assert_eq!(rx.rx(&mut inbox), 0, "nothing arrived");
    assert_eq!((pool.in_use(), other.in_use()), (0, 0));
    drop((rx, tx, started));
}

/// Two clones of a port on two threads make control calls at once, as a monitor reading
/// statistics beside the main thread changing modes does: DPDK's control functions are not
/// thread-safe, so the calls must be serialised (debug builds check that none overlap).
fn port_control(port: &dpdk::Port) {
    let deadline = std::time::Instant::now() + Duration::from_millis(500);
    let (a, b) = (port.clone(), port.clone());
    std::thread::scope(|threads| {
        let modes = threads.spawn(move || {
            let mut calls = 0u32;
            while std::time::Instant::now() < deadline {
                a.set_promiscuous(calls.is_multiple_of(2))
                    .expect("promiscuous");
                a.reset_stats().expect("reset");
                a.xstats().expect("xstats");
                calls += 1;
            }
            calls
        });
        let monitor = threads.spawn(move || {
            let mut calls = 0u32;
            while std::time::Instant::now() < deadline {
                b.stats().expect("stats");
                b.xstats().expect("xstats");
                b.link().expect("link");
                calls += 1;
            }
            calls
        });
        let (modes, monitor) = (modes.join().unwrap(), monitor.join().unwrap());
        assert!(modes > 10 && monitor > 10, "{modes} and {monitor} rounds");
    });
}

fn lpm(eal: &Eal) {
    let mut v4 = Lpm::new(eal, "test_lpm4", 64, 256).expect("lpm");
    v4.add("198.18.0.0".parse().unwrap(), 24, 0).unwrap();
    v4.add("198.18.1.0".parse().unwrap(), 24, 1).unwrap();
    v4.add("10.0.0.0".parse().unwrap(), 8, 5).unwrap();
    v4.add("10.1.2.0".parse().unwrap(), 25, 6).unwrap(); // deeper than /24: uses a tbl8
    let ip = |s: &str| u32::from(s.parse::<std::net::Ipv4Addr>().unwrap());
    assert_eq!(v4.lookup(ip("198.18.0.2")), Some(0));
    assert_eq!(v4.lookup(ip("198.18.1.255")), Some(1));
    assert_eq!(v4.lookup(ip("10.1.2.3")), Some(6));
    assert_eq!(v4.lookup(ip("10.1.2.200")), Some(5));
    assert_eq!(v4.lookup(ip("198.19.0.1")), None);
    assert!(
        v4.add("1.2.3.4".parse().unwrap(), 33, 1).is_err(),
        "depth 33 is rejected"
    );

    let mut v6 = Lpm6::new(eal, "test_lpm6", 64, 256).expect("lpm6");
    v6.add("2001:200:0:1::".parse().unwrap(), 64, 1).unwrap();
    v6.add("2001:200::".parse().unwrap(), 48, 9).unwrap();
    let ip6 = |s: &str| s.parse::<std::net::Ipv6Addr>().unwrap().octets();
    assert_eq!(v6.lookup(&ip6("2001:200:0:1::42")), Some(1));
    assert_eq!(v6.lookup(&ip6("2001:200:0:2::42")), Some(9));
    assert_eq!(v6.lookup(&ip6("2001:db8::1")), None);
}
