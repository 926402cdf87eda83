//! The maildrop a POP3 session works on: the INBOX as it was at login
//! (RFC 1939 messages keep their numbers for the whole session).

use mailroom_core::store::{Account, FlagChange, FlagOp, Flags, Mailbox, Pop3Delete, SpecialUse};
use mailroom_core::{CoreError, Mail, Result};

pub struct Entry {
    pub uid: u32,
    pub size: u64,
    pub deleted: bool,
}

pub struct Maildrop {
    pub account: Account,
    pub inbox: Mailbox,
    pub messages: Vec<Entry>,
}

impl Maildrop {
    pub async fn open(mail: &Mail, account: Account) -> Result<Self> {
        let inbox = mail
            .mailbox(account.id, "INBOX")
            .await?
            .ok_or_else(|| CoreError::NotFound("INBOX".into()))?;
        let messages = mail
            .messages(inbox.id)
            .await?
            .into_iter()
            .map(|m| Entry {
                uid: m.uid,
                size: m.size,
                deleted: false,
            })
            .collect();
        Ok(Self {
            account,
            inbox,
            messages,
        })
    }

    /// A message by number, unless it is marked deleted.
    pub fn get(&self, number: usize) -> Option<&Entry> {
        self.messages
            .get(number.checked_sub(1)?)
            .filter(|e| !e.deleted)
    }

    pub fn live(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.messages
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.deleted)
            .map(|(i, e)| (i + 1, e))
    }

    pub fn stat(&self) -> (usize, u64) {
        self.live()
            .fold((0, 0), |(n, size), (_, e)| (n + 1, size + e.size))
    }

    pub fn delete(&mut self, number: usize) -> bool {
        match number.checked_sub(1).and_then(|i| self.messages.get_mut(i)) {
            Some(e) if !e.deleted => {
                e.deleted = true;
                true
            }
            _ => false,
        }
    }

    pub fn reset(&mut self) {
        for e in &mut self.messages {
            e.deleted = false;
        }
    }

    /// The message with CRLF line ends, as RETR and TOP send it.
    pub async fn content(&self, mail: &Mail, entry: &Entry) -> Result<Vec<u8>> {
        mail.content(self.inbox.id, entry.uid).await
    }

    /// Reading a message on one device shows it read on the others.
    pub async fn mark_seen(&self, mail: &Mail, uid: u32) -> Result<()> {
        let change = FlagChange {
            uids: vec![uid],
            op: FlagOp::Add,
            flags: Flags::SEEN,
            keywords: Vec::new(),
            unchanged_since: None,
        };
        mail.set_flags(&self.inbox, change).await.map(|_| ())
    }

    /// RFC 1939 6, UPDATE state: what DELE marked leaves the INBOX, in the
    /// way the account's `pop3_delete` setting says.
    pub async fn commit(&self, mail: &Mail) -> Result<()> {
        let uids: Vec<u32> = self
            .messages
            .iter()
            .filter(|e| e.deleted)
            .map(|e| e.uid)
            .collect();
        if uids.is_empty() {
            return Ok(());
        }
        match self.account.pop3_delete {
            Pop3Delete::Keep => Ok(()),
            Pop3Delete::Expunge => mail.expunge(&self.inbox, uids).await.map(|_| ()),
            Pop3Delete::Trash => {
                let trash = mail
                    .mailboxes(self.account.id)
                    .await?
                    .into_iter()
                    .find(|m| m.special_use == Some(SpecialUse::Trash))
                    .ok_or_else(|| CoreError::NotFound("Trash".into()))?;
                mail.copy(&self.account, &self.inbox, uids, &trash, true)
                    .await
                    .map(|_| ())
            }
        }
    }
}
