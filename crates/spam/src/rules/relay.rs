//! The host that handed the message to the receiving side: how it greeted,
//! what its address resolves to, and whether it is the kind of host that
//! sends mail at all. Inbound, the session says; a message checked on its
//! own says in its topmost `Received:` naming a public address (the hops
//! above it are the receiving site's own).

use std::net::IpAddr;

use super::{Context, Direction, Hit};
use crate::domain::registered;
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
                authenticated: false,
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
    } else if !helo.contains('.') {
        hits.push("HELO_NO_DOT");
    } else if let Some(name) = name
        && registered(helo) == helo.trim_end_matches('.')
        && registered(name) != helo.trim_end_matches('.')
    {
        // A bare domain (`aol.com`, `mydomain.com`) from a host of
        // another domain: a claim, not the host's name.
        hits.push("HELO_OTHER_DOMAIN");
    }
}

/// The hop that handed the message to the receiving site, and the queue
/// ids the receiving site's hosts gave it. `None` when there is none, or
/// when the message entered through a login (submission, webmail): then
/// the client is the author's own computer, not a mail server.
fn handoff(view: &View) -> Option<(Hop, Vec<String>)> {
    let mut ids = Vec::new();
    for value in view.received().take(MAX_HOPS) {
        let Some(hop) = received::parse(value) else {
            continue;
        };
        if hop.is_submission() {
            return None;
        }
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

/// How mail servers' names begin (`mail.cablecom.example`,
/// `smtp-pool1.example`): such a name was given on purpose.
const SERVER_PREFIXES: &[&str] = &[
    "mail", "smtp", "mx", "mta", "relay", "out", "esa", "gw", "gateway", "exchange", "post",
];

/// A name an access provider gave a customer's address: the address's
/// numbers written into it (`24-205-211-91.example.net`, `pD958D0AF...`)
/// or words such as `dsl` and `pool` in its first two labels. Mail
/// servers have names of their own (and providers mark fixed addresses
/// `static`); a message handed over directly by such a host comes from a
/// computer at home or a server no one named, mostly one taken over.
pub(super) fn looks_dynamic(name: &str, ip: IpAddr) -> bool {
    let name = name.to_ascii_lowercase();
    let host = name
        .strip_suffix(registered(&name))
        .unwrap_or("")
        .trim_end_matches('.');
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).take(2).collect();
    let Some(first) = labels.first() else {
        return false;
    };
    if labels.iter().any(|l| l.contains("static"))
        || SERVER_PREFIXES.iter().any(|p| first.starts_with(p))
    {
        return false;
    }
    let leading = labels.join(".");
    if let IpAddr::V4(v4) = ip
        && writes_address(&leading, v4.octets())
    {
        return true;
    }
    leading.split(['.', '-']).any(|word| {
        let letters = word.trim_end_matches(|c: char| c.is_ascii_digit());
        DYNAMIC_PREFIXES.iter().any(|p| letters.starts_with(p)) || DYNAMIC_WORDS.contains(&letters)
    })
}

/// The address written into a name: its four numbers in hex
/// (`pD958D0AF`), or at least three of them in decimal, each number of
/// the name used once (`mail1` at 81.1.1.1 is one number, not three).
fn writes_address(host: &str, octets: [u8; 4]) -> bool {
    let hex = format!(
        "{:02x}{:02x}{:02x}{:02x}",
        octets[0], octets[1], octets[2], octets[3]
    );
    if host.contains(&hex) {
        return true;
    }
    let mut numbers: Vec<&str> = host
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .collect();
    let mut written = 0;
    for octet in octets {
        let octet = octet.to_string();
        if let Some(i) = numbers.iter().position(|n| *n == octet) {
            numbers.remove(i);
            written += 1;
        }
    }
    written >= 3
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
    let mut hops = view.received().take(MAX_HOPS).peekable();
    hops.peek().is_some()
        && !hops.any(|value| {
            // The receiving host and the client's looked-up name; not the
            // greeting (the sender's claim) nor `for <x@yahoo.com>`.
            let value = super::head(value, 2_000)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_lowercase();
            let receiver = value.split_once(" by ").map_or("", |(_, by)| by);
            let receiver = receiver.split(" for ").next().unwrap_or(receiver);
            let name = received::parse(&value)
                .and_then(|h| h.name)
                .unwrap_or_default();
            servers
                .iter()
                .any(|s| receiver.contains(s) || name.ends_with(s))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
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
            (
                "static.20.100.51.198.clients.your-server.de",
                "198.51.100.20",
            ),
            ("mail.cablecom.example.ch", "198.51.100.3"),
            ("mx.dynamics.example.com", "198.51.100.4"),
            ("smtp-pool1.mail.example.com", "198.51.100.5"),
            ("mail1.example.com", "81.1.1.1"),
            ("mx2-12.example.net", "212.2.12.2"),
            ("esa1.res.example.com", "198.51.100.6"),
            ("a.b.dsl-provider.ltd.uk", "198.51.100.8"),
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
        assert_eq!(
            tags("aol.com", Some("host.dialup.example.net")),
            ["HELO_OTHER_DOMAIN"]
        );
        assert!(tags("example.com", Some("mail.example.com")).is_empty());
        assert!(tags("mail.example.com", Some("vps1.hoster.example")).is_empty());
        assert!(tags("aol.com", None).is_empty());
    }

    fn relay_tags(headers: &str) -> Vec<Hit> {
        let raw = format!(
            "{headers}From: Ann <ann@example.org>\r\nTo: bob@example.test\r\nSubject: hi\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\nhello\r\n"
        );
        let mut hits = Vec::new();
        check(
            &View::parse(raw.as_bytes()),
            &Context::standalone(0),
            &mut hits,
        );
        hits
    }

    #[test]
    fn a_login_is_not_a_relay() {
        // Sent by a logged-in user from home: the home address and the
        // server-made Message-ID are how submission works.
        let submitted = "Received: from [192.168.1.23] (c-73-12-34-56.hsd1.example-cable.net [73.12.34.56])\r\n\t(Authenticated sender: ann)\r\n\tby smtp.example.org (Postfix) with ESMTPSA id 4F2A1B\r\n\tfor <bob@example.test>; Sat, 28 Nov 2026 10:00:01 +0000\r\nMessage-ID: <4F2A1B.1795860001@smtp.example.org>\r\n";
        assert!(
            relay_tags(submitted).is_empty(),
            "{:?}",
            relay_tags(submitted)
        );
        let webmail = "Received: from [73.12.34.56] by web12.mail.example.org via HTTP; Sat, 28 Nov 2026 10:00:01 +0000\r\nMessage-ID: <1@web12.mail.example.org>\r\n";
        assert!(relay_tags(webmail).is_empty());
    }

    #[test]
    fn the_handoff_is_below_the_receivers_own_hops() {
        // Fetched by the recipient over POP3, then delivered locally: the
        // hop that counts is the one into the provider's server, whose
        // queue id is in the Message-ID it had to write.
        let fetched = "Received: from localhost (localhost [127.0.0.1]) by home.example.test (Postfix) with ESMTP id AA11\r\nReceived: from mail.example.net [198.51.100.19]\r\n\tby localhost with POP3 (fetchmail-6.4)\r\n\tfor bob@localhost (single-drop); Sat, 28 Nov 2026 10:00:05 +0000\r\nReceived: from linux ([203.0.113.151])\r\n\tby mail.example.net (8.9.3/8.9.3) with SMTP id SAA22481\r\n\tfor <bob@example.test>; Sat, 28 Nov 2026 10:00:02 +0000\r\nMessage-Id: <202611281000.SAA22481@mail.example.net>\r\n";
        assert_eq!(relay_tags(fetched), ["HELO_NO_DOT", "MISSING_MID"]);
        // The sender's own Message-ID, from a named server: nothing.
        let proper = "Received: from mail.example.org (mail.example.org. [198.51.100.9])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\tby mx.example.test (Postfix) with ESMTPS id 4ABC\r\n\tfor <bob@example.test>; Sat, 28 Nov 2026 10:00:02 +0000\r\nMessage-ID: <20261128100000.77@mail.example.org>\r\n";
        assert!(relay_tags(proper).is_empty());
    }

    #[test]
    fn webmail_addresses_come_through_webmail_servers() {
        let raw = |from: &str, received: &str| {
            format!(
                "Received: {received}\r\nFrom: {from}\r\nSubject: hi\r\nMessage-ID: <1@x.example>\r\n\r\nhello\r\n"
            )
        };
        let forged = raw(
            "Helen <helen@yahoo.com>",
            "from yahoo.com (c-203-0-113-57.example-cable.net [203.0.113.57]) by mx.example.test with SMTP id 1 for <helen@yahoo.com>; Sat, 28 Nov 2026 10:00:00 +0000",
        );
        assert!(webmail_forged(&View::parse(forged.as_bytes())));
        let real = raw(
            "Helen <helen@yahoo.com>",
            "from sonic301-2.consmr.mail.ne1.yahoo.com (sonic301-2.consmr.mail.ne1.yahoo.com [66.163.184.1]) by mx.example.test with ESMTPS id 2; Sat, 28 Nov 2026 10:00:00 +0000",
        );
        assert!(!webmail_forged(&View::parse(real.as_bytes())));
        let other = raw(
            "Ann <ann@example.org>",
            "from a.example (a.example [198.51.100.1]) by mx.example.test",
        );
        assert!(!webmail_forged(&View::parse(other.as_bytes())));
    }
}
