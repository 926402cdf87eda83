//! SEARCH (RFC 3501 6.4.4): flags, sizes, dates and sets from memory;
//! headers and text from the stored message, only when a key needs them.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use imap_codec::imap_types::search::SearchKey;
use mail_parser::{Message, PartType};
use mailroom_core::store::Flags;
use mailroom_spam::mime_tree::MimeTree;

use super::refuse;
use crate::ext::Extension;
use crate::mime::{self, header_values};
use crate::parsed::{Parsed, SEARCH_HEADERS};
use crate::response::quote;
use crate::session::{Done, Session};
use crate::view::{MailboxView, ViewMessage, uid_set};

/// A search key with its sets already resolved to sequence numbers.
enum Criterion {
    All,
    Flag(Flags, bool),
    Keyword(String, bool),
    Larger(u64),
    Smaller(u64),
    Seqs(HashSet<usize>),
    Before(NaiveDate),
    On(NaiveDate),
    Since(NaiveDate),
    SentBefore(NaiveDate),
    SentOn(NaiveDate),
    SentSince(NaiveDate),
    Header(String, String),
    Body(String),
    Text(String),
    ModSeq(u64),
    Not(Box<Criterion>),
    Or(Box<Criterion>, Box<Criterion>),
    And(Vec<Criterion>),
    Nothing,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_lowercase()
}

/// The messages \\Recent in this session.
fn recent(view: &MailboxView) -> Criterion {
    Criterion::Seqs(
        view.messages
            .iter()
            .enumerate()
            .filter(|(_, m)| view.is_recent(m.uid))
            .map(|(i, _)| i + 1)
            .collect(),
    )
}

fn compile(key: &SearchKey<'_>, view: &MailboxView) -> Criterion {
    use SearchKey as K;
    let set = |s, uid| Criterion::Seqs(view.resolve(s, uid).into_iter().collect());
    let header = |name: &str, v: &[u8]| Criterion::Header(name.to_string(), text(v));
    match key {
        K::All => Criterion::All,
        K::Answered => Criterion::Flag(Flags::ANSWERED, true),
        K::Unanswered => Criterion::Flag(Flags::ANSWERED, false),
        K::Deleted => Criterion::Flag(Flags::DELETED, true),
        K::Undeleted => Criterion::Flag(Flags::DELETED, false),
        K::Draft => Criterion::Flag(Flags::DRAFT, true),
        K::Undraft => Criterion::Flag(Flags::DRAFT, false),
        K::Flagged => Criterion::Flag(Flags::FLAGGED, true),
        K::Unflagged => Criterion::Flag(Flags::FLAGGED, false),
        K::Seen => Criterion::Flag(Flags::SEEN, true),
        K::Unseen => Criterion::Flag(Flags::SEEN, false),
        // RFC 3501 6.4.4: RECENT, NEW (recent and unseen), OLD (not recent).
        K::Recent => recent(view),
        K::New => Criterion::And(vec![recent(view), Criterion::Flag(Flags::SEEN, false)]),
        K::Old => Criterion::Not(Box::new(recent(view))),
        K::Keyword(k) => Criterion::Keyword(k.as_ref().to_lowercase(), true),
        K::Unkeyword(k) => Criterion::Keyword(k.as_ref().to_lowercase(), false),
        K::Larger(n) => Criterion::Larger(u64::from(*n)),
        K::Smaller(n) => Criterion::Smaller(u64::from(*n)),
        K::SequenceSet(s) => set(s, false),
        K::Uid(s) => set(s, true),
        K::Before(d) => Criterion::Before(*d.as_ref()),
        K::On(d) => Criterion::On(*d.as_ref()),
        K::Since(d) => Criterion::Since(*d.as_ref()),
        K::SentBefore(d) => Criterion::SentBefore(*d.as_ref()),
        K::SentOn(d) => Criterion::SentOn(*d.as_ref()),
        K::SentSince(d) => Criterion::SentSince(*d.as_ref()),
        K::From(v) => header("from", v.as_ref()),
        K::To(v) => header("to", v.as_ref()),
        K::Cc(v) => header("cc", v.as_ref()),
        K::Bcc(v) => header("bcc", v.as_ref()),
        K::Subject(v) => header("subject", v.as_ref()),
        K::Header(name, v) => Criterion::Header(text(name.as_ref()), text(v.as_ref())),
        K::Body(v) => Criterion::Body(text(v.as_ref())),
        K::Text(v) => Criterion::Text(text(v.as_ref())),
        K::ModSequence { modseq, .. } => Criterion::ModSeq(*modseq),
        K::Not(inner) => Criterion::Not(Box::new(compile(inner, view))),
        K::Or(a, b) => Criterion::Or(Box::new(compile(a, view)), Box::new(compile(b, view))),
        K::And(list) => Criterion::And(list.as_ref().iter().map(|k| compile(k, view)).collect()),
        _ => Criterion::Nothing,
    }
}

