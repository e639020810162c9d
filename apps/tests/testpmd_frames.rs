//! What each mode does to frames, checked on captures: `net_pcap` replays a pcap file we write
//! into the engine and captures what it transmits. Generated frames are compared header byte
//! by header byte with what DPDK's own testpmd generates under the same options (payloads
//! differ on purpose: testpmd leaves stale mbuf bytes, we write zeros and the probe).

mod testpmd_support;

use std::path::Path;
use std::time::{Duration, Instant};

use testkit::{parse_forward_stats, DpdkLock, DpdkVersion, MemoryMode, Proc, ScratchDir};
use testpmd_support::*;

fn pcap_vdev(dir: &ScratchDir, rx: &str, tx: &str) -> String {
    format!(
        "net_pcap0,rx_pcap={},tx_pcap={}",
        dir.join(rx).display(),
        dir.join(tx).display()
    )
}

/// Runs our testpmd on one pcap port with `frames` as input for about a second; returns the
/// captured output frames, the summary JSON and stdout.
fn forward_pcap(
    dir: &ScratchDir,
    frames: &[Vec<u8>],
    app: &[&str],
) -> (Vec<Vec<u8>>, serde_json::Value, String) {
    let input = dir.join("in.pcap");
    testkit::pcap::write(&input, frames);
    let _ = std::fs::remove_file(dir.join("out.pcap"));
    let prefix = testkit::unique_prefix("tp-pcap");
    let stats = dir.join("stats.json");
    let eal = eal(
        MemoryMode::NoHuge,
        "0",
        &prefix,
        &[pcap_vdev(dir, "in.pcap", "out.pcap")],
    );
    let stats_arg = format!("--stats-file={}", stats.display());
    let mut args = vec!["--duration=1", stats_arg.as_str()];
    args.extend_from_slice(app);
    let stdout = run_ok("testpmd (pcap)", &mut ours(&eal, &args), &prefix);
    (
        read_pcap(&dir.join("out.pcap"), usize::MAX),
        json(&stats),
        stdout,
    )
}

fn udp_frames(n: u8) -> Vec<Vec<u8>> {
    (0..n).map(|i| udp_frame(64 + usize::from(i), i)).collect()
}

#[test]
fn forwarding_modes_rewrite_as_testpmd() {
    let _lock = DpdkLock::acquire();
    let dir = ScratchDir::new("tp-modes");
    let input = udp_frames(8);

    let (out, stats, text) = forward_pcap(&dir, &input, &["--forward-mode=io"]);
    assert_eq!(out, input, "io forwards frames untouched");
    assert_eq!(stats["totals"]["rx_packets"], 8);
    assert_eq!(stats["totals"]["tx_packets"], 8);
    assert_eq!(parse_forward_stats(&text)[&0].rx_packets, 8);

    let (out, _, text) = forward_pcap(
        &dir,
        &input,
        &["--forward-mode=mac", "--eth-peer=0,0c:fe:c0:ff:ee:01"],
    );
    let port_mac = port0_mac(&text);
    assert_eq!(out.len(), 8);
    for (o, i) in out.iter().zip(&input) {
        assert_eq!(
            &o[0..6],
            &[0x0c, 0xfe, 0xc0, 0xff, 0xee, 0x01],
            "dst = peer"
        );
        assert_eq!(&o[6..12], &port_mac, "src = TX port MAC");
        assert_eq!(&o[12..], &i[12..], "rest untouched");
    }

    let (out, _, _) = forward_pcap(&dir, &input, &["--forward-mode=macswap"]);
    assert_eq!(out.len(), 8);
    for (o, i) in out.iter().zip(&input) {
        assert_eq!((&o[0..6], &o[6..12]), (&i[6..12], &i[0..6]));
        assert_eq!(&o[12..], &i[12..]);
    }

    let (out, stats, text) = forward_pcap(&dir, &input, &["--forward-mode=rxonly"]);
    assert!(out.is_empty(), "rxonly transmits nothing");
    assert_eq!(stats["totals"]["rx_packets"], 8);
    assert_eq!(parse_forward_stats(&text)[&0].rx_packets, 8);
}

