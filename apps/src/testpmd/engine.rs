//! The forwarding lcores: each owns its streams' queues, counters and packet templates, and
//! runs one mode's burst function over them until told to stop.
//!
//! Per burst there is no allocation, lock or system call: packets move in one preallocated
//! [`Batch`], counters are single-writer [`PortCounters`], the TSC is read once, probes are
//! accounted in lcore-owned state, and the monitor gets copies of that state through a channel
//! only when it bumps the period epoch.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam::channel::{Receiver, Sender};
use dpdk::{tsc, Batch, MacAddr, Mbuf, Mempool, RxQueue, TxQueue};
use packet::template::{flowgen_dst, multi_flow_src, Template};
use packet::{arp, checksum, ether, icmp, ipv4};

use super::announce::{Announcer, PortTable};
use super::options::Mode;
use super::output::BurstSpread;
use super::probe::{ProbeRx, StreamRx};
use super::streams::Stream;
use crate::pacing::TokenBucket;
use crate::quiesce::Quiesce;
use crate::runopts::IdleSleep;
use crate::signal::Stop;
use crate::stats::PortCounters;

/// How a stream generates packets (txonly, flowgen, and `--tx-first` bursts).
#[derive(Debug)]
pub struct Generator {
    pub template: Template,
    /// Segment lengths; one entry for single-segment packets.
    pub segments: Vec<u16>,
    pub kind: GenKind,
    pub pacer: Option<TokenBucket>,
}

#[derive(Debug, Clone, Copy)]
pub enum GenKind {
    /// txonly; with `--txonly-multi-flow`, the destination address the sources derive from.
    TxOnly {
        multi_flow: Option<std::net::Ipv4Addr>,
    },
    /// flowgen over this many destinations.
    FlowGen { flows: u32 },
}

/// One stream with everything its lcore needs to run it.
#[derive(Debug)]
pub struct StreamRun {
    pub spec: Stream,
    pub rx: Option<RxQueue>,
    pub tx: Option<TxQueue>,
    pub counters: Arc<PortCounters>,
    pub rx_bursts: Option<BurstSpread>,
    pub tx_bursts: Option<BurstSpread>,
    /// The mode's generator (txonly, flowgen).
    pub generator: Option<Generator>,
    /// A txonly generator for the `--tx-first` burst, when the mode's is not one.
    pub first: Option<Generator>,
    /// `mac` mode: peer MAC then TX port MAC, written over the first 12 bytes.
    pub macs: [u8; 12],
    /// icmpecho: the TX port's MAC for ARP replies.
    pub tx_mac: MacAddr,
    /// Next probe sequence number.
    pub seq: u32,
    /// `--eth-peer=<tx port>,auto`: send only once the TX port's peer is learned, to it.
    pub auto_peer: bool,
    /// `--announce`: this stream announces its TX port.
    pub announcer: Option<Announcer>,
}

/// An lcore's end of the probe snapshots: the monitor bumps `epoch` when it wants one.
#[derive(Debug)]
pub struct SnapshotLink {
    pub epoch: Arc<AtomicU64>,
    pub to_monitor: Sender<Snapshot>,
    pub spare: Receiver<Snapshot>,
}

/// Copies of an lcore's received-stream state, for a periodic report.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub lcore: u32,
    pub streams: Vec<StreamRx>,
    pub unknown: u64,
}

/// What an lcore hands back when it stops.
#[derive(Debug)]
pub struct LcoreDone {
    pub bursts: Vec<(u16, Option<BurstSpread>, Option<BurstSpread>)>,
    pub probe: Option<ProbeRx>,
}

/// One forwarding lcore.
#[derive(Debug)]
pub struct Lcore {
    pub id: u32,
    pub streams: Vec<StreamRun>,
    pub cx: Context,
}

/// Lcore state the burst functions share across streams.
#[derive(Debug)]
pub struct Context {
    pub pool: Mempool,
    pub burst: u16,
    pub batch: Batch,
    /// Segments of multi-segment packets before they are chained.
    pub segments: Batch,
    pub probe: Option<ProbeRx>,
    /// `--txonly-multi-flow` source variation (testpmd keeps it per lcore).
    pub ip_var: u8,
    /// flowgen's next flow (per lcore too).
    pub next_flow: u32,
    pub lcore: u32,
    /// Learned peers and per-port traffic, shared by all lcores.
    pub table: Arc<PortTable>,
}

