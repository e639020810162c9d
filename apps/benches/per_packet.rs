//! Criterion micro-benchmarks of the per-packet code, on bursts of 32 as the engines see them
//! (one iteration = one burst, so ns/iteration ÷ 32 = ns/packet): what the side-by-side
//! numbers are made of, measured without a PMD in the way.
//!
//! `DPDK_BENCH_QUICK=1` (or criterion's `--quick`) shortens every measurement for CI. The LPM
//! benchmarks use DPDK's `rte_lpm`, hence an EAL (`--no-huge`, no PCI), started
//! once under the machine-wide DPDK lock.
//!
//! `PER_PACKET_BURSTS=N` counts instead of timing: the paths docs/benchmarks.md tracks run
//! exactly N bursts each, every one in a function of its own (`counted_*`), for callgrind:
//!
//! ```text
//! PER_PACKET_BURSTS=20000 valgrind --tool=callgrind --toggle-collect='per_packet::counted_*' \
//!     target/release/deps/per_packet-<hash>
//! callgrind_annotate --inclusive=yes callgrind.out.<pid> | grep counted_
//! ```
//!
//! Instructions per packet = Ir / (N × 32): a figure the machine's load does not move, unlike
//! the timings.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use dpdk::{Eal, MacAddr};
use dpdk_app::l2fwd::forward::{mac_header, rewrite};
use dpdk_app::l3fwd::em::{key4, route_key4, ExactMatch, V4_KEY_END};
use dpdk_app::l3fwd::forward::{EmTables, OwnedFrame, Router, Tables};
use dpdk_app::l3fwd::lpm::LpmTables;
use dpdk_app::l3fwd::ptype::Source;
use dpdk_app::l3fwd::rules::{default_em_v4, default_lpm_v4, default_lpm_v6};
use dpdk_app::sample_args::PortMask;
use dpdk_app::testpmd::probe::ProbeRx;
use dpdk_benches::sample_apps;
use packet::probe::{self, PROBE_OFF};
use packet::template::{Addresses, Template};
use packet::{ether, ipv4, udp};
use testkit::{unique_prefix, DpdkLock};

const BURST: usize = 32;
/// A plausible TSC frequency for latency bounds.
const HZ: u64 = 2_000_000_000;

fn criterion() -> Criterion {
    let quick = std::env::var("DPDK_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let c = if quick {
        Criterion::default()
            .warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_millis(300))
            .sample_size(10)
    } else {
        Criterion::default()
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(2))
    };
    c.configure_from_args()
}

/// testpmd's 64-byte txonly frame with a probe, stream 0.
fn txonly_template() -> Template {
    let addrs = Addresses {
        src_mac: MacAddr::locally_administered(0x10),
        dst_mac: MacAddr::locally_administered(0),
        src_ip: Ipv4Addr::new(198, 18, 0, 1),
        dst_ip: Ipv4Addr::new(198, 18, 0, 2),
        src_port: 9,
        dst_port: 9,
    };
    Template::txonly(addrs, 64, Some((0, probe::clock_id())))
}

/// A burst of probed frames, stream 0, sequence numbers from `first`, one timestamp.
fn probed_burst(first: u32, tsc: u64) -> Vec<Vec<u8>> {
    let mut t = txonly_template();
    (0..BURST as u32)
        .map(|i| {
            t.stamp(first + i, tsc);
            t.bytes().to_vec()
        })
        .collect()
}

fn frame_build(c: &mut Criterion) {
    let mut g = c.benchmark_group("frame_build");
    g.throughput(Throughput::Elements(BURST as u64));
    let t = txonly_template();
    let mut mbufs = vec![[0u8; 64]; BURST];
    let mut seq = 0u32;
    g.bench_function("txonly_stamp_and_copy_64B", |b| {
        b.iter(|| {
            let now = black_box(0x1234_5678u64);
            for m in mbufs.iter_mut() {
                t.write_stamped(m, seq, now);
                seq = seq.wrapping_add(1);
            }
            black_box(&mut mbufs);
        })
    });
    g.finish();
}

fn probes(c: &mut Criterion) {
    let mut g = c.benchmark_group("probe");
    g.throughput(Throughput::Elements(BURST as u64));
    let mut frames = probed_burst(0, 100);
    g.bench_function("stamp", |b| {
        let mut seq = 0u32;
        b.iter(|| {
            for f in frames.iter_mut() {
                probe::stamp(&mut f[PROBE_OFF..], seq, black_box(100));
                seq = seq.wrapping_add(1);
            }
        })
    });
    g.bench_function("decode", |b| {
        b.iter(|| {
            frames
                .iter()
                .filter_map(|f| probe::decode(black_box(f)))
                .map(|p| u64::from(p.seq))
                .sum::<u64>()
        })
    });
    // The receive path of every testpmd mode: decode, per-stream loss/reorder/duplicate
    // accounting and latency, for in-order bursts (the steady state) and for bursts whose
    // pairs arrive swapped (every other packet late).
    let mut rx = ProbeRx::new(probe::clock_id(), true, HZ);
    let mut next = 0u32;
    g.bench_function("account_in_order", |b| {
        b.iter(|| {
            stamp_burst(&mut frames, next);
            next = next.wrapping_add(BURST as u32);
            rx.observe_burst(0, frames.iter().map(|f| &f[..]), black_box(350));
        })
    });
    let mut rx = ProbeRx::new(probe::clock_id(), true, HZ);
    let mut next = 0u32;
    g.bench_function("account_pairs_swapped", |b| {
        b.iter(|| {
            for (i, f) in frames.iter_mut().enumerate() {
                probe::stamp(&mut f[PROBE_OFF..], next + (i ^ 1) as u32, 100);
            }
            next = next.wrapping_add(BURST as u32);
            rx.observe_burst(0, frames.iter().map(|f| &f[..]), black_box(350));
        })
    });
    g.finish();
}

