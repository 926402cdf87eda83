//! A message as the rules see it: parsed once, with the headers that
//! matter, the text, the HTML, the links and the attachment names.

use mail_parser::{HeaderValue, MimeHeaders, PartType};

/// Text kept per message: enough to judge it, bounded so a huge message
/// costs no more than a large one.
pub(crate) const MAX_TEXT: usize = 256 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    /// Lower case.
    pub address: Option<String>,
}

impl Mailbox {
    pub fn domain(&self) -> Option<&str> {
        self.address.as_deref()?.rsplit_once('@').map(|(_, d)| d)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderState<T> {
    Missing,
    Invalid,
    Valid(T),
}

/// A link: where it goes and what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub href: String,
    /// The host of `href`, lower case (empty when it has none).
    pub host: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct View {
    /// The message could be parsed as RFC 5322 at all.
    pub parsed: bool,
    pub from: HeaderState<Mailbox>,
    pub from_count: usize,
    pub reply_to: Option<Mailbox>,
    pub to_count: usize,
    /// The To: field as sent (empty when missing).
    pub to_raw: String,
    /// The addresses in To: and Cc:, lower case.
    pub addressed: Vec<String>,
    /// Where the receiving site delivered it, lower case: `Delivered-To:`,
    /// `X-Original-To:`, `Envelope-To:`, else `for <...>` in `Received:`.
    pub delivered_to: Vec<String>,
    /// The Date: field as sent (empty when missing).
    pub date_raw: String,
    /// The Date: names a day of the week other than its date's.
    pub date_weekday_wrong: bool,
    /// The boundary of the top multipart, as sent.
    pub boundary: Option<String>,
    /// When the last hop received it (the date of the topmost Received:).
    pub received_at: Option<i64>,
    /// X-Priority, X-MSMail-Priority or Importance asks for attention.
    pub priority_high: bool,
    pub subject: Option<String>,
    /// Seconds since the epoch.
    pub date: HeaderState<i64>,
    pub message_id: HeaderState<()>,
    /// The Message-ID: field as sent (empty when missing).
    pub message_id_raw: String,
    pub mime_version: bool,
    /// A text or HTML part, or the Subject, From or To, of plain ASCII
    /// sent as base64.
    pub ascii_in_base64: bool,
    /// A text part labelled ASCII (or not labelled) carries many 8-bit
    /// characters.
    pub unlabelled_8bit: bool,
    pub list_unsubscribe: bool,
    pub bulk_precedence: bool,
    /// Plain text parts (HTML-only mail: its text), joined.
    pub text: String,
    /// HTML parts, joined, as sent.
    pub html: String,
    /// What the HTML shows, when the message has a plain text version
    /// too (else `text` is already that).
    pub html_text: String,
    pub has_plain: bool,
    pub has_html: bool,
    pub images: usize,
    /// Attachment file names, lower case.
    pub attachments: Vec<String>,
    pub links: Vec<Link>,
    /// Header lines as `name: value` for the classifier (a few names).
    pub header_text: Vec<(String, String)>,
    /// The names of every header field, lower case, each once.
    pub header_names: Vec<String>,
}

/// RFC 5322 3.3: a day of the week, when given, must be the date's.
fn weekday_wrong(raw: &str, date: &mail_parser::DateTime) -> bool {
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let Some(named) = raw.trim_start().get(..3).map(str::to_ascii_lowercase) else {
        return false;
    };
    let Some(named) = DAYS.iter().position(|d| *d == named) else {
        return false;
    };
    date.is_valid() && usize::from(date.day_of_week()) != named
}

fn push_bounded(into: &mut String, text: &str) {
    if into.len() >= MAX_TEXT {
        return;
    }
    let room = MAX_TEXT - into.len();
    let mut end = text.len().min(room);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    into.push_str(&text[..end]);
    into.push('\n');
}

fn mailbox(value: Option<&mail_parser::Address<'_>>) -> Option<Mailbox> {
    let first = value?.first()?;
    Some(Mailbox {
        name: first
            .name()
            .map(str::to_string)
            .filter(|n| !n.trim().is_empty()),
        address: first
            .address()
            .map(str::to_lowercase)
            .filter(|a| a.contains('@')),
    })
}

/// Addresses a recipient may be named under: To:, Cc:, and the
/// Resent-To:/Resent-Cc: of a message redirected (RFC 5322 3.6.6).
fn addressed(message: &mail_parser::Message<'_>) -> Vec<String> {
    let lists = [
        message.to(),
        message.cc(),
        message.header("Resent-To").and_then(|h| h.as_address()),
        message.header("Resent-Cc").and_then(|h| h.as_address()),
    ];
    lists
        .into_iter()
        .flatten()
        .flat_map(|list| list.iter())
        .filter_map(|a| a.address().map(str::to_lowercase))
        .take(MAX_ADDRESSES)
        .collect()
}

/// Addresses kept from a message's recipient fields and delivery records.
const MAX_ADDRESSES: usize = 1000;

/// The receiving site's record of the envelope recipients: the headers
/// delivery agents write, else the `for <...>` of `Received:` fields.
fn delivered_to(message: &mail_parser::Message<'_>) -> Vec<String> {
    let values = |names: &[&str]| -> Vec<String> {
        message
            .headers_raw()
            .filter(|(n, _)| names.iter().any(|x| n.eq_ignore_ascii_case(x)))
            .filter_map(|(_, v)| addr_spec(v))
            .take(MAX_ADDRESSES)
            .collect()
    };
    let found = values(&["Delivered-To", "X-Original-To", "Envelope-To"]);
    if !found.is_empty() {
        return found;
    }
    message
        .headers_raw()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Received"))
        .filter_map(|(_, v)| {
            let mut words = v.split_whitespace();
            words.find(|w| w.eq_ignore_ascii_case("for"))?;
            addr_spec(words.next()?)
        })
        .take(MAX_ADDRESSES)
        .collect()
}

/// The first `local@domain` of a header value, lower case.
fn addr_spec(value: &str) -> Option<String> {
    let word = value
        .split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | ';' | ',' | '(' | ')'))
        .find(|w| w.contains('@'))?;
    let (local, domain) = word.rsplit_once('@')?;
    (!local.is_empty() && domain.contains('.') || domain == "localhost")
        .then(|| word.to_ascii_lowercase())
}

