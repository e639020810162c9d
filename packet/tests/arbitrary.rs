//! Any bytes on the wire: no view getter, `check_len`, `Repr::parse` or `decode` panics once
//! `new_checked` accepted the buffer, and what `emit` writes parses back to the same `Repr`.

use std::net::Ipv4Addr;

use packet::{arp, checksum, ether, icmp, ipv4, ipv6, probe, udp, MacAddr};
use proptest::prelude::*;

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..160)
}

fn mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

fn ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

proptest! {
    #[test]
    fn views_and_parsers_never_panic(b in bytes()) {
        if let Ok(f) = ether::Frame::new_checked(&b[..]) {
            let _ = (f.dst(), f.src(), f.ethertype(), f.inner_ethertype(), f.payload().len());
            prop_assert!(ether::Repr::parse(&f).is_ok());
        } else {
            prop_assert!(b.len() < ether::HEADER_LEN);
        }
        if let Ok(a) = arp::Packet::new_checked(&b[..]) {
            let _ = (a.is_ethernet_ipv4(), a.operation(), a.sender_mac(), a.sender_ip());
            let _ = (a.target_mac(), a.target_ip());
            let _ = arp::Repr::parse(&a);
        }
        if let Ok(p) = ipv4::Packet::new_checked(&b[..]) {
            let _ = (p.version(), p.header_len(), p.tos(), p.total_len(), p.ident());
            let _ = (p.frag_field(), p.ttl(), p.protocol(), p.checksum(), p.src(), p.dst());
            let _ = (p.checksum_ok(), p.payload().len());
            if let Ok(r) = ipv4::Repr::parse(&p) {
                prop_assert!(p.checksum_ok());
                prop_assert!(p.header_len() + r.payload_len <= b.len());
            }
        }
        if let Ok(p) = ipv6::Packet::new_checked(&b[..]) {
            let _ = (p.version(), p.payload_len(), p.next_header(), p.hop_limit());
            let _ = (p.src(), p.dst(), p.payload().len());
        }
        if let Ok(u) = udp::Packet::new_checked(&b[..]) {
            let _ = (u.src_port(), u.dst_port(), u.len(), u.is_empty(), u.checksum());
            let _ = u.payload().len();
            if let Ok(r) = udp::Repr::parse(&u) {
                prop_assert!(udp::HEADER_LEN + r.payload_len <= b.len());
            }
        }
        if let Ok(m) = icmp::Packet::new_checked(&b[..]) {
            let _ = (m.msg_type(), m.code(), m.checksum());
        }
        if let Ok(p) = probe::Packet::new_checked(&b[..]) {
            let _ = (p.has_magic(), p.stream(), p.seq(), p.clock(), p.tsc());
            let _ = probe::Probe::parse(&p);
        }
        if let Some(p) = probe::decode(&b) {
            let view = probe::Packet::new_checked(&b[probe::PROBE_OFF..]).unwrap();
            prop_assert_eq!(probe::Probe::parse(&view), Ok(p));
        }
        let _ = checksum::sum(0, &b);
    }

    /// Setters on a buffer `new_checked` accepted stay within it.
    #[test]
    fn setters_never_panic(mut b in bytes(), v in any::<u32>(), m in mac()) {
        if let Ok(mut f) = ether::Frame::new_checked(&mut b[..]) {
            f.set_dst(m);
            f.set_src(m);
            f.set_ethertype(v as u16);
            f.swap_addresses();
            let _ = f.payload_mut();
        }
        if let Ok(mut p) = ipv4::Packet::new_checked(&mut b[..]) {
            p.set_version_ihl(v as u8);
            p.set_total_len(v as u16);
            p.fill_checksum();
            let _ = p.payload_mut();
        }
        if let Ok(mut u) = udp::Packet::new_checked(&mut b[..]) {
            u.set_len(v as u16);
            let _ = u.payload_mut();
        }
    }

    #[test]
    fn ether_round_trip(dst in mac(), src in mac(), ethertype in any::<u16>()) {
        let repr = ether::Repr { dst, src, ethertype };
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut ether::Frame::new_unchecked(&mut b[..]));
        prop_assert_eq!(ether::Repr::parse(&ether::Frame::new_unchecked(&b[..])), Ok(repr));
    }

    #[test]
    fn ipv4_round_trip(
        src in ip(),
        dst in ip(),
        protocol in any::<u8>(),
        payload_len in 0usize..2048,
        ttl in any::<u8>(),
    ) {
        let repr = ipv4::Repr { src, dst, protocol, payload_len, ttl };
        let mut b = vec![0u8; repr.buffer_len() + payload_len];
        repr.emit(&mut ipv4::Packet::new_unchecked(&mut b[..]));
        prop_assert_eq!(ipv4::Repr::parse(&ipv4::Packet::new_unchecked(&b[..])), Ok(repr));
    }

    #[test]
    fn udp_round_trip(src_port in any::<u16>(), dst_port in any::<u16>(), payload_len in 0usize..2048) {
        let repr = udp::Repr { src_port, dst_port, payload_len };
        let mut b = vec![0u8; repr.buffer_len() + payload_len];
        repr.emit(&mut udp::Packet::new_unchecked(&mut b[..]));
        prop_assert_eq!(udp::Repr::parse(&udp::Packet::new_unchecked(&b[..])), Ok(repr));
    }

    #[test]
    fn arp_round_trip(
        operation in any::<u16>(),
        sender_mac in mac(),
        sender_ip in ip(),
        target_mac in mac(),
        target_ip in ip(),
    ) {
        let repr = arp::Repr { operation, sender_mac, sender_ip, target_mac, target_ip };
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut arp::Packet::new_unchecked(&mut b[..]));
        prop_assert_eq!(arp::Repr::parse(&arp::Packet::new_unchecked(&b[..])), Ok(repr));
    }

    #[test]
    fn probe_round_trip(
        stream in any::<u16>(),
        seq in any::<u32>(),
        clock in any::<u16>(),
        tsc in 0..=probe::TSC_MASK,
    ) {
        let repr = probe::Probe { stream, seq, clock, tsc };
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut probe::Packet::new_unchecked(&mut b[..]));
        prop_assert_eq!(probe::Probe::parse(&probe::Packet::new_unchecked(&b[..])), Ok(repr));
    }
}

