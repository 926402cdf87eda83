//! The spam filter as the mail paths use it: authentication of inbound
//! mail (SPF, DKIM, DMARC, ARC, iprev via mail-auth), scoring with the
//! rules and the Bayesian classifier (mailroom-spam), the domain's
//! thresholds and allow/block lists, greylisting, and training.

mod auth;
mod inspect;
mod lists;
mod train;

use std::sync::Arc;

use mail_auth::MessageAuthenticator;
use mailroom_spam::bayes::{self, Counts};
use mailroom_spam::verdict::Thresholds;
use mailroom_store::{SpamThresholds, Store};

pub use auth::{Authentication, DmarcPolicy};
pub use inspect::{Checked, Filing, InboundCheck, Inspection, OutboundCheck};
pub use lists::ListHit;
pub use mailroom_spam::{Report, ScoreTable, Verdict};

use crate::Result;

/// The global thresholds until a MasterAdmin sets others.
pub const DEFAULT_THRESHOLDS: SpamThresholds = SpamThresholds {
    greylist: 4.0,
    junk: 6.0,
    reject: 15.0,
};

/// Settings of the filter from the start-up config.
pub struct SpamSettings {
    /// DNS for the authentication checks; `None` skips them (a tool that
    /// checks a message on its own).
    pub authenticator: Option<MessageAuthenticator>,
    /// How long an unknown sender must wait before its retry is accepted.
    pub greylist_delay_secs: i64,
}

impl Default for SpamSettings {
    fn default() -> Self {
        SpamSettings {
            authenticator: None,
            greylist_delay_secs: 300,
        }
    }
}

/// A domain's thresholds, else the global ones, else the defaults, and
/// where they came from (`domain`, `global`, `default`).
pub(crate) async fn effective_thresholds(
    store: &dyn Store,
    domain: Option<&str>,
) -> Result<(SpamThresholds, &'static str)> {
    if let Some(name) = domain
        && let Some(t) = store.spam_thresholds(Some(name)).await?
    {
        return Ok((t, "domain"));
    }
    Ok(match store.spam_thresholds(None).await? {
        Some(t) => (t, "global"),
        None => (DEFAULT_THRESHOLDS, "default"),
    })
}

fn thresholds(t: SpamThresholds) -> Thresholds {
    Thresholds {
        greylist: t.greylist,
        junk: t.junk,
        reject: t.reject,
    }
}

/// The score table in force (defaults with the MasterAdmin's overrides).
pub(crate) async fn score_table(store: &dyn Store) -> Result<ScoreTable> {
    Ok(ScoreTable::new(store.spam_scores().await?))
}

/// `owner`'s trained totals and each token's counts, in the tokens' order.
pub(crate) async fn bayes_counts(
    store: &dyn Store,
    owner: i64,
    tokens: Arc<Vec<u64>>,
) -> Result<(Counts, Vec<Counts>)> {
    let counts = |c: mailroom_store::BayesCounts| Counts {
        spam: c.spam,
        ham: c.ham,
    };
    let (totals, each) = store.bayes_lookup(owner, tokens).await?;
    Ok((counts(totals), each.into_iter().map(counts).collect()))
}

/// The classifier's opinion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BayesOpinion {
    pub probability: f64,
    /// From the account's own training, not the global classifier.
    pub own: bool,
}

/// The classifier's opinion for `owner` (an account), from its own
/// counts once it has learned enough, else from the global ones.
pub(crate) async fn bayes_probability(
    store: &dyn Store,
    owner: i64,
    tokens: &Arc<Vec<u64>>,
) -> Result<Option<BayesOpinion>> {
    let owners: &[i64] = if owner == 0 { &[0] } else { &[owner, 0] };
    for &who in owners {
        let (totals, counts) = bayes_counts(store, who, tokens.clone()).await?;
        if let Some(probability) = bayes::spam_probability(counts, totals) {
            return Ok(Some(BayesOpinion {
                probability,
                own: who != 0,
            }));
        }
    }
    Ok(None)
}

/// The resolver for the authentication checks: `nameserver` (`ip:port`),
/// else the system's. Lookups give up after a few seconds: a slow DNS
/// must not hold a delivery for long.
pub fn authenticator(
    nameserver: Option<std::net::SocketAddr>,
) -> std::io::Result<MessageAuthenticator> {
    let (config, mut options) = crate::dns::resolver_config(nameserver)?;
    options.timeout = std::time::Duration::from_secs(3);
    options.attempts = 2;
    // Senders repeat: their SPF, DMARC and key records are asked again
    // and again (answers, including "no such name", kept for their TTL).
    options.cache_size = 16_384;
    // Some resolvers answer "no such name" without the SOA that says how
    // long to remember it; remember it a minute anyway.
    options.negative_min_ttl = Some(std::time::Duration::from_secs(60));
    MessageAuthenticator::new(config, options).map_err(std::io::Error::other)
}

/// The filter's parts held by [`crate::Mail`].
pub struct SpamEngine {
    pub(crate) authenticator: Option<MessageAuthenticator>,
    pub(crate) greylist_delay_secs: i64,
}

impl SpamEngine {
    pub fn new(settings: SpamSettings) -> Arc<SpamEngine> {
        Arc::new(SpamEngine {
            authenticator: settings.authenticator,
            greylist_delay_secs: settings.greylist_delay_secs,
        })
    }
}

impl crate::Mail {
    /// The MasterAdmin's score changes (tag, score).
    pub async fn score_overrides(&self) -> Result<Vec<(String, f64)>> {
        Ok(self.store.spam_scores().await?)
    }

    pub async fn set_score_override(&self, tag: &str, score: Option<f64>) -> Result<()> {
        Ok(self.store.spam_score_set(tag, score).await?)
    }
}