impl Lcore {
    /// Forwards until `stop`, then drains what is still queued for up to `drain`, and returns
    /// the burst statistics and probe state.
    pub fn run(
        mut self,
        mode: Mode,
        stop: Stop,
        tx_first: bool,
        idle_sleep: IdleSleep,
        link: Option<SnapshotLink>,
        done: Sender<LcoreDone>,
    ) {
        if tx_first {
            for s in &mut self.streams {
                if !learned_peer(&self.cx, s) {
                    continue;
                }
                let mut g = s.first.take();
                let g = g.as_mut().or(s.generator.as_mut());
                if let Some(g) = g {
                    generate(
                        &mut self.cx,
                        g,
                        s.tx.as_mut(),
                        &s.counters,
                        &mut s.tx_bursts,
                        &mut s.seq,
                    );
                }
            }
        }
        match mode {
            Mode::Io => self.forward::<Forward<Io>>(&stop, idle_sleep, link.as_ref()),
            Mode::Mac => self.forward::<Forward<Mac>>(&stop, idle_sleep, link.as_ref()),
            Mode::MacSwap => self.forward::<Forward<MacSwap>>(&stop, idle_sleep, link.as_ref()),
            Mode::RxOnly => self.forward::<RxOnly>(&stop, idle_sleep, link.as_ref()),
            Mode::TxOnly => self.forward::<TxOnly>(&stop, idle_sleep, link.as_ref()),
            Mode::FlowGen => self.forward::<FlowGen>(&stop, idle_sleep, link.as_ref()),
            Mode::IcmpEcho => self.forward::<IcmpEcho>(&stop, idle_sleep, link.as_ref()),
        }
        let bursts = self
            .streams
            .iter_mut()
            .map(|s| (s.spec.id, s.rx_bursts.take(), s.tx_bursts.take()))
            .collect();
        let _ = done.send(LcoreDone {
            bursts,
            probe: self.cx.probe.take(),
        });
    }

    fn forward<E: Engine>(
        &mut self,
        stop: &Stop,
        idle_sleep: IdleSleep,
        link: Option<&SnapshotLink>,
    ) {
        let mut seen_epoch = link.map_or(0, |l| l.epoch.load(Ordering::Relaxed));
        let announces = self.streams.iter().any(|s| s.announcer.is_some());
        loop {
            let mut work = 0;
            for s in &mut self.streams {
                work += E::burst(&mut self.cx, s);
            }
            if announces {
                let now = tsc::rdtsc();
                for s in &mut self.streams {
                    if let (Some(a), Some(tx)) = (s.announcer.as_mut(), s.tx.as_mut()) {
                        a.poll(now, &self.cx.pool, tx);
                    }
                }
            }
            if stop.is_set() {
                break;
            }
            if let Some(l) = link {
                let epoch = l.epoch.load(Ordering::Relaxed);
                if epoch != seen_epoch {
                    seen_epoch = epoch;
                    self.send_snapshot(l);
                }
            }
            idle_sleep.after_pass(work);
        }
        // Drain: what is still arriving is received (and forwarded) before counting ends, until
        // the queues stay quiet (see `quiesce`); generators stop at once.
        if E::RECEIVES {
            let mut quiesce = Quiesce::new();
            loop {
                let mut work = 0;
                for s in &mut self.streams {
                    work += E::drain(&mut self.cx, s);
                }
                if quiesce.done(work) {
                    break;
                }
                idle_sleep.after_pass(work);
            }
        }
    }

    fn send_snapshot(&mut self, link: &SnapshotLink) {
        let Some(probe) = &self.cx.probe else { return };
        let mut snap = link.spare.try_recv().unwrap_or_default();
        snap.lcore = self.id;
        snap.unknown = probe.unknown;
        probe.snapshot_into(&mut snap.streams);
        let _ = link.to_monitor.send(snap);
    }
}

/// A forwarding mode: what one burst on one stream does. Returns the packets handled, so the
/// lcore knows when it is idle.
trait Engine {
    const RECEIVES: bool = true;

    fn burst(cx: &mut Context, s: &mut StreamRun) -> usize;

    /// One burst while draining; generators send nothing then.
    fn drain(cx: &mut Context, s: &mut StreamRun) -> usize {
        Self::burst(cx, s)
    }
}

