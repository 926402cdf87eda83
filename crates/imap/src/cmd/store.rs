//! STORE (RFC 3501 6.4.6).

use imap_codec::imap_types::command::StoreModifier;
use imap_codec::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_codec::imap_types::sequence::SequenceSet;
use mailroom_core::store::{FlagChange, FlagOp, Flags};

use super::refuse;
use crate::response::flag_list;
use crate::session::{Done, Session};

/// Splits wire flags into system flags and keywords.
pub(crate) fn split_flags(flags: &[Flag<'_>]) -> Result<(Flags, Vec<String>), Done> {
    let mut system = Flags::default();
    let mut keywords = Vec::new();
    for flag in flags {
        match flag {
            Flag::Seen => system = system.union(Flags::SEEN),
            Flag::Answered => system = system.union(Flags::ANSWERED),
            Flag::Flagged => system = system.union(Flags::FLAGGED),
            Flag::Deleted => system = system.union(Flags::DELETED),
            Flag::Draft => system = system.union(Flags::DRAFT),
            Flag::Keyword(atom) => keywords.push(atom.as_ref().to_string()),
            // \Recent and unknown system flags cannot be stored.
            Flag::Extension(_) => return Err(Done::bad("This flag cannot be set")),
        }
    }
    Ok((system, keywords))
}

impl Session {
    pub(crate) async fn store(
        &mut self,
        set: &SequenceSet,
        kind: StoreType,
        response: StoreResponse,
        flags: Vec<Flag<'static>>,
        uid: bool,
        modifiers: &[StoreModifier],
    ) -> Done {
        let unchanged_since = modifiers
            .iter()
            .map(|StoreModifier::UnchangedSince(n)| *n)
            .next();
        if unchanged_since.is_some() {
            // RFC 7162 3.1: using a CONDSTORE feature enables it.
            self.enabled.condstore = true;
        }
        let Some(view) = self.selected.as_ref() else {
            return Done::bad("No mailbox selected");
        };
        if view.read_only {
            return Done::no("Mailbox is read-only").code("READ-ONLY");
        }
        if let Some(bad) = self.out_of_range(set, uid) {
            return bad;
        }
        let (system, keywords) = match split_flags(&flags) {
            Ok(split) => split,
            Err(done) => return done,
        };
        let seqs = view.resolve(set, uid);
        let uids: Vec<u32> = seqs
            .iter()
            .map(|&s| view.messages[s - 1].uid)
            .filter(|u| !view.is_expunged(*u))
            .collect();
        let change = FlagChange {
            uids,
            op: match kind {
                StoreType::Add => FlagOp::Add,
                StoreType::Remove => FlagOp::Remove,
                StoreType::Replace => FlagOp::Replace,
            },
            flags: system,
            keywords,
            unchanged_since,
        };
        let mailbox = view.mailbox.clone();
        let outcome = match self.server.mail.set_flags(&mailbox, change).await {
            Ok(o) => o,
            Err(e) => return refuse(e),
        };
        let with_modseq = self.enabled.condstore;
        let show_recent = !self.enabled.rev2;
        let view = self.selected.as_mut().expect("checked above");
        for update in outcome.updated {
            view.apply_own_flags(update.uid, update.modseq, update.flags, update.keywords);
        }
        let mut lines = Vec::new();
        let mut failed = Vec::new();
        for &seq in &seqs {
            let m = &view.messages[seq - 1];
            if outcome.modified.contains(&m.uid) {
                failed.push(if uid { m.uid } else { seq as u32 });
                continue;
            }
            // RFC 7162 3.1.3: with UNCHANGEDSINCE the new MODSEQ is reported
            // even for .SILENT.
            if response == StoreResponse::Silent && unchanged_since.is_none() {
                continue;
            }
            let mut parts = Vec::new();
            if uid {
                parts.push(format!("UID {}", m.uid));
            }
            if response == StoreResponse::Answer {
                let recent = show_recent && view.is_recent(m.uid);
                parts.push(format!("FLAGS {}", flag_list(m.flags, &m.keywords, recent)));
            }
            if with_modseq {
                parts.push(format!("MODSEQ ({})", m.modseq));
            }
            if !parts.is_empty() {
                lines.push(format!("{seq} FETCH ({})", parts.join(" ")));
            }
        }
        for line in lines {
            self.untagged(&line);
        }
        if failed.is_empty() {
            Done::ok("STORE completed")
        } else {
            Done::ok("Conditional STORE failed for some messages")
                .code(format!("MODIFIED {}", crate::view::uid_set(&failed)))
        }
    }
}
