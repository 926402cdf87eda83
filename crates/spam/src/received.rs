//! Reading a `Received:` field (RFC 5321 4.4, RFC 5322 3.6.7): which host
//! handed the message over, by what name it greeted, what its address
//! resolved to, and the receiver's queue id. Every MTA writes the
//! `from` clause its own way; these are the common shapes:
//!
//! - Sendmail, Postfix, ours: `from HELO (NAME [IP])`, `(unknown [IP])`
//! - Exim: `from NAME ([IP] helo=HELO)`, `from [IP] (helo=HELO)`
//! - qmail: `from NAME (HELO HELO) (IP)`, `from unknown (HELO x) (IP)`
//! - Exchange: `from HELO ([IP])`

use std::net::IpAddr;

/// One hop, as the receiving host recorded it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hop {
    /// The name the client greeted with (HELO/EHLO), lower case.
    pub helo: Option<String>,
    /// The client's reverse DNS name, lower case (`None`: none found).
    pub name: Option<String>,
    pub ip: Option<IpAddr>,
    /// The receiver's queue id (`id g8E3doE9024041`).
    pub id: Option<String>,
    /// How it was received (`with ESMTP`, `with IMAP`), lower case.
    pub protocol: Option<String>,
}

impl Hop {
    /// A mailbox fetched by the recipient's own program (fetchmail's
    /// `with POP3`), not a transfer between mail servers.
    pub fn is_retrieval(&self) -> bool {
        matches!(
            self.protocol.as_deref(),
            Some("pop3" | "pop" | "imap" | "imap4" | "local")
        )
    }
}

/// A `from` clause longer than this is not a real hop's; the rest is not
/// read (hostile input stays cheap).
const MAX_FIELD: usize = 2_000;

/// The hop a `Received:` field describes; `None` when it names no client
/// (`by host with local`, qmail's `(qmail 123 invoked ...)`).
pub fn parse(value: &str) -> Option<Hop> {
    let value = crate::rules::head(value, MAX_FIELD);
    let words: Vec<&str> = value.split_whitespace().collect();
    if !words.first()?.eq_ignore_ascii_case("from") {
        return None;
    }
    let by = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("by"))
        .unwrap_or(words.len());
    let clause = &words[1..by];
    let first = clause.first()?.trim_end_matches(';');
    let rest = &clause[1..];
    let id = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("id"))
        .and_then(|i| words.get(i + 1))
        .map(|w| {
            w.trim_matches(|c| matches!(c, '<' | '>' | ';' | ','))
                .to_string()
        })
        .filter(|w| !w.is_empty());

    let protocol = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("with"))
        .and_then(|i| words.get(i + 1))
        .map(|w| w.trim_end_matches(';').to_ascii_lowercase());
    let ip = rest.iter().chain([&first]).find_map(|w| address_in(w));
    // An explicit greeting (Exim `helo=`, qmail `HELO x`) means the first
    // word is the looked-up name; otherwise the first word is the greeting.
    let marked = rest.iter().enumerate().find_map(|(i, w)| {
        let w = w.trim_start_matches('(');
        if let Some(h) = strip_prefix_ci(w, "helo=") {
            Some(h.to_string())
        } else if w.eq_ignore_ascii_case("helo") {
            rest.get(i + 1).map(|h| h.to_string())
        } else {
            None
        }
    });
    let clean = |w: &str| {
        w.trim_matches(|c| matches!(c, '(' | ')' | ';' | ','))
            .to_ascii_lowercase()
    };
    let (helo, name) = match marked {
        Some(helo) => {
            let first = clean(first);
            let name = is_host_name(&first).then_some(first);
            (Some(clean(&helo)), name)
        }
        None => {
            let name = rest
                .iter()
                .map(|w| clean(w.rsplit('@').next().unwrap_or(w)))
                .find(|w| is_host_name(w));
            (Some(clean(first)), name)
        }
    };
    Some(Hop {
        helo: helo.filter(|h| !h.is_empty() && h != "unknown"),
        name,
        ip,
        id,
        protocol,
    })
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// An address written `[1.2.3.4]`, `[IPv6:...]`, `(1.2.3.4)` or bare,
/// possibly with a port (`[1.2.3.4]:25`).
fn address_in(word: &str) -> Option<IpAddr> {
    let w = word.trim_matches(|c| matches!(c, '(' | ')' | ';' | ','));
    let w = w.rsplit('@').next().unwrap_or(w);
    let w = match w.strip_prefix('[') {
        Some(inner) => inner.split(']').next().unwrap_or(inner),
        None => w,
    };
    let w = strip_prefix_ci(w, "ipv6:").unwrap_or(w);
    w.parse().ok()
}

