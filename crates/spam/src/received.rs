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
    /// How it was received (`with ESMTP`, `with IMAP`, `via HTTP`), lower
    /// case.
    pub protocol: Option<String>,
    /// The client logged in (RFC 3848 `ESMTPA`/`ESMTPSA`, Postfix's
    /// `Authenticated sender:`).
    pub authenticated: bool,
}

impl Hop {
    /// A mailbox fetched by the recipient's own program (fetchmail's
    /// `with POP3`), not a transfer between mail servers.
    pub fn is_retrieval(&self) -> bool {
        self.protocol
            .as_deref()
            .is_some_and(|p| p.starts_with("pop") || p.starts_with("imap") || p == "local")
    }

    /// The message entered the mail system here from its author: a login
    /// to submission or webmail. Nothing below says more about the sender.
    pub fn is_submission(&self) -> bool {
        self.authenticated || self.protocol.as_deref() == Some("http")
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
    // The word after `from` is the client's greeting whatever it is (even
    // `by`); the clause ends at the next `by`.
    let by = words
        .iter()
        .skip(2)
        .position(|w| w.eq_ignore_ascii_case("by"))
        .map_or(words.len(), |i| i + 2);
    let clause = &words[1..by];
    let receiver = &words[by..];
    let first = clause.first()?.trim_end_matches(';');
    let rest = &clause[1..];
    // `with`, `via` and `id` belong to the receiver's part: a comment in
    // the client's (`using TLSv1.3 with cipher ...`) is not the protocol.
    let after = |key: &str| {
        receiver
            .iter()
            .position(|w| w.eq_ignore_ascii_case(key))
            .and_then(|i| receiver.get(i + 1))
            .map(|w| w.trim_matches(|c| matches!(c, '<' | '>' | ';' | ',' | '(' | ')')))
            .filter(|w| !w.is_empty())
    };
    let id = after("id").map(str::to_string);
    let protocol = after("with")
        .or_else(|| after("via"))
        .map(str::to_ascii_lowercase);
    let authenticated = protocol.as_deref().is_some_and(|p| {
        ["smtpa", "smtpsa", "lmtpa", "lmtpsa"]
            .iter()
            .any(|suffix| p.ends_with(suffix))
    }) || contains_ci(value, "authenticated sender");

    // An explicit greeting (Exim `helo=`, qmail and others `HELO x` or
    // `EHLO x`) means the first word is the looked-up name; otherwise the
    // first word is the greeting. Its words are not the client's address.
    let mut greeting_words = Vec::new();
    let mut marked = None;
    for (i, w) in rest.iter().enumerate() {
        let bare = w.trim_start_matches(['(', '"']);
        if let Some(h) = strip_prefix_ci(bare, "helo=").or_else(|| strip_prefix_ci(bare, "ehlo=")) {
            marked = Some(h.to_string());
            greeting_words.push(i);
            break;
        }
        if (bare.eq_ignore_ascii_case("helo") || bare.eq_ignore_ascii_case("ehlo"))
            && let Some(h) = rest.get(i + 1)
        {
            marked = Some(h.to_string());
            greeting_words.extend([i, i + 1]);
            break;
        }
    }
    let ip = rest
        .iter()
        .enumerate()
        .filter(|(i, _)| !greeting_words.contains(i))
        .find_map(|(_, w)| address_in(w))
        .or_else(|| address_in(first));
    let (helo, name) = match marked {
        Some(helo) => {
            let first = clean(first);
            let name = is_host_name(&first).then_some(first);
            (Some(clean(&helo)), name)
        }
        None => {
            // Only the first comment holds the looked-up name; later ones
            // are other things (`(Authenticated sender: a@b.example)`).
            let comment = match rest.first() {
                Some(w) if w.starts_with('(') => {
                    let end = rest.iter().position(|w| w.ends_with(')')).unwrap_or(0);
                    &rest[..=end]
                }
                _ => &[][..],
            };
            let name = comment
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
        authenticated,
    })
}

/// A word as a name: without the comment's brackets, quotes and the
/// root's trailing dot (`host.example.`), lower case.
fn clean(word: &str) -> String {
    word.trim_matches(|c| matches!(c, '(' | ')' | ';' | ',' | '"'))
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

fn contains_ci(text: &str, needle: &str) -> bool {
    text.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
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
    // `::ffff:127.0.0.1` (Courier) is the IPv4 address it wraps.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
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
    fn modern_shapes() {
        // Yahoo's MX: the greeting after EHLO, the address after it.
        let h = hop(
            "from 127.0.0.1  (EHLO mail-wm1-f67.example.com) (209.85.128.67)\r\n  by mta4162.mail.example.com with SMTPS; Sat, 28 Nov 2026 10:00:00 +0000",
        );
        assert_eq!(h.helo.as_deref(), Some("mail-wm1-f67.example.com"));
        assert_eq!(h.ip, "209.85.128.67".parse().ok());
        assert_eq!(h.name, None);
        // Postfix with TLS: `with cipher` in a comment is not the protocol;
        // Gmail-style names end with the root's dot.
        let h = hop(
            "from mail.example.org (mail.example.org. [198.51.100.9])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\t(No client certificate requested)\r\n\tby mx.example.net (Postfix) with ESMTPS id 4ABC12",
        );
        assert_eq!(h.protocol.as_deref(), Some("esmtps"));
        assert_eq!(h.name.as_deref(), Some("mail.example.org"));
        assert_eq!(h.id.as_deref(), Some("4ABC12"));
        assert!(!h.is_submission());
        // A login (RFC 3848 ESMTPSA), and Postfix's note of it.
        let h = hop(
            "from [192.168.1.23] (c-73-12-34-56.example-cable.net [73.12.34.56])\r\n\t(Authenticated sender: bob@example.com)\r\n\tby smtp.example.com (Postfix) with ESMTPSA id 99",
        );
        assert!(h.is_submission());
        assert_eq!(h.name.as_deref(), Some("c-73-12-34-56.example-cable.net"));
        assert!(
            hop("from x.example ([73.1.2.3]) by smtp.example.com with ESMTPA id 1").is_submission()
        );
        // Courier writes IPv4 as IPv6.
        let h = hop("from localhost (localhost [::ffff:127.0.0.1]) by mx.example.com with ESMTP");
        assert!(!h.ip.is_some_and(is_public));
        // A greeting of a LAN address is not the client's address.
        let h = hop("from unknown (HELO 192.168.1.2) (73.1.2.3) by mx.example.com with SMTP");
        assert_eq!(h.helo.as_deref(), Some("192.168.1.2"));
        assert_eq!(h.ip, "73.1.2.3".parse().ok());
        // A client that greets as `by` stays the client.
        let h = hop(
            "from by (c-73-1-2-3.example.net [73.1.2.3])\r\n\tby mx.example.test (mailroom) with ESMTP id X1",
        );
        assert_eq!(h.helo.as_deref(), Some("by"));
        assert_eq!(h.ip, "73.1.2.3".parse().ok());
        assert_eq!(h.id.as_deref(), Some("X1"));
        // Gmail's internal hops name no client.
        assert!(
            parse("by 2002:a05:6a10:1234:b0:4a1:2b3c:4d5e with SMTP id x; Sat, 28 Nov 2026")
                .is_none()
        );
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
