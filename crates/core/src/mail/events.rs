//! The change bus: every write to a mailbox is announced here, for IDLE,
//! webmail refresh and spam training. In one process it is a broadcast
//! channel; across nodes the PostgreSQL back-end will feed it.

use std::sync::Arc;

use mailroom_store::FlagUpdate;
use tokio::sync::broadcast;

use super::state::{MailboxStates, MessageState};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxEvent {
    /// A message was added to a mailbox.
    Appended {
        account_id: i64,
        mailbox_id: i64,
        message: MessageState,
    },
    /// A message's flags or keywords changed.
    FlagsChanged {
        account_id: i64,
        mailbox_id: i64,
        update: FlagUpdate,
    },
    /// Messages left a mailbox.
    Expunged {
        account_id: i64,
        mailbox_id: i64,
        uids: Vec<u32>,
        modseq: u64,
    },
    /// A mailbox was created, renamed or deleted.
    MailboxesChanged { account_id: i64 },
    /// A user moved messages into Junk (`spam`) or out of it to a folder
    /// other than Trash (ham): input for the spam filter's training. The
    /// UIDs are those of the copies in `mailbox_id`.
    JunkFeedback {
        account_id: i64,
        mailbox_id: i64,
        uids: Vec<u32>,
        spam: bool,
    },
}

impl MailboxEvent {
    pub fn mailbox_id(&self) -> Option<i64> {
        match self {
            MailboxEvent::Appended { mailbox_id, .. }
            | MailboxEvent::FlagsChanged { mailbox_id, .. }
            | MailboxEvent::Expunged { mailbox_id, .. } => Some(*mailbox_id),
            MailboxEvent::MailboxesChanged { .. } | MailboxEvent::JunkFeedback { .. } => None,
        }
    }
}

#[derive(Clone)]
pub struct ChangeBus {
    sender: broadcast::Sender<MailboxEvent>,
    /// Mailboxes held in memory, updated before anyone hears of a change.
    states: Arc<MailboxStates>,
}

/// Events a slow listener may fall behind by before it must resynchronise.
const CAPACITY: usize = 4096;

impl Default for ChangeBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
            states: Arc::default(),
        }
    }
}

impl ChangeBus {
    pub fn publish(&self, event: MailboxEvent) {
        self.states.apply(&event);
        // No listener is fine: nobody is watching that mailbox.
        let _ = self.sender.send(event);
    }

    pub(crate) fn states(&self) -> &MailboxStates {
        &self.states
    }

    pub fn subscribe(&self) -> broadcast::Receiver<MailboxEvent> {
        self.sender.subscribe()
    }
}
