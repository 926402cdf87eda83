//! Human sizes for quotas: `2GiB`, `500MB`, `1048576`, `unlimited`.

use crate::{CoreError, Result};

/// Parses a size; `None` means unlimited. K, M, G, T alone or with `iB` are
/// powers of 1024; with `B` they are powers of 1000.
pub fn parse(text: &str) -> Result<Option<u64>> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("unlimited") || t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = || {
        CoreError::Invalid(format!(
            "invalid size '{text}': expected a number with an optional unit (KiB, MiB, GiB, TiB, KB, MB, GB, TB) or 'unlimited'"
        ))
    };
    let number: f64 = number.parse().map_err(|_| bad())?;
    let unit = unit.trim().to_ascii_lowercase();
    let multiplier: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0_f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => return Err(bad()),
    };
    let bytes = number * multiplier;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(Some(bytes.round() as u64))
}

/// Formats bytes the way [`parse`] reads them back (binary units).
pub fn format(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else if value.fract() == 0.0 {
        format!("{value}{}", UNITS[unit])
    } else {
        format!("{value:.1}{}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        let cases: &[(&str, Option<Option<u64>>)] = &[
            ("2GiB", Some(Some(2 << 30))),
            ("2G", Some(Some(2 << 30))),
            ("500MB", Some(Some(500_000_000))),
            ("1.5KiB", Some(Some(1536))),
            ("1048576", Some(Some(1_048_576))),
            ("unlimited", Some(None)),
            ("12 mib", Some(Some(12 << 20))),
            ("lots", None),
            ("-1", None),
            ("5XB", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input).ok(), *expected, "input {input:?}");
        }
    }

    #[test]
    fn sizes_format_round_trip() {
        for bytes in [0, 512, 1024, 2 << 30, 1536, 5 << 20] {
            assert_eq!(parse(&format(bytes)).unwrap(), Some(bytes));
        }
    }
}
