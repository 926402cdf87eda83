//! Outbound abuse protection: an account whose mail looks like a
//! compromised or misbehaving sender is blocked from sending until an
//! administrator unblocks it. Three signs, each counted per account:
//! outbound messages refused as spam, submissions refused by the sending
//! limit (a client hammering its outbox), and hard bounces.
//!
//! The counts are kept in memory (they are about the last hour or day of
//! this server); the block itself is in the store, so it holds everywhere
//! and across restarts.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use mailroom_store::{Account, Role, SendingBlock, Store};
use serde::{Deserialize, Serialize};

use crate::directory::Directory;
use crate::mail::Mail;
use crate::{CoreError, Result};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// Message-IDs kept as evidence.
const SAMPLES: usize = 5;

/// When an account is blocked (MasterAdmin settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbuseSettings {
    /// Outbound messages refused as spam within an hour.
    pub spam_refusals_per_hour: u32,
    /// Submissions refused by the sending limit within an hour (more
    /// than this blocks).
    pub limit_refusals_per_hour: u32,
    /// Hard bounces, in percent of the recipients of a day (more than
    /// this blocks) ...
    pub bounce_percent: u32,
    /// ... once the day has at least this many recipients.
    pub bounce_min_recipients: u32,
}

impl Default for AbuseSettings {
    fn default() -> Self {
        Self {
            spam_refusals_per_hour: 3,
            limit_refusals_per_hour: 100,
            bounce_percent: 30,
            bounce_min_recipients: 20,
        }
    }
}

const SETTINGS: [&str; 4] = [
    "abuse_spam_refusals_per_hour",
    "abuse_limit_refusals_per_hour",
    "abuse_bounce_percent",
    "abuse_bounce_min_recipients",
];

impl AbuseSettings {
    pub async fn load(store: &dyn Store) -> Result<Self> {
        let mut s = Self::default();
        let fields = [
            &mut s.spam_refusals_per_hour,
            &mut s.limit_refusals_per_hour,
            &mut s.bounce_percent,
            &mut s.bounce_min_recipients,
        ];
        for (name, field) in SETTINGS.iter().zip(fields) {
            if let Some(value) = store.setting_get(name).await? {
                *field = u32::try_from(value).unwrap_or(*field);
            }
        }
        Ok(s)
    }

    pub async fn save(&self, store: &dyn Store) -> Result<()> {
        if self.spam_refusals_per_hour == 0
            || self.limit_refusals_per_hour == 0
            || self.bounce_min_recipients == 0
            || !(1..=100).contains(&self.bounce_percent)
        {
            return Err(CoreError::Invalid(
                "counts must be at least 1 and bounce_percent between 1 and 100".into(),
            ));
        }
        let values = [
            self.spam_refusals_per_hour,
            self.limit_refusals_per_hour,
            self.bounce_percent,
            self.bounce_min_recipients,
        ];
        for (name, value) in SETTINGS.iter().zip(values) {
            store.setting_set(name, i64::from(value)).await?;
        }
        Ok(())
    }
}

/// One account's recent history.
#[derive(Default)]
struct Track {
    spam_refused: VecDeque<(i64, String)>,
    limit_refused: VecDeque<i64>,
    day: i64,
    recipients: u32,
    hard_bounces: u32,
    bounced_ids: Vec<String>,
}

fn forget_before<T>(events: &mut VecDeque<T>, at: impl Fn(&T) -> i64, since: i64) {
    while events.front().is_some_and(|e| at(e) < since) {
        events.pop_front();
    }
}

/// The counts of every account that sent lately.
#[derive(Default)]
pub struct AbuseTracker {
    tracks: Mutex<HashMap<i64, Track>>,
}

impl AbuseTracker {
    fn with<R>(&self, account_id: i64, f: impl FnOnce(&mut Track) -> R) -> R {
        let mut tracks = self.tracks.lock().unwrap_or_else(PoisonError::into_inner);
        f(tracks.entry(account_id).or_default())
    }
}