/// Receives a burst into `cx.batch`, counts it and accounts for its probes.
#[inline(always)]
fn receive(cx: &mut Context, s: &mut StreamRun) -> usize {
    let Some(rx) = s.rx.as_mut() else { return 0 };
    let n = rx.rx(&mut cx.batch);
    if let Some(b) = &mut s.rx_bursts {
        b.record(n);
    }
    if n == 0 {
        return 0;
    }
    // MAC announcements are not traffic: learned from, then freed before anything counts.
    let n = cx.table.take_announcements(&mut cx.batch, s.spec.rx_port);
    if n == 0 {
        return 0;
    }
    s.counters.rx_packets.add(n as u64);
    if let Some(probe) = &mut cx.probe {
        let now = tsc::rdtsc();
        probe.observe_burst(s.spec.rx_port, cx.batch.iter().map(Mbuf::data), now);
    }
    n
}

/// Whether the stream may send: always, unless its peer is learned (`--eth-peer=P,auto`) and
/// none has been yet; a newly learned (or changed) peer is written into its templates.
#[inline(always)]
fn learned_peer(cx: &Context, s: &mut StreamRun) -> bool {
    if !s.auto_peer {
        return true;
    }
    let Some(peer) = cx.table.peer(s.spec.tx_port) else {
        return false;
    };
    for g in [s.generator.as_mut(), s.first.as_mut()]
        .into_iter()
        .flatten()
    {
        if g.template.dst_mac() != peer {
            g.template.set_dst_mac(peer);
        }
    }
    true
}

/// Sends `cx.batch`; what the PMD refuses is freed and counted as dropped. Returns the number
/// sent.
#[inline(always)]
fn transmit(
    batch: &mut Batch,
    tx: Option<&mut TxQueue>,
    counters: &PortCounters,
    bursts: &mut Option<BurstSpread>,
) -> usize {
    let want = batch.len();
    let sent = tx.map_or(0, |tx| tx.tx(batch));
    if let Some(b) = bursts {
        b.record(sent);
    }
    counters.tx_packets.add(sent as u64);
    if sent < want {
        counters.tx_dropped.add((want - sent) as u64);
        batch.clear();
    }
    sent
}

/// Forwards what is in `cx.batch` out of the stream's TX queue.
#[inline(always)]
fn send_batch(cx: &mut Context, s: &mut StreamRun) -> usize {
    transmit(&mut cx.batch, s.tx.as_mut(), &s.counters, &mut s.tx_bursts)
}

/// One generated burst: allocate, copy the template (stamped and patched per packet), send,
/// and take back sequence numbers, flows and credit of what the PMD refused.
#[inline(always)]
fn generate(
    cx: &mut Context,
    g: &mut Generator,
    tx: Option<&mut TxQueue>,
    counters: &PortCounters,
    bursts: &mut Option<BurstSpread>,
    seq: &mut u32,
) -> usize {
    let now = tsc::rdtsc();
    let n = match &mut g.pacer {
        Some(p) => {
            let n = p.take(now, cx.burst);
            counters.tx_gap.record(p.last_gap());
            n
        }
        None => cx.burst,
    };
    if n == 0 {
        return 0;
    }
    let built = if g.segments.len() == 1 {
        build_single(cx, g, n, seq, now)
    } else {
        build_chained(cx, g, n, seq, now)
    };
    if built == 0 {
        if let Some(p) = &mut g.pacer {
            p.refund(n);
        }
        return 0;
    }
    let sent = transmit(&mut cx.batch, tx, counters, bursts);
    let unsent = n as usize - sent;
    if unsent > 0 {
        *seq = seq.wrapping_sub(unsent as u32);
        match g.kind {
            GenKind::TxOnly {
                multi_flow: Some(_),
            } => {
                cx.ip_var = cx.ip_var.wrapping_sub(unsent as u8);
            }
            GenKind::FlowGen { flows } => {
                let back = (unsent as u32) % flows;
                cx.next_flow = (cx.next_flow + flows - back) % flows;
            }
            GenKind::TxOnly { multi_flow: None } => {}
        }
        if let Some(p) = &mut g.pacer {
            p.refund(unsent as u16);
        }
    }
    sent
}

