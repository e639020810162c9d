//! The application arguments the original image's entrypoint generated, plus the user's
//! `*_EXTRA_ARGS`: an extra option replaces the default of the same option, everything else is
//! appended in order.

use netutil::{App, EalPlan};

/// One default option: the option it sets and its argv elements, written as the original
/// entrypoint wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DefaultOpt {
    name: &'static str,
    args: Vec<String>,
}

/// The original entrypoint's defaults for `app` on the planned ports and lcores:
/// testpmd `--auto-start --tx-first --stats-period 2`; l2fwd `-p <mask> -T 120
/// --no-mac-updating`; l3fwd `-p <mask> -P --config=(port,0,lcore),... --parse-ptype`.
fn defaults(app: App, plan: &EalPlan) -> Vec<DefaultOpt> {
    let opt = |name: &'static str, args: &[&str]| DefaultOpt {
        name,
        args: args.iter().map(|a| a.to_string()).collect(),
    };
    let mask = format!("{:#x}", plan.port_mask());
    match app {
        App::Testpmd => vec![
            opt("--auto-start", &["--auto-start"]),
            opt("--tx-first", &["--tx-first"]),
            opt("--stats-period", &["--stats-period", "2"]),
        ],
        App::L2fwd => vec![
            opt("-p", &["-p", &mask]),
            opt("-T", &["-T", "120"]),
            opt("--no-mac-updating", &["--no-mac-updating"]),
        ],
        // The search's own defaults; the manifest says where the report goes.
        App::Rfc2544 => Vec::new(),
        App::L3fwd => {
            // Every port's queue 0 on the forwarding lcore: the first worker, or the main lcore
            // when it is the only one (the original's `-l 1` and `(p,0,1)`).
            let lcore = plan
                .lcores
                .workers
                .first()
                .copied()
                .unwrap_or(plan.lcores.main);
            let config: Vec<String> = plan
                .ports
                .iter()
                .map(|p| format!("({},0,{lcore})", p.index))
                .collect();
            // One element, as the original wrote it (without its literal double quotes, which
            // only a shell would have removed).
            let config = format!("--config={}", config.join(","));
            vec![
                opt("-p", &["-p", &mask]),
                opt("-P", &["-P"]),
                opt("--config", &[&config]),
                opt("--parse-ptype", &["--parse-ptype"]),
            ]
        }
    }
}

/// Whether the argument `arg` sets option `name` (`--opt`, `--opt=v`, `-x`, `-xVALUE`).
fn sets(arg: &str, name: &str) -> bool {
    if name.starts_with("--") {
        arg == name
            || arg
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('='))
    } else {
        arg.starts_with(name)
    }
}

/// The application argv: defaults not overridden by `extras`, then `extras` in order.
pub fn app_args(app: App, plan: &EalPlan, extras: &[String]) -> Vec<String> {
    let mut out: Vec<String> = defaults(app, plan)
        .into_iter()
        .filter(|d| !extras.iter().any(|e| sets(e, d.name)))
        .flat_map(|d| d.args)
        .collect();
    out.extend(extras.iter().cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn option_matching() {
        assert!(sets("--stats-period", "--stats-period"));
        assert!(sets("--stats-period=5", "--stats-period"));
        assert!(!sets("--stats-periodic", "--stats-period"));
        assert!(sets("-T", "-T") && sets("-T5", "-T"));
        assert!(!sets("-P", "-p"), "short options are case-sensitive");
    }

    /// `*_EXTRA_ARGS` values of the netutil fixtures and the traffic-test manifest, and a few
    /// of what an operator might write.
    fn extra_args_seeds() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut seeds = vec![
            r#"--config="(0,0,1),(1,0,1)" -p 0x3 --lookup=em"#.to_owned(),
            "-T 10 -q 2 --no-mac-updating".to_owned(),
            r"--stats-period 5 --eth-peer=0,'0C:FE:C0:FF:EE:10' $'--x\n'".to_owned(),
        ];
        let fixtures = root.join("netutil/tests/fixtures");
        for dir in std::fs::read_dir(fixtures).unwrap() {
            let env = std::fs::read_to_string(dir.unwrap().path().join("env")).unwrap_or_default();
            seeds.extend(
                env.lines()
                    .filter_map(|l| l.split_once("_EXTRA_ARGS="))
                    .map(|(_, v)| v.to_owned()),
            );
        }
        let manifest =
            std::fs::read_to_string(root.join("deployment/vdpa-dpdk-traffic-test.yaml")).unwrap();
        let mut lines = manifest.lines();
        while let Some(line) = lines.next() {
            if line.trim().ends_with("_EXTRA_ARGS") {
                let value = lines.next().unwrap_or_default().trim();
                seeds.extend(value.strip_prefix("value: ").map(str::to_owned));
            }
        }
        seeds
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Mutated `*_EXTRA_ARGS` through the entrypoint's path: split like a shell, merged with
        /// the defaults. Nothing panics, and the extras always end the argv unchanged.
        #[test]
        fn mutated_extra_args_split_and_merge(
            seed in proptest::sample::select(extra_args_seeds()),
            edits in proptest::collection::vec(
                (
                    proptest::prelude::any::<proptest::sample::Index>(),
                    proptest::sample::select(&[
                        "'", "\"", "\\", "$'", "\\x", "\\0", "\n", " ", "=", "-p", "-T",
                        "--config", "--stats-period", "\u{1b}", "é", "\u{2028}", "",
                    ][..]),
                ),
                0..4,
            ),
            app in proptest::sample::select(&App::ALL[..]),
        ) {
            let mut input = seed;
            for (at, token) in edits {
                let mut i = at.index(input.len() + 1);
                while !input.is_char_boundary(i) {
                    i -= 1;
                }
                input.insert_str(i, token);
            }
            let Ok(extras) = crate::pod::shell::shell_split(&input) else { return Ok(()) };
            let plan = crate::pod::tests::plan_with(3, 1, vec![2]);
            let args = app_args(app, &plan, &extras);
            proptest::prop_assert!(args.ends_with(&extras), "{:?} {:?}", args, extras);
        }
    }

    #[test]
    fn extras_replace_defaults_of_the_same_option() {
        let plan_ports = 2;
        let plan = crate::pod::tests::plan_with(plan_ports, 1, vec![]);
        assert_eq!(
            app_args(
                App::Testpmd,
                &plan,
                &s(&["--forward-mode=txonly", "--stats-period", "5"])
            ),
            s(&[
                "--auto-start",
                "--tx-first",
                "--forward-mode=txonly",
                "--stats-period",
                "5"
            ])
        );
        assert_eq!(
            app_args(App::L2fwd, &plan, &[]),
            s(&["-p", "0x3", "-T", "120", "--no-mac-updating"])
        );
        assert_eq!(
            app_args(App::L2fwd, &plan, &s(&["-T", "10", "-q", "2"])),
            s(&["-p", "0x3", "--no-mac-updating", "-T", "10", "-q", "2"])
        );
        assert_eq!(
            app_args(App::L3fwd, &plan, &s(&["--lookup=em"])),
            s(&[
                "-p",
                "0x3",
                "-P",
                "--config=(0,0,1),(1,0,1)",
                "--parse-ptype",
                "--lookup=em"
            ])
        );
        let with_worker = crate::pod::tests::plan_with(2, 1, vec![2]);
        assert_eq!(
            app_args(App::L3fwd, &with_worker, &[])[3],
            "--config=(0,0,2),(1,0,2)"
        );
    }
}
