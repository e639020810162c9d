//! The application arguments the original image's entrypoint generated, plus the user's
//! `*_EXTRA_ARGS`: an extra option replaces the default of the same option, everything else is
//! appended in order.

use netutil::{App, EalPlan};

/// The environment variable holding extra arguments for `app`.
pub fn extra_args_var(app: App) -> &'static str {
    match app {
        App::Testpmd => "TESTPMD_EXTRA_ARGS",
        App::L2fwd => "L2FWD_EXTRA_ARGS",
        App::L3fwd => "L3FWD_EXTRA_ARGS",
    }
}

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