/// Why an account gets blocked, once a count is over its limit.
struct Verdict {
    reason: String,
    evidence: Vec<String>,
    message_ids: Vec<String>,
}

impl Mail {
    /// The block in force on `account`'s sending, if any.
    pub async fn sending_block(&self, account: &Account) -> Result<Option<SendingBlock>> {
        Ok(self.store.sending_block_get(account.id).await?)
    }

    /// An outbound message of `account` was refused as spam.
    pub async fn note_spam_refused(&self, account: &Account, message_id: &str) -> Result<()> {
        let limits = AbuseSettings::load(self.store.as_ref()).await?;
        let now = self.now();
        let verdict = self.abuse.with(account.id, |t| {
            t.spam_refused.push_back((now, message_id.to_string()));
            forget_before(&mut t.spam_refused, |e| e.0, now - HOUR);
            let count = t.spam_refused.len();
            (count >= limits.spam_refusals_per_hour as usize).then(|| Verdict {
                reason: "outbound mail refused as spam".into(),
                evidence: vec![format!(
                    "{count} outbound messages refused as spam within an hour"
                )],
                message_ids: t
                    .spam_refused
                    .iter()
                    .rev()
                    .take(SAMPLES)
                    .map(|e| e.1.clone())
                    .collect(),
            })
        });
        self.block_if(account, verdict).await
    }

    /// A submission of `account` was refused by its sending limit.
    pub async fn note_limit_refused(&self, account: &Account) -> Result<()> {
        let limits = AbuseSettings::load(self.store.as_ref()).await?;
        let now = self.now();
        let verdict = self.abuse.with(account.id, |t| {
            t.limit_refused.push_back(now);
            forget_before(&mut t.limit_refused, |at| *at, now - HOUR);
            let count = t.limit_refused.len();
            (count > limits.limit_refusals_per_hour as usize).then(|| Verdict {
                reason: "sending limit hammered".into(),
                evidence: vec![format!(
                    "{count} submissions refused by the sending limit within an hour"
                )],
                message_ids: Vec::new(),
            })
        });
        self.block_if(account, verdict).await
    }

    /// Outbound recipients of one message of `account_id` were settled:
    /// `recipients` in all, `hard_bounces` of them failed for good.
    pub async fn note_outcomes(
        &self,
        account_id: i64,
        recipients: u32,
        hard_bounces: u32,
        message_id: Option<String>,
    ) -> Result<()> {
        if recipients == 0 {
            return Ok(());
        }
        let limits = AbuseSettings::load(self.store.as_ref()).await?;
        let day = self.now().div_euclid(DAY);
        let verdict = self.abuse.with(account_id, |t| {
            if t.day != day {
                (t.day, t.recipients, t.hard_bounces) = (day, 0, 0);
                t.bounced_ids.clear();
            }
            t.recipients += recipients;
            t.hard_bounces += hard_bounces;
            if hard_bounces > 0 && t.bounced_ids.len() < SAMPLES {
                t.bounced_ids.extend(message_id);
            }
            let over = u64::from(t.hard_bounces) * 100
                > u64::from(limits.bounce_percent) * u64::from(t.recipients);
            (t.recipients >= limits.bounce_min_recipients && over).then(|| Verdict {
                reason: "too many hard bounces".into(),
                evidence: vec![format!(
                    "{} of {} recipients today bounced ({}%)",
                    t.hard_bounces,
                    t.recipients,
                    u64::from(t.hard_bounces) * 100 / u64::from(t.recipients)
                )],
                message_ids: t.bounced_ids.clone(),
            })
        });
        if verdict.is_none() {
            return Ok(());
        }
        match self.store.account_by_id(account_id).await? {
            Some(account) => self.block_if(&account, verdict).await,
            None => Ok(()),
        }
    }

