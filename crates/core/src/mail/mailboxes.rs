//! What clients do to mailboxes and messages (IMAP, POP3, webmail): every
//! change is stored durably, then announced on the change bus so other
//! sessions of the same account see it.

use std::sync::Arc;

use mailroom_store::{
    Account, Copied, Delivered, Expunged, FlagChange, FlagOutcome, Flags, Mailbox, MessageMeta,
    SpecialUse,
};

use super::{Mail, MailboxEvent, MessageState, SharedMailbox, Snapshot};
use crate::{CoreError, Result};

/// Separates levels of mailbox names: `Work/2026`.
pub const DELIMITER: char = '/';

/// Checks a mailbox name (UTF-8, as decoded by the front-end).
pub fn check_mailbox_name(name: &str) -> Result<()> {
    let bad = |why: &str| Err(CoreError::Invalid(format!("invalid mailbox name: {why}")));
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > 1000 {
        return bad("it is too long");
    }
    if name.chars().any(|c| c.is_control() || c == '*' || c == '%') {
        return bad("control characters, '*' and '%' are not allowed");
    }
    if name.split(DELIMITER).any(|part| part.is_empty()) {
        return bad("a level of the name is empty");
    }
    Ok(())
}

impl Mail {
    pub async fn mailboxes(&self, account_id: i64) -> Result<Vec<Mailbox>> {
        Ok(self.store.mailbox_list(account_id).await?)
    }

    pub async fn mailbox(&self, account_id: i64, name: &str) -> Result<Option<Mailbox>> {
        Ok(self.store.mailbox_get(account_id, name).await?)
    }

    /// A mailbox's row for opening it (SELECT): remembered after the first
    /// read, until the account's mailboxes change. Its counters may be
    /// old; the shared state ([`Mail::open_mailbox`]) has the current ones.
    pub async fn mailbox_to_open(&self, account_id: i64, name: &str) -> Result<Option<Mailbox>> {
        let states = self.events.states();
        match states.row(account_id, name) {
            Ok(mailbox) => Ok(Some(mailbox)),
            Err(generation) => {
                let row = self.store.mailbox_get(account_id, name).await?;
                if let Some(mailbox) = &row {
                    states.remember_row(generation, name, mailbox.clone());
                }
                Ok(row)
            }
        }
    }

    /// The in-memory state of a mailbox, shared by every session that has
    /// it open; read from the store only when no one holds it yet.
    pub async fn open_mailbox(&self, mailbox: &Mailbox) -> Result<Arc<SharedMailbox>> {
        let store = self.store.clone();
        let mailbox = mailbox.clone();
        self.events
            .states()
            .open(mailbox.id, || async move {
                let messages: imbl::Vector<MessageState> = store
                    .messages_from_uid(mailbox.id, 1)
                    .await?
                    .into_iter()
                    .map(MessageState::from)
                    .collect();
                // Counters read after the list, so they cover it.
                let fresh = store
                    .mailbox_get(mailbox.account_id, &mailbox.name)
                    .await?
                    .filter(|m| m.id == mailbox.id)
                    .unwrap_or(mailbox);
                let last_uid = messages.last().map_or(0, |m| m.uid);
                let top_modseq = messages.iter().map(|m| m.modseq).max().unwrap_or(0);
                Ok::<_, CoreError>(Snapshot {
                    uidnext: fresh.uidnext.max(last_uid + 1),
                    highestmodseq: fresh.highestmodseq.max(top_modseq),
                    messages,
                    version: 0,
                })
            })
            .await
    }

    /// Claims for one session the messages of `shared` below `up_to` that
    /// no session was told of (RFC 3501 2.3.2 \\Recent); `row` is the
    /// mailbox row it was opened with. Returns the first UID claimed, or
    /// None when another session has them. Asks the store only when there
    /// may be something to claim.
    pub async fn claim_recent(
        &self,
        row: &Mailbox,
        shared: &SharedMailbox,
        up_to: u32,
    ) -> Result<Option<u32>> {
        if row.recent_uid.max(shared.recent_claimed()) >= up_to {
            return Ok(None);
        }
        let claimed = self.store.mailbox_claim_recent(row.id, up_to).await?;
        shared.note_recent_claimed(up_to);
        if claimed.is_some() {
            // Remembered rows carry the claim too (EXAMINE reads them).
            self.events.publish(MailboxEvent::MailboxesChanged {
                account_id: row.account_id,
            });
        }
        Ok(claimed)
    }

    /// The first UID still \\Recent in a mailbox (for EXAMINE and STATUS,
    /// which do not claim).
    pub fn recent_from(&self, row: &Mailbox) -> u32 {
        let claimed = self
            .events
            .states()
            .get(row.id)
            .map_or(0, |shared| shared.recent_claimed());
        row.recent_uid.max(claimed)
    }

    /// Creates a mailbox and any missing superior levels (RFC 3501 6.3.3).
    pub async fn create_mailbox(&self, account_id: i64, name: &str) -> Result<Mailbox> {
        self.create_special_mailbox(account_id, name, None).await
    }

