//! SELECT, EXAMINE, CLOSE, UNSELECT, EXPUNGE (RFC 3501 6.3.1-2, 6.4.2-3).

use imap_codec::imap_types::command::SelectParameter;
use imap_codec::imap_types::mailbox::Mailbox as WireMailbox;
use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};
use mailroom_core::store::Flags;

use super::refuse;
use crate::response::flag_list;
use crate::session::{Done, Session};
use crate::view::{MailboxView, uid_set};

/// Whether a UID is named by a set (without `*`, as QRESYNC sends them).
pub(crate) fn uid_in_set(set: &SequenceSet, uid: u32) -> bool {
    let value = |s: &SeqOrUid| match s {
        SeqOrUid::Value(v) => v.get(),
        SeqOrUid::Asterisk => u32::MAX,
    };
    set.0.as_ref().iter().any(|seq| match seq {
        Sequence::Single(s) => value(s) == uid,
        Sequence::Range(a, b) => {
            let (a, b) = (value(a).min(value(b)), value(a).max(value(b)));
            (a..=b).contains(&uid)
        }
    })
}

impl Session {
    pub(crate) async fn select(
        &mut self,
        mailbox: &WireMailbox<'_>,
        read_only: bool,
        parameters: Vec<SelectParameter>,
    ) -> Done {
        // RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected.
        // RFC 7162 3.2.11 and RFC 9051 6.3.2: with QRESYNC or in
        // IMAP4rev2, say that the old one is closed.
        if self.selected.take().is_some() && (self.enabled.qresync || self.enabled.rev2) {
            self.untagged("OK [CLOSED] Previous mailbox closed");
        }
        let mut resync = None;
        for parameter in parameters {
            match parameter {
                SelectParameter::CondStore => self.enabled.condstore = true,
                SelectParameter::QResync {
                    uid_validity,
                    mod_sequence_value,
                    known_uids,
                    ..
                } => {
                    if !self.enabled.qresync {
                        return Done::bad("ENABLE QRESYNC first");
                    }
                    resync = Some((uid_validity.get(), mod_sequence_value.get(), known_uids));
                }
            }
        }
        let name = match self.mailbox_name(mailbox) {
            Ok(n) => n,
            Err(done) => return done,
        };
        let account_id = self.account.as_ref().map_or(0, |a| a.id);
        let mail = self.server.mail.clone();
        let mailbox = match mail.mailbox_to_open(account_id, &name).await {
            Ok(Some(m)) => m,
            Ok(None) => return Done::no(format!("No mailbox {name}")).code("NONEXISTENT"),
            Err(e) => return refuse(e),
        };
        let mut view = match MailboxView::open(&mail, mailbox, read_only).await {
            Ok(v) => v,
            Err(e) => return refuse(e),
        };
        // RFC 3501 2.3.2: messages no session was told of are \Recent for
        // the first to select the mailbox; EXAMINE shows them, leaving
        // them to the next SELECT.
        let up_to = view.uidnext;
        if read_only {
            let from = mail.recent_from(&view.mailbox);
            view.add_recent(from, up_to);
        } else {
            match mail.claim_recent(&view.mailbox, view.shared(), up_to).await {
                Ok(Some(from)) => view.add_recent(from, up_to),
                Ok(None) => {}
                Err(e) => return refuse(e),
            }
        }
        let keywords = view.keywords();
        let all = Flags(0x1f);
        self.untagged(&format!("FLAGS {}", flag_list(all, &keywords, false)));
        // RFC 3501 7.1: the flags the client can change for good; none in
        // a mailbox opened read-only (EXAMINE).
        if read_only {
            self.untagged("OK [PERMANENTFLAGS ()] Read-only mailbox");
        } else {
            let permanent = flag_list(all, &keywords, false);
            let permanent = format!("{} \\*)", permanent.trim_end_matches(')'));
            self.untagged(&format!("OK [PERMANENTFLAGS {permanent}] Flags permitted"));
        }
        self.untagged(&format!("{} EXISTS", view.exists()));
        if self.enabled.rev2 {
            // RFC 9051 6.3.2: no RECENT or UNSEEN; the name as LIST gives it.
            let name = crate::response::quote(&self.wire_name(&view.mailbox.name));
            self.untagged(&format!("LIST () \"/\" {name}"));
        } else {
            self.untagged(&format!("{} RECENT", view.recent_count()));
            if let Some(seq) = view
                .messages
                .iter()
                .position(|m| !m.flags.contains(Flags::SEEN))
            {
                self.untagged(&format!("OK [UNSEEN {}] First unseen", seq + 1));
            }
        }
        self.untagged(&format!(
            "OK [UIDVALIDITY {}] UIDs valid",
            view.mailbox.uidvalidity
        ));
        self.untagged(&format!("OK [UIDNEXT {}] Predicted next UID", view.uidnext));
        self.untagged(&format!(
            "OK [HIGHESTMODSEQ {}] Highest",
            view.highestmodseq
        ));
        let mailbox_id = view.mailbox.id;
        let uidvalidity = view.mailbox.uidvalidity;
        self.selected = Some(view);
        // RFC 7162 3.2.5: tell a resynchronising client what it missed.
        if let Some((client_validity, since, known)) = resync
            && client_validity == uidvalidity
            && let Err(e) = self
                .report_changes_since(mailbox_id, since, known.as_ref())
                .await
        {
            return refuse(e);
        }
        let (code, verb) = if read_only {
            ("READ-ONLY", "EXAMINE")
        } else {
            ("READ-WRITE", "SELECT")
        };
        Done::ok(format!("{verb} completed")).code(code)
    }

