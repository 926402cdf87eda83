//! The selected mailbox as one session sees it: sequence numbers, flags
//! and MODSEQs held in memory, so FETCH FLAGS or SEARCH on flags never read
//! the disk. Changes made elsewhere (SMTP delivery, other sessions) arrive
//! on the change bus and are announced at the moments RFC 3501 7 allows.

use std::collections::BTreeSet;
use std::sync::Arc;

use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};
use imbl::Vector;
use mailroom_core::Mail;
use mailroom_core::mail::{MailboxEvent, MessageState, SharedMailbox, partition_point};
use mailroom_core::store::{Flags, Mailbox};
use tokio::sync::watch;

use crate::response::flag_list;

/// One message as the session numbers it.
pub type ViewMessage = MessageState;

pub struct MailboxView {
    pub mailbox: Mailbox,
    pub read_only: bool,
    /// In UID order; the sequence number is the index plus one. Shares its
    /// structure with the mailbox's in-memory state until either changes.
    pub messages: Vector<ViewMessage>,
    pub uidnext: u32,
    pub highestmodseq: u64,
    shared: Arc<SharedMailbox>,
    /// Wakes IDLE when this mailbox changes (and only this one).
    watch: watch::Receiver<u64>,
    /// The shared state's version this view has absorbed.
    version: u64,
    /// Expunged in storage, not yet announced (still numbered here).
    expunged: BTreeSet<u32>,
    /// Flags changed by others, not yet announced.
    changed: BTreeSet<u32>,
    appended: bool,
    lagged: bool,
    /// The mailbox was deleted under us.
    pub gone: bool,
    /// UIDs the last `SEARCH RETURN (SAVE)` found (RFC 5182), named `$`;
    /// empty after SELECT.
    pub saved: Vec<u32>,
    /// UID ranges `[from, to)` that are \\Recent in this session (RFC 3501
    /// 2.3.2): it was the first to be told of them.
    recent: Vec<(u32, u32)>,
}

/// How changes are announced to this client.
#[derive(Debug, Clone, Copy, Default)]
pub struct Announce {
    /// EXPUNGE responses are allowed now (not during FETCH/STORE/SEARCH).
    pub expunges: bool,
    /// QRESYNC enabled: VANISHED instead of EXPUNGE.
    pub vanished: bool,
    /// CONDSTORE enabled: FETCH responses carry MODSEQ.
    pub modseq: bool,
    /// \\Recent is shown (IMAP4rev1; IMAP4rev2 dropped it).
    pub recent: bool,
}

impl MailboxView {
    pub async fn open(
        mail: &Mail,
        mailbox: Mailbox,
        read_only: bool,
    ) -> mailroom_core::Result<Self> {
        let shared = mail.open_mailbox(&mailbox).await?;
        let mut watch = shared.watch();
        watch.mark_unchanged();
        let snapshot = shared.snapshot();
        Ok(Self {
            highestmodseq: snapshot.highestmodseq,
            uidnext: snapshot.uidnext,
            mailbox,
            read_only,
            messages: snapshot.messages,
            shared,
            watch,
            version: snapshot.version,
            expunged: BTreeSet::new(),
            changed: BTreeSet::new(),
            appended: false,
            lagged: false,
            gone: false,
            saved: Vec::new(),
            recent: Vec::new(),
        })
    }

    /// The shared state this view follows.
    pub fn shared(&self) -> &SharedMailbox {
        &self.shared
    }

    /// Marks UIDs `[from, to)` \\Recent in this session.
    pub fn add_recent(&mut self, from: u32, to: u32) {
        if from < to {
            self.recent.push((from, to));
        }
    }

    pub fn is_recent(&self, uid: u32) -> bool {
        self.recent
            .iter()
            .any(|&(from, to)| (from..to).contains(&uid))
    }

    /// Messages in the view that are \\Recent here.
    pub fn recent_count(&self) -> usize {
        self.recent
            .iter()
            .map(|&(from, to)| {
                partition_point(&self.messages, |m| m.uid < to)
                    - partition_point(&self.messages, |m| m.uid < from)
            })
            .sum()
    }

    /// Keywords in use in the mailbox, for the FLAGS response.
    pub fn keywords(&self) -> Vec<String> {
        self.shared.keywords()
    }

