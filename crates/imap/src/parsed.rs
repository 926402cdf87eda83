//! The parsed-structure cache: ENVELOPE, BODY and BODYSTRUCTURE rendered
//! once per stored message, with the header values SEARCH asks for most,
//! so a second FETCH or SEARCH does not read and parse the message again.
//!
//! Keyed by the content id of the stored body: copies in other mailboxes
//! share an entry, and the per-delivery trace prefix (Received,
//! Return-Path) changes none of what is kept here.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use mail_parser::Message;
use mailroom_core::store::BlobId;

use crate::mime;

/// Headers whose values are kept for SEARCH (RFC 3501 6.4.4 FROM, TO, CC,
/// BCC, SUBJECT).
pub const SEARCH_HEADERS: [&str; 5] = ["from", "to", "cc", "bcc", "subject"];

#[derive(Debug)]
pub struct Parsed {
    pub envelope: Vec<u8>,
    pub body: Vec<u8>,
    pub body_structure: Vec<u8>,
    /// Per [`SEARCH_HEADERS`] entry: every value, raw and decoded,
    /// lower-cased, one per line.
    pub search: [String; 5],
    /// The Date header's own day, its time and zone disregarded, as the
    /// seconds of that day's midnight UTC (RFC 3501 6.4.4 SENTBEFORE,
    /// SENTON, SENTSINCE).
    pub sent_day: Option<i64>,
}

impl Parsed {
    pub fn of(raw: &[u8], msg: &Message<'_>) -> Self {
        let mut envelope = Vec::with_capacity(256);
        mime::envelope(&mut envelope, raw, msg);
        let mut body = Vec::with_capacity(128);
        mime::body_structure(&mut body, raw, msg, msg.root_part(), false);
        let mut body_structure = Vec::with_capacity(160);
        mime::body_structure(&mut body_structure, raw, msg, msg.root_part(), true);
        let search = SEARCH_HEADERS.map(|name| mime::header_values(raw, msg, name).join("\n"));
        Self {
            envelope,
            body,
            body_structure,
            search,
            sent_day: msg.date().map(|d| {
                let offset = i64::from(d.tz_hour) * 3600 + i64::from(d.tz_minute) * 60;
                d.to_timestamp() + if d.tz_before_gmt { -offset } else { offset }
            }),
        }
    }

    /// Values of one of [`SEARCH_HEADERS`].
    pub fn header(&self, name: &str) -> Option<&str> {
        let at = SEARCH_HEADERS.iter().position(|h| *h == name)?;
        Some(&self.search[at])
    }

    fn cost(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.envelope.len()
            + self.body.len()
            + self.body_structure.len()
            + self.search.iter().map(String::len).sum::<usize>()
    }
}

/// Entries kept until their total size reaches the budget; then the oldest
/// go first.
pub struct ParsedCache {
    inner: Mutex<Entries>,
    budget: usize,
}

#[derive(Default)]
struct Entries {
    map: HashMap<BlobId, Arc<Parsed>>,
    order: VecDeque<BlobId>,
    used: usize,
}

impl ParsedCache {
    pub fn new(budget: usize) -> Self {
        Self {
            inner: Mutex::new(Entries::default()),
            budget,
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn get(&self, blob: &BlobId) -> Option<Arc<Parsed>> {
        self.entries().map.get(blob).cloned()
    }

    /// Parses and keeps the structure of a message unless already kept.
    pub fn fill(&self, blob: BlobId, raw: &[u8], msg: &Message<'_>) -> Arc<Parsed> {
        if let Some(found) = self.get(&blob) {
            return found;
        }
        let parsed = Arc::new(Parsed::of(raw, msg));
        let cost = parsed.cost();
        let mut entries = self.entries();
        if entries.map.insert(blob, parsed.clone()).is_none() {
            entries.order.push_back(blob);
            entries.used += cost;
        }
        while entries.used > self.budget {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            if let Some(gone) = entries.map.remove(&oldest) {
                entries.used = entries.used.saturating_sub(gone.cost());
            }
        }
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"From: Ann <ann@example.test>\r\nTo: bob@example.test\r\n\
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\n\r\nhello\r\n";

    #[test]
    fn keeps_what_fetch_and_search_need_and_stays_in_budget() {
        let msg = mime::parse(MESSAGE).unwrap();
        let parsed = Parsed::of(MESSAGE, &msg);
        assert!(parsed.envelope.starts_with(b"(\"Sun, 29 Nov 2026"));
        assert!(parsed.body_structure.starts_with(b"(\"TEXT\" \"PLAIN\""));
        assert!(parsed.header("subject").unwrap().contains("grüße"));
        assert!(parsed.header("from").unwrap().contains("ann@example.test"));
        assert_eq!(parsed.sent_day, Some(1_795_946_400));

        let one = parsed.cost();
        let cache = ParsedCache::new(one * 2);
        for n in 0u8..5 {
            cache.fill(BlobId::of(&[n]), MESSAGE, &msg);
        }
        assert!(cache.get(&BlobId::of(&[0])).is_none(), "oldest evicted");
        assert!(cache.get(&BlobId::of(&[4])).is_some());
        assert!(cache.entries().used <= one * 2);
    }
}
