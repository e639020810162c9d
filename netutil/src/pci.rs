//! PCI addresses as device-info, the device plugin and DPDK spell them.

/// Returns the canonical form of a PCI address, `dddd:bb:dd.f` in lower case, or `None` if `s`
/// is not one.
///
/// Accepts an optional domain (1 to 8 hex digits, as DPDK does; a missing domain means 0), a
/// 2-digit bus, a 2-digit device up to `1f` and a function `0`-`7`, in either case. The canonical
/// form is what DPDK names a PCI device, so it is also the ethdev name of an allow-listed port.
///
/// ```
/// use netutil::pci::normalize;
/// assert_eq!(normalize("0000:65:00.2").as_deref(), Some("0000:65:00.2"));
/// assert_eq!(normalize("65:0A.7").as_deref(), Some("0000:65:0a.7"));
/// assert_eq!(normalize("0000:65:00.2,mlx5"), None);
/// ```
pub fn normalize(s: &str) -> Option<String> {
    let (rest, function) = s.rsplit_once('.')?;
    let mut parts: Vec<&str> = rest.split(':').collect();
    let device = parts.pop()?;
    let bus = parts.pop()?;
    let domain = match parts.as_slice() {
        [] => "0",
        [d] => d,
        _ => return None,
    };
    let hex = |p: &str, min: usize, max: usize| {
        (min..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit())
    };
    if !(hex(domain, 1, 8) && hex(bus, 2, 2) && hex(device, 2, 2) && hex(function, 1, 1)) {
        return None;
    }
    let device_no = u8::from_str_radix(device, 16).ok()?;
    let function_no = u8::from_str_radix(function, 16).ok()?;
    if device_no > 0x1f || function_no > 7 {
        return None;
    }
    let domain = u32::from_str_radix(domain, 16).ok()?;
    Some(format!(
        "{domain:04x}:{}:{device_no:02x}.{function_no}",
        bus.to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn accepts_dpdk_forms() {
        assert_eq!(normalize("10000:00:1f.0").as_deref(), Some("10000:00:1f.0"));
        assert_eq!(normalize("1:AB:01.0").as_deref(), Some("0001:ab:01.0"));
    }

    #[test]
    fn rejects_non_addresses() {
        for s in [
            "",
            "mlx5_core.sf.4",
            "0000:65:00",
            "0000:65:20.0",
            "0000:65:00.8",
            "0:0:65:00.0",
            "0000:6:00.0",
            "{\"0000:65:00.2\":{}}",
            "000000000:65:00.0",
        ] {
            assert_eq!(normalize(s), None, "{s}");
        }
    }
}
