//! What SORT and THREAD (RFC 5256) need to know of each message.

use mail_parser::{Address, HeaderValue, Message};

use crate::mime;
use crate::session::{Done, Session};

pub(crate) struct Summary {
    pub seq: usize,
    pub uid: u32,
    pub size: u64,
    pub arrival: i64,
    /// The Date header, or the arrival time without one (RFC 5256 2.2).
    pub date: i64,
    /// Base subject (RFC 5256 2.1), ASCII letters upper-cased: sorting
    /// compares octets under i;ascii-casemap (RFC 5256 3).
    pub subject: String,
    /// The subject was a reply's or a forward's (`Re:`, `Fwd:`, `(fwd)`).
    pub reply: bool,
    pub from: String,
    pub to: String,
    pub cc: String,
    pub display_from: String,
    pub display_to: String,
    pub message_id: Option<String>,
    /// References, then In-Reply-To when there are no References.
    pub references: Vec<String>,
}

impl Summary {
    /// A message whose text could not be read: sorted by what the
    /// mailbox knows of it, with empty keys.
    pub(crate) fn unparsed(seq: usize, uid: u32, size: u64, arrival: i64) -> Self {
        Summary {
            seq,
            uid,
            size,
            arrival,
            date: arrival,
            subject: String::new(),
            reply: false,
            from: String::new(),
            to: String::new(),
            cc: String::new(),
            display_from: String::new(),
            display_to: String::new(),
            message_id: None,
            references: Vec::new(),
        }
    }
}

fn first_mailbox(address: Option<&Address<'_>>) -> (String, String) {
    let first = address.and_then(|a| a.first());
    let mailbox = first
        .and_then(|a| a.address.as_deref())
        .map(|e| e.split('@').next().unwrap_or(e).to_ascii_uppercase())
        .unwrap_or_default();
    // RFC 5957: the display name, else the address.
    let display = first
        .and_then(|a| a.name.as_deref().or(a.address.as_deref()))
        .unwrap_or_default()
        .to_ascii_uppercase();
    (mailbox, display)
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// RFC 5256 2.1: the subject without Re:/Fwd: prefixes, [blob]s, "(fwd)"
/// trailers and extra white space, ASCII letters upper-cased for
/// comparison (i;ascii-casemap, RFC 4790 9.2); and
/// whether taking it off removed a reply's or a forward's marks (for
/// THREAD REFERENCES step 5).
pub(crate) fn base_subject_and_reply(subject: &str) -> (String, bool) {
    let mut reply = false;
    let mut s: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        let before = s.clone();
        // Trailers.
        loop {
            let trimmed = s.trim_end();
            let tail = trimmed.len().saturating_sub(5);
            if trimmed.as_bytes()[tail..].eq_ignore_ascii_case(b"(fwd)") {
                s = trimmed[..trimmed.len() - 5].to_string();
                reply = true;
            } else {
                s = trimmed.to_string();
                break;
            }
        }
        // Leaders: "re:", "fw:", "fwd:" with optional [blob], and [blob]s.
        loop {
            let t = s.trim_start().to_string();
            let lower = t.to_ascii_lowercase();
            let mut rest = None;
            for prefix in ["re", "fwd", "fw"] {
                if let Some(after) = lower.strip_prefix(prefix) {
                    let mut after = after.trim_start();
                    if after.starts_with('[')
                        && let Some(end) = after.find(']')
                    {
                        after = after[end + 1..].trim_start();
                    }
                    if let Some(r) = after.strip_prefix(':') {
                        rest = Some(t[t.len() - r.len()..].to_string());
                        reply = true;
                        break;
                    }
                }
            }
            if rest.is_none()
                && t.starts_with('[')
                && let Some(end) = t.find(']')
            {
                let r = t[end + 1..].trim_start();
                if !r.is_empty() {
                    rest = Some(r.to_string());
                }
            }
            match rest {
                Some(r) => s = r,
                None => {
                    s = t;
                    break;
                }
            }
        }
        // "[fwd: ...]" wrapping.
        if s.len() > 6 && s.as_bytes()[..5].eq_ignore_ascii_case(b"[fwd:") && s.ends_with(']') {
            s = s[5..s.len() - 1].to_string();
            reply = true;
        }
        if s == before {
            break;
        }
    }
    (s.trim().to_ascii_uppercase(), reply)
}

fn summarize(
    seq: usize,
    uid: u32,
    size: u64,
    arrival: i64,
    parsed: Option<&Message<'_>>,
) -> Summary {
    let Some(msg) = parsed else {
        return Summary::unparsed(seq, uid, size, arrival);
    };
    let (from, display_from) = first_mailbox(msg.from());
    let (to, display_to) = first_mailbox(msg.to());
    let (cc, _) = first_mailbox(msg.cc());
    let mut references = ids(msg.references());
    if references.is_empty() {
        references = ids(msg.in_reply_to());
    }
    let (subject, reply) = base_subject_and_reply(msg.subject().unwrap_or_default());
    Summary {
        seq,
        uid,
        size,
        arrival,
        date: msg.date().map_or(arrival, |d| d.to_timestamp()),
        subject,
        reply,
        from,
        to,
        cc,
        display_from,
        display_to,
        message_id: msg.message_id().map(str::to_string),
        references,
    }
}

impl Session {
    pub(crate) async fn summaries(&self, seqs: &[usize]) -> Result<Vec<Summary>, Done> {
        let Some(view) = self.selected.as_ref() else {
            return Err(Done::bad("No mailbox selected"));
        };
        let mut out = Vec::with_capacity(seqs.len());
        for &seq in seqs {
            let m = &view.messages[seq - 1];
            let content = self.server.mail.content(view.mailbox.id, m.uid).await.ok();
            let parsed = content.as_deref().and_then(mime::parse);
            out.push(summarize(
                seq,
                m.uid,
                m.size,
                m.internal_date,
                parsed.as_deref(),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base_subjects_follow_rfc5256() {
        let cases = [
            ("Re: hello", "HELLO"),
            ("RE: Re: re[2]: hello", "HELLO"),
            ("Fwd: hello (fwd)", "HELLO"),
            ("[list] Re: hello", "HELLO"),
            ("[fwd: hello]", "HELLO"),
            ("  many   spaces  ", "MANY SPACES"),
            ("[only blob]", "[ONLY BLOB]"),
            ("Reply needed", "REPLY NEEDED"),
            ("Grüße aus Köln", "GRüßE AUS KöLN"),
            ("[fwd: Grüße]", "GRüßE"),
            ("日本語のメール", "日本語のメール"),
        ];
        for (input, expected) in cases {
            assert_eq!(super::base_subject_and_reply(input).0, expected, "{input}");
        }
        let reply = |s| super::base_subject_and_reply(s).1;
        assert!(reply("Re: hello") && reply("hello (fwd)") && reply("[fwd: hello]"));
        assert!(!reply("[list] hello") && !reply("Reply needed"));
    }
}
