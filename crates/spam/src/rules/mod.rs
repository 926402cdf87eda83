//! The rules: each looks at the message (and what the caller learned
//! about its origin) and emits named tags; [`crate::ScoreTable`] gives
//! each tag its score. Inbound mail gets every rule; outbound mail
//! (submitted by our own users) skips those about the sending host and
//! about spoofing the recipient.

mod addresses;
mod attachments;
mod auth;
mod content;
mod disguise;
mod headers;
mod html;
mod links;
mod mailer;
mod phrases;
mod relay;
mod topics;

use std::net::IpAddr;

use crate::message::View;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received from another server (MX).
    Inbound,
    /// Submitted by one of our users.
    Outbound,
    /// Checked on its own (the spam check tool): no authentication
    /// results; the sending host is read from the `Received:` fields.
    Standalone,
}

/// The result of an authentication check (RFC 8601 result names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Check {
    Pass,
    Fail,
    SoftFail,
    Neutral,
    /// Nothing to check: no record, no signature.
    #[default]
    None,
    /// A DNS or syntax error: no conclusion.
    Error,
}

/// The authentication results of an inbound message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Auth {
    pub spf: Check,
    pub dkim: Check,
    pub dmarc: Check,
    pub arc: Check,
    /// Reverse DNS of the client that matches forward (RFC 8601 iprev).
    pub iprev: Check,
}

/// What the caller knows besides the message itself.
#[derive(Debug, Clone)]
pub struct Context {
    pub direction: Direction,
    /// EHLO/HELO name.
    pub helo: String,
    pub ip: Option<IpAddr>,
    /// The client's reverse DNS name, when it resolves back (iprev).
    pub client_name: Option<String>,
    /// `None` when the checks could not run (no DNS configured).
    pub auth: Option<Auth>,
    /// Domains the message is addressed to here (for spoofing checks).
    pub recipient_domains: Vec<String>,
    /// The envelope recipients here (RCPT TO as given), lower case; empty
    /// when unknown (then the message's own delivery headers say).
    pub recipients: Vec<String>,
    /// Now, seconds since the epoch (for Date checks).
    pub now: i64,
}

impl Context {
    /// A context for a message checked on its own (the spam check tool).
    pub fn standalone(now: i64) -> Context {
        Context {
            direction: Direction::Standalone,
            helo: String::new(),
            ip: None,
            client_name: None,
            auth: None,
            recipient_domains: Vec::new(),
            recipients: Vec::new(),
            now,
        }
    }
}

/// At most the first `max` bytes of `text`, cut at a character boundary
/// (rules look at bounded pieces of hostile input).
pub(crate) fn head(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The phrases of `list` that `text` (lower case) uses as words: not
/// inside a longer word ("sex" is not in "Essex"), and not counted again
/// inside a longer phrase of the list that matched too.
pub(crate) fn phrases_used<'a>(text: &str, list: &[&'a str]) -> Vec<&'a str> {
    let found: Vec<&str> = list
        .iter()
        .copied()
        .filter(|phrase| uses_phrase(text, phrase))
        .collect();
    found
        .iter()
        .copied()
        .filter(|p| {
            !found
                .iter()
                .any(|longer| longer.len() > p.len() && longer.contains(p))
        })
        .collect()
}

/// `phrase` occurs in `text` with no letter or digit joined to either end
/// (an end that is itself a sign, like `$$$`, needs no boundary).
fn uses_phrase(text: &str, phrase: &str) -> bool {
    // contains() is the fast (vectorised) search; most phrases are absent.
    text.contains(phrase) && phrase_positions(text, phrase).next().is_some()
}

/// Where `phrase` occurs in `text` as words (see [`uses_phrase`]).
pub(crate) fn phrase_positions<'t>(
    text: &'t str,
    phrase: &'t str,
) -> impl Iterator<Item = usize> + 't {
    let starts_word = phrase.starts_with(char::is_alphanumeric);
    let ends_word = phrase.ends_with(char::is_alphanumeric);
    text.match_indices(phrase).filter_map(move |(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        ((!starts_word || !before.is_some_and(char::is_alphanumeric))
            && (!ends_word || !after.is_some_and(char::is_alphanumeric)))
        .then_some(at)
    })
}

/// One rule that fired.
pub type Hit = &'static str;

/// Every tag the message earns (the Bayes tag is added by the caller).
pub fn evaluate(view: &View, context: &Context) -> Vec<Hit> {
    let mut hits = Vec::new();
    if context.direction == Direction::Inbound {
        auth::check(context, &mut hits);
        headers::check_origin(view, context, &mut hits);
    }
    relay::check(view, context, &mut hits);
    headers::check(view, context, &mut hits);
    addresses::check(view, &mut hits);
    if context.direction != Direction::Outbound {
        addresses::check_recipients(view, context, &mut hits);
    }
    mailer::check(view, &mut hits);
    content::check(view, &mut hits);
    html::check(view, &mut hits);
    // What a reader reads, lower case, once for the rules about wording.
    let reading = format!(
        "{}\n{}\n{}",
        view.subject.as_deref().unwrap_or(""),
        view.text,
        view.html_text
    )
    .to_lowercase();
    disguise::check(view, &reading, &mut hits);
    phrases::check(&reading, &mut hits);
    topics::check(&reading, &mut hits);
    links::check(view, &mut hits);
    attachments::check(view, &mut hits);
    hits.sort_unstable();
    hits.dedup();
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_version_is_read_besides_the_plain_one() {
        // The plain version says nothing; the HTML one makes the pitch.
        let raw = b"From: a@b.example\r\nSubject: hello\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nPlease view this message in HTML.\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>Act now: a limited time offer, 100% free. Claim your prize, dear friend!</p>\r\n--x--\r\n";
        let view = View::parse(raw);
        let hits = evaluate(&view, &Context::standalone(0));
        assert!(hits.contains(&"SPAM_PHRASES_3"), "{hits:?}");
        assert!(!hits.contains(&"HTML_ONLY"));
        let tokens = crate::tokens::token_texts(&view);
        assert!(tokens.iter().any(|t| t == "prize"), "{tokens:?}");
    }

    #[test]
    fn ascii_in_base64_but_not_as_python_writes_utf8() {
        let mail = |charset: &str| {
            format!(
                "From: cron@host.example\r\nSubject: backup\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"{charset}\"\r\nContent-Transfer-Encoding: base64\r\n\r\nQmFja3VwIGZpbmlzaGVkOiAxMiBmaWxlcywgbm8gZXJyb3JzLgo=\r\n"
            )
        };
        let tags = |raw: String| evaluate(&View::parse(raw.as_bytes()), &Context::standalone(0));
        assert!(tags(mail("iso-8859-1")).contains(&"MIME_BASE64_TEXT"));
        assert!(!tags(mail("utf-8")).contains(&"MIME_BASE64_TEXT"));
    }

    #[test]
    fn phrases_are_words_and_count_once() {
        let list = ["sex", "adult", "prescription", "no prescription", "$$$"];
        assert_eq!(phrases_used("adult courses in essex", &list), ["adult"]);
        assert_eq!(
            phrases_used("no prescription needed", &list),
            ["no prescription"]
        );
        assert_eq!(phrases_used("earn $$$ now", &list), ["$$$"]);
    }
}
