//! Mail addresses and domain names as the directory accepts them.
//!
//! Everything is compared case-insensitively, so the canonical form is
//! lower-case. Internationalised domain names are taken in their ASCII
//! (punycode, `xn--`) form.

use crate::{CoreError, Result};

/// Characters allowed in a dot-atom local part besides letters and digits
/// (RFC 5322 3.2.3 `atext`).
const ATEXT_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";

/// Validates a domain name and returns it in its lower-case ASCII form
/// (an internationalised name becomes its `xn--` form).
pub fn domain(name: &str) -> Result<String> {
    let trimmed = name.trim().trim_end_matches('.');
    let name = crate::idna::to_ascii(trimmed).unwrap_or_else(|| trimmed.to_string());
    let bad = |why: &str| {
        Err(CoreError::Invalid(format!(
            "invalid domain name '{name}': {why}"
        )))
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if !name.is_ascii() {
        return bad("it cannot be converted to its ASCII (xn--) form");
    }
    // RFC 1035 2.3.4: 253 characters in text form, labels of 1 to 63.
    if name.len() > 253 {
        return bad("longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return bad("each label must have 1 to 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return bad("only letters, digits, '-' and '.' are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label cannot start or end with '-'");
        }
    }
    Ok(name)
}

/// Validates a local part (RFC 5321 4.1.2 dot-string, 64 octets at most).
pub fn local_part(local: &str) -> Result<String> {
    let local = local.to_ascii_lowercase();
    let bad = |why: &str| {
        Err(CoreError::Invalid(format!(
            "invalid local part '{local}': {why}"
        )))
    };
    if local.is_empty() {
        return bad("it is empty");
    }
    if local.len() > 64 {
        return bad("longer than 64 characters");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return bad("dots cannot start, end or repeat");
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '.' || ATEXT_SPECIALS.contains(c);
    if !local.chars().all(ok) {
        return bad("contains a character that is not allowed");
    }
    Ok(local)
}

/// Validates `local@domain` and returns it lower-case.
pub fn email(address: &str) -> Result<String> {
    let address = address.trim();
    let Some((local, domain_name)) = address.rsplit_once('@') else {
        return Err(CoreError::Invalid(format!(
            "invalid address '{address}': expected local@domain"
        )));
    };
    Ok(format!("{}@{}", local_part(local)?, domain(domain_name)?))
}

/// An alias source: an address, or `@domain` for a catch-all.
pub fn alias_source(source: &str) -> Result<String> {
    match source.trim().strip_prefix('@') {
        Some(domain_name) => Ok(format!("@{}", domain(domain_name)?)),
        None => email(source),
    }
}

/// The domain part of a canonical address or alias source.
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_validated_and_lower_cased() {
        let cases: &[(&str, Option<&str>)] = &[
            ("Alice@Example.TEST", Some("alice@example.test")),
            (
                "  bob.smith+tag@example.test ",
                Some("bob.smith+tag@example.test"),
            ),
            ("admin@localhost", Some("admin@localhost")),
            (
                "o'neil@xn--bcher-kva.test",
                Some("o'neil@xn--bcher-kva.test"),
            ),
            ("no-at-sign", None),
            ("@example.test", None),
            ("a@", None),
            (".a@example.test", None),
            ("a..b@example.test", None),
            ("a b@example.test", None),
            ("a@exa_mple.test", None),
            ("a@-example.test", None),
            ("a@bücher.test", Some("a@xn--bcher-kva.test")),
            ("a@example..test", None),
        ];
        for (input, expected) in cases {
            let got = email(input).ok();
            assert_eq!(got.as_deref(), *expected, "input {input:?}");
        }
    }

    #[test]
    fn long_parts_are_refused() {
        assert!(local_part(&"a".repeat(64)).is_ok());
        assert!(local_part(&"a".repeat(65)).is_err());
        assert!(domain(&format!("{}.test", "a".repeat(63))).is_ok());
        assert!(domain(&format!("{}.test", "a".repeat(64))).is_err());
    }

    #[test]
    fn alias_sources_may_be_catch_alls() {
        assert_eq!(alias_source("@Example.test").unwrap(), "@example.test");
        assert_eq!(alias_source("x@example.test").unwrap(), "x@example.test");
        assert!(alias_source("@").is_err());
    }
}
