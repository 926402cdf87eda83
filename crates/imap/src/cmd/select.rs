//! SELECT, EXAMINE, CLOSE, UNSELECT, EXPUNGE (RFC 3501 6.3.1-2, 6.4.2-3).

use imap_codec::imap_types::mailbox::Mailbox as WireMailbox;
use imap_codec::imap_types::sequence::SequenceSet;
use mailroom_core::store::Flags;

use super::refuse;
use crate::response::flag_list;
use crate::session::{Done, Session};
use crate::view::MailboxView;

impl Session {
    pub(crate) async fn select(&mut self, mailbox: &WireMailbox<'_>, read_only: bool) -> Done {
        // RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected.
        self.selected = None;
        let name = match self.mailbox_name(mailbox) {
            Ok(n) => n,
            Err(done) => return done,
        };
        let account_id = self.account.as_ref().map_or(0, |a| a.id);
        let mail = self.server.mail.clone();
        let mailbox = match mail.mailbox(account_id, &name).await {
            Ok(Some(m)) => m,
            Ok(None) => return Done::no(format!("No mailbox {name}")).code("NONEXISTENT"),
            Err(e) => return refuse(e),
        };
        let view = match MailboxView::open(&mail, mailbox, read_only).await {
            Ok(v) => v,
            Err(e) => return refuse(e),
        };
        let mut keywords: Vec<String> = view
            .messages
            .iter()
            .flat_map(|m| m.keywords.iter().cloned())
            .collect();
        keywords.sort();
        keywords.dedup();
        let all = Flags(0x1f);
        self.untagged(&format!("FLAGS {}", flag_list(all, &keywords, false)));
        let permanent = flag_list(all, &keywords, false);
        let permanent = format!("{} \\*)", permanent.trim_end_matches(')'));
        self.untagged(&format!("OK [PERMANENTFLAGS {permanent}] Flags permitted"));
        self.untagged(&format!("{} EXISTS", view.exists()));
        self.untagged("0 RECENT");
        if let Some(seq) = view
            .messages
            .iter()
            .position(|m| !m.flags.contains(Flags::SEEN))
        {
            self.untagged(&format!("OK [UNSEEN {}] First unseen", seq + 1));
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
        self.selected = Some(view);
        let (code, verb) = if read_only {
            ("READ-ONLY", "EXAMINE")
        } else {
            ("READ-WRITE", "SELECT")
        };
        Done::ok(format!("{verb} completed")).code(code)
    }

    pub(crate) async fn close(&mut self, expunge: bool) -> Done {
        let Some(view) = self.selected.take() else {
            return Done::bad("No mailbox selected");
        };
        if expunge && !view.read_only {
            // RFC 3501 6.4.2: removes \Deleted messages without EXPUNGE responses.
            let deleted: Vec<u32> = view
                .messages
                .iter()
                .filter(|m| m.flags.contains(Flags::DELETED))
                .map(|m| m.uid)
                .collect();
            if !deleted.is_empty()
                && let Err(e) = self.server.mail.expunge(&view.mailbox, deleted).await
            {
                return refuse(e);
            }
        }
        Done::ok(if expunge {
            "CLOSE completed"
        } else {
            "UNSELECT completed"
        })
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
        if uids.is_empty() {
            return Done::ok("EXPUNGE completed");
        }
        match self.server.mail.expunge(&mailbox, uids).await {
            // The EXPUNGE responses come from the view's sync.
            Ok(_) => Done::ok("EXPUNGE completed"),
            Err(e) => refuse(e),
        }
    }
}
