//! IMAP commands, one concern per file.

mod append;
mod auth;
mod copy;
mod fetch;
mod idle;
mod mailboxes;
mod misc;
mod quota;
mod search;
mod select;
mod sort;
mod store;
mod summary;
mod thread;

use imap_codec::imap_types::mailbox::Mailbox as WireMailbox;
use imap_codec::imap_types::sequence::SequenceSet;
use mailroom_core::CoreError;

use crate::session::{Done, Session};
use crate::utf7;

impl Session {
    /// A mailbox name from the wire, as stored (UTF-8).
    pub(crate) fn mailbox_name(&self, mailbox: &WireMailbox<'_>) -> Result<String, Done> {
        let raw: &[u8] = match mailbox {
            WireMailbox::Inbox => return Ok("INBOX".into()),
            WireMailbox::Other(other) => other.inner().as_ref(),
        };
        let text = std::str::from_utf8(raw).map_err(|_| Done::bad("Mailbox name is not UTF-8"))?;
        let name = if self.enabled.utf8 {
            text.to_string()
        } else {
            utf7::decode(text)
                .ok_or_else(|| Done::bad("Mailbox name is not valid modified UTF-7"))?
        };
        Ok(inbox_prefix(name))
    }

    /// BAD for a sequence number past the last message (RFC 9051 9,
    /// seq-number), as a client that sends one has lost track of the
    /// mailbox. UIDs that do not exist are simply not there; `$` written
    /// out by us is always in range.
    pub(crate) fn out_of_range(&self, set: &SequenceSet, uid: bool) -> Option<Done> {
        let view = self.selected.as_ref()?;
        (!uid && !self.set_was_saved && view.beyond_end(set))
            .then(|| Done::bad("Message sequence number out of range"))
    }

    /// A stored name as the client expects it on the wire.
    pub(crate) fn wire_name(&self, name: &str) -> String {
        if self.enabled.utf8 {
            name.to_string()
        } else {
            utf7::encode(name)
        }
    }
}

/// RFC 3501 5.1: INBOX is case-insensitive, also as the first level of a
/// name below it (`inbox/Lists` is `INBOX/Lists`).
fn inbox_prefix(name: String) -> String {
    match name.get(..6) {
        Some(head) if head.eq_ignore_ascii_case("INBOX/") && !head.starts_with("INBOX") => {
            format!("INBOX/{}", &name[6..])
        }
        _ => name,
    }
}

/// Maps a service error to the tagged answer a client understands
/// (RFC 5530 response codes).
pub(crate) fn refuse(error: CoreError) -> Done {
    match error {
        CoreError::NotFound(what) => Done::no(format!("No such {what}")).code("NONEXISTENT"),
        CoreError::AlreadyExists(what) => {
            Done::no(format!("{what} already exists")).code("ALREADYEXISTS")
        }
        CoreError::OverQuota(why) => Done::no(why).code("OVERQUOTA"),
        CoreError::Invalid(why) => Done::no(why).code("CANNOT"),
        CoreError::Conflict(why) => Done::no(why).code("CANNOT"),
        CoreError::PasswordPolicy(why) => Done::no(why),
        other => {
            tracing::error!(error = %other, "imap command failed");
            Done::no("Server error, try again later").code("SERVERBUG")
        }
    }
}
