//! The argv split every app shares: `EAL args -- app args`.

/// Splits an argv (without program name) at the first `--` into EAL and application arguments.
/// Without `--` everything is an EAL argument, as with DPDK's own applications.
pub fn split_eal_app(args: &[String]) -> (&[String], &[String]) {
    match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn splits_at_double_dash() {
        let args = s(&["-l", "1", "--", "-p", "0x3", "--", "x"]);
        let (eal, app) = split_eal_app(&args);
        assert_eq!(eal, &s(&["-l", "1"])[..]);
        assert_eq!(app, &s(&["-p", "0x3", "--", "x"])[..]);
        let args = s(&["-l", "1"]);
        assert_eq!(split_eal_app(&args), (&args[..], &[][..]));
    }
}