fn uses_modseq(keys: &[SearchKey<'_>]) -> bool {
    keys.iter().any(|k| match k {
        SearchKey::ModSequence { .. } => true,
        SearchKey::Not(inner) => uses_modseq(std::slice::from_ref(inner)),
        SearchKey::Or(a, b) => {
            uses_modseq(std::slice::from_ref(a)) || uses_modseq(std::slice::from_ref(b))
        }
        SearchKey::And(list) => uses_modseq(list.as_ref()),
        _ => false,
    })
}

/// What evaluating a criterion needs beyond the in-memory view.
#[derive(Debug, Default, Clone, Copy)]
struct Needs {
    /// Cached header values and Date ([`Parsed`]).
    summary: bool,
    /// The stored message itself.
    raw: bool,
}

fn needs(c: &Criterion, n: &mut Needs) {
    match c {
        Criterion::SentBefore(_) | Criterion::SentOn(_) | Criterion::SentSince(_) => {
            n.summary = true;
        }
        Criterion::Header(name, _) if SEARCH_HEADERS.contains(&name.as_str()) => n.summary = true,
        Criterion::Header(..) | Criterion::Body(_) | Criterion::Text(_) => n.raw = true,
        Criterion::Not(a) => needs(a, n),
        Criterion::Or(a, b) => {
            needs(a, n);
            needs(b, n);
        }
        Criterion::And(list) => list.iter().for_each(|c| needs(c, n)),
        _ => {}
    }
}

fn date_of(epoch: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp(epoch, 0).map(|d| d.date_naive())
}

fn body_contains(msg: &Message<'_>, needle: &str) -> bool {
    // A list, not recursion: attached messages may nest without end.
    let mut pending = vec![msg];
    while let Some(msg) = pending.pop() {
        for part in &msg.parts {
            match &part.body {
                PartType::Text(t) | PartType::Html(t) => {
                    if t.to_lowercase().contains(needle) {
                        return true;
                    }
                }
                PartType::Message(inner) => pending.push(inner),
                PartType::Binary(_) | PartType::InlineBinary(_) | PartType::Multipart(_) => {}
            }
        }
    }
    false
}

/// ASCII case-insensitive substring test; `needle` is lower-case.
fn contains_ascii_ci(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut from = 0;
    while let Some(i) = memchr::memchr2(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        &hay[from..],
    ) {
        let at = from + i + 1;
        if hay
            .get(at..at + rest.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(rest))
        {
            return true;
        }
        from = at;
    }
    false
}

/// Whether a message's decoded text can contain `needle`: a byte scan of
/// the stored message rules most messages out without parsing them. Text
/// under a transfer encoding or in encoded words is not visible to the
/// scan, so such messages are always parsed.
fn may_contain(raw: &[u8], needle: &str) -> bool {
    !needle.is_ascii()
        || contains_ascii_ci(raw, needle.as_bytes())
        || contains_ascii_ci(raw, b"base64")
        || contains_ascii_ci(raw, b"quoted-printable")
        || memchr::memmem::find(raw, b"=?").is_some()
}

struct Candidate<'a> {
    seq: usize,
    raw: &'a [u8],
    message: &'a ViewMessage,
    summary: Option<&'a Parsed>,
    parsed: OnceCell<Option<MimeTree<'a>>>,
}