/// l3fwd's decision for a burst of the side-by-side benchmark's traffic (arriving on port 0,
/// routed to port 1): classify in software, look up, rewrite.
fn decide(g: &mut BenchmarkGroup<'_, WallTime>, router: &Router) {
    let mut burst = decide_burst();
    let mut dst = [0u16; BURST];
    g.bench_function("l3fwd_decide_burst", |b| {
        b.iter(|| router.decide(&mut burst, 0, Source::Software, &mut dst))
    });
}

/// The side-by-side benchmark's traffic, arriving on port 0 with no device packet type (as
/// from net_pcap or virtio).
fn decide_burst() -> Vec<OwnedFrame> {
    (0..BURST)
        .map(|_| OwnedFrame(sample_apps::frame(0), 0))
        .collect()
}

/// l3fwd's default LPM routes for ports 0 and 1.
fn lpm_tables(eal: &Eal) -> LpmTables {
    LpmTables::new(
        eal,
        &default_lpm_v4(),
        &default_lpm_v6(),
        PortMask(0b11),
        |_, _| {},
    )
    .expect("LPM tables")
}

fn router(tables: Tables) -> Router {
    Router {
        tables,
        headers: std::array::from_fn(|p| {
            mac_header(p as u16, MacAddr::locally_administered(p as u8))
        }),
        strict: false,
    }
}

fn em_tables() -> EmTables {
    let enabled = PortMask(0b11);
    let routes = default_em_v4();
    let mut v4 = ExactMatch::with_capacity(routes.len());
    for r in routes.iter().filter(|r| enabled.contains(r.port.into())) {
        v4.insert(route_key4(r), r.port);
    }
    EmTables {
        v4,
        v6: ExactMatch::with_capacity(0),
        enabled,
    }
}

fn headers(c: &mut Criterion) {
    let mut g = c.benchmark_group("headers");
    g.throughput(Throughput::Elements(BURST as u64));
    let frames: Vec<Vec<u8>> = (0..BURST).map(|_| sample_apps::frame(0)).collect();
    // The smoltcp-style views: Ethernet, IPv4 (checksum verified), UDP.
    g.bench_function("ether_ipv4_udp_views", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for f in &frames {
                let Ok(eth) = ether::Frame::new_checked(black_box(&f[..])) else {
                    continue;
                };
                if eth.ethertype() != ether::ethertype::IPV4 {
                    continue;
                }
                let Ok(ip) = ipv4::Packet::new_checked(eth.payload()) else {
                    continue;
                };
                if !ip.checksum_ok() || ip.protocol() != ipv4::protocol::UDP {
                    continue;
                }
                if let Ok(u) = udp::Packet::new_checked(ip.payload()) {
                    acc += u64::from(ip.dst_u32()) + u64::from(u.dst_port());
                }
            }
            acc
        })
    });
    let mut l2 = frames.clone();
    let header = mac_header(1, MacAddr::locally_administered(1));
    g.bench_function("l2fwd_mac_rewrite", |b| {
        b.iter(|| {
            for f in l2.iter_mut() {
                rewrite(black_box(f), &header);
            }
        })
    });
    g.finish();
}

fn em(c: &mut Criterion) {
    let mut g = c.benchmark_group("em");
    g.throughput(Throughput::Elements(BURST as u64));
    let tables = em_tables();
    let frame = sample_apps::frame(0);
    let window: &[u8; V4_KEY_END] = frame.first_chunk().expect("64-byte frame");
    let key = key4(window);
    g.bench_function("key_and_lookup", |b| {
        b.iter(|| {
            (0..BURST)
                .map(|_| tables.v4.get(&key4(black_box(window))))
                .fold(0u32, |a, p| a + u32::from(p.unwrap_or(0)))
        })
    });
    g.bench_function("lookup_hit", |b| {
        b.iter(|| {
            (0..BURST)
                .map(|_| tables.v4.get(black_box(&key)))
                .fold(0u32, |a, p| a + u32::from(p.unwrap_or(0)))
        })
    });
    decide(&mut g, &router(Tables::Em(em_tables())));
    g.finish();
}