#[test]
fn icmpecho_answers_arp_and_ping_and_drops_the_rest() {
    let _lock = DpdkLock::acquire();
    let dir = ScratchDir::new("tp-icmp");
    let mut arp = vec![0u8; 60];
    arp[0..6].copy_from_slice(&[0xff; 6]);
    arp[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
    arp[12..14].copy_from_slice(&[0x08, 0x06]);
    arp[14..22].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    arp[22..28].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
    arp[28..32].copy_from_slice(&[10, 0, 0, 9]);
    arp[38..42].copy_from_slice(&[10, 0, 0, 1]);
    let mut ping = udp_frame(74, 0);
    ping[23] = 1; // ICMP
    ping[24..26].copy_from_slice(&[0, 0]);
    let ip_sum = !fold(&ping[14..34]);
    ping[24..26].copy_from_slice(&ip_sum.to_be_bytes());
    ping[34] = 8; // echo request
    ping[38..42].copy_from_slice(&[0x12, 0x34, 0, 7]);
    let icmp_sum = !fold(&ping[34..]);
    ping[36..38].copy_from_slice(&icmp_sum.to_be_bytes());

    let (out, stats, text) = forward_pcap(
        &dir,
        &[arp.clone(), udp_frame(64, 1), ping.clone()],
        &["--forward-mode=icmpecho"],
    );
    let port_mac = port0_mac(&text);
    assert_eq!(out.len(), 2, "ARP and echo replies only");
    assert_eq!(stats["totals"]["rx_packets"], 3);
    let a = &out[0];
    assert_eq!((&a[0..6], &a[6..12]), (&arp[6..12], &port_mac[..]));
    assert_eq!(&a[20..22], &[0, 2], "ARP reply");
    assert_eq!(&a[22..28], &port_mac, "sender = port MAC");
    assert_eq!(&a[28..32], &[10, 0, 0, 1], "sender IP = requested IP");
    assert_eq!((&a[32..38], &a[38..42]), (&arp[22..28], &arp[28..32]));
    let p = &out[1];
    assert_eq!((&p[0..6], &p[6..12]), (&ping[6..12], &ping[0..6]));
    assert_eq!((&p[26..30], &p[30..34]), (&ping[30..34], &ping[26..30]));
    assert_eq!(p[34], 0, "echo reply");
    assert_eq!(fold(&p[14..34]), 0xffff, "IP checksum");
    assert_eq!(fold(&p[34..]), 0xffff, "ICMP checksum");
}

fn fold(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Runs DPDK's testpmd until its capture holds `n` frames, then stops it.
fn capture_theirs(dir: &ScratchDir, app: &[&str], n: usize) -> Vec<Vec<u8>> {
    testkit::pcap::write(&dir.join("empty.pcap"), &[]);
    let out = dir.join("theirs.pcap");
    let _ = std::fs::remove_file(&out);
    let prefix = testkit::unique_prefix("tp-theirs");
    let eal = eal(
        MemoryMode::NoHuge,
        "0,1",
        &prefix,
        &[pcap_vdev(dir, "empty.pcap", "theirs.pcap")],
    );
    let mut args = vec!["--stats-period=60"];
    args.extend_from_slice(app);
    let p = Proc::spawn("dpdk-testpmd", &mut theirs(&eal, &args), Some(&prefix));
    let deadline = Instant::now() + Duration::from_secs(30);
    while file_len(&out) < 24 + (n as u64 + 1) * 116 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    stop_ok("dpdk-testpmd", p, "INT");
    read_pcap(&out, n)
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

/// Our generator on lcore 1 (as testpmd's), paced so that the capture stays small.
fn capture_ours(dir: &ScratchDir, app: &[&str], n: usize) -> Vec<Vec<u8>> {
    testkit::pcap::write(&dir.join("empty.pcap"), &[]);
    let prefix = testkit::unique_prefix("tp-ours");
    let eal = eal(
        MemoryMode::NoHuge,
        "0,1",
        &prefix,
        &[pcap_vdev(dir, "empty.pcap", "ours.pcap")],
    );
    let mut args = vec!["--tx-rate=2000", "--duration=1"];
    args.extend_from_slice(app);
    run_ok("testpmd (ours)", &mut ours(&eal, &args), &prefix);
    read_pcap(&dir.join("ours.pcap"), n)
}

#[test]
fn generated_headers_match_dpdk_testpmd() {
    let _lock = DpdkLock::acquire();
    let dir = ScratchDir::new("tp-gen");
    const N: usize = 64;
    for app in [
        &["--forward-mode=txonly"][..],
        &[
            "--forward-mode=txonly",
            "--txonly-multi-flow",
            "--eth-peer=0,0c:fe:c0:ff:ee:01",
        ],
        &["--forward-mode=txonly", "--txpkts=40,60"],
        &["--forward-mode=flowgen", "--flowgen-flows=5"],
    ] {
        let mut theirs = capture_theirs(&dir, app, N);
        let ours = capture_ours(&dir, app, N);
        if app.contains(&"--txonly-multi-flow") && DpdkVersion::installed().at_least(23, 7) {
            // Ours varies the source address as 22.11 does; testpmd 23.07 and later vary the
            // UDP source port instead (docs/dpdk-versions.md). Check theirs is exactly that,
            // then compare the rest.
            for (i, t) in theirs.iter_mut().enumerate() {
                as_22_11_multi_flow(t, i);
            }
        }
        assert_eq!(theirs.len(), N, "{app:?}: testpmd capture");
        assert_eq!(ours.len(), N, "{app:?}: our capture");
        for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(o.len(), t.len(), "{app:?} frame {i}: length");
            assert_eq!(
                &o[..42],
                &t[..42],
                "{app:?} frame {i}: Ethernet/IPv4/UDP headers"
            );
            assert_eq!(probe(o), Some((0, i as u32)), "{app:?} frame {i}: probe");
        }
    }
}

/// Turns frame `i` of testpmd 23.07+'s `--txonly-multi-flow` on lcore 1 (source 198.18.0.1,
/// UDP source port `(i | 0xc0) << 8 | lcore`) into what 22.11's sends (source
/// `(198.18.0.2 | (i as u8) << 8) + lcore`, port 9), after checking that it is exactly the former.
fn as_22_11_multi_flow(frame: &mut [u8], i: usize) {
    let lcore = 1u16;
    let port = ((i as u16 & 0xff) | 0xc0) << 8 | lcore;
    assert_eq!(
        &frame[26..30],
        &[198, 18, 0, 1],
        "frame {i}: 23.07+ source address"
    );
    assert_eq!(
        &frame[34..36],
        &port.to_be_bytes(),
        "frame {i}: 23.07+ UDP source port"
    );
    let src = (u32::from_be_bytes([198, 18, 0, 2]) | (i as u32 & 0xff) << 8) + u32::from(lcore);
    frame[26..30].copy_from_slice(&src.to_be_bytes());
    frame[34..36].copy_from_slice(&9u16.to_be_bytes());
    frame[24..26].fill(0);
    let sum = frame[14..34]
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let sum = (sum & 0xffff) + (sum >> 16);
    let sum = (sum & 0xffff) + (sum >> 16);
    frame[24..26].copy_from_slice(&(!(sum as u16)).to_be_bytes());
}

#[test]
fn receiver_counts_loss_reordering_and_duplicates_exactly() {
    let _lock = DpdkLock::acquire();
    let dir = ScratchDir::new("tp-probe");
    let sent = capture_ours(&dir, &["--forward-mode=txonly"], 100);
    assert_eq!(sent.len(), 100);
    // Lose 5 and 50..53, duplicate 10, swap 20 and 21, deliver 30 after 40.
    let mut input: Vec<Vec<u8>> = Vec::new();
    for (i, f) in sent.iter().enumerate() {
        match i {
            5 | 50..=53 | 30 => continue,
            10 => {
                input.push(f.clone());
                input.push(f.clone());
            }
            20 => input.push(sent[21].clone()),
            21 => input.push(sent[20].clone()),
            40 => {
                input.push(f.clone());
                input.push(sent[30].clone());
            }
            _ => input.push(f.clone()),
        }
    }
    let (_, stats, text) = forward_pcap(&dir, &input, &["--forward-mode=rxonly"]);
    let p = &stats["probe"];
    let s = &p["streams"][0];
    assert_eq!(
        (s["stream"].as_u64(), s["port"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(s["received"], input.len(), "{p}");
    assert_eq!(s["lost"], 5, "{p}");
    assert_eq!(s["duplicated"], 1, "{p}");
    assert_eq!(s["reordered"], 2, "20/21 swapped and 30 late: {p}");
    assert_eq!(p["totals"]["lost"], 5);
    assert!(text.contains("Probe statistics"), "{text}");
}

/// MAC announcements (`packet::announce`) are neither counted nor forwarded: io forwards only
/// the traffic around them; rxonly counts only that traffic and, with `--announce`, sends its
/// own; txonly with `--eth-peer=0,auto` sends to the announced MAC.
#[test]
fn announcements_are_learned_from_never_counted_or_forwarded() {
    use packet::announce;
    let _lock = DpdkLock::acquire();
    let dir = ScratchDir::new("tp-announce");
    let peer = packet::MacAddr([0x02, 0x0d, 0xee, 0, 1, 0]);
    let ann = announce::Repr {
        mac: peer,
        port: 0,
        receiving: false,
    }
    .frame()
    .to_vec();
    let traffic = udp_frames(4);
    let mut input = vec![ann.clone()];
    input.extend(traffic[..2].iter().cloned());
    input.push(ann.clone());
    input.extend(traffic[2..].iter().cloned());

    let (out, stats, text) = forward_pcap(&dir, &input, &["--forward-mode=io"]);
    assert_eq!(
        out, traffic,
        "io forwards the traffic, not the announcements"
    );
    assert_eq!(stats["totals"]["rx_packets"], 4);
    assert!(
        text.contains("Port 0: MAC announcements heard 2 (invalid 0), sent 0"),
        "{text}"
    );

    let (out, stats, _) = forward_pcap(&dir, &input, &["--forward-mode=rxonly", "--announce"]);
    assert_eq!(
        stats["totals"]["rx_packets"], 4,
        "announcements are not traffic"
    );
    assert_eq!(
        stats["totals"]["tx_packets"], 0,
        "nor are the ones it sends"
    );
    assert!(!out.is_empty(), "rxonly --announce sends announcements");
    for f in &out {
        let a = announce::decode(f).unwrap_or_else(|e| panic!("{e}: {f:02x?}"));
        assert_eq!(a.port, 0);
        assert!(
            a.receiving,
            "sent after the traffic arrived (pcap delivers at once)"
        );
    }

    let (out, _, text) = forward_pcap(
        &dir,
        &input,
        &[
            "--forward-mode=txonly",
            "--eth-peer=0,auto",
            "--tx-rate=1000",
        ],
    );
    assert!(!out.is_empty(), "{text}");
    for f in &out {
        assert_eq!(&f[0..6], &peer.0, "sent to the learned peer");
    }
    assert!(
        text.contains("Port 0: peer MAC 02:0D:EE:00:01:00 learned"),
        "{text}"
    );
}
