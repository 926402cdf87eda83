//! Antispam settings as data (the filter enforces them): score
//! thresholds per domain over global ones over the defaults (greylist 4,
//! junk 6, reject 15; 999 turns a step off; the steps must come in that
//! order), and allow/block lists of sender domains, addresses and IPs or
//! networks (CIDR), per domain and global.

use std::net::IpAddr;

use mailroom_store::{SpamListEntry, SpamThresholds};
use serde::Serialize;

use super::Directory;
use crate::{CoreError, Result, address};

pub use crate::spam::DEFAULT_THRESHOLDS;

/// A threshold of this value turns its step off.
pub const OFF: f64 = 999.0;

/// Thresholds in force, and where they come from.
#[derive(Debug, Clone, Serialize)]
pub struct EffectiveThresholds {
    #[serde(flatten)]
    pub thresholds: SpamThresholds,
    /// `domain`, `global` or `default`.
    pub source: &'static str,
}

/// A CIDR network wider than a /16 (IPv4) or /32 (IPv6).
fn wide_network(value: &str) -> bool {
    let Some((address, bits)) = value.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    if address.contains(':') {
        bits < 32
    } else {
        bits < 16
    }
}

/// What adding a list entry came to: a warning for risky entries.
#[derive(Debug, Clone, Serialize)]
pub struct ListChange {
    pub entry: SpamListEntry,
    pub warning: Option<&'static str>,
}

fn check_order(t: &SpamThresholds) -> Result<()> {
    let steps = [
        ("greylist", t.greylist),
        ("junk", t.junk),
        ("reject", t.reject),
    ];
    for (name, value) in steps {
        if !value.is_finite() || !(0.0..=OFF).contains(&value) {
            return Err(CoreError::Invalid(format!(
                "{name}: a score from 0 to 999 (999 turns it off)"
            )));
        }
    }
    let on: Vec<(&str, f64)> = steps.into_iter().filter(|(_, v)| *v < OFF).collect();
    for pair in on.windows(2) {
        if pair[0].1 > pair[1].1 {
            return Err(CoreError::Invalid(format!(
                "{} ({}) must not be above {} ({}): greylist, then junk, then reject",
                pair[0].0, pair[0].1, pair[1].0, pair[1].1
            )));
        }
    }
    Ok(())
}

/// `domain`, `email` or `ip` (an address or a CIDR network), normalized.
fn check_entry(kind: &str, value: &str) -> Result<String> {
    let value = value.trim();
    match kind {
        "domain" => address::domain(value),
        "email" => address::email(value),
        "ip" => {
            let (ip, prefix) = match value.split_once('/') {
                Some((ip, prefix)) => (ip, Some(prefix)),
                None => (value, None),
            };
            let ip: IpAddr = ip
                .parse()
                .map_err(|_| CoreError::Invalid(format!("{value}: not an IP address or CIDR")))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            match prefix {
                None => Ok(ip.to_string()),
                Some(p) => match p.parse::<u8>() {
                    Ok(p) if p <= max => Ok(format!("{ip}/{p}")),
                    _ => Err(CoreError::Invalid(format!(
                        "{value}: the prefix length is 0 to {max}"
                    ))),
                },
            }
        }
        _ => Err(CoreError::Invalid(format!(
            "{kind}: the kind is domain, email or ip"
        ))),
    }
}

fn check_list(list: &str) -> Result<()> {
    match list {
        "allow" | "block" => Ok(()),
        _ => Err(CoreError::Invalid(format!(
            "{list}: the list is allow or block"
        ))),
    }
}

impl Directory {
    pub async fn spam_thresholds(&self, domain: Option<&str>) -> Result<EffectiveThresholds> {
        let name = domain.map(address::domain).transpose()?;
        let (thresholds, source) =
            crate::spam::effective_thresholds(self.store.as_ref(), name.as_deref()).await?;
        Ok(EffectiveThresholds { thresholds, source })
    }