    /// Creates a mailbox with a special use (RFC 6154 3), which no other
    /// mailbox of the account may already have.
    pub async fn create_special_mailbox(
        &self,
        account_id: i64,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<Mailbox> {
        check_mailbox_name(name)?;
        if let Some(wanted) = special_use {
            let mailboxes = self.store.mailbox_list(account_id).await?;
            if let Some(holder) = mailboxes.iter().find(|m| m.special_use == Some(wanted)) {
                return Err(CoreError::Conflict(format!(
                    "{} is already the {} folder",
                    holder.name,
                    wanted.as_str()
                )));
            }
        }
        let mut path = String::new();
        for (i, part) in name.split(DELIMITER).enumerate() {
            if i > 0 {
                path.push(DELIMITER);
            }
            path.push_str(part);
            if path != name && self.store.mailbox_get(account_id, &path).await?.is_none() {
                self.store.mailbox_create(account_id, &path, None).await?;
            }
        }
        let mailbox = self
            .store
            .mailbox_create(account_id, name, special_use)
            .await?;
        self.events
            .publish(MailboxEvent::MailboxesChanged { account_id });
        Ok(mailbox)
    }

    pub async fn rename_mailbox(&self, account_id: i64, from: &str, to: &str) -> Result<()> {
        check_mailbox_name(to)?;
        // RFC 3501 6.3.5: renaming INBOX moves its messages to the new
        // name and leaves INBOX empty; sessions watching INBOX must see
        // them go like any other move.
        let inbox = self
            .store
            .mailbox_get(account_id, from)
            .await?
            .filter(|m| m.special_use == Some(SpecialUse::Inbox));
        let moved = self.store.mailbox_rename(account_id, from, to).await?;
        if let Some(inbox) = inbox
            && !moved.uids.is_empty()
        {
            self.events.publish(MailboxEvent::Expunged {
                account_id,
                mailbox_id: inbox.id,
                uids: moved.uids,
                modseq: moved.modseq,
            });
        }
        self.events
            .publish(MailboxEvent::MailboxesChanged { account_id });
        Ok(())
    }

    pub async fn delete_mailbox(&self, account_id: i64, name: &str) -> Result<()> {
        if let Some(mailbox) = self.store.mailbox_get(account_id, name).await? {
            self.store.mailbox_delete(account_id, name).await?;
            // Sessions that have it selected learn it is gone.
            self.events.publish(MailboxEvent::Expunged {
                account_id,
                mailbox_id: mailbox.id,
                uids: Vec::new(),
                modseq: 0,
            });
        } else {
            return Err(CoreError::NotFound(format!("mailbox {name}")));
        }
        self.events
            .publish(MailboxEvent::MailboxesChanged { account_id });
        Ok(())
    }

    pub async fn subscribe(&self, account_id: i64, name: &str, on: bool) -> Result<()> {
        self.store.mailbox_subscribe(account_id, name, on).await?;
        // The mailbox rows held in memory carry the subscription too.
        self.events
            .publish(MailboxEvent::MailboxesChanged { account_id });
        Ok(())
    }

    /// The names subscribed to, their mailboxes existing or not.
    pub async fn subscriptions(&self, account_id: i64) -> Result<Vec<String>> {
        Ok(self.store.mailbox_subscriptions(account_id).await?)
    }

    /// Live messages of a mailbox in UID order.
    pub async fn messages(&self, mailbox_id: i64) -> Result<Vec<MessageMeta>> {
        self.messages_from_uid(mailbox_id, 1).await
    }

    pub async fn messages_from_uid(
        &self,
        mailbox_id: i64,
        min_uid: u32,
    ) -> Result<Vec<MessageMeta>> {
        Ok(self.store.messages_from_uid(mailbox_id, min_uid).await?)
    }

    /// UIDs expunged from a mailbox after `modseq` (QRESYNC VANISHED).
    pub async fn expunged_since(&self, mailbox_id: i64, modseq: u64) -> Result<Vec<u32>> {
        Ok(self
            .store
            .message_list(mailbox_id)
            .await?
            .into_iter()
            .filter(|m| m.expunged_at.is_some() && m.modseq > modseq)
            .map(|m| m.uid)
            .collect())
    }

    pub async fn content(&self, mailbox_id: i64, uid: u32) -> Result<Vec<u8>> {
        Ok(self.store.message_content(mailbox_id, uid).await?)
    }

    /// Several whole messages in one store read (for scans); UIDs gone
    /// meanwhile are left out.
    pub async fn contents(&self, mailbox_id: i64, uids: Vec<u32>) -> Result<Vec<(u32, Vec<u8>)>> {
        Ok(self.store.message_contents(mailbox_id, uids).await?)
    }

    async fn check_room(&self, account: &Account, extra: u64) -> Result<()> {
        let current = self
            .store
            .account_get(&account.email)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("account {}", account.email)))?;
        if super::resolve::over_quota(&current, extra) {
            return Err(CoreError::OverQuota(format!(
                "{} is over its storage quota",
                account.email
            )));
        }
        Ok(())
    }

    /// Adds a message to a mailbox of the account (IMAP APPEND, Sent copies).
    pub async fn append(
        &self,
        account: &Account,
        mailbox: &Mailbox,
        body: Vec<u8>,
        flags: Flags,
        keywords: Vec<String>,
        internal_date: Option<i64>,
    ) -> Result<Delivered> {
        self.check_room(account, body.len() as u64).await?;
        let date = internal_date.unwrap_or_else(|| self.now());
        let delivered = self
            .store
            .append(mailbox.id, Arc::new(body), flags, keywords, date)
            .await?;
        self.events.publish(MailboxEvent::Appended {
            account_id: account.id,
            mailbox_id: mailbox.id,
            message: MessageState::from(&delivered),
        });
        Ok(delivered)
    }

    pub async fn set_flags(&self, mailbox: &Mailbox, change: FlagChange) -> Result<FlagOutcome> {
        let outcome = self.store.set_flags(mailbox.id, change).await?;
        for update in &outcome.updated {
            self.events.publish(MailboxEvent::FlagsChanged {
                account_id: mailbox.account_id,
                mailbox_id: mailbox.id,
                update: update.clone(),
            });
        }
        Ok(outcome)
    }

    pub async fn expunge(&self, mailbox: &Mailbox, uids: Vec<u32>) -> Result<Expunged> {
        let expunged = self.store.expunge(mailbox.id, uids).await?;
        if !expunged.uids.is_empty() {
            self.events.publish(MailboxEvent::Expunged {
                account_id: mailbox.account_id,
                mailbox_id: mailbox.id,
                uids: expunged.uids.clone(),
                modseq: expunged.modseq,
            });
        }
        Ok(expunged)
    }

    /// Copies or moves messages between two mailboxes of one account.
    pub async fn copy(
        &self,
        account: &Account,
        from: &Mailbox,
        uids: Vec<u32>,
        to: &Mailbox,
        remove_source: bool,
    ) -> Result<Copied> {
        if !remove_source {
            let sizes: u64 = self
                .store
                .messages_from_uid(from.id, 1)
                .await?
                .iter()
                .filter(|m| uids.contains(&m.uid))
                .map(|m| m.size)
                .sum();
            self.check_room(account, sizes).await?;
        }
        let copied = self
            .store
            .copy_messages(from.id, uids, to.id, remove_source)
            .await?;
        for d in &copied.delivered {
            self.events.publish(MailboxEvent::Appended {
                account_id: d.account_id,
                mailbox_id: d.mailbox_id,
                message: MessageState::from(d),
            });
        }
        if let Some(spam) = junk_feedback(from, to)
            && !copied.pairs.is_empty()
        {
            // Before the client hears OK, so the next message is judged
            // with what this move taught.
            self.train_delivered(to.account_id, &copied.delivered, spam)
                .await;
            self.events.publish(MailboxEvent::JunkFeedback {
                account_id: to.account_id,
                mailbox_id: to.id,
                uids: copied.pairs.iter().map(|(_, new)| *new).collect(),
                spam,
            });
        }
        if !copied.expunged.uids.is_empty() {
            self.events.publish(MailboxEvent::Expunged {
                account_id: from.account_id,
                mailbox_id: from.id,
                uids: copied.expunged.uids.clone(),
                modseq: copied.expunged.modseq,
            });
        }
        Ok(copied)
    }
}