fn lpm(c: &mut Criterion, eal: &Eal) {
    let mut g = c.benchmark_group("lpm");
    g.throughput(Throughput::Elements(BURST as u64));
    let t = lpm_tables(eal);
    let addrs = [u32::from(Ipv4Addr::new(198, 18, 1, 0)); BURST];
    g.bench_function("lookup", |b| {
        b.iter(|| {
            black_box(&addrs)
                .iter()
                .map(|&a| t.v4.lookup(a).unwrap_or(0))
                .sum::<u32>()
        })
    });
    drop(t);
    decide(&mut g, &router(Tables::Lpm(lpm_tables(eal))));
    g.finish();
}

/// Runs `f` `bursts` times (see the crate docs: `PER_PACKET_BURSTS`).
#[inline(always)]
fn repeat(bursts: u64, mut f: impl FnMut()) {
    for _ in 0..bursts {
        f();
    }
}

/// l3fwd's decision for `bursts` bursts (classify in software, look up, rewrite), as benched;
/// inlined into one `counted_*` function per table kind. Those build their router, so that
/// the compiler cannot fold the two into one symbol, and return it, so that freeing the
/// tables (rte_lpm_free clears 64 MiB) is not counted.
#[inline(always)]
fn l3fwd_decide(bursts: u64, router: &Router) {
    let mut burst = decide_burst();
    let mut dst = [0u16; BURST];
    repeat(bursts, || {
        black_box(router.decide(&mut burst, 0, Source::Software, &mut dst));
    });
}

#[inline(never)]
fn counted_l3fwd_lpm_decide(bursts: u64, tables: LpmTables) -> Router {
    let router = router(Tables::Lpm(tables));
    l3fwd_decide(bursts, &router);
    router
}

#[inline(never)]
fn counted_l3fwd_em_decide(bursts: u64, tables: EmTables) -> Router {
    let router = router(Tables::Em(tables));
    l3fwd_decide(bursts, &router);
    router
}

/// A stream of in-order probed bursts as the generator stamps them; subtracted from
/// [`counted_sink_account`] to leave the sink's share.
#[inline(never)]
fn counted_stamp_only(bursts: u64) {
    let mut frames = probed_burst(0, 100);
    let mut next = 0u32;
    repeat(bursts, || {
        stamp_burst(&mut frames, next);
        next = next.wrapping_add(BURST as u32);
        black_box(&mut frames);
    });
}

/// The rxonly sink's probe accounting (decode, per-stream loss/reorder/duplicates, latency)
/// of in-order bursts, plus their stamping (see [`counted_stamp_only`]).
#[inline(never)]
fn counted_sink_account(bursts: u64) {
    let mut frames = probed_burst(0, 100);
    let mut rx = ProbeRx::new(probe::clock_id(), true, HZ);
    let mut next = 0u32;
    repeat(bursts, || {
        stamp_burst(&mut frames, next);
        next = next.wrapping_add(BURST as u32);
        rx.observe_burst(0, frames.iter().map(|f| &f[..]), black_box(350));
    });
    black_box(rx);
}

fn stamp_burst(frames: &mut [Vec<u8>], first: u32) {
    for (i, f) in frames.iter_mut().enumerate() {
        probe::stamp(&mut f[PROBE_OFF..], first + i as u32, 100);
    }
}

/// Runs every `counted_*` path `bursts` times (under callgrind; see the crate docs).
fn count(bursts: u64, eal: &Eal) {
    drop(counted_l3fwd_lpm_decide(bursts, lpm_tables(eal)));
    drop(counted_l3fwd_em_decide(bursts, em_tables()));
    counted_stamp_only(bursts);
    counted_sink_account(bursts);
}

fn main() {
    let bursts = std::env::var("PER_PACKET_BURSTS").ok().map(|v| {
        v.parse::<u64>()
            .unwrap_or_else(|_| panic!("PER_PACKET_BURSTS={v:?}: not a number of bursts"))
    });
    let mut c = criterion();
    if let Some(bursts) = bursts {
        with_eal(|eal| count(bursts, eal));
        return;
    }
    frame_build(&mut c);
    probes(&mut c);
    headers(&mut c);
    em(&mut c);
    with_eal(|eal| lpm(&mut c, eal));
    c.final_summary();
}

/// Runs `f` with an EAL (for `rte_lpm`), under the machine-wide DPDK lock.
fn with_eal(f: impl FnOnce(&Eal)) {
    {
        let _lock = DpdkLock::acquire();
        let prefix = unique_prefix("bench-lpm");
        let eal_args = [
            "per_packet",
            "--no-huge",
            "-m",
            "256",
            "--no-pci",
            "--no-telemetry",
            "-l",
            "0",
            &format!("--file-prefix={prefix}"),
        ];
        let (eal, _) = Eal::init(eal_args).expect("EAL for the LPM tables");
        f(&eal);
        drop(eal);
        testkit::remove_eal_files(&prefix);
    }
}