    pub fn exists(&self) -> usize {
        self.messages.len()
    }

    pub fn seq_of(&self, uid: u32) -> Option<usize> {
        let at = partition_point(&self.messages, |m| m.uid < uid);
        (self.messages.get(at)?.uid == uid).then_some(at + 1)
    }

    pub fn is_expunged(&self, uid: u32) -> bool {
        self.expunged.contains(&uid)
    }

    /// A sequence set names a number past the last message: RFC 9051 9
    /// (seq-number) asks for BAD. A range up to `*` is never refused, not
    /// even in an empty mailbox (which the RFC would refuse too): `1:*`
    /// is how many clients and scripts ask for "everything there is".
    pub fn beyond_end(&self, set: &SequenceSet) -> bool {
        let count = self.messages.len();
        let past = |end: &SeqOrUid| matches!(end, SeqOrUid::Value(v) if v.get() as usize > count);
        set.0.as_ref().iter().any(|seq| match seq {
            Sequence::Single(s) => past(s),
            Sequence::Range(SeqOrUid::Asterisk, _) | Sequence::Range(_, SeqOrUid::Asterisk) => {
                false
            }
            Sequence::Range(a, b) => past(a) || past(b),
        })
    }

    /// Sequence numbers (1-based) named by a set, in ascending order.
    pub fn resolve(&self, set: &SequenceSet, uid: bool) -> Vec<usize> {
        let count = self.messages.len();
        if count == 0 {
            return Vec::new();
        }
        // Ranges are collected, then sorted and merged once: `1:*` over a
        // large mailbox is one range, not a tree of numbers.
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        let largest = if uid {
            self.messages[count - 1].uid
        } else {
            count as u32
        };
        let value = |s: &SeqOrUid| match s {
            SeqOrUid::Value(v) => v.get(),
            SeqOrUid::Asterisk => largest,
        };
        for seq in set.0.as_ref() {
            let (a, b) = match seq {
                Sequence::Single(s) => (value(s), value(s)),
                Sequence::Range(x, y) => (value(x).min(value(y)), value(x).max(value(y))),
            };
            if uid && a == b {
                if let Some(seq) = self.seq_of(a) {
                    ranges.push((seq, seq));
                }
            } else if uid {
                let start = partition_point(&self.messages, |m| m.uid < a);
                let end = partition_point(&self.messages, |m| m.uid <= b);
                if start < end {
                    ranges.push((start + 1, end));
                }
            } else {
                let (a, b) = (a as usize, (b as usize).min(count));
                if a <= b {
                    ranges.push((a, b));
                }
            }
        }
        ranges.sort_unstable();
        let mut picked = Vec::new();
        let mut next = 1;
        for (a, b) in ranges {
            let from = a.max(next);
            if from <= b {
                picked.extend(from..=b);
                next = b + 1;
            }
        }
        picked
    }

    /// Applies a change this session made itself (its response is sent by
    /// the command, so the echo from the bus is not announced again).
    pub fn apply_own_flags(&mut self, uid: u32, modseq: u64, flags: Flags, keywords: Vec<String>) {
        if let Some(seq) = self.seq_of(uid) {
            let m = &mut self.messages[seq - 1];
            m.modseq = modseq;
            m.flags = flags;
            m.keywords = keywords;
        }
        self.highestmodseq = self.highestmodseq.max(modseq);
    }

    /// Takes the changes of this mailbox this view has not absorbed yet.
    /// The mailbox was deleted (by another session or device). Asked of
    /// the shared state, so changes not announced yet stay unread.
    pub fn deleted(&mut self) -> bool {
        self.gone || self.shared.is_deleted()
    }

    fn drain_events(&mut self) {
        match self.shared.changes_since(self.version) {
            Some((events, version)) => {
                self.version = version;
                for event in events {
                    self.absorb(event);
                }
            }
            None => self.lagged = true,
        }
    }

    /// Waits until the mailbox changes (for IDLE); the change is recorded
    /// now and announced by the next sync.
    pub async fn changed(&mut self) {
        if self.watch.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        self.drain_events();
    }

