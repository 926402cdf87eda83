//! The host that handed the message to the receiving side: how it greeted,
//! what its address resolves to, and whether it is the kind of host that
//! sends mail at all. Inbound, the session says; a message checked on its
//! own says in its topmost `Received:` naming a public address (the hops
//! above it are the receiving site's own).

use std::net::IpAddr;

use super::{Context, Direction, Hit};
use crate::message::{HeaderState, View};
use crate::received::{self, Hop};

pub(super) fn check(view: &View, context: &Context, hits: &mut Vec<Hit>) {
    let (hop, receiver_ids) = match context.direction {
        Direction::Outbound => return,
        Direction::Inbound => (
            Hop {
                helo: Some(context.helo.trim().to_ascii_lowercase()),
                // A name without a dot (`localhost`, a hosts-file alias)
                // says nothing about who owns the address.
                name: context.client_name.clone().filter(|n| n.contains('.')),
                ip: context.ip,
                id: None,
                protocol: None,
            },
            Vec::new(),
        ),
        Direction::Standalone => match handoff(view) {
            Some(found) => found,
            None => return,
        },
    };
    if let Some(helo) = hop.helo.as_deref().filter(|h| !h.is_empty()) {
        check_helo(helo, hop.name.as_deref(), hits);
    }
    if let (Some(name), Some(ip)) = (hop.name.as_deref(), hop.ip)
        && looks_dynamic(name, ip)
    {
        hits.push("RCVD_DYNAMIC");
    }
    // A sender's software writes the Message-ID; when the receiving MTA
    // had to make one up (its queue id in it), the message came without.
    if let HeaderState::Valid(()) = view.message_id
        && let Some(local) = view.message_id_raw.split('@').next()
        && receiver_ids
            .iter()
            .any(|id| id.len() >= 6 && local.contains(id.as_str()))
    {
        hits.push("MISSING_MID");
    }
    // Without SPF/DMARC results (a message checked on its own, or no DNS
    // here), a big webmail's address with none of its servers on the way.
    if context.auth.is_none() && webmail_forged(view) {
        hits.push("FROM_WEBMAIL_FORGED");
    }
}

/// RFC 5321 4.1.1.1: the greeting is the client's own full name.
fn check_helo(helo: &str, name: Option<&str>, hits: &mut Vec<Hit>) {
    if helo.starts_with('[') || helo.parse::<IpAddr>().is_ok() {
        hits.push("HELO_IP_LITERAL");
    } else if helo == "localhost" || helo.ends_with(".localdomain") {
        hits.push("HELO_LOCALHOST");
    } else if !helo.contains('.') || PRIVATE_SUFFIXES.iter().any(|s| helo.ends_with(s)) {
        hits.push("HELO_NO_DOT");
    } else if let Some(name) = name
        && registered_domain(helo) == helo.trim_end_matches('.')
        && registered_domain(name) != helo.trim_end_matches('.')
    {
        // A bare domain (`aol.com`, `mydomain.com`) from a host of
        // another domain: a claim, not the host's name.
        hits.push("HELO_OTHER_DOMAIN");
    }
}

/// Names that exist only inside a home or office network (RFC 6762
/// `.local`, and common private suffixes): not a host on the Internet.
const PRIVATE_SUFFIXES: &[&str] = &[".local", ".lan", ".internal", ".home", ".intranet"];

/// The hop that handed the message to the receiving site, and the queue
/// ids the receiving site's hosts gave it.
fn handoff(view: &View) -> Option<(Hop, Vec<String>)> {
    let mut ids = Vec::new();
    for value in view.received().take(MAX_HOPS) {
        let Some(hop) = received::parse(value) else {
            continue;
        };
        if let Some(id) = &hop.id {
            ids.push(id.clone());
        }
        if hop.ip.is_some_and(received::is_public) && !hop.is_retrieval() {
            return Some((hop, ids));
        }
    }
    None
}

/// Hops looked at for the handoff: a real site adds a few.
const MAX_HOPS: usize = 12;

/// The domain an organisation registered: the last two labels, or three
/// under a country's second level (`example.co.uk`).
pub(super) fn registered_domain(name: &str) -> &str {
    let name = name.trim_end_matches('.');
    let labels: Vec<&str> = name.rsplitn(4, '.').collect();
    let keep = match labels.as_slice() {
        [tld, second, _, ..]
            if tld.len() == 2
                && matches!(
                    *second,
                    "co" | "com" | "net" | "org" | "ac" | "edu" | "gov" | "ne" | "or" | "gob"
                ) =>
        {
            3
        }
        _ => 2,
    };
    if labels.len() <= keep {
        return name;
    }
    let cut: usize = labels[..keep].iter().map(|l| l.len() + 1).sum();
    &name[name.len() + 1 - cut..]
}

/// Words that access providers begin the names of their customers'
/// addresses with (dial-up, DSL, cable, address pools).
const DYNAMIC_PREFIXES: &[&str] = &[
    "dsl",
    "adsl",
    "xdsl",
    "vdsl",
    "dial",
    "dhcp",
    "ppp",
    "pool",
    "dyn",
    "cable",
    "modem",
    "broadband",
    "catv",
    "resnet",
];

/// Shorter words that mean the same only on their own (`cust-12`, not
/// `custom`).
const DYNAMIC_WORDS: &[&str] = &["dip", "cust", "client", "user", "res"];

