//! Kubernetes resource quantities (`2Gi`, `1Mi`, `500m`, `3`), as far as the downward API needs
//! them: kubelet writes a `resourceFieldRef` as the quantity divided by the divisor, rounded up.

/// A non-negative quantity, exact in units of 10⁻⁹ (the finest suffix, `n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity {
    nanos: u128,
}

const NANO: u128 = 1_000_000_000;

impl Quantity {
    /// `1`, the default divisor.
    pub const ONE: Quantity = Quantity { nanos: NANO };

    /// A whole number of MiB.
    pub fn mib(n: u64) -> Quantity {
        Quantity {
            nanos: u128::from(n) * (1 << 20) * NANO,
        }
    }

    /// Parses the string form: a decimal number followed by a binary (`Ki` … `Ei`) or decimal
    /// (`n`, `u`, `m`, `k`, `M` … `E`) suffix or none. Exponent forms (`1e3`) are not used in
    /// pod specs and are rejected.
    pub fn parse(s: &str) -> Result<Quantity, String> {
        let s = s.trim();
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, suffix) = s.split_at(split);
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && frac.is_empty() || frac.len() > 9 {
            return Err(format!("{s:?} is not a quantity"));
        }
        let digits = |d: &str| -> Result<u128, String> {
            if d.is_empty() {
                return Ok(0);
            }
            d.parse::<u128>()
                .map_err(|_| format!("{s:?} is not a quantity"))
        };
        let frac_nanos = digits(frac)? * 10u128.pow(9 - frac.len() as u32);
        let base = digits(whole)? * NANO + frac_nanos;
        let (mul, div): (u128, u128) = match suffix {
            "" => (1, 1),
            "n" => (1, NANO),
            "u" => (1, 1_000_000),
            "m" => (1, 1_000),
            "k" => (1_000, 1),
            "M" => (1_000_000, 1),
            "G" => (1_000_000_000, 1),
            "T" => (1_000_000_000_000, 1),
            "P" => (1_000_000_000_000_000, 1),
            "E" => (1_000_000_000_000_000_000, 1),
            "Ki" => (1 << 10, 1),
            "Mi" => (1 << 20, 1),
            "Gi" => (1 << 30, 1),
            "Ti" => (1 << 40, 1),
            "Pi" => (1 << 50, 1),
            "Ei" => (1 << 60, 1),
            other => return Err(format!("{s:?}: unknown suffix {other:?}")),
        };
        let nanos = base
            .checked_mul(mul)
            .ok_or_else(|| format!("{s:?} is too large"))?;
        if nanos % div != 0 {
            return Err(format!("{s:?} is finer than 1n"));
        }
        Ok(Quantity { nanos: nanos / div })
    }

    /// A quantity as YAML gives it: a string, or a bare number (`'2'` and `2` are the same).
    pub fn from_json(v: &serde_json::Value) -> Result<Quantity, String> {
        match v {
            serde_json::Value::String(s) => Quantity::parse(s),
            serde_json::Value::Number(n) => Quantity::parse(&n.to_string()),
            other => Err(format!("{other} is not a quantity")),
        }
    }

    /// `ceil(self / divisor)`, what kubelet writes for a `resourceFieldRef`.
    pub fn ceil_div(&self, divisor: &Quantity) -> u64 {
        if divisor.nanos == 0 {
            return 0;
        }
        u64::try_from(self.nanos.div_ceil(divisor.nanos)).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_pod_specs_use() {
        let mi = Quantity::parse("1Mi").unwrap();
        assert_eq!(Quantity::parse("2Gi").unwrap().ceil_div(&mi), 2048);
        assert_eq!(
            Quantity::parse("2048Mi").unwrap(),
            Quantity::parse("2Gi").unwrap()
        );
        assert_eq!(Quantity::mib(3), Quantity::parse("3Mi").unwrap());
        assert_eq!(
            Quantity::parse("1G").unwrap().ceil_div(&mi),
            954,
            "rounded up"
        );
        assert_eq!(Quantity::parse("500m").unwrap().ceil_div(&Quantity::ONE), 1);
        assert_eq!(
            Quantity::parse("1.5")
                .unwrap()
                .ceil_div(&Quantity::parse("1m").unwrap()),
            1500
        );
        assert_eq!(
            Quantity::from_json(&serde_json::json!(2))
                .unwrap()
                .ceil_div(&Quantity::ONE),
            2
        );
        for bad in ["", "Gi", "2Gb", "1e3", "-1", "1.0000000001"] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
        assert!(Quantity::from_json(&serde_json::json!([1])).is_err());
    }
}
