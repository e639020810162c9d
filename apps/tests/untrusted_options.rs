//! Every app's options and l3fwd's rule files are untrusted input (a pod's `*_EXTRA_ARGS`, files
//! it is given): whatever arrives, the parsers answer with options or an error naming what is
//! wrong, never a panic. Arguments are drawn from each app's own option table with hostile
//! values (huge, negative, fractional, non-numeric, control characters, very long), the
//! bounds every app shares are checked one by one, and rule files are random lines in and
//! around the format.

use std::time::Duration;

use dpdk_app::getopt::Opt;
use dpdk_app::l3fwd::rules::{self, EmRoute, LpmRoute};
use dpdk_app::runopts::{RunOptions, MAX_SECONDS};
use proptest::prelude::*;

/// Values no option should panic on.
const HOSTILE: &[&str] = &[
    "",
    "0",
    "-1",
    "1",
    "2.5",
    "1e20",
    "1e19",
    "NaN",
    "inf",
    "-0",
    "18446744073709551615",
    "18446744073709551616",
    "4294967296",
    "65536",
    "0x",
    "0xffffffffffffffffff",
    "(0,0,0)",
    "((((",
    "(1,2,3),(4,5,",
    "00:11:22:33:44:55",
    "0,zz:zz",
    "a=0,1",
    "=",
    ",",
    "\n",
    "\u{1b}[2J",
    "é",
    "txonly",
    "/tmp/x",
];

/// One argv word or two for `opt`, with `value` where it takes one.
fn words(opt: &Opt, value: &str, inline: bool) -> Vec<String> {
    use dpdk_app::getopt::HasArg;
    let name = match (opt.long, opt.short) {
        (Some(l), _) => format!("--{l}"),
        (None, Some(s)) => format!("-{s}"),
        (None, None) => return Vec::new(),
    };
    match opt.arg {
        HasArg::No => vec![name],
        _ if inline && opt.long.is_some() => vec![format!("{name}={value}")],
        _ => vec![name, value.to_owned()],
    }
}

/// Argv built from `table`: (option index, value index or free text, inline) triples.
fn argv(table: &[Opt], picks: &[(usize, usize, bool, String)]) -> Vec<String> {
    picks
        .iter()
        .flat_map(|(o, v, inline, free)| {
            let value = HOSTILE.get(*v).copied().unwrap_or(free.as_str());
            words(&table[o % table.len()], value, *inline)
        })
        .collect()
}

fn picks() -> impl Strategy<Value = Vec<(usize, usize, bool, String)>> {
    proptest::collection::vec(
        (
            0usize..64,
            0usize..HOSTILE.len() + 4,
            any::<bool>(),
            ".{0,40}",
        ),
        0..10,
    )
}