/// A name an access provider gave a customer's address: the address's
/// numbers written into it (`24-205-211-91.example.net`, `pD958D0AF...`)
/// or words such as `dsl` and `pool` before the provider's own domain.
/// Mail servers have names of their own; a message handed over directly
/// by such a host comes from a home computer, mostly one taken over.
pub(super) fn looks_dynamic(name: &str, ip: IpAddr) -> bool {
    let name = name.to_ascii_lowercase();
    let host = name
        .strip_suffix(registered_domain(&name))
        .unwrap_or("")
        .trim_end_matches('.');
    if host.is_empty() {
        return false;
    }
    if let IpAddr::V4(v4) = ip {
        let octets = v4.octets();
        let numbers: Vec<&str> = host
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .collect();
        let written = octets
            .iter()
            .filter(|o| numbers.contains(&o.to_string().as_str()))
            .count();
        let hex = format!(
            "{:02x}{:02x}{:02x}{:02x}",
            octets[0], octets[1], octets[2], octets[3]
        );
        if written >= 3 || host.contains(&hex) {
            return true;
        }
    }
    host.split(['.', '-']).any(|word| {
        let letters = word.trim_end_matches(|c: char| c.is_ascii_digit());
        DYNAMIC_PREFIXES.iter().any(|p| letters.starts_with(p)) || DYNAMIC_WORDS.contains(&letters)
    })
}

/// Big webmail services stamp every message with their own `Received:`;
/// a From: address there that none of their servers handled is forged.
const WEBMAILS: &[(&[&str], &[&str])] = &[
    (
        &["hotmail.com", "msn.com", "live.com", "outlook.com"],
        &["hotmail.com", "msn.com", "outlook.com", "live.com"],
    ),
    (
        &["yahoo.com", "yahoo.co.uk", "ymail.com"],
        &["yahoo.com", "yahoo.net", "yahoodns.net", "yahoo-inc.com"],
    ),
    (
        &["aol.com"],
        &["aol.com", "aol.net", "yahoo.com", "yahoo.net"],
    ),
];

fn webmail_forged(view: &View) -> bool {
    let Some(domain) = view.from_mailbox().and_then(|m| m.domain()) else {
        return false;
    };
    let Some((_, servers)) = WEBMAILS.iter().find(|(d, _)| d.contains(&domain)) else {
        return false;
    };
    let mut hops = view.received().peekable();
    hops.peek().is_some()
        && !hops.any(|value| {
            // The receiving host and the client's looked-up name, not the
            // greeting: that is the sender's claim.
            let value = value.to_ascii_lowercase();
            let by = value.split_once("by ").map_or("", |(_, by)| by);
            let name = received::parse(&value)
                .and_then(|h| h.name)
                .unwrap_or_default();
            servers.iter().any(|s| by.contains(s) || name.ends_with(s))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn registered_domains() {
        assert_eq!(registered_domain("mail.example.com"), "example.com");
        assert_eq!(registered_domain("example.com"), "example.com");
        assert_eq!(registered_domain("a.b.example.co.uk"), "example.co.uk");
        assert_eq!(registered_domain("example.co.uk"), "example.co.uk");
        assert_eq!(registered_domain("localhost"), "localhost");
    }

    #[test]
    fn access_provider_names() {
        let dynamic = [
            (
                "24-205-211-91.rno-cres.charterpipeline.net",
                "24.205.211.91",
            ),
            ("pd958d0af.dip.t-dialin.net", "217.88.208.175"),
            ("157.red-80-32-90.pooles.rima-tde.net", "80.32.90.157"),
            (
                "adsl-216-103-211-240.dsl.snfc21.pacbell.net",
                "216.103.211.240",
            ),
            ("cust-12.example.net", "203.0.113.12"),
            ("host19-51.pool21756.interbusiness.it", "217.56.51.19"),
        ];
        for (name, address) in dynamic {
            assert!(looks_dynamic(name, ip(address)), "{name}");
        }
        let servers = [
            ("mail.liverpool.ac.uk", "138.253.1.1"),
            ("n25.grp.scd.yahoo.com", "66.218.66.81"),
            ("mx1.freebsd.org", "216.136.204.125"),
            ("dyn.com", "216.146.1.1"),
            ("smtp.example.com", "192.0.2.1"),
            ("custom-mail.example.com", "192.0.2.2"),
        ];
        for (name, address) in servers {
            assert!(!looks_dynamic(name, ip(address)), "{name}");
        }
    }

    #[test]
    fn greetings() {
        let tags = |helo: &str, name: Option<&str>| {
            let mut hits = Vec::new();
            check_helo(helo, name, &mut hits);
            hits
        };
        assert_eq!(tags("[192.0.2.1]", None), ["HELO_IP_LITERAL"]);
        assert_eq!(tags("desktop-7", None), ["HELO_NO_DOT"]);
        assert_eq!(tags("linux.local", None), ["HELO_NO_DOT"]);
        assert_eq!(
            tags("aol.com", Some("host.dialup.example.net")),
            ["HELO_OTHER_DOMAIN"]
        );
        assert!(tags("example.com", Some("mail.example.com")).is_empty());
        assert!(tags("mail.example.com", Some("vps1.hoster.example")).is_empty());
        assert!(tags("aol.com", None).is_empty());
    }
}
