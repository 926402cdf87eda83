//! Limits a MasterAdmin sets on a customer's domain: how many accounts and
//! aliases it may have, and how much storage its accounts may be given in
//! quotas (with a storage limit, every account needs a quota). Adding an
//! account or alias, or raising a quota, past a limit is refused with the
//! limit in the message.

use mailroom_store::{DomainLimits, DomainUsage};
use serde::Serialize;

use super::Directory;
use crate::{CoreError, Result, address, size};

#[derive(Debug, Clone, Serialize)]
pub struct DomainLimitsView {
    pub limits: DomainLimits,
    pub usage: DomainUsage,
}

/// A change a new account or alias, or a quota change, would make.
pub(crate) enum Growth {
    /// One more account with this quota (`None`: unlimited).
    Account(Option<u64>),
    /// One more alias.
    Alias,
    /// An account's quota goes from `old` to `new`.
    Quota { old: Option<u64>, new: Option<u64> },
}

impl Directory {
    pub async fn domain_limits(&self, domain: &str) -> Result<DomainLimitsView> {
        let domain = address::domain(domain)?;
        let (limits, usage) = self.store.domain_limits(&domain).await?;
        Ok(DomainLimitsView { limits, usage })
    }

    pub async fn set_domain_limits(
        &self,
        domain: &str,
        limits: DomainLimits,
    ) -> Result<DomainLimitsView> {
        let domain = address::domain(domain)?;
        self.store.domain_limits_set(&domain, limits).await?;
        self.domain_limits(&domain).await
    }

    /// Refuses a change that would take the domain past a limit.
    pub(crate) async fn check_limits(&self, domain: &str, growth: Growth) -> Result<()> {
        let (limits, usage) = self.store.domain_limits(domain).await?;
        let over = |what: String| {
            Err(CoreError::Conflict(format!(
                "{domain} has reached its limit of {what}; ask your provider to raise it"
            )))
        };
        match growth {
            Growth::Account(quota) => {
                if let Some(max) = limits.max_accounts
                    && usage.accounts >= max
                {
                    return over(format!("{max} accounts"));
                }
                self.check_storage(domain, &limits, &usage, None, quota)
            }
            Growth::Alias => match limits.max_aliases {
                Some(max) if usage.aliases >= max => over(format!("{max} aliases")),
                _ => Ok(()),
            },
            Growth::Quota { old, new } => self.check_storage(domain, &limits, &usage, old, new),
        }
    }

    fn check_storage(
        &self,
        domain: &str,
        limits: &DomainLimits,
        usage: &DomainUsage,
        old: Option<u64>,
        new: Option<u64>,
    ) -> Result<()> {
        let Some(max) = limits.max_storage_bytes else {
            return Ok(());
        };
        let Some(new) = new else {
            return Err(CoreError::Invalid(format!(
                "{domain} has a storage limit of {}: give the account a quota",
                size::format(max)
            )));
        };
        let allocated = usage.allocated_bytes - old.unwrap_or(0).min(usage.allocated_bytes) + new;
        if allocated > max {
            return Err(CoreError::Conflict(format!(
                "{domain} has reached its limit of {} of storage ({} given to accounts already); ask your provider to raise it",
                size::format(max),
                size::format(usage.allocated_bytes)
            )));
        }
        Ok(())
    }
}
