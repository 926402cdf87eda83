//! The selected mailbox as one session sees it: sequence numbers, flags
//! and MODSEQs held in memory, so FETCH FLAGS or SEARCH on flags never read
//! the disk. Changes made elsewhere (SMTP delivery, other sessions) arrive
//! on the change bus and are announced at the moments RFC 3501 7 allows.

use std::collections::BTreeSet;

use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};
use mailroom_core::Mail;
use mailroom_core::mail::MailboxEvent;
use mailroom_core::store::{Flags, Mailbox, MessageMeta};
use tokio::sync::broadcast::{self, error::TryRecvError};

use crate::response::flag_list;

#[derive(Debug, Clone)]
pub struct ViewMessage {
    pub uid: u32,
    pub modseq: u64,
    pub flags: Flags,
    pub keywords: Vec<String>,
    pub size: u64,
    pub internal_date: i64,
}

impl From<MessageMeta> for ViewMessage {
    fn from(m: MessageMeta) -> Self {
        Self {
            uid: m.uid,
            modseq: m.modseq,
            flags: m.flags,
            keywords: m.keywords,
            size: m.size,
            internal_date: m.internal_date,
        }
    }
}

pub struct MailboxView {
    pub mailbox: Mailbox,
    pub read_only: bool,
    /// In UID order; the sequence number is the index plus one.
    pub messages: Vec<ViewMessage>,
    pub uidnext: u32,
    pub highestmodseq: u64,
    events: broadcast::Receiver<MailboxEvent>,
    /// Expunged in storage, not yet announced (still numbered here).
    expunged: BTreeSet<u32>,
    /// Flags changed by others, not yet announced.
    changed: BTreeSet<u32>,
    appended: bool,
    lagged: bool,
    /// The mailbox was deleted under us.
    pub gone: bool,
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
}

impl MailboxView {
    pub async fn open(
        mail: &Mail,
        mailbox: Mailbox,
        read_only: bool,
    ) -> mailroom_core::Result<Self> {
        // Subscribe first so nothing that happens while loading is missed.
        let events = mail.events().subscribe();
        let messages: Vec<ViewMessage> = mail
            .messages(mailbox.id)
            .await?
            .into_iter()
            .map(ViewMessage::from)
            .collect();
        // Re-read the counters after the list so they cover it.
        let fresh = mail
            .mailbox(mailbox.account_id, &mailbox.name)
            .await?
            .unwrap_or(mailbox);
        let uidnext = messages
            .last()
            .map_or(fresh.uidnext, |m| fresh.uidnext.max(m.uid + 1));
        Ok(Self {
            highestmodseq: fresh.highestmodseq,
            uidnext,
            mailbox: fresh,
            read_only,
            messages,
            events,
            expunged: BTreeSet::new(),
            changed: BTreeSet::new(),
            appended: false,
            lagged: false,
            gone: false,
        })
    }

    pub fn exists(&self) -> usize {
        self.messages.len()
    }

    pub fn seq_of(&self, uid: u32) -> Option<usize> {
        self.messages
            .binary_search_by_key(&uid, |m| m.uid)
            .ok()
            .map(|i| i + 1)
    }

    pub fn is_expunged(&self, uid: u32) -> bool {
        self.expunged.contains(&uid)
    }

    /// Sequence numbers (1-based) named by a set, in ascending order.
    pub fn resolve(&self, set: &SequenceSet, uid: bool) -> Vec<usize> {
        let count = self.messages.len();
        if count == 0 {
            return Vec::new();
        }
        let mut picked = BTreeSet::new();
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
            if uid {
                let start = self.messages.partition_point(|m| m.uid < a);
                let end = self.messages.partition_point(|m| m.uid <= b);
                picked.extend((start..end).map(|i| i + 1));
            } else {
                let (a, b) = (a as usize, (b as usize).min(count));
                if a <= b {
                    picked.extend(a..=b);
                }
            }
        }
        picked.into_iter().collect()
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

    /// Takes what the change bus has brought for this mailbox.
    fn drain_events(&mut self) {
        loop {
            match self.events.try_recv() {
                Ok(event) if event.mailbox_id() == Some(self.mailbox.id) => self.absorb(event),
                Ok(_) => {}
                Err(TryRecvError::Lagged(_)) => self.lagged = true,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
    }

    /// Waits until something may have changed (for IDLE).
    pub async fn changed(&mut self) {
        loop {
            match self.events.recv().await {
                Ok(event) if event.mailbox_id() == Some(self.mailbox.id) => {
                    // Recorded now, announced by the next sync.
                    self.absorb(event);
                    return;
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    self.lagged = true;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    }

    fn absorb(&mut self, event: MailboxEvent) {
        match event {
            MailboxEvent::Appended { uid, .. } => {
                if uid >= self.uidnext {
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
    pub async fn sync(
        &mut self,
        mail: &Mail,
        announce: Announce,
    ) -> mailroom_core::Result<Vec<String>> {
        self.drain_events();
        if self.lagged {
            self.reload(mail).await?;
        }
        let before = self.messages.len();
        let mut lines = Vec::new();
        if self.appended {
            self.appended = false;
            let fresh = mail
                .messages_from_uid(self.mailbox.id, self.uidnext)
                .await?;
            for m in fresh {
                if m.uid >= self.uidnext {
                    self.uidnext = m.uid + 1;
                    self.highestmodseq = self.highestmodseq.max(m.modseq);
                    self.messages.push(m.into());
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
                lines.push(format!(
                    "* {seq} FETCH (UID {uid} FLAGS {}{modseq})",
                    flag_list(m.flags, &m.keywords, false)
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
        Ok(lines)
    }

    /// After falling behind the bus: compare with the store.
    async fn reload(&mut self, mail: &Mail) -> mailroom_core::Result<()> {
        self.lagged = false;
        let fresh: Vec<ViewMessage> = mail
            .messages(self.mailbox.id)
            .await?
            .into_iter()
            .map(ViewMessage::from)
            .collect();
        for m in &self.messages {
            match fresh.binary_search_by_key(&m.uid, |f| f.uid) {
                Err(_) => {
                    self.expunged.insert(m.uid);
                }
                Ok(i) => {
                    if fresh[i].modseq > m.modseq {
                        self.changed.insert(m.uid);
                    }
                }
            }
        }
        for f in &fresh {
            if let Some(seq) = self.seq_of(f.uid) {
                self.messages[seq - 1] = f.clone();
            }
            self.highestmodseq = self.highestmodseq.max(f.modseq);
        }
        self.appended = true;
        Ok(())
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
