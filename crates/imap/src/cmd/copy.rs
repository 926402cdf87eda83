//! COPY (RFC 3501 6.4.7) and MOVE (RFC 6851), with UIDPLUS COPYUID.

use imap_codec::imap_types::mailbox::Mailbox as WireMailbox;
use imap_codec::imap_types::sequence::SequenceSet;

use super::refuse;
use crate::session::{Done, Session};
use crate::view::uid_set;

impl Session {
    pub(crate) async fn copy(
        &mut self,
        set: &SequenceSet,
        target: &WireMailbox<'_>,
        uid: bool,
        remove: bool,
    ) -> Done {
        let name = match self.mailbox_name(target) {
            Ok(n) => n,
            Err(done) => return done,
        };
        let Some(view) = self.selected.as_ref() else {
            return Done::bad("No mailbox selected");
        };
        if remove && view.read_only {
            return Done::no("Mailbox is read-only").code("READ-ONLY");
        }
        if let Some(bad) = self.out_of_range(set, uid) {
            return bad;
        }
        let uids: Vec<u32> = view
            .resolve(set, uid)
            .into_iter()
            .map(|s| view.messages[s - 1].uid)
            .filter(|u| !view.is_expunged(*u))
            .collect();
        let source = view.mailbox.clone();
        let Some(account) = self.account.clone() else {
            return Done::bad("Log in first");
        };
        let mail = self.server.mail.clone();
        let target = match mail.mailbox(account.id, &name).await {
            Ok(Some(m)) => m,
            Ok(None) => return Done::no(format!("No mailbox {name}")).code("TRYCREATE"),
            Err(e) => return refuse(e),
        };
        if uids.is_empty() {
            return Done::ok(if remove {
                "MOVE completed"
            } else {
                "COPY completed"
            });
        }
        let copied = match mail.copy(&account, &source, uids, &target, remove).await {
            Ok(c) => c,
            Err(e) => return refuse(e),
        };
        if copied.pairs.is_empty() {
            // Expunged by another session meanwhile (RFC 5530): there is
            // nothing to name in COPYUID, whose sets may not be empty.
            return Done::no("The messages no longer exist").code("EXPUNGEISSUED");
        }
        let (from, to): (Vec<u32>, Vec<u32>) = copied.pairs.iter().copied().unzip();
        let code = format!(
            "COPYUID {} {} {}",
            copied.uidvalidity,
            uid_set(&from),
            uid_set(&to)
        );
        if remove {
            // RFC 6851 4.3: COPYUID goes in an untagged OK before the expunges.
            self.untagged(&format!("OK [{code}] Moved"));
            Done::ok("MOVE completed")
        } else {
            Done::ok("COPY completed").code(code)
        }
    }
}
