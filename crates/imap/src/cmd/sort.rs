//! SORT (RFC 5256 3, with RFC 5957 DISPLAYFROM/DISPLAYTO).

use std::cmp::Ordering;

use imap_codec::imap_types::extensions::sort::{SortCriterion, SortKey};
use imap_codec::imap_types::search::SearchKey;

use super::summary::Summary;
use crate::session::{Done, Session};

fn compare(a: &Summary, b: &Summary, key: &SortKey) -> Ordering {
    match key {
        SortKey::Arrival => a.arrival.cmp(&b.arrival),
        SortKey::Date => a.date.cmp(&b.date),
        SortKey::Size => a.size.cmp(&b.size),
        SortKey::Subject => a.subject.cmp(&b.subject),
        SortKey::From => a.from.cmp(&b.from),
        SortKey::To => a.to.cmp(&b.to),
        SortKey::Cc => a.cc.cmp(&b.cc),
        SortKey::DisplayFrom => a.display_from.cmp(&b.display_from),
        SortKey::DisplayTo => a.display_to.cmp(&b.display_to),
    }
}

impl Session {
    pub(crate) async fn sort(
        &mut self,
        criteria: &[SortCriterion],
        keys: &[SearchKey<'_>],
        uid: bool,
    ) -> Done {
        let seqs = match self.matching(keys).await {
            Ok(s) => s,
            Err(done) => return done,
        };
        let mut summaries = match self.summaries(&seqs).await {
            Ok(s) => s,
            Err(done) => return done,
        };
        summaries.sort_by(|a, b| {
            criteria
                .iter()
                .map(|c| {
                    let o = compare(a, b, &c.key);
                    if c.reverse { o.reverse() } else { o }
                })
                .find(|o| o.is_ne())
                // RFC 5256 3: ties go by sequence number.
                .unwrap_or_else(|| a.seq.cmp(&b.seq))
        });
        let order: Vec<usize> = summaries.iter().map(|s| s.seq).collect();
        let mut line = "SORT".to_string();
        for n in self.numbers(&order, uid) {
            line.push_str(&format!(" {n}"));
        }
        self.untagged(&line);
        Done::ok("SORT completed")
    }
}