/// Headers the classifier learns from, besides the body.
const LEARNED_HEADERS: [&str; 14] = [
    "Subject",
    "From",
    "Reply-To",
    "To",
    "Content-Type",
    "Content-Transfer-Encoding",
    "X-Mailer",
    "User-Agent",
    "Message-ID",
    "Return-Path",
    "Received",
    "X-Priority",
    "Organization",
    "List-Id",
];

impl View {
    pub fn parse(raw: &[u8]) -> View {
        let Some(message) = crate::mime_tree::parse(raw) else {
            return View::unparsed(raw);
        };
        let from = match message.header_raw("From") {
            None => HeaderState::Missing,
            Some(_) => match mailbox(message.from()) {
                Some(m) if m.address.is_some() => HeaderState::Valid(m),
                _ => HeaderState::Invalid,
            },
        };
        let date = match (message.header_raw("Date"), message.date()) {
            (None, _) => HeaderState::Missing,
            (Some(_), Some(d)) if d.is_valid() => HeaderState::Valid(d.to_timestamp()),
            (Some(_), _) => HeaderState::Invalid,
        };
        let message_id = match (message.header_raw("Message-ID"), message.message_id()) {
            (None, _) => HeaderState::Missing,
            (Some(_), Some(id)) if id.contains('@') && !id.contains(char::is_whitespace) => {
                HeaderState::Valid(())
            }
            (Some(_), _) => HeaderState::Invalid,
        };
        let precedence = message
            .header_raw("Precedence")
            .map(|p| p.trim().to_ascii_lowercase());
        let mut view = View {
            parsed: true,
            from_count: message.from().map_or(0, |a| a.iter().count()),
            from,
            reply_to: mailbox(message.reply_to()),
            to_count: message.to().map_or(0, |a| a.iter().count()),
            to_raw: message.header_raw("To").unwrap_or("").trim().to_string(),
            addressed: addressed(&message),
            delivered_to: delivered_to(&message),
            date_raw: message.header_raw("Date").unwrap_or("").trim().to_string(),
            date_weekday_wrong: message
                .header_raw("Date")
                .zip(message.date())
                .is_some_and(|(raw, date)| weekday_wrong(raw, date)),
            boundary: message
                .content_type()
                .and_then(|c| c.attribute("boundary"))
                .map(str::to_string),
            priority_high: asks_priority(&message),
            // headers_raw() in order: the first Received: is the topmost
            // (header_raw() would give the last, the first hop).
            received_at: message
                .headers_raw()
                .find(|(name, _)| name.eq_ignore_ascii_case("Received"))
                .and_then(|(_, r)| r.rsplit_once(';'))
                .and_then(|(_, date)| mail_parser::DateTime::parse_rfc822(date.trim()))
                .filter(mail_parser::DateTime::is_valid)
                .map(|d| d.to_timestamp()),
            subject: message.subject().map(str::to_string),
            date,
            message_id,
            message_id_raw: message
                .header_raw("Message-ID")
                .unwrap_or("")
                .trim()
                .to_string(),
            mime_version: message.header_raw("MIME-Version").is_some(),
            ascii_in_base64: message.parts.iter().any(ascii_in_base64)
                || ["Subject", "From", "To"].iter().any(|name| {
                    message
                        .header_raw(*name)
                        .is_some_and(crate::mime_repair::header_hides_ascii)
                }),
            unlabelled_8bit: message.parts.iter().any(|p| unlabelled_8bit(p, raw)),
            list_unsubscribe: message.header_raw("List-Unsubscribe").is_some(),
            bulk_precedence: matches!(precedence.as_deref(), Some("bulk" | "list" | "junk")),
            text: String::new(),
            html: String::new(),
            html_text: String::new(),
            has_plain: false,
            has_html: false,
            images: 0,
            attachments: Vec::new(),
            links: Vec::new(),
            header_text: Vec::new(),
            header_names: Vec::new(),
        };
        // A set to ask, so a message of many distinct names costs their
        // number, not its square.
        let mut seen = std::collections::HashSet::new();
        for header in message.headers() {
            let name = header.name().to_ascii_lowercase();
            if seen.insert(name.clone()) {
                view.header_names.push(name);
            }
        }
        for name in LEARNED_HEADERS {
            if name == "Received" {
                // Every hop, as written: the hosts and software on the way.
                for (_, value) in message
                    .headers_raw()
                    .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    view.header_text
                        .push(("received".into(), value.to_string()));
                }
                continue;
            }
            if let Some(value) = message.header(name) {
                let text = match value {
                    HeaderValue::Text(t) => t.to_string(),
                    HeaderValue::TextList(l) => l.join(" "),
                    HeaderValue::Address(a) => a
                        .iter()
                        .map(|x| {
                            format!("{} {}", x.name().unwrap_or(""), x.address().unwrap_or(""))
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                    HeaderValue::ContentType(c) => {
                        format!("{}/{}", c.ctype(), c.subtype().unwrap_or(""))
                    }
                    _ => message.header_raw(name).unwrap_or("").to_string(),
                };
                view.header_text.push((name.to_ascii_lowercase(), text));
            }
        }
        let boundaries: Vec<String> = message
            .parts
            .iter()
            .filter_map(|p| p.content_type()?.attribute("boundary"))
            .map(str::to_string)
            .collect();
        for (i, part) in message.text_bodies().enumerate() {
            if matches!(part.body, PartType::Text(_)) {
                view.has_plain = true;
            }
            if let Some(repaired) = crate::mime_repair::repair(part, raw, &boundaries) {
                view.take_repaired(repaired);
            } else if let Some(text) = message.body_text(i) {
                push_bounded(&mut view.text, &text);
            }
        }
        for part in message.html_bodies() {
            if let PartType::Html(html) = &part.body {
                view.has_html = true;
                push_bounded(&mut view.html, html);
            }
        }
        for part in message.attachments() {
            let name = part.attachment_name().map(str::to_lowercase);
            // An unnamed text or HTML part under multipart/mixed is the
            // message's text as far as a reader sees it.
            if name.is_none() {
                if let Some(repaired) = crate::mime_repair::repair(part, raw, &boundaries) {
                    view.take_repaired(repaired);
                    continue;
                }
                match &part.body {
                    PartType::Html(html) => {
                        view.has_html = true;
                        push_bounded(&mut view.html, html);
                        continue;
                    }
                    PartType::Text(text) => {
                        view.has_plain = true;
                        push_bounded(&mut view.text, text);
                        continue;
                    }
                    _ => {}
                }
            }
            let is_image = part
                .content_type()
                .is_some_and(|c| c.ctype().eq_ignore_ascii_case("image"));
            if is_image {
                view.images += 1;
            }
            if let Some(name) = name {
                view.attachments.push(name);
            } else if !is_image && !matches!(part.body, PartType::Text(_) | PartType::Html(_)) {
                view.attachments.push(String::new());
            }
        }
        if view.has_html {
            // What the reader sees of the HTML: the text itself for
            // HTML-only mail; else apart, as the two versions of one
            // message need not say the same (a mass mailer fills the plain
            // one with anything).
            let text = mail_parser::decoders::html::html_to_text(&view.html);
            if view.has_plain {
                push_bounded(&mut view.html_text, &text);
            } else if view.text.trim().is_empty() {
                push_bounded(&mut view.text, &text);
            }
        }
        view.images += count_ci(&view.html, "<img");
        view.links = crate::message::links(&view.html, &view.text);
        view
    }

    /// A part decoded despite its damage, as the reader sees it.
    fn take_repaired(&mut self, repaired: crate::mime_repair::Repaired) {
        self.ascii_in_base64 |= repaired.ascii_in_base64;
        if repaired.html {
            self.has_html = true;
            push_bounded(&mut self.html, &repaired.text);
        } else {
            self.has_plain = true;
            push_bounded(&mut self.text, &repaired.text);
        }
    }

    fn unparsed(raw: &[u8]) -> View {
        View {
            parsed: false,
            from: HeaderState::Missing,
            from_count: 0,
            reply_to: None,
            to_count: 0,
            to_raw: String::new(),
            addressed: Vec::new(),
            delivered_to: Vec::new(),
            date_raw: String::new(),
            date_weekday_wrong: false,
            boundary: None,
            priority_high: false,
            received_at: None,
            subject: None,
            date: HeaderState::Missing,
            message_id: HeaderState::Missing,
            message_id_raw: String::new(),
            mime_version: false,
            ascii_in_base64: false,
            unlabelled_8bit: false,
            list_unsubscribe: false,
            bulk_precedence: false,
            text: String::from_utf8_lossy(&raw[..raw.len().min(MAX_TEXT)]).into_owned(),
            html: String::new(),
            html_text: String::new(),
            has_plain: true,
            has_html: false,
            images: 0,
            attachments: Vec::new(),
            links: Vec::new(),
            header_text: Vec::new(),
            header_names: Vec::new(),
        }
    }

    /// The `Received:` fields, topmost (the last hop) first.
    pub fn received(&self) -> impl Iterator<Item = &str> {
        self.header_text
            .iter()
            .filter(|(name, _)| name == "received")
            .map(|(_, value)| value.as_str())
    }

    pub fn from_mailbox(&self) -> Option<&Mailbox> {
        match &self.from {
            HeaderState::Valid(m) => Some(m),
            _ => None,
        }
    }
}

/// A readable part (not an attachment) whose text is plain ASCII, yet
/// sent as base64: mail programs choose base64 for binary data and
/// quoted-printable or 7bit for text that is nearly ASCII (RFC 2045
/// 6.8); mass mailers use base64 to hide their words from filters.
/// Not for UTF-8: Python's email library, behind much automated mail,
/// writes every UTF-8 text as base64.
fn ascii_in_base64(part: &mail_parser::MessagePart<'_>) -> bool {
    let text = match &part.body {
        PartType::Text(t) | PartType::Html(t) => t,
        _ => return false,
    };
    let utf8 = part
        .content_type()
        .and_then(|c| c.attribute("charset"))
        .is_some_and(|c| c.eq_ignore_ascii_case("utf-8") || c.eq_ignore_ascii_case("utf8"));
    part.encoding == mail_parser::Encoding::Base64
        && !utf8
        && part.attachment_name().is_none()
        && !text.trim().is_empty()
        && crate::mime_repair::plain_ascii(text)
}

/// A readable part whose charset is US-ASCII, named or by default (RFC
/// 2045 5.2), yet carries 20 or more 8-bit characters: every mail program
/// names the charset it writes in; a mass mailer pasting text from
/// anywhere often does not. Counted in the part as sent (8bit, or
/// quoted-printable `=XX` escapes); base64 is left alone.
fn unlabelled_8bit(part: &mail_parser::MessagePart<'_>, raw: &[u8]) -> bool {
    const ENOUGH: usize = 20;
    if !matches!(part.body, PartType::Text(_) | PartType::Html(_))
        || part.attachment_name().is_some()
    {
        return false;
    }
    let ascii = part
        .content_type()
        .and_then(|c| c.attribute("charset"))
        .is_none_or(|c| c.eq_ignore_ascii_case("us-ascii") || c.eq_ignore_ascii_case("ascii"));
    let Some(body) = raw.get(part.offset_body as usize..part.offset_end as usize) else {
        return false;
    };
    if !ascii {
        return false;
    }
    match part.encoding {
        mail_parser::Encoding::QuotedPrintable => {
            body.windows(3)
                .filter(|w| {
                    w[0] == b'='
                        && matches!(w[1], b'8'..=b'9' | b'A'..=b'F' | b'a'..=b'f')
                        && w[2].is_ascii_hexdigit()
                })
                .count()
                >= ENOUGH
        }
        mail_parser::Encoding::Base64 => false,
        _ => body.iter().filter(|&&b| b >= 0x80).count() >= ENOUGH,
    }
}

/// `X-Priority: 1` or `2`, `X-MSMail-Priority: High`, `Importance: high`.
fn asks_priority(message: &mail_parser::Message<'_>) -> bool {
    let value = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default()
    };
    value("X-Priority").starts_with(['1', '2'])
        || value("X-MSMail-Priority").starts_with("high")
        || value("Importance").starts_with("high")
}