impl<'a> Candidate<'a> {
    fn parsed(&self) -> Option<&Message<'a>> {
        self.parsed.get_or_init(|| mime::parse(self.raw)).as_deref()
    }
}

fn matches(c: &Criterion, m: &Candidate<'_>) -> bool {
    let sent = || m.summary.and_then(|s| s.sent_day).and_then(date_of);
    let arrived = || date_of(m.message.internal_date);
    match c {
        Criterion::All => true,
        Criterion::Nothing => false,
        Criterion::Flag(f, set) => m.message.flags.contains(*f) == *set,
        Criterion::Keyword(k, set) => {
            m.message.keywords.iter().any(|x| x.to_lowercase() == *k) == *set
        }
        Criterion::Larger(n) => m.message.size > *n,
        Criterion::Smaller(n) => m.message.size < *n,
        Criterion::Seqs(s) => s.contains(&m.seq),
        Criterion::Before(d) => arrived().is_some_and(|a| a < *d),
        Criterion::On(d) => arrived().is_some_and(|a| a == *d),
        Criterion::Since(d) => arrived().is_some_and(|a| a >= *d),
        Criterion::SentBefore(d) => sent().is_some_and(|a| a < *d),
        Criterion::SentOn(d) => sent().is_some_and(|a| a == *d),
        Criterion::SentSince(d) => sent().is_some_and(|a| a >= *d),
        Criterion::Header(name, needle) => match m.summary.and_then(|s| s.header(name)) {
            Some(values) => values.contains(needle.as_str()),
            None => m.parsed().is_some_and(|p| {
                header_values(m.raw, p, name)
                    .iter()
                    .any(|v| v.contains(needle.as_str()))
            }),
        },
        Criterion::Body(needle) => {
            may_contain(m.raw, needle) && m.parsed().is_some_and(|p| body_contains(p, needle))
        }
        Criterion::Text(needle) => {
            may_contain(m.raw, needle)
                && m.parsed().is_some_and(|p| {
                    text(mime::part_header(m.raw, p.root_part())).contains(needle.as_str())
                        || body_contains(p, needle)
                })
        }
        Criterion::ModSeq(n) => m.message.modseq >= *n,
        Criterion::Not(a) => !matches(a, m),
        Criterion::Or(a, b) => matches(a, m) || matches(b, m),
        Criterion::And(list) => list.iter().all(|c| matches(c, m)),
    }
}

/// Messages read from the store at a time while scanning.
const CHUNK: usize = 256;

