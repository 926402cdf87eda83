//! What the classifier learns from: words and word pairs of the text,
//! words of a few headers (marked with the header's name), the domains
//! of the sender and of the relays, header names, attachment types and
//! the hosts of links. Not the HTML markup: whether a message is HTML
//! says what kind of sender wrote it, not whether it is spam, and a
//! classifier whose ham happened to be plain text would learn "HTML is
//! spam" and junk every newsletter. Each token is hashed to 64 bits (FNV-1a, stable across
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
    .flat_map(|piece| {
        if piece.chars().any(is_cjk) {
            cjk_pairs(piece)
        } else {
            normalize(piece).into_iter().collect()
        }
    })
}

/// Chinese, Japanese and Korean script: written without spaces between
/// words.
fn is_cjk(c: char) -> bool {
    matches!(u32::from(c),
        0x3040..=0x30ff      // Hiragana, Katakana
        | 0x3400..=0x4dbf    // CJK extension A
        | 0x4e00..=0x9fff    // CJK unified ideographs
        | 0xac00..=0xd7af    // Hangul syllables
        | 0xf900..=0xfaff    // CJK compatibility ideographs
        | 0xff66..=0xff9f) // half-width Katakana
}

/// Text in a script without spaces, as overlapping pairs of characters
/// (the usual stand-in for words there); other runs in it as words.
fn cjk_pairs(piece: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = piece.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let cjk = is_cjk(chars[i]);
        let start = i;
        while i < chars.len() && is_cjk(chars[i]) == cjk {
            i += 1;
        }
        let run = &chars[start..i];
        if cjk {
            if run.len() == 1 {
                out.push(run[0].to_string());
            }
            out.extend(run.windows(2).map(|w| w.iter().collect::<String>()));
        } else {
            out.extend(normalize(&run.iter().collect::<String>()));
        }
    }
    out
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

/// The networks and domains a Received: line names: `ip:24.205.211`,
/// `ip:24.205`, `host:charterpipeline.net`, `host:isp.co.uk` (whole names are too unique
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
            c.add(&format!("host:{}", crate::domain::registered(&word)));
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
    for text in [&view.text, &view.html_text] {
        let mut previous: Option<String> = None;
        for word in words(text) {
            c.add(&word);
            if let Some(p) = previous.take() {
                c.add(&format!("{p} {word}"));
            }
            previous = Some(word);
        }
    }
    // Words in capitals, apart from the same word in lower case: shouting
    // is a habit of advertising more than of conversation.
    for word in view.text.split_whitespace() {
        let word = word.trim_matches(|ch: char| !ch.is_alphanumeric());
        if word.chars().count() >= 3 && word.chars().all(char::is_uppercase) {
            c.add(&format!("upper:{word}"));
        }
    }
    for link in &view.links {
        c.add(&format!("url:{}", link.host));
        // The site's owner as well (`url:example.co.uk`), not for an address.
        if link.host.contains('.') && link.host.parse::<std::net::IpAddr>().is_err() {
            c.add(&format!("url:{}", crate::domain::registered(&link.host)));
        }
    }
    for name in &view.header_names {
        c.add(&format!("header:{name}"));
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
    fn text_without_spaces_is_read_in_pairs_of_characters() {
        let t: Vec<String> = words("無料の商品 today").collect();
        assert_eq!(t, ["無料", "料の", "の商", "商品", "today"]);
    }

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