fn count_ci(haystack: &str, needle: &str) -> usize {
    haystack.to_ascii_lowercase().matches(needle).count()
}

/// The host of a URL: after the scheme and any `user@`, before the port
/// or path; lower case.
pub fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or("")
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let at = from + found;
        from = at + name.len();
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[at + name.len()..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let offset = tag.len() - rest.len() + 1;
        let value = tag[offset..].trim_start();
        let (quote, body) = match value.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &value[1..]),
            _ => (None, value),
        };
        let end = match quote {
            Some(q) => body.find(q).unwrap_or(body.len()),
            None => body
                .find(|c: char| c.is_whitespace() || c == '>')
                .unwrap_or(body.len()),
        };
        return Some(body[..end].trim().to_string());
    }
    None
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .trim()
        .to_string()
}

/// Links of the HTML (`<a href>` with their text) and bare URLs of the
/// text, at most a few hundred.
pub fn links(html: &str, text: &str) -> Vec<Link> {
    const MAX_LINKS: usize = 300;
    let mut links = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while links.len() < MAX_LINKS {
        let Some(found) = lower[from..].find("<a") else {
            break;
        };
        let start = from + found;
        let Some(tag_len) = lower[start..].find('>') else {
            break;
        };
        let tag = &html[start..start + tag_len];
        let body_start = start + tag_len + 1;
        let body_end = lower[body_start..]
            .find("</a")
            .map_or(lower.len(), |e| body_start + e);
        from = body_end.max(body_start);
        let next = lower.as_bytes().get(start + 2).copied().unwrap_or(b' ');
        if !next.is_ascii_whitespace() {
            continue;
        }
        if let Some(href) = attribute(tag, "href") {
            let text = strip_tags(&html[body_start..body_end]);
            links.push(Link {
                host: url_host(&href),
                href,
                text,
            });
        }
    }
    for scheme in ["http://", "https://"] {
        let mut rest = text;
        while links.len() < MAX_LINKS {
            let Some(at) = rest.find(scheme) else { break };
            let url: String = rest[at..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '<' | '>' | '"' | '\'' | ')'))
                .collect();
            rest = &rest[at + scheme.len()..];
            if !links.iter().any(|l: &Link| l.href == url) {
                links.push(Link {
                    host: url_host(&url),
                    href: url,
                    text: String::new(),
                });
            }
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_ignore_user_info_ports_and_case() {
        assert_eq!(
            url_host("http://paypal.com@evil.example:8080/x"),
            "evil.example"
        );
        assert_eq!(url_host("HTTPS://Shop.Example./a?b"), "shop.example");
        assert_eq!(url_host("http://[2001:db8::1]/"), "2001:db8::1");
    }

    #[test]
    fn links_keep_their_text() {
        let found = links(
            r#"<p>Go <a class="x" href="https://evil.example/login">https://bank.example</a></p>"#,
            "see http://plain.example/page.",
        );
        assert_eq!(found[0].host, "evil.example");
        assert_eq!(found[0].text, "https://bank.example");
        assert_eq!(found[1].host, "plain.example");
    }

    #[test]
    fn the_weekday_is_the_senders_local_one() {
        let wrong = |date: &str| {
            View::parse(format!("From: a@example.com\r\nDate: {date}\r\n\r\nhi\r\n").as_bytes())
                .date_weekday_wrong
        };
        assert!(!wrong("Sun, 29 Nov 2026 00:30:00 +0100"));
        assert!(!wrong("Sat, 28 Nov 2026 23:30:00 -0500"));
        assert!(wrong("Fri, 28 Nov 2026 12:00:00 +0000"));
        assert!(!wrong("28 Nov 2026 12:00:00 +0000"));
    }
}
