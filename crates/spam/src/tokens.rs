//! What the classifier learns from: words and word pairs of the text,
//! words of a few headers (marked with the header's name), and the hosts
//! of links. Each token is hashed to 64 bits (FNV-1a, stable across
//! versions, so stored statistics stay valid); a message yields each
//! token once.

use std::collections::HashSet;

use crate::message::View;

/// Tokens kept per message.
const MAX_TOKENS: usize = 4000;

pub fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A word as the classifier sees it, or `None` for noise.
fn normalize(word: &str) -> Option<String> {
    let word = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '$');
    let chars = word.chars().count();
    if chars < 3 {
        return None;
    }
    if word
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return Some(format!("num:{}", chars.min(12)));
    }
    if chars > 20 {
        // Long strings (ids, encodings) by shape only.
        return Some(format!("long:{}:{}", word.chars().next()?, chars / 10));
    }
    Some(word.to_lowercase())
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ',' | ';' | '(' | ')' | '"' | '<' | '>' | '[' | ']' | '|' | '='
            )
    })
    .filter_map(normalize)
}

#[derive(Default)]
struct Collector {
    seen: HashSet<u64>,
    tokens: Vec<u64>,
    /// The tokens as text, when asked for (to explain a verdict).
    texts: Option<Vec<String>>,
}

impl Collector {
    fn add(&mut self, token: &str) {
        if self.tokens.len() < MAX_TOKENS {
            let hash = fnv1a(token);
            if self.seen.insert(hash) {
                self.tokens.push(hash);
                if let Some(texts) = &mut self.texts {
                    texts.push(token.to_string());
                }
            }
        }
    }
}

/// The names of the HTML elements used (`font`, `img`, `table`...).
fn html_tags(html: &str) -> impl Iterator<Item = String> + '_ {
    html.split('<').skip(1).filter_map(|rest| {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .take(12)
            .collect();
        (!name.is_empty()).then(|| name.to_ascii_lowercase())
    })
}

/// The networks and domains a Received: line names: `ip:24.205.211`,
/// `ip:24.205`, `host:charterpipeline.net` (whole names are too unique
/// to learn from, their owners are not).
fn received_hosts(value: &str, c: &mut Collector) {
    for word in value.split(|ch: char| {
        ch.is_whitespace() || matches!(ch, '(' | ')' | '[' | ']' | '<' | '>' | ';' | '@' | '=')
    }) {
        let word = word.trim_matches('.').to_ascii_lowercase();
        let labels: Vec<&str> = word.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
            continue;
        }
        if let Ok(ip) = word.parse::<std::net::Ipv4Addr>() {
            let [a, b, c3, _] = ip.octets();
            c.add(&format!("ip:{a}.{b}.{c3}"));
            c.add(&format!("ip:{a}.{b}"));
        } else if labels
            .iter()
            .all(|l| l.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'))
            && labels[labels.len() - 1]
                .chars()
                .all(|ch| ch.is_ascii_alphabetic())
        {
            let n = labels.len();
            c.add(&format!("host:{}.{}", labels[n - 2], labels[n - 1]));
        }
    }
}

/// The message's tokens, each once.
pub fn tokens(view: &View) -> Vec<u64> {
    let mut c = Collector::default();
    collect(view, &mut c);
    c.tokens
}

/// The message's tokens as text, in the order of [`tokens`].
pub fn token_texts(view: &View) -> Vec<String> {
    let mut c = Collector {
        texts: Some(Vec::new()),
        ..Collector::default()
    };
    collect(view, &mut c);
    c.texts.unwrap_or_default()
}

fn collect(view: &View, c: &mut Collector) {
    for (name, value) in &view.header_text {
        for word in words(value) {
            c.add(&format!("{name}:{word}"));
        }
        if name == "received" {
            received_hosts(value, c);
        } else if let Some((_, domain)) = value.rsplit_once('@') {
            // The sender's and the message-id's domain, apart from the
            // mailbox: `from@shop.example`.
            let domain: String = domain
                .chars()
                .take_while(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-'))
                .collect();
            if !domain.is_empty() {
                c.add(&format!("{name}@{}", domain.to_ascii_lowercase()));
            }
        }
    }
    let mut previous: Option<String> = None;
    for word in words(&view.text) {
        c.add(&word);
        if let Some(p) = previous.take() {
            c.add(&format!("{p} {word}"));
        }
        previous = Some(word);
    }
    for link in &view.links {
        c.add(&format!("url:{}", link.host));
        let labels: Vec<&str> = link.host.rsplitn(3, '.').collect();
        if labels.len() >= 2 {
            c.add(&format!("url:{}.{}", labels[1], labels[0]));
        }
    }
    if view.has_html && !view.has_plain {
        c.add("shape:html-only");
    }
    for fact in &view.part_facts {
        c.add(fact);
    }
    for name in &view.header_names {
        c.add(&format!("header:{name}"));
    }
    for tag in html_tags(&view.html) {
        c.add(&format!("html:{tag}"));
    }
    for name in &view.attachments {
        if let Some((_, ext)) = name.rsplit_once('.') {
            c.add(&format!("attach:{ext}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_pairs_and_headers_each_once() {
        let view = View::parse(
            b"Subject: Cheap pills\r\nFrom: a@b.example\r\n\r\ncheap pills, cheap pills now\r\n",
        );
        let t = tokens(&view);
        for token in [
            "subject:cheap",
            "cheap",
            "pills",
            "cheap pills",
            "pills now",
        ] {
            assert!(t.contains(&fnv1a(token)), "{token}");
        }
        assert_eq!(t.iter().filter(|&&x| x == fnv1a("cheap")).count(), 1);
        assert!(!t.contains(&fnv1a("a")), "short words are noise");
    }
}
