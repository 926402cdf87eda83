//! The outbound queue's rules: what is queued (durably, before the 250),
//! when a failed attempt is retried, when a message expires, and the
//! delivery status notification (RFC 3464) a sender gets for recipients
//! that could not be reached. The SMTP front-end does the delivering.

#[cfg(test)]
mod clock_tests;
mod dsn;
mod forward;
pub mod policy;

use std::sync::Arc;

use mailroom_store::{Account, AttemptResult, NewQueued, Queued, RecipientStatus, Store};
use tokio::sync::Notify;

use crate::Result;
use crate::mail::{InboundMessage, Mail, Trace};

pub use dsn::Failure;
use dsn::Report;

/// RFC 3461 leaves it to us: one warning once a message waits 4 hours.
pub const DELAY_NOTICE_AFTER: i64 = 4 * 3600;

/// RFC 5321 4.5.4.1: retry, backing off; give up after five days.
const SCHEDULE: [i64; 7] = [60, 300, 900, 1800, 3600, 7200, 14_400];
const THEN_EVERY: i64 = 14_400;
pub const GIVE_UP_AFTER: i64 = 5 * 86_400;

/// Seconds to wait after the `attempts`-th failed attempt.
pub fn retry_delay(attempts: u32) -> i64 {
    SCHEDULE
        .get(attempts.saturating_sub(1) as usize)
        .copied()
        .unwrap_or(THEN_EVERY)
}

#[derive(Clone)]
pub struct Queue {
    store: Arc<dyn Store>,
    mail: Mail,
    wake: Arc<Notify>,
}

impl Queue {
    pub fn new(store: Arc<dyn Store>, mail: Mail) -> Self {
        Self {
            store,
            mail,
            wake: Arc::default(),
        }
    }

    /// Queues a user's message for recipients in other domains; durable
    /// when this returns, so the submission may be acknowledged.
    pub async fn enqueue(
        &self,
        account: &Account,
        sender: &str,
        recipients: Vec<String>,
        prefix: Vec<u8>,
        body: Arc<Vec<u8>>,
    ) -> Result<i64> {
        if let Some(reason) = policy::refusal(self.store.as_ref(), sender).await? {
            tracing::info!(%sender, reason, "relay policy: bounced");
            let queued = Queued {
                id: 0,
                account_id: Some(account.id),
                sender: sender.to_string(),
                created_at: self.now(),
                delay_notified: false,
                size: body.len() as u64,
                recipients: Vec::new(),
            };
            let failures: Vec<Failure> = recipients
                .into_iter()
                .map(|recipient| Failure {
                    recipient,
                    host: None,
                    reply: format!("550 5.7.1 {reason}"),
                    status: "5.7.1".into(),
                })
                .collect();
            self.bounce(&queued, &failures, &body, Report::Failed)
                .await?;
            return Ok(0);
        }
        let mut signed = self.signatures(sender, &body).await.into_bytes();
        signed.extend_from_slice(&prefix);
        let id = self
            .store
            .queue_add(NewQueued {
                account_id: Some(account.id),
                sender: sender.to_string(),
                recipients,
                prefix: signed,
                body,
            })
            .await?;
        self.wake.notify_one();
        Ok(id)
    }

    /// DKIM signatures with the keys of the From: address's domain (that
    /// is what DMARC aligns with), or the sender's when From: has none.
    /// A domain without keys sends unsigned; a signing error is logged,
    /// never a reason to lose the message.
    async fn signatures(&self, sender: &str, body: &[u8]) -> String {
        let from = mail_parser::MessageParser::default()
            .parse_headers(body)
            .and_then(|m| {
                m.from()
                    .and_then(|f| f.first())
                    .and_then(|a| a.address.as_deref())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| sender.to_string());
        let domain = crate::address::domain_of(&from).to_ascii_lowercase();
        let keys = match self.store.dkim_keys(&domain).await {
            Ok(keys) => keys,
            Err(_) => return String::new(),
        };
        match crate::dkim::sign(&domain, &keys, body) {
            Ok(headers) => headers,
            Err(error) => {
                tracing::error!(%domain, %error, "DKIM signing failed; sending unsigned");
                String::new()
            }
        }
    }

    /// Resolves when something may have become due (a new message).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    pub fn now(&self) -> i64 {
        self.mail.now()
    }

    /// Up to `limit` messages with recipients due now, except `skip`
    /// (those already being delivered).
    pub async fn due(&self, skip: Vec<i64>, limit: usize) -> Result<Vec<Queued>> {
        Ok(self.store.queue_due(skip, limit).await?)
    }

    pub async fn next_due(&self) -> Result<Option<i64>> {
        Ok(self.store.queue_next_due().await?)
    }

    pub async fn content(&self, id: i64) -> Result<Vec<u8>> {
        Ok(self.store.queue_content(id).await?)
    }