/// Patches the template for the next packet (flows) and returns the packet's probe sequence
/// number; the probe itself is stamped into the packet, not the template (see
/// [`Template::write_stamped`]).
#[inline(always)]
fn next_packet(cx: &mut Context, g: &mut Generator, seq: &mut u32) -> u32 {
    let this = *seq;
    *seq = seq.wrapping_add(1);
    match g.kind {
        GenKind::TxOnly {
            multi_flow: Some(dst),
        } => {
            g.template
                .set_src_ip(multi_flow_src(dst, cx.ip_var, cx.lcore));
            cx.ip_var = cx.ip_var.wrapping_add(1);
        }
        GenKind::FlowGen { flows } => {
            g.template.set_dst_ip(flowgen_dst(cx.next_flow));
            cx.next_flow = (cx.next_flow + 1) % flows;
        }
        GenKind::TxOnly { multi_flow: None } => {}
    }
    this
}

fn build_single(cx: &mut Context, g: &mut Generator, n: u16, seq: &mut u32, now: u64) -> u16 {
    if cx.pool.alloc_bulk(&mut cx.batch, usize::from(n)).is_err() {
        return 0;
    }
    let len = g.template.len();
    // A frame that does not fit the mbufs (the options rule it out) is not sent at all,
    // rather than sent empty. All mbufs of a pool have the same room.
    if cx
        .batch
        .as_slice()
        .first()
        .is_some_and(|m| m.tailroom() < len)
    {
        cx.batch.clear();
        return 0;
    }
    for i in 0..usize::from(n) {
        let this = next_packet(cx, g, seq);
        let m = &mut cx.batch.as_mut_slice()[i];
        if let Some(d) = m.append(len) {
            g.template.write_stamped(d, this, now);
        }
    }
    n
}

/// Multi-segment packets (`--txpkts` with several lengths), chained segment by segment.
fn build_chained(cx: &mut Context, g: &mut Generator, n: u16, seq: &mut u32, now: u64) -> u16 {
    let nsegs = g.segments.len();
    if cx
        .pool
        .alloc_bulk(&mut cx.segments, usize::from(n) * nsegs)
        .is_err()
    {
        return 0;
    }
    // Segments that do not fit the mbufs (the options rule them out) are not sent at all.
    let room = cx.segments.iter().map(Mbuf::tailroom).min().unwrap_or(0);
    if g.segments.iter().any(|&len| usize::from(len) > room) {
        cx.segments.clear();
        return 0;
    }
    for _ in 0..n {
        let this = next_packet(cx, g, seq);
        g.template.stamp(this, now);
        let bytes = g.template.bytes();
        let mut head: Option<Mbuf> = None;
        let mut off = 0;
        for &len in &g.segments {
            let Some(mut seg) = cx.segments.pop() else {
                break;
            };
            let len = usize::from(len);
            if let Some(d) = seg.append(len) {
                d.copy_from_slice(&bytes[off..off + len]);
            }
            off += len;
            head = Some(match head {
                None => seg,
                Some(h) => h.chain(seg).unwrap_or_else(|(h, _)| h),
            });
        }
        if let Some(h) = head {
            let _ = cx.batch.push(h);
        }
    }
    cx.segments.clear();
    n
}

/// io, mac and macswap: receive, rewrite each frame in place, send on.
struct Forward<R>(std::marker::PhantomData<R>);

/// What a forwarding mode does to each frame.
trait Rewrite {
    fn rewrite(frame: &mut [u8], s: &StreamRun);
}

impl<R: Rewrite> Engine for Forward<R> {
    #[inline(always)]
    fn burst(cx: &mut Context, s: &mut StreamRun) -> usize {
        if receive(cx, s) == 0 {
            return 0;
        }
        for m in cx.batch.iter_mut() {
            R::rewrite(m.data_mut(), s);
        }
        send_batch(cx, s)
    }
}

/// io: frames go out untouched.
struct Io;
impl Rewrite for Io {
    #[inline(always)]
    fn rewrite(_: &mut [u8], _: &StreamRun) {}
}

/// mac: destination = the TX port's peer, source = the TX port.
struct Mac;
impl Rewrite for Mac {
    #[inline(always)]
    fn rewrite(frame: &mut [u8], s: &StreamRun) {
        if let Some(hdr) = frame.get_mut(..12) {
            hdr.copy_from_slice(&s.macs);
        }
    }
}

/// macswap: source and destination exchanged.
struct MacSwap;
impl Rewrite for MacSwap {
    #[inline(always)]
    fn rewrite(frame: &mut [u8], _: &StreamRun) {
        if let Ok(mut f) = ether::Frame::new_checked(frame) {
            f.swap_addresses();
        }
    }
}

struct RxOnly;
impl Engine for RxOnly {
    #[inline(always)]
    fn burst(cx: &mut Context, s: &mut StreamRun) -> usize {
        let n = receive(cx, s);
        cx.batch.clear();
        n
    }
}