    async fn block_if(&self, account: &Account, verdict: Option<Verdict>) -> Result<()> {
        let Some(v) = verdict else { return Ok(()) };
        let block = SendingBlock {
            email: account.email.clone(),
            reason: v.reason,
            evidence: v.evidence,
            message_ids: v.message_ids,
            blocked_at: self.now(),
        };
        if !self
            .store
            .sending_block_set(account.id, Some(block.clone()))
            .await?
        {
            return Ok(()); // already blocked
        }
        tracing::warn!(account = %account.email, reason = %block.reason, "account blocked from sending");
        crate::security::audit::record(
            self.store.as_ref(),
            Some(&account.email),
            None,
            None,
            "sending_blocked",
            Some(block.reason.clone()),
        )
        .await;
        self.notify_block(account, &block).await
    }

    /// Tells the account and the administrators of its domain.
    async fn notify_block(&self, account: &Account, block: &SendingBlock) -> Result<()> {
        let details = format!(
            "Reason: {}\n{}\n{}",
            block.reason,
            block.evidence.join("\n"),
            block
                .message_ids
                .iter()
                .map(|id| format!("Message-ID: {id}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let own = format!(
            "Your account {} can no longer send mail: it sent mail that looked abusive,\n\
             which usually means its password is known to someone else.\n\
             You still receive and read mail.\n\n{details}\n\n\
             To send again: change your password, turn on two-factor authentication (2FA),\n\
             then ask your domain administrator to unblock the account.",
            account.email
        );
        self.deliver_notice(account, "Your account is blocked from sending", &own)
            .await?;
        let domain = crate::address::domain_of(&account.email);
        let admins = format!(
            "The account {} was blocked from sending.\n\n{details}\n\n\
             It appears under Stats > Blocked senders in the portal. It can be unblocked\n\
             there once its password has been changed and 2FA is on.",
            account.email
        );
        let subject = format!("Blocked from sending: {}", account.email);
        for admin in self.store.account_list(None).await? {
            let manages = match admin.role {
                Role::DomainAdmin => self
                    .store
                    .domain_admin_domains(&admin.email)
                    .await?
                    .iter()
                    .any(|d| d == domain),
                _ => false,
            };
            if manages && admin.id != account.id {
                self.deliver_notice(&admin, &subject, &admins).await?;
            }
        }
        Ok(())
    }
}

impl Directory {
    /// Lifts a sending block: only once the password has changed since
    /// the block and 2FA is on, as a leaked password is the usual cause.
    pub async fn unblock_sending(&self, email: &str, by: &str) -> Result<()> {
        let account = self.account(email).await?;
        let Some(block) = self.store.sending_block_get(account.id).await? else {
            return Err(CoreError::Conflict(format!(
                "{email} is not blocked from sending"
            )));
        };
        let new_password = account
            .password_changed_at
            .is_some_and(|at| at >= block.blocked_at);
        if !new_password || !account.two_factor {
            return Err(CoreError::Conflict(format!(
                "{email} can be unblocked once its password has been changed since the block \
                 and 2FA is on (password changed: {}, 2FA: {})",
                if new_password { "yes" } else { "no" },
                if account.two_factor { "on" } else { "off" },
            )));
        }
        self.store.sending_block_set(account.id, None).await?;
        self.audit(
            Some(&account.email),
            None,
            None,
            "sending_unblocked",
            Some(format!("by {by}")),
        )
        .await;
        Ok(())
    }

    pub async fn abuse_settings(&self) -> Result<AbuseSettings> {
        AbuseSettings::load(self.store.as_ref()).await
    }

    pub async fn set_abuse_settings(&self, settings: AbuseSettings) -> Result<()> {
        settings.save(self.store.as_ref()).await
    }

    /// Accounts blocked from sending, in `domain` or everywhere.
    pub async fn sending_blocks(&self, domain: Option<&str>) -> Result<Vec<SendingBlock>> {
        Ok(self.store.sending_block_list(domain).await?)
    }
}

/// The Message-ID of a message, for evidence (`<...>` as in the header).
pub fn message_id_of(body: &[u8]) -> Option<String> {
    let parsed = mail_parser::MessageParser::default().parse_headers(body)?;
    parsed.message_id().map(|id| format!("<{id}>"))
}

#[cfg(test)]
#[path = "abuse_tests.rs"]
mod tests;