    /// `VANISHED (EARLIER)` for what was expunged after `since`, and the
    /// flags of what changed after it.
    pub(crate) async fn report_changes_since(
        &mut self,
        mailbox_id: i64,
        since: u64,
        known: Option<&SequenceSet>,
    ) -> mailroom_core::Result<()> {
        let mut gone = self.server.mail.expunged_since(mailbox_id, since).await?;
        if let Some(known) = known {
            gone.retain(|uid| uid_in_set(known, *uid));
        }
        if !gone.is_empty() {
            self.untagged(&format!("VANISHED (EARLIER) {}", uid_set(&gone)));
        }
        let show_recent = !self.enabled.rev2;
        let Some(view) = self.selected.as_ref() else {
            return Ok(());
        };
        let lines: Vec<String> = view
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.modseq > since)
            .map(|(i, m)| {
                let recent = show_recent && view.is_recent(m.uid);
                format!(
                    "{} FETCH (UID {} FLAGS {} MODSEQ ({}))",
                    i + 1,
                    m.uid,
                    flag_list(m.flags, &m.keywords, recent),
                    m.modseq
                )
            })
            .collect();
        for line in lines {
            self.untagged(&line);
        }
        Ok(())
    }

    pub(crate) async fn close(&mut self, expunge: bool) -> Done {
        let Some(view) = self.selected.take() else {
            return Done::bad("No mailbox selected");
        };
        let mut highest = view.highestmodseq;
        if expunge && !view.read_only {
            // RFC 3501 6.4.2: removes \Deleted messages without EXPUNGE responses.
            let deleted: Vec<u32> = view
                .messages
                .iter()
                .filter(|m| m.flags.contains(Flags::DELETED))
                .map(|m| m.uid)
                .collect();
            if !deleted.is_empty() {
                match self.server.mail.expunge(&view.mailbox, deleted).await {
                    Ok(expunged) => highest = highest.max(expunged.modseq),
                    Err(e) => return refuse(e),
                }
            }
        }
        let done = Done::ok(if expunge {
            "CLOSE completed"
        } else {
            "UNSELECT completed"
        });
        self.with_highest_modseq(done, highest)
    }

    /// RFC 7162 3.2.10: under QRESYNC, EXPUNGE and CLOSE say what the
    /// mailbox's HIGHESTMODSEQ became.
    fn with_highest_modseq(&self, done: Done, highest: u64) -> Done {
        if self.enabled.qresync {
            done.code(format!("HIGHESTMODSEQ {highest}"))
        } else {
            done
        }
    }

    pub(crate) async fn expunge(&mut self, only: Option<&SequenceSet>) -> Done {
        let Some(view) = self.selected.as_ref() else {
            return Done::bad("No mailbox selected");
        };
        if view.read_only {
            return Done::no("Mailbox is read-only").code("READ-ONLY");
        }
        let allowed: Option<Vec<usize>> = only.map(|set| view.resolve(set, true));
        let uids: Vec<u32> = view
            .messages
            .iter()
            .enumerate()
            .filter(|(i, m)| {
                m.flags.contains(Flags::DELETED)
                    && allowed
                        .as_ref()
                        .is_none_or(|a| a.binary_search(&(i + 1)).is_ok())
            })
            .map(|(_, m)| m.uid)
            .collect();
        let mailbox = view.mailbox.clone();
        let highest = view.highestmodseq;
        if uids.is_empty() {
            return self.with_highest_modseq(Done::ok("EXPUNGE completed"), highest);
        }
        match self.server.mail.expunge(&mailbox, uids).await {
            // The EXPUNGE responses come from the view's sync.
            Ok(expunged) => self
                .with_highest_modseq(Done::ok("EXPUNGE completed"), highest.max(expunged.modseq)),
            Err(e) => refuse(e),
        }
    }
}