/// Into Junk trains as spam; out of Junk trains as ham, unless the user is
/// only throwing it away (Trash).
fn junk_feedback(from: &Mailbox, to: &Mailbox) -> Option<bool> {
    let junk = Some(SpecialUse::Junk);
    match (from.special_use, to.special_use) {
        (f, t) if f != junk && t == junk => Some(true),
        (f, t) if f == junk && t != junk && t != Some(SpecialUse::Trash) => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use mailroom_store::{Mailbox, SpecialUse};

    fn mailbox(special_use: Option<SpecialUse>) -> Mailbox {
        Mailbox {
            id: 1,
            account_id: 1,
            name: "x".into(),
            special_use,
            uidvalidity: 1,
            uidnext: 1,
            highestmodseq: 1,
            subscribed: true,
            recent_uid: 1,
        }
    }

    #[test]
    fn moves_into_and_out_of_junk_train_the_filter() {
        use SpecialUse::*;
        let cases = [
            (Some(Inbox), Some(Junk), Some(true)),
            (None, Some(Junk), Some(true)),
            (Some(Junk), Some(Inbox), Some(false)),
            (Some(Junk), None, Some(false)),
            (Some(Junk), Some(Trash), None),
            (Some(Inbox), Some(Trash), None),
            (Some(Junk), Some(Junk), None),
        ];
        for (from, to, expected) in cases {
            assert_eq!(
                super::junk_feedback(&mailbox(from), &mailbox(to)),
                expected,
                "{from:?} -> {to:?}"
            );
        }
    }

    #[test]
    fn mailbox_names_are_checked() {
        for good in ["Work", "Work/2026", "Entwürfe", "a b"] {
            assert!(super::check_mailbox_name(good).is_ok(), "{good}");
        }
        for bad in ["", "/a", "a/", "a//b", "a*", "a%b", "a\u{7}"] {
            assert!(super::check_mailbox_name(bad).is_err(), "{bad:?}");
        }
    }
}
