//! Recipient resolution: RCPT TO address -> the accounts that get a copy.

use std::collections::HashSet;

use mailroom_store::{Account, Role};

use super::Mail;
use crate::Result;

/// Alias chains deeper than this are a configuration error, not mail.
const MAX_DEPTH: usize = 16;

/// A recipient we accept, and where its copies go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The canonical address (lower-case, tag kept).
    pub address: String,
    /// Local accounts, each once.
    pub accounts: Vec<Account>,
}

/// Why a recipient is refused; front-ends turn these into replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The domain is not hosted here (we are no open relay).
    NotHosted,
    /// The domain is hosted but nothing answers to the address.
    UnknownUser,
    /// The account exists but is disabled.
    Disabled,
    /// The domain is suspended: try again later.
    DomainSuspended,
    /// Over the storage quota: try again later.
    MailboxFull,
    /// The address forwards to another domain, and outbound delivery is
    /// not available: try again later rather than lose it.
    ForwardingUnavailable,
}

struct Expansion {
    accounts: Vec<Account>,
    external: Vec<String>,
    disabled: usize,
}

impl Mail {
    /// Resolves a RCPT TO address. `declared_size` is the SIZE the client
    /// announced, checked against the quota early.
    pub async fn resolve(
        &self,
        address: &str,
        declared_size: Option<u64>,
    ) -> Result<std::result::Result<Resolved, Refusal>> {
        let Some((local, domain)) = address.rsplit_once('@') else {
            return Ok(Err(Refusal::NotHosted));
        };
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let local = local.to_lowercase();
        let Some(hosted) = self.store.domain_get(&domain).await? else {
            return Ok(Err(Refusal::NotHosted));
        };
        if hosted.suspended {
            return Ok(Err(Refusal::DomainSuspended));
        }
        let canonical = format!("{local}@{domain}");
        let Some(expansion) = self.expand_recipient(&local, &domain).await? else {
            return Ok(Err(Refusal::UnknownUser));
        };
        if expansion.accounts.is_empty() && expansion.external.is_empty() {
            return Ok(Err(if expansion.disabled > 0 {
                Refusal::Disabled
            } else {
                Refusal::UnknownUser
            }));
        }
        if !expansion.external.is_empty() {
            return Ok(Err(Refusal::ForwardingUnavailable));
        }
        let extra = declared_size.unwrap_or(0);
        if expansion.accounts.iter().any(|a| over_quota(a, extra)) {
            return Ok(Err(Refusal::MailboxFull));
        }
        Ok(Ok(Resolved {
            address: canonical,
            accounts: expansion.accounts,
        }))
    }

    /// Finds what answers to `local@domain`: the exact address, then without
    /// its +tag, then the domain's catch-all, then postmaster's fallback.
    async fn expand_recipient(&self, local: &str, domain: &str) -> Result<Option<Expansion>> {
        let mut candidates = vec![format!("{local}@{domain}")];
        let delimiter = &self.settings.recipient_delimiter;
        if !delimiter.is_empty()
            && let Some((base, _tag)) = local.split_once(delimiter.as_str())
            && !base.is_empty()
        {
            candidates.push(format!("{base}@{domain}"));
        }
        candidates.push(format!("@{domain}"));
        for candidate in &candidates {
            if let Some(expansion) = self.expand(candidate).await? {
                return Ok(Some(expansion));
            }
        }
        // RFC 5321 4.5.1: every domain accepts mail for postmaster.
        if local == "postmaster" {
            let masters = self
                .store
                .account_list(None)
                .await?
                .into_iter()
                .filter(|a| a.role == Role::MasterAdmin && a.enabled)
                .take(1)
                .collect::<Vec<_>>();
            if !masters.is_empty() {
                return Ok(Some(Expansion {
                    accounts: masters,
                    external: Vec::new(),
                    disabled: 0,
                }));
            }
        }
        Ok(None)
    }

    /// Expands an account or alias address into accounts and external
    /// addresses; `None` if nothing has that address.
    async fn expand(&self, start: &str) -> Result<Option<Expansion>> {
        let mut expansion = Expansion {
            accounts: Vec::new(),
            external: Vec::new(),
            disabled: 0,
        };
        let mut seen = HashSet::new();
        let mut accounts_seen = HashSet::new();
        let mut stack = vec![(start.to_string(), 0usize)];
        let mut found = false;
        while let Some((address, depth)) = stack.pop() {
            if depth > MAX_DEPTH || !seen.insert(address.clone()) {
                continue;
            }
            if let Some(account) = self.store.account_get(&address).await? {
                found = true;
                if !account.enabled {
                    expansion.disabled += 1;
                } else if accounts_seen.insert(account.id) {
                    expansion.accounts.push(account);
                }
                continue;
            }
            if let Some(alias) = self.store.alias_get(&address).await? {
                found = true;
                for next in alias.destinations {
                    stack.push((next, depth + 1));
                }
                continue;
            }
            if depth > 0 {
                let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
                if self.store.domain_get(domain).await?.is_none() {
                    expansion.external.push(address);
                }
                // A hosted destination that vanished is skipped.
            }
        }
        Ok(found.then_some(expansion))
    }
}

pub(crate) fn over_quota(account: &Account, extra: u64) -> bool {
    account.quota_bytes.is_some_and(|quota| {
        account.used_bytes >= quota || account.used_bytes.saturating_add(extra) > quota
    })
}