    fn absorb(&mut self, event: MailboxEvent) {
        match event {
            MailboxEvent::Appended { message, .. } => {
                if message.uid >= self.uidnext {
                    self.appended = true;
                }
            }
            MailboxEvent::FlagsChanged { update, .. } => {
                if let Some(seq) = self.seq_of(update.uid) {
                    let m = &mut self.messages[seq - 1];
                    if update.modseq > m.modseq {
                        m.modseq = update.modseq;
                        m.flags = update.flags;
                        m.keywords = update.keywords;
                        self.changed.insert(update.uid);
                    }
                }
                self.highestmodseq = self.highestmodseq.max(update.modseq);
            }
            MailboxEvent::Expunged { uids, modseq, .. } => {
                if uids.is_empty() && modseq == 0 {
                    self.gone = true;
                }
                for uid in uids {
                    if self.seq_of(uid).is_some() {
                        self.expunged.insert(uid);
                    }
                }
                self.highestmodseq = self.highestmodseq.max(modseq);
            }
            MailboxEvent::MailboxesChanged { .. } | MailboxEvent::JunkFeedback { .. } => {}
        }
    }

    /// Brings the view up to date and returns the untagged responses that
    /// tell the client (EXPUNGE/VANISHED, FETCH, EXISTS).
    pub fn sync(&mut self, announce: Announce) -> Vec<String> {
        self.drain_events();
        if self.lagged {
            self.reload();
        }
        let before = self.messages.len();
        let mut lines = Vec::new();
        if self.appended {
            self.appended = false;
            for m in self.shared.messages_from(self.uidnext) {
                if m.uid >= self.uidnext {
                    self.uidnext = m.uid + 1;
                    self.highestmodseq = self.highestmodseq.max(m.modseq);
                    self.messages.push_back(m);
                }
            }
        }
        if announce.expunges && !self.expunged.is_empty() {
            let gone: Vec<u32> = std::mem::take(&mut self.expunged).into_iter().collect();
            if announce.vanished {
                lines.push(format!("* VANISHED {}", uid_set(&gone)));
                self.messages.retain(|m| !gone.contains(&m.uid));
            } else {
                // Highest first, so each number is right when it is sent.
                for uid in gone.iter().rev() {
                    if let Some(seq) = self.seq_of(*uid) {
                        self.messages.remove(seq - 1);
                        lines.push(format!("* {seq} EXPUNGE"));
                    }
                }
            }
            for uid in &gone {
                self.changed.remove(uid);
            }
        }
        for uid in std::mem::take(&mut self.changed) {
            if let Some(seq) = self.seq_of(uid) {
                let m = &self.messages[seq - 1];
                let modseq = if announce.modseq {
                    format!(" MODSEQ ({})", m.modseq)
                } else {
                    String::new()
                };
                let recent = announce.recent && self.is_recent(uid);
                lines.push(format!(
                    "* {seq} FETCH (UID {uid} FLAGS {}{modseq})",
                    flag_list(m.flags, &m.keywords, recent)
                ));
            }
        }
        if self.messages.len() != before
            || lines
                .iter()
                .any(|l| l.ends_with("EXPUNGE") || l.starts_with("* VANISHED"))
        {
            lines.push(format!("* {} EXISTS", self.messages.len()));
        }
        lines
    }

    /// After falling behind the change log: compare with the shared state.
    fn reload(&mut self) {
        self.lagged = false;
        let fresh = self.shared.snapshot();
        self.version = fresh.version;
        for m in &self.messages {
            let at = partition_point(&fresh.messages, |f| f.uid < m.uid);
            match fresh.messages.get(at).filter(|f| f.uid == m.uid) {
                None => {
                    self.expunged.insert(m.uid);
                }
                Some(f) if f.modseq > m.modseq => {
                    self.changed.insert(m.uid);
                }
                Some(_) => {}
            }
        }
        for f in &fresh.messages {
            if let Some(seq) = self.seq_of(f.uid) {
                self.messages.set(seq - 1, f.clone());
            }
        }
        self.highestmodseq = self.highestmodseq.max(fresh.highestmodseq);
        self.appended = true;
    }
}

/// A compact UID set: `1:3,7,9:10`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(super::uid_set(&[3, 1, 2, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(super::uid_set(&[]), "");
    }
}
