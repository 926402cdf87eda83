//! Allow and block lists, matched on the envelope sender (address, or
//! domain and its subdomains) and the client's address (IP or CIDR). A
//! domain's own lists are asked first, then the global ones; within a
//! level, block wins over allow.

use std::net::IpAddr;

use mailroom_store::{SpamListEntry, Store};

use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListHit {
    pub allow: bool,
    /// `domain`, `email` or `ip`.
    pub kind: String,
    pub value: String,
    /// The global lists matched (not the domain's).
    pub global: bool,
}

fn in_network(ip: IpAddr, network: &str) -> bool {
    let (net, prefix) = match network.split_once('/') {
        Some((n, p)) => (n, p.parse::<u32>().ok()),
        None => (network, None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = prefix.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = prefix.unwrap_or(128).min(128);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn matches(entry: &SpamListEntry, sender: &str, ip: Option<IpAddr>) -> bool {
    let sender_domain = sender.rsplit_once('@').map_or("", |(_, d)| d);
    match entry.kind.as_str() {
        "email" => !sender.is_empty() && sender == entry.value,
        "domain" => {
            !sender_domain.is_empty()
                && (sender_domain == entry.value
                    || sender_domain.ends_with(&format!(".{}", entry.value)))
        }
        "ip" => ip.is_some_and(|ip| in_network(ip, &entry.value)),
        _ => false,
    }
}

/// The entry that decides for mail from `sender` at `ip` to `domain`.
pub(crate) async fn list_hit(
    store: &dyn Store,
    domain: Option<&str>,
    sender: &str,
    ip: Option<IpAddr>,
) -> Result<Option<ListHit>> {
    let sender = sender.to_lowercase();
    let levels: &[Option<&str>] = match domain {
        Some(_) => &[domain, None],
        None => &[None],
    };
    for &level in levels {
        for list in ["block", "allow"] {
            if let Some(entry) = store
                .spam_list(level, list)
                .await?
                .into_iter()
                .find(|e| matches(e, &sender, ip))
            {
                return Ok(Some(ListHit {
                    allow: list == "allow",
                    kind: entry.kind,
                    value: entry.value,
                    global: level.is_none(),
                }));
            }
        }
    }
    Ok(None)
}

/// Whether the client's address is allowed for `domain` (its own lists
/// or the global ones): the one entry that may override a DMARC reject.
pub(crate) async fn ip_allowed(store: &dyn Store, domain: &str, ip: IpAddr) -> Result<bool> {
    for level in [Some(domain), None] {
        if store
            .spam_list(level, "allow")
            .await?
            .iter()
            .any(|e| e.kind == "ip" && in_network(ip, &e.value))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_domains_match_as_written() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_network(ip("192.0.2.77"), "192.0.2.0/24"));
        assert!(!in_network(ip("192.0.3.1"), "192.0.2.0/24"));
        assert!(in_network(ip("2001:db8::5"), "2001:db8::/32"));
        assert!(in_network(ip("198.51.100.1"), "198.51.100.1"));
        assert!(!in_network(ip("2001:db8::5"), "192.0.2.0/24"));
        let entry = |kind: &str, value: &str| SpamListEntry {
            list: "block".into(),
            kind: kind.into(),
            value: value.into(),
            created_at: 0,
        };
        assert!(matches(
            &entry("domain", "spam.example"),
            "a@mx.spam.example",
            None
        ));
        assert!(!matches(
            &entry("domain", "spam.example"),
            "a@notspam.example",
            None
        ));
        assert!(matches(&entry("email", "a@b.example"), "a@b.example", None));
    }
}