    pub async fn list(&self) -> Result<Vec<Queued>> {
        Ok(self.store.queue_list().await?)
    }

    /// What to record after a temporary failure: retry later, or give up
    /// once the message is too old.
    pub fn after_temporary_failure(
        &self,
        queued: &Queued,
        attempts: u32,
    ) -> (RecipientStatus, i64) {
        let now = self.now();
        if now - queued.created_at >= GIVE_UP_AFTER {
            (RecipientStatus::Failed, now)
        } else {
            (RecipientStatus::Pending, now + retry_delay(attempts + 1))
        }
    }

    /// Records attempts, then tells the sender about every recipient that
    /// failed for good (one notification per message).
    pub async fn record(
        &self,
        queued: &Queued,
        results: Vec<AttemptResult>,
        failures: Vec<Failure>,
    ) -> Result<()> {
        let delayed: Vec<Failure> =
            if queued.delay_notified || self.now() - queued.created_at < DELAY_NOTICE_AFTER {
                Vec::new()
            } else {
                results
                    .iter()
                    .filter(|r| r.status == RecipientStatus::Pending)
                    .map(|r| Failure {
                        recipient: r.address.clone(),
                        host: r.host.clone(),
                        reply: r.reply.clone().unwrap_or_default(),
                        status: "4.4.7".into(),
                    })
                    .collect()
            };
        // Read before recording: a settled message leaves the queue.
        let original = if failures.is_empty() && delayed.is_empty() {
            Vec::new()
        } else {
            self.content(queued.id).await?
        };
        let settled = results
            .iter()
            .filter(|r| r.status != RecipientStatus::Pending)
            .count() as u32;
        self.store.queue_record(results).await?;
        if let Some(account_id) = queued.account_id {
            let id = crate::abuse::message_id_of(&original);
            self.mail
                .note_outcomes(account_id, settled, failures.len() as u32, id)
                .await?;
        }
        if !failures.is_empty() {
            self.bounce(queued, &failures, &original, Report::Failed)
                .await?;
        }
        if !delayed.is_empty() {
            let give_up_at = queued.created_at + GIVE_UP_AFTER;
            self.bounce(queued, &delayed, &original, Report::Delayed { give_up_at })
                .await?;
            self.store.queue_mark_delay_notified(queued.id).await?;
        }
        Ok(())
    }

    /// Sends a delivery status notification to the sender: into its
    /// mailbox when it is ours (or on to where it forwards), otherwise out
    /// through the queue with the null sender.
    async fn bounce(
        &self,
        queued: &Queued,
        failures: &[Failure],
        content: &[u8],
        report: Report,
    ) -> Result<()> {
        // RFC 5321 4.5.5: a bounce is never bounced.
        if queued.sender.is_empty() {
            tracing::info!(id = queued.id, "undeliverable bounce dropped");
            return Ok(());
        }
        let hostname = self.mail.settings().hostname.clone();
        let report = dsn::build(&hostname, queued, failures, content, self.now(), report);
        let resolved = match self.mail.resolve(&queued.sender, None).await? {
            Ok(r) => r,
            Err(crate::mail::Refusal::NotHosted) => {
                self.store
                    .queue_add(NewQueued {
                        account_id: None,
                        sender: String::new(),
                        recipients: vec![queued.sender.clone()],
                        prefix: Vec::new(),
                        body: Arc::new(report),
                    })
                    .await?;
                self.wake.notify_one();
                return Ok(());
            }
            Err(refusal) => {
                tracing::warn!(sender = %queued.sender, ?refusal, "bounce not deliverable; dropped");
                return Ok(());
            }
        };
        let message = InboundMessage {
            body: Arc::new(report),
            recipients: vec![resolved],
            trace: Trace {
                helo: hostname.clone(),
                peer: std::net::IpAddr::from([127, 0, 0, 1]),
                peer_name: None,
                protocol: "LOCAL",
                id: format!("dsn{}", queued.id),
                // RFC 3464 / RFC 5321 4.5.5: a DSN has the null sender.
                return_path: String::new(),
            },
            filing: Default::default(),
        };
        if let Err(refusal) = Box::pin(self.accept(message)).await? {
            tracing::warn!(sender = %queued.sender, ?refusal, "bounce not delivered");
        }
        Ok(())
    }

    pub async fn remove(&self, id: i64) -> Result<()> {
        Ok(self.store.queue_remove(id).await?)
    }

    pub async fn retry(&self, id: Option<i64>) -> Result<usize> {
        let n = self.store.queue_retry(id).await?;
        self.wake.notify_one();
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn retries_back_off_then_every_four_hours() {
        let delays: Vec<i64> = (1..=9).map(super::retry_delay).collect();
        assert_eq!(
            delays,
            [60, 300, 900, 1800, 3600, 7200, 14_400, 14_400, 14_400]
        );
    }
}