struct TxOnly;
impl Engine for TxOnly {
    const RECEIVES: bool = false;

    #[inline(always)]
    fn burst(cx: &mut Context, s: &mut StreamRun) -> usize {
        // With auto peers the RX queues are polled for announcements (and what else arrives is
        // counted and freed).
        let heard = if s.rx.is_some() {
            let n = receive(cx, s);
            cx.batch.clear();
            n
        } else {
            0
        };
        if !learned_peer(cx, s) {
            return heard;
        }
        let Some(g) = s.generator.as_mut() else {
            return heard;
        };
        heard
            + generate(
                cx,
                g,
                s.tx.as_mut(),
                &s.counters,
                &mut s.tx_bursts,
                &mut s.seq,
            )
    }
}

struct FlowGen;
impl Engine for FlowGen {
    #[inline(always)]
    fn burst(cx: &mut Context, s: &mut StreamRun) -> usize {
        let n = RxOnly::burst(cx, s);
        let Some(g) = s.generator.as_mut() else {
            return n;
        };
        n + generate(
            cx,
            g,
            s.tx.as_mut(),
            &s.counters,
            &mut s.tx_bursts,
            &mut s.seq,
        )
    }

    fn drain(cx: &mut Context, s: &mut StreamRun) -> usize {
        RxOnly::burst(cx, s)
    }
}

struct IcmpEcho;
impl Engine for IcmpEcho {
    #[inline(always)]
    fn burst(cx: &mut Context, s: &mut StreamRun) -> usize {
        let n = receive(cx, s);
        if n == 0 {
            return 0;
        }
        let mac = s.tx_mac;
        cx.batch.retain_mut(|m| echo_reply(m.data_mut(), mac));
        if !cx.batch.is_empty() {
            send_batch(cx, s);
        }
        n
    }
}

/// Turns an ARP request or ICMP echo request into its reply in place, as testpmd's icmpecho
/// does (one VLAN tag skipped; any ARP request answered with `port_mac`). `false`: drop it.
fn echo_reply(frame: &mut [u8], port_mac: MacAddr) -> bool {
    if frame.len() < ether::HEADER_LEN {
        return false;
    }
    let mut l2 = ether::HEADER_LEN;
    let mut ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    if ethertype == ether::ethertype::VLAN {
        l2 += ether::VLAN_TAG_LEN;
        match frame.get(16..18) {
            Some(t) => ethertype = u16::from_be_bytes([t[0], t[1]]),
            None => return false,
        }
    }
    match ethertype {
        ether::ethertype::ARP => arp_reply(frame, l2, port_mac),
        ether::ethertype::IPV4 => icmp_reply(frame, l2),
        _ => false,
    }
}

fn arp_reply(frame: &mut [u8], l2: usize, port_mac: MacAddr) -> bool {
    let (eth, rest) = frame.split_at_mut(l2);
    let Ok(mut a) = arp::Packet::new_checked(rest) else {
        return false;
    };
    if !a.is_ethernet_ipv4() || a.operation() != arp::OP_REQUEST {
        return false;
    }
    let requester = MacAddr(eth[6..12].try_into().expect("6 bytes"));
    eth[0..6].copy_from_slice(&requester.0);
    eth[6..12].copy_from_slice(&port_mac.0);
    let (sha, sip, tip) = (a.sender_mac(), a.sender_ip(), a.target_ip());
    a.set_operation(arp::OP_REPLY);
    a.set_target(sha, sip);
    a.set_sender(port_mac, tip);
    true
}