proptest! {
    /// Every template's headers parse back to its addresses and lengths, and its probe (when
    /// there is room for one) decodes to what was stamped.
    #[test]
    fn templates_parse_back(
        src_mac in mac(),
        dst_mac in mac(),
        src_ip in ip(),
        dst_ip in ip(),
        ports in any::<(u16, u16)>(),
        len in probe::PROBE_OFF..1600,
        ids in proptest::option::of(any::<(u16, u16)>()),
        seq in any::<u32>(),
        tsc in 0..=probe::TSC_MASK,
    ) {
        use packet::template::{Addresses, Template};
        let a = Addresses { src_mac, dst_mac, src_ip, dst_ip, src_port: ports.0, dst_port: ports.1 };
        let mut t = Template::txonly(a, len, ids);
        t.stamp(seq, tsc);
        let b = t.bytes();
        prop_assert_eq!(b.len(), len);
        let eth = ether::Repr::parse(&ether::Frame::new_unchecked(b)).unwrap();
        prop_assert_eq!((eth.src, eth.dst, eth.ethertype), (src_mac, dst_mac, ether::ethertype::IPV4));
        let ip = ipv4::Repr::parse(&ipv4::Packet::new_unchecked(&b[ether::HEADER_LEN..])).unwrap();
        prop_assert_eq!((ip.src, ip.dst, ip.ttl), (src_ip, dst_ip, 64));
        let udp_at = ether::HEADER_LEN + ipv4::HEADER_LEN;
        let u = udp::Repr::parse(&udp::Packet::new_unchecked(&b[udp_at..])).unwrap();
        prop_assert_eq!((u.src_port, u.dst_port, u.payload_len), (ports.0, ports.1, len - probe::PROBE_OFF));
        let want = ids
            .filter(|_| len >= probe::PROBE_OFF + probe::LEN)
            .map(|(stream, clock)| probe::Probe { stream, seq, clock, tsc });
        prop_assert_eq!(probe::decode(b), want);
        prop_assert_eq!(t.has_probe(), want.is_some());
    }
}