/// A DNS name with at least two labels of letters, digits and hyphens, the
/// last not numeric (so not an address, not `unknown`).
fn is_host_name(word: &str) -> bool {
    let labels: Vec<&str> = word.trim_end_matches('.').split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|l| l.chars().any(|c| c.is_ascii_alphabetic()))
}

/// Whether an address is on the public Internet (not loopback, private,
/// link-local or unspecified): hops between such addresses are the
/// receiving site's own.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                // RFC 6598 shared address space.
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(value: &str) -> Hop {
        parse(value).expect("a hop")
    }

    #[test]
    fn sendmail_and_postfix_shapes() {
        let h = hop(
            "from mindupmerchants.com (pDepriver@24-205-211-91.rno-cres.charterpipeline.net [24.205.211.91])\r\n\tby lerami.lerctr.org (8.12.2) with ESMTP id g8E3doE9024041\r\n\tfor <ler@lerctr.org>; Fri, 13 Sep 2002 22:39:53 -0500",
        );
        assert_eq!(h.helo.as_deref(), Some("mindupmerchants.com"));
        assert_eq!(
            h.name.as_deref(),
            Some("24-205-211-91.rno-cres.charterpipeline.net")
        );
        assert_eq!(h.ip, "24.205.211.91".parse().ok());
        assert_eq!(h.id.as_deref(), Some("g8E3doE9024041"));
        assert_eq!(h.protocol.as_deref(), Some("esmtp"));
        assert!(!h.is_retrieval());
        let fetched = hop(
            "from mail.example.net [193.0.2.19]\r\n\tby localhost with POP3 (fetchmail-5.9.0)\r\n\tfor ann@localhost (single-drop); Mon, 26 Aug 2002 15:13:02 +0100",
        );
        assert!(fetched.is_retrieval());

        let h = hop(
            "from relay.example (unknown [192.0.2.7]) by mx.example (Postfix) with ESMTP id 4A1B2",
        );
        assert_eq!(h.helo.as_deref(), Some("relay.example"));
        assert_eq!(h.name, None);
        assert_eq!(h.ip, "192.0.2.7".parse().ok());
    }

    #[test]
    fn exim_and_qmail_shapes() {
        let h = hop(
            "from host.example.net ([198.51.100.4] helo=BOX) by mx.example with esmtp (Exim 4) id 1abc-0002",
        );
        assert_eq!(h.helo.as_deref(), Some("box"));
        assert_eq!(h.name.as_deref(), Some("host.example.net"));
        assert_eq!(h.ip, "198.51.100.4".parse().ok());

        let h = hop("from [198.51.100.4] (helo=box.example) by mx.example with esmtp");
        assert_eq!(h.helo.as_deref(), Some("box.example"));
        assert_eq!(h.name, None);

        let h = hop(
            "from unknown (HELO n8.grp.example.com) (203.0.113.92) by mta3.example.com with SMTP; 28 Aug 2002 08:45:25 -0000",
        );
        assert_eq!(h.helo.as_deref(), Some("n8.grp.example.com"));
        assert_eq!(h.name, None);
        assert_eq!(h.ip, "203.0.113.92".parse().ok());
    }

    #[test]
    fn greeting_with_an_address_and_no_client() {
        let h = hop("from [203.0.113.5] (dsl-203-0-113-5.example.net [203.0.113.5]) by mx.example");
        assert_eq!(h.helo.as_deref(), Some("[203.0.113.5]"));
        assert_eq!(h.name.as_deref(), Some("dsl-203-0-113-5.example.net"));
        assert!(parse("by mx.example with local; 1 Jan 2002").is_none());
        assert!(parse("(qmail 4957 invoked from network); 28 Aug 2002").is_none());
        assert!(parse("").is_none());
    }

    #[test]
    fn public_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.0",
            "172.16.4.4",
            "::1",
            "fd00::1",
        ] {
            assert!(!is_public(private.parse().expect("ip")), "{private}");
        }
        for public in ["24.205.211.91", "2001:db8::1", "8.8.8.8"] {
            assert!(is_public(public.parse().expect("ip")), "{public}");
        }
    }
}
