//! Numbers for people: rates, bit rates, durations and latencies as the progress lines, notes
//! and tables print them.

use std::time::Duration;

/// `14.881 Mpps`, `812.7 kpps`, `950 pps`.
pub fn pps(v: f64) -> String {
    if !v.is_finite() {
        return "- pps".into();
    }
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.3} Mpps", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1} kpps", v / 1e3)
    } else {
        format!("{v:.0} pps")
    }
}

/// `9.999 Gb/s`, `120.0 Mb/s`.
pub fn gbps(v: f64) -> String {
    if !v.is_finite() {
        "- Gb/s".into()
    } else if v.abs() >= 1.0 {
        format!("{v:.3} Gb/s")
    } else {
        format!("{:.1} Mb/s", v * 1e3)
    }
}

/// `850 ns`, `4.2 us`, `1.25 ms`; `-` when not measured.
pub fn ns(v: Option<u64>) -> String {
    match v {
        None => "-".into(),
        Some(n) if n < 1_000 => format!("{n} ns"),
        Some(n) if n < 1_000_000 => format!("{:.1} us", n as f64 / 1e3),
        Some(n) => format!("{:.2} ms", n as f64 / 1e6),
    }
}

/// `45s`, `3m05s`, `1h02m`.
pub fn eta(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(pps(14_880_952.4), "14.881 Mpps");
        assert_eq!(pps(812_743.8), "812.7 kpps");
        assert_eq!(pps(950.2), "950 pps");
        assert_eq!(pps(f64::NAN), "- pps");
        assert_eq!(gbps(9.9999), "10.000 Gb/s");
        assert_eq!(gbps(0.12), "120.0 Mb/s");
        assert_eq!(ns(Some(850)), "850 ns");
        assert_eq!(ns(Some(4_200)), "4.2 us");
        assert_eq!(ns(None), "-");
        assert_eq!(eta(Duration::from_secs(185)), "3m05s");
        assert_eq!(eta(Duration::from_secs(3720)), "1h02m");
    }
}
