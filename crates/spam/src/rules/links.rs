//! Links: to bare IP addresses, through URL shorteners, and links whose
//! text shows one address while they lead to another (phishing).

use super::Hit;
use crate::message::{View, url_host};

const SHORTENERS: &[&str] = &[
    "bit.ly",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "tiny.cc",
    "rb.gy",
    "t.ly",
    "s.id",
    "bl.ink",
    "v.gd",
];

pub(super) fn check(view: &View, hits: &mut Vec<Hit>) {
    let mut ip = false;
    let mut shortener = false;
    let mut mismatch = false;
    for link in &view.links {
        let host = link.host.as_str();
        if host.parse::<std::net::IpAddr>().is_ok() || is_numeric_host(host) {
            ip = true;
        }
        if SHORTENERS.contains(&host) {
            shortener = true;
        }
        let shown = link.text.trim();
        let shows_address = shown.starts_with("http://")
            || shown.starts_with("https://")
            || shown.starts_with("www.");
        if shows_address && !host.is_empty() {
            let shown_host = url_host(shown);
            let shown_host = shown_host.trim_start_matches("www.");
            let real = host.trim_start_matches("www.");
            if !shown_host.is_empty()
                && shown_host != real
                && !real.ends_with(&format!(".{shown_host}"))
            {
                mismatch = true;
            }
        }
    }
    if ip {
        hits.push("URI_IP_LITERAL");
    }
    if shortener {
        hits.push("URI_SHORTENER");
    }
    if mismatch {
        hits.push("URI_TEXT_MISMATCH");
    }
    if view.links.len() > 50 {
        hits.push("URI_MANY");
    }
}

/// Hosts like `3232235777` or `0xC0A80001`: an IP address in disguise.
fn is_numeric_host(host: &str) -> bool {
    !host.is_empty()
        && (host.chars().all(|c| c.is_ascii_digit())
            || (host.starts_with("0x") && host[2..].chars().all(|c| c.is_ascii_hexdigit())))
}