fn icmp_reply(frame: &mut [u8], l2: usize) -> bool {
    let Some(l3) = frame.get(l2..l2 + ipv4::HEADER_LEN + icmp::HEADER_LEN) else {
        return false;
    };
    // testpmd assumes a 20-byte IP header here.
    let icmp_at = l2 + ipv4::HEADER_LEN;
    if l3[9] != ipv4::protocol::ICMP
        || frame[icmp_at] != icmp::ECHO_REQUEST
        || frame[icmp_at + 1] != 0
    {
        return false;
    }
    let (dst_mac, src_mac) = (
        <[u8; 6]>::try_from(&frame[0..6]).expect("6 bytes"),
        <[u8; 6]>::try_from(&frame[6..12]).expect("6 bytes"),
    );
    frame[0..6].copy_from_slice(&src_mac);
    frame[6..12].copy_from_slice(&dst_mac);
    let mut ip = ipv4::Packet::new_checked(&mut frame[l2..]).expect("length checked");
    let (src, dst) = (ip.src_u32(), ip.dst_u32());
    if dst >> 24 == 0xE0 {
        // Multicast request: reply from an address other than the requester's.
        let new_src = if src & 3 == 1 {
            (src & !3) | 2
        } else {
            (src & !3) | 1
        };
        ip.set_src(new_src.into());
        ip.set_dst(src.into());
        ip.fill_checksum();
    } else {
        ip.set_src(dst.into());
        ip.set_dst(src.into());
    }
    let mut msg = icmp::Packet::new_checked(&mut frame[icmp_at..]).expect("length checked");
    let old = msg.checksum();
    msg.set_msg_type(icmp::ECHO_REPLY);
    msg.set_checksum(checksum::update_u16(
        old,
        u16::from(icmp::ECHO_REQUEST) << 8,
        u16::from(icmp::ECHO_REPLY) << 8,
    ));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arp_request() -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[0..6].copy_from_slice(&[0xff; 6]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
        f[12..14].copy_from_slice(&[0x08, 0x06]);
        let a = &mut f[14..];
        a[0..8].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        a[8..14].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
        a[14..18].copy_from_slice(&[10, 0, 0, 9]);
        a[24..28].copy_from_slice(&[10, 0, 0, 1]);
        f
    }

    #[test]
    fn answers_arp_requests_like_testpmd() {
        let port = MacAddr([2, 0, 0, 0, 0, 1]);
        let mut f = arp_request();
        assert!(echo_reply(&mut f, port));
        assert_eq!(&f[0..6], &[2, 0, 0, 0, 0, 9]);
        assert_eq!(&f[6..12], &port.0);
        let a = arp::Packet::new_checked(&f[14..]).unwrap();
        assert_eq!(a.operation(), arp::OP_REPLY);
        assert_eq!((a.sender_mac(), a.sender_ip()), (port, 0x0a00_0001));
        assert_eq!(
            (a.target_mac(), a.target_ip()),
            (MacAddr([2, 0, 0, 0, 0, 9]), 0x0a00_0009)
        );
        let mut reply = f.clone();
        assert!(!echo_reply(&mut reply, port), "replies are not answered");
    }

    fn echo_request(dst: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0u8; 74];
        f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let mut ip = ipv4::Packet::new_checked(&mut f[14..]).unwrap();
        ip.set_version_ihl(0x45);
        ip.set_total_len(60);
        ip.set_ttl(64);
        ip.set_protocol(ipv4::protocol::ICMP);
        ip.set_src([10, 0, 0, 9].into());
        ip.set_dst(dst.into());
        ip.fill_checksum();
        f[34] = icmp::ECHO_REQUEST;
        f[38..42].copy_from_slice(&[0x12, 0x34, 0, 1]);
        let c = checksum::checksum(&f[34..]);
        f[36..38].copy_from_slice(&c.to_be_bytes());
        f
    }

    #[test]
    fn answers_echo_requests_with_valid_checksums() {
        let mut f = echo_request([10, 0, 0, 1]);
        assert!(echo_reply(&mut f, MacAddr::default()));
        assert_eq!(&f[0..6], &[2, 0, 0, 0, 0, 9]);
        assert_eq!(&f[6..12], &[2, 0, 0, 0, 0, 1]);
        let ip = ipv4::Packet::new_checked(&f[14..]).unwrap();
        assert_eq!((ip.src_u32(), ip.dst_u32()), (0x0a00_0001, 0x0a00_0009));
        assert!(ip.checksum_ok());
        assert_eq!(f[34], icmp::ECHO_REPLY);
        assert_eq!(checksum::sum(0, &f[34..]), 0xffff, "ICMP checksum verifies");

        let mut m = echo_request([224, 0, 0, 5]);
        assert!(echo_reply(&mut m, MacAddr::default()));
        let ip = ipv4::Packet::new_checked(&m[14..]).unwrap();
        assert_eq!((ip.src_u32(), ip.dst_u32()), (0x0a00_000a, 0x0a00_0009));
        assert!(ip.checksum_ok());

        let mut udp = echo_request([10, 0, 0, 1]);
        udp[23] = ipv4::protocol::UDP;
        assert!(!echo_reply(&mut udp, MacAddr::default()));
        assert!(!echo_reply(&mut [0u8; 10], MacAddr::default()));
    }
}