    /// Sets (or with `None` clears) a domain's or the global thresholds.
    pub async fn set_spam_thresholds(
        &self,
        domain: Option<&str>,
        thresholds: Option<SpamThresholds>,
    ) -> Result<EffectiveThresholds> {
        if let Some(t) = &thresholds {
            check_order(t)?;
        }
        let domain = domain.map(address::domain).transpose()?;
        self.store
            .spam_thresholds_set(domain.as_deref(), thresholds)
            .await?;
        self.spam_thresholds(domain.as_deref()).await
    }

    pub async fn spam_list(&self, domain: Option<&str>, list: &str) -> Result<Vec<SpamListEntry>> {
        check_list(list)?;
        let domain = domain.map(address::domain).transpose()?;
        Ok(self.store.spam_list(domain.as_deref(), list).await?)
    }

    pub async fn add_spam_list_entry(
        &self,
        domain: Option<&str>,
        list: &str,
        kind: &str,
        value: &str,
    ) -> Result<ListChange> {
        check_list(list)?;
        let value = check_entry(kind, value)?;
        let domain = domain.map(address::domain).transpose()?;
        let entry = SpamListEntry {
            list: list.to_string(),
            kind: kind.to_string(),
            value,
            created_at: self.store.now(),
        };
        self.store
            .spam_list_set(domain.as_deref(), entry.clone(), true)
            .await?;
        // Anyone can put any domain in From: allow-listing one lets
        // forgeries through; the sending servers' addresses cannot be
        // forged that way.
        let warning = if list != "allow" {
            None
        } else if kind == "domain" {
            Some(
                "allow-listing a sender domain is risky: anyone can forge it; allow-list the sending servers' IP addresses or CIDR networks instead",
            )
        } else if kind == "ip" && wide_network(&entry.value) {
            // An allowed address also lets DMARC failures through.
            Some(
                "this network is very large (wider than /16 for IPv4, /32 for IPv6): everything sent from it skips the spam filter and DMARC; allow-list the sending servers only",
            )
        } else {
            None
        };
        Ok(ListChange { entry, warning })
    }

    pub async fn remove_spam_list_entry(
        &self,
        domain: Option<&str>,
        list: &str,
        kind: &str,
        value: &str,
    ) -> Result<()> {
        check_list(list)?;
        let value = check_entry(kind, value)?;
        let domain = domain.map(address::domain).transpose()?;
        let entry = SpamListEntry {
            list: list.to_string(),
            kind: kind.to_string(),
            value: value.clone(),
            created_at: 0,
        };
        if !self
            .store
            .spam_list_set(domain.as_deref(), entry, false)
            .await?
        {
            return Err(CoreError::NotFound(format!(
                "{list}-list entry {kind} {value}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(greylist: f64, junk: f64, reject: f64) -> SpamThresholds {
        SpamThresholds {
            greylist,
            junk,
            reject,
        }
    }

    #[test]
    fn thresholds_keep_their_order_unless_off() {
        assert!(check_order(&t(4.0, 6.0, 15.0)).is_ok());
        assert!(check_order(&t(999.0, 6.0, 15.0)).is_ok(), "greylisting off");
        assert!(check_order(&t(4.0, 999.0, 3.0)).is_err());
        let err = check_order(&t(7.0, 6.0, 15.0)).unwrap_err().to_string();
        assert!(
            err.contains("greylist (7) must not be above junk (6)"),
            "{err}"
        );
        assert!(check_order(&t(4.0, 6.0, 1000.0)).is_err());
    }

    #[test]
    fn entries_are_checked_and_normalized() {
        assert_eq!(check_entry("ip", "192.0.2.0/24").unwrap(), "192.0.2.0/24");
        assert_eq!(check_entry("ip", "2001:db8::1").unwrap(), "2001:db8::1");
        assert!(check_entry("ip", "192.0.2.0/33").is_err());
        assert!(check_entry("ip", "example.com").is_err());
        assert_eq!(
            check_entry("email", "Bob@Example.COM").unwrap(),
            "bob@example.com"
        );
        assert_eq!(check_entry("domain", "Example.COM").unwrap(), "example.com");
        assert!(check_entry("host", "x").is_err());
    }
}
