//! Mail: who a recipient is, and filing a received message into mailboxes.
//!
//! The inbound path is: the front-end asks [`Mail::resolve`] for each RCPT
//! (hosted? exists? enabled? room left?), then hands the whole message to
//! [`Mail::deliver_inbound`], which builds the per-delivery trace headers,
//! checks quotas with the real size, stores the message durably once and
//! announces the change on the [`ChangeBus`].

mod deliver;
mod events;
mod hops;
mod mailboxes;
mod notice;
mod resolve;
mod sender;
mod state;
mod submission;

use std::sync::Arc;

use mailroom_store::{Clock, Store};

use crate::srs::Srs;

pub(crate) use deliver::received_header;
pub use deliver::{DeliveryRefusal, InboundMessage, Trace};
pub use events::{ChangeBus, MailboxEvent};
pub use hops::{MAX_FORWARD_HOPS, MAX_HOPS, received_count};
pub use mailboxes::{DELIMITER, check_mailbox_name};
pub use resolve::{Refusal, Resolved};
pub use state::{MessageState, SharedMailbox, Snapshot, partition_point};
pub use submission::SubmissionRefusal;

/// Settings of the mail service that come from the start-up config.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The server's name, used in trace headers and for postmaster.
    pub hostname: String,
    /// Separates a local part from a tag: `user+tag@domain` goes to `user`.
    /// Empty turns plus-addressing off.
    pub recipient_delimiter: String,
}

#[derive(Clone)]
pub struct Mail {
    pub(crate) store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    events: ChangeBus,
    settings: Arc<MailSettings>,
    /// Recipients submitted per client address (sending limits).
    pub(crate) ip_buckets: Arc<crate::sending::IpBuckets>,
    /// The sender rewriting key, read from the store on first use.
    srs: Arc<tokio::sync::OnceCell<Srs>>,
    /// Recent outbound refusals and bounces per account (abuse blocks).
    pub(crate) abuse: Arc<crate::abuse::AbuseTracker>,
    /// The spam filter's DNS and settings.
    pub(crate) spam: Arc<crate::spam::SpamEngine>,
}

impl Mail {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        events: ChangeBus,
        settings: MailSettings,
    ) -> Self {
        Self {
            store,
            clock,
            events,
            settings: Arc::new(settings),
            ip_buckets: Arc::default(),
            srs: Arc::default(),
            abuse: Arc::default(),
            spam: crate::spam::SpamEngine::new(crate::spam::SpamSettings::default()),
        }
    }

    /// SRS with the server's secret (made on first use, shared by every
    /// node through the store).
    pub async fn srs(&self) -> crate::Result<&Srs> {
        self.srs
            .get_or_try_init(|| async {
                let fresh: [u8; 32] = rand::random();
                let secret = self.store.server_secret("srs", fresh.to_vec()).await?;
                Ok(Srs::new(&secret))
            })
            .await
    }

    /// The same service with the spam filter's DNS and settings.
    pub fn with_spam(mut self, settings: crate::spam::SpamSettings) -> Self {
        self.spam = crate::spam::SpamEngine::new(settings);
        self
    }

    pub fn settings(&self) -> &MailSettings {
        &self.settings
    }

    pub fn events(&self) -> &ChangeBus {
        &self.events
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Counts one event for the domain of `address` in today's stats.
    pub fn count(&self, address: &str, kind: mailroom_store::StatKind) {
        self.store
            .stats_count(crate::address::domain_of(address), kind);
    }
}