fn table_with_ours(app: &[Opt]) -> Vec<Opt> {
    RunOptions::table_with(&[app])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn testpmd_options(p in picks(), junk in proptest::collection::vec(".{0,20}", 0..3)) {
        let table = table_with_ours(dpdk_app::testpmd::options::SUPPORTED);
        let mut args = argv(&table, &p);
        args.extend(junk);
        if let Err(e) = dpdk_app::testpmd::options::parse(&args) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn l2fwd_options(p in picks()) {
        let table = table_with_ours(dpdk_app::l2fwd::options::TABLE);
        if let Err(e) = dpdk_app::l2fwd::options::parse(&argv(&table, &p)) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn l3fwd_options(p in picks()) {
        let table = table_with_ours(dpdk_app::l3fwd::options::TABLE);
        if let Err(e) = dpdk_app::l3fwd::options::parse(&argv(&table, &p)) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn relay_options(p in picks()) {
        let table = table_with_ours(&dpdk_app::relay::Options::TABLE);
        if let Err(e) = dpdk_app::relay::Options::parse(&argv(&table, &p)) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn demo_options(p in picks()) {
        use dpdk_app::getopt::HasArg;
        let table = ["duration", "rate", "frame-size", "app", "report-dir", "manifest", "hugepages"]
            .map(|name| Opt::long(name, HasArg::Required));
        if let Err(e) = podsim::demo::Options::parse(&argv(&table, &p)) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    /// Lines in and around the rule file formats (`R<addr>/<depth> <port>`, `E<5-tuple> <port>`).
    #[test]
    fn rule_files(lines in proptest::collection::vec(rule_line(), 0..20)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules");
        std::fs::write(&path, lines.join("\n")).unwrap();
        for result in [
            rules::load::<LpmRoute<std::net::Ipv4Addr>>(&path).map(|_| ()),
            rules::load::<LpmRoute<std::net::Ipv6Addr>>(&path).map(|_| ()),
            rules::load::<EmRoute<std::net::Ipv4Addr>>(&path).map(|_| ()),
            rules::load::<EmRoute<std::net::Ipv6Addr>>(&path).map(|_| ()),
        ] {
            if let Err(e) = result {
                let e = e.to_string();
                prop_assert!(e.contains("rules"), "the error names the file: {}", e);
            }
        }
    }
}

fn rule_line() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,60}",
        (any::<[u8; 4]>(), 0u32..40, 0u32..70)
            .prop_map(|(a, d, p)| format!("R{}.{}.{}.{}/{d} {p}", a[0], a[1], a[2], a[3])),
        (any::<[u16; 8]>(), 0u32..140, 0u32..40).prop_map(|(a, d, p)| {
            let words: Vec<String> = a.iter().map(|w| format!("{w:x}")).collect();
            format!("R{}/{d} {p}", words.join(":"))
        }),
        (
            any::<[u8; 8]>(),
            any::<u16>(),
            any::<u16>(),
            any::<u8>(),
            0u32..40
        )
            .prop_map(|(a, sp, dp, proto, p)| format!(
                "E{}.{}.{}.{} {}.{}.{}.{} {sp} {dp} {proto} {p}",
                a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
            )),
        Just("# comment".to_owned()),
        Just(String::new()),
    ]
}

/// `--duration` and `--stats-period` have the same bounds in every app, stated in `--help`;
/// beyond them (and for anything that is not a number) the app says which option is wrong.
#[test]
fn time_options_are_bounded_alike_in_every_app() {
    let over = (MAX_SECONDS + 1).to_string();
    let max = MAX_SECONDS.to_string();
    type Parse = fn(&[String]) -> Result<(), String>;
    let apps: [(&str, Parse, &[&str]); 4] = [
        (
            "testpmd",
            |a| {
                dpdk_app::testpmd::options::parse(a)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            },
            &[],
        ),
        (
            "l2fwd",
            |a| {
                dpdk_app::l2fwd::options::parse(a)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            },
            &["-p", "0x3"],
        ),
        (
            "l3fwd",
            |a| {
                dpdk_app::l3fwd::options::parse(a)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            },
            &["-p", "0x3", "--config=(0,0,0)"],
        ),
        (
            "relay",
            |a| {
                dpdk_app::relay::Options::parse(a)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            },
            &["--segment", "a=0,1"],
        ),
    ];
    for (app, parse, base) in apps {
        let with = |extra: &[&str]| -> Vec<String> {
            base.iter().chain(extra).map(|s| s.to_string()).collect()
        };
        for bad in ["1e20", "1e19", over.as_str(), "-1", "0", "NaN", "x"] {
            let e = parse(&with(&["--duration", bad])).expect_err(bad);
            assert!(e.contains("--duration") && e.contains(bad), "{app}: {e}");
        }
        parse(&with(&["--duration", &max])).unwrap_or_else(|e| panic!("{app}: {e}"));
        if app != "l2fwd" {
            for bad in [over.as_str(), "18446744073709551615", "-1", "x"] {
                let e = parse(&with(&["--stats-period", bad])).expect_err(bad);
                assert!(
                    e.contains("--stats-period") && e.contains(bad),
                    "{app}: {e}"
                );
            }
            parse(&with(&["--stats-period", &max])).unwrap_or_else(|e| panic!("{app}: {e}"));
        }
    }
    assert_eq!(MAX_SECONDS, Duration::from_secs(366 * 24 * 3600).as_secs());
}