impl Session {
    /// Sequence numbers of the messages matching `keys`, ascending.
    pub(crate) async fn matching(&mut self, keys: &[SearchKey<'_>]) -> Result<Vec<usize>, Done> {
        let server = self.server.clone();
        let Some(view) = self.selected.as_ref() else {
            return Err(Done::bad("No mailbox selected"));
        };
        let criterion = Criterion::And(keys.iter().map(|k| compile(k, view)).collect());
        let mut need = Needs::default();
        needs(&criterion, &mut need);
        let mailbox_id = view.mailbox.id;
        let mut found = Vec::new();
        let count = view.messages.len();
        let mut start = 0;
        while start < count {
            let end = (start + CHUNK).min(count);
            let chunk: Vec<&ViewMessage> = (start..end).map(|i| &view.messages[i]).collect();
            let mut contents: HashMap<u32, Vec<u8>> = HashMap::new();
            if need.raw {
                let uids = chunk.iter().map(|m| m.uid).collect();
                contents.extend(
                    server
                        .mail
                        .contents(mailbox_id, uids)
                        .await
                        .map_err(refuse)?,
                );
            }
            let mut summaries: Vec<Option<Arc<Parsed>>> = vec![None; chunk.len()];
            if need.summary {
                let mut missing = Vec::new();
                for (k, m) in chunk.iter().enumerate() {
                    summaries[k] = server.parsed.get(&m.blob);
                    if summaries[k].is_none() && !contents.contains_key(&m.uid) {
                        missing.push(m.uid);
                    }
                }
                if !missing.is_empty() {
                    let read = server.mail.contents(mailbox_id, missing).await;
                    contents.extend(read.map_err(refuse)?);
                }
                for (k, m) in chunk.iter().enumerate() {
                    if summaries[k].is_none()
                        && let Some(raw) = contents.get(&m.uid)
                        && let Some(msg) = mime::parse(raw)
                    {
                        summaries[k] = Some(server.parsed.fill(m.blob, raw, &msg));
                    }
                }
            }
            for (k, message) in chunk.iter().enumerate() {
                let raw = contents.get(&message.uid);
                if need.raw && raw.is_none() {
                    // Expunged by another session and not yet announced.
                    continue;
                }
                let candidate = Candidate {
                    seq: start + k + 1,
                    raw: raw.map_or(&[][..], Vec::as_slice),
                    message,
                    summary: summaries[k].as_deref(),
                    parsed: OnceCell::new(),
                };
                if matches(&criterion, &candidate) {
                    found.push(start + k + 1);
                }
            }
            start = end;
        }
        Ok(found)
    }

    /// Keeps what SEARCH RETURN (SAVE) found for `$`: with MIN or MAX and
    /// neither ALL nor COUNT only those (RFC 5182 2.4), else all of it.
    fn save_result(&mut self, seqs: &[usize], returns: &[String]) {
        let Some(view) = self.selected.as_mut() else {
            return;
        };
        let uid_of = |s: &usize| view.messages[s - 1].uid;
        let asked = |option: &str| returns.iter().any(|o| o == option);
        let (min, max) = (asked("MIN"), asked("MAX"));
        let saved: Vec<u32> = if (min || max) && !asked("ALL") && !asked("COUNT") {
            let mut picked = Vec::new();
            if let (true, Some(first)) = (min, seqs.first()) {
                picked.push(uid_of(first));
            }
            if let (true, Some(last)) = (max, seqs.last()) {
                picked.push(uid_of(last));
            }
            picked.dedup();
            picked
        } else {
            seqs.iter().map(uid_of).collect()
        };
        view.saved = saved;
    }

    /// Sequence numbers or UIDs, as a response lists them.
    pub(crate) fn numbers(&self, seqs: &[usize], uid: bool) -> Vec<u32> {
        let Some(view) = self.selected.as_ref() else {
            return Vec::new();
        };
        seqs.iter()
            .map(|&s| {
                if uid {
                    view.messages[s - 1].uid
                } else {
                    s as u32
                }
            })
            .collect()
    }

    pub(crate) async fn search(&mut self, tag: &str, keys: &[SearchKey<'_>], uid: bool) -> Done {
        let mut returns = match std::mem::take(&mut self.ext) {
            Extension::SearchReturn(returns) => Some(returns),
            // RFC 9051 7.3.4: IMAP4rev2 answers with ESEARCH only.
            _ if self.enabled.rev2 => Some(vec!["ALL".to_string()]),
            _ => None,
        };
        let save = returns.as_mut().is_some_and(|r| {
            let asked = r.iter().any(|o| o == "SAVE");
            r.retain(|o| o != "SAVE");
            asked
        });
        let seqs = match self.matching(keys).await {
            Ok(s) => s,
            Err(done) => {
                // RFC 5182 2.1: a failed SEARCH ... SAVE leaves `$` empty.
                if let (true, Some(view)) = (save, self.selected.as_mut()) {
                    view.saved.clear();
                }
                return done;
            }
        };
        if save {
            self.save_result(&seqs, returns.as_deref().unwrap_or_default());
        }
        // RFC 7162 3.1.5: a MODSEQ search reports the highest MODSEQ found.
        let highest_modseq = if uses_modseq(keys) && !seqs.is_empty() {
            self.enabled.condstore = true;
            self.selected.as_ref().map(|v| {
                seqs.iter()
                    .map(|&s| v.messages[s - 1].modseq)
                    .max()
                    .unwrap_or(0)
            })
        } else {
            None
        };
        let found = self.numbers(&seqs, uid);
        let line = match returns {
            // RFC 5182 2.1: SAVE alone answers with no ESEARCH.
            Some(returns) if returns.is_empty() => return Done::ok("SEARCH completed"),
            Some(returns) => esearch(tag, uid, &found, &returns, highest_modseq),
            None => {
                let mut line = "SEARCH".to_string();
                for n in &found {
                    line.push_str(&format!(" {n}"));
                }
                if let Some(modseq) = highest_modseq {
                    line.push_str(&format!(" (MODSEQ {modseq})"));
                }
                line
            }
        };
        self.untagged(&line);
        Done::ok("SEARCH completed")
    }
}

/// RFC 4731 3.1: `ESEARCH (TAG "a") UID MIN 2 MAX 9 COUNT 3 ALL 2,5,9`;
/// MIN, MAX and ALL are left out when nothing matched.
fn esearch(tag: &str, uid: bool, found: &[u32], returns: &[String], modseq: Option<u64>) -> String {
    let mut line = format!("ESEARCH (TAG {})", quote(tag));
    if uid {
        line.push_str(" UID");
    }
    for option in returns {
        match option.as_str() {
            "MIN" => {
                if let Some(min) = found.iter().min() {
                    line.push_str(&format!(" MIN {min}"));
                }
            }
            "MAX" => {
                if let Some(max) = found.iter().max() {
                    line.push_str(&format!(" MAX {max}"));
                }
            }
            "COUNT" => line.push_str(&format!(" COUNT {}", found.len())),
            "ALL" if !found.is_empty() => {
                line.push_str(&format!(" ALL {}", uid_set(found)));
            }
            _ => {}
        }
    }
    if let Some(modseq) = modseq {
        line.push_str(&format!(" MODSEQ {modseq}"));
    }
    line
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_scan_rules_out_only_what_cannot_match() {
        use super::{contains_ascii_ci, may_contain};
        assert!(contains_ascii_ci(b"Find the NeEdLe here", b"needle"));
        assert!(!contains_ascii_ci(b"needl", b"needle"));
        assert!(contains_ascii_ci(b"", b""));
        assert!(!may_contain(b"Subject: hi\r\n\r\nplain text\r\n", "needle"));
        assert!(may_contain(
            b"Content-Transfer-Encoding: BASE64\r\n\r\nbmVlZGxl\r\n",
            "needle"
        ));
        assert!(may_contain(b"Subject: =?utf-8?q?x?=\r\n\r\n", "needle"));
        assert!(may_contain(b"plain", "grüße"));
    }

    #[test]
    fn esearch_lines() {
        let all = [
            "MIN".to_string(),
            "MAX".into(),
            "COUNT".into(),
            "ALL".into(),
        ];
        assert_eq!(
            super::esearch("a1", true, &[4, 2, 3, 9], &all, None),
            "ESEARCH (TAG \"a1\") UID MIN 2 MAX 9 COUNT 4 ALL 2:4,9"
        );
        assert_eq!(
            super::esearch("a2", false, &[], &all, Some(7)),
            "ESEARCH (TAG \"a2\") COUNT 0 MODSEQ 7"
        );
    }
}
