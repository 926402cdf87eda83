//! Stats of a domain: its accounts and storage now, and the mail it
//! received, sent and refused per day.

use mailroom_store::DayStats;
use serde::Serialize;

use super::Directory;
use crate::{Result, address};

/// The longest period one request may ask for.
pub const MAX_DAYS: u32 = 366;

/// One day of a domain's mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    pub received: u64,
    pub sent: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DomainStats {
    pub domain: String,
    pub accounts: u32,
    pub aliases: u32,
    pub storage_bytes: u64,
    pub blocked_senders: usize,
    /// Over the whole period.
    pub received: u64,
    pub sent: u64,
    pub rejected: u64,
    /// Every day of the period, oldest first (days without mail at 0).
    pub days: Vec<Day>,
}

impl Directory {
    /// The last `days` days (today included) of `domain`.
    pub async fn domain_stats(&self, domain: &str, days: u32) -> Result<DomainStats> {
        let domain = address::domain(domain)?;
        let (_, usage) = self.store.domain_limits(&domain).await?;
        let today = self.store.now().div_euclid(86_400);
        let first = today - i64::from(days.clamp(1, MAX_DAYS)) + 1;
        let counted = self.store.stats_days(&domain, first).await?;
        let days: Vec<Day> = (first..=today)
            .map(|day| {
                let c = counted
                    .iter()
                    .find(|c| c.day == day)
                    .copied()
                    .unwrap_or(DayStats {
                        day,
                        ..DayStats::default()
                    });
                Day {
                    date: crate::time::iso_date(day),
                    received: c.received,
                    sent: c.sent,
                    rejected: c.rejected,
                }
            })
            .collect();
        Ok(DomainStats {
            blocked_senders: self.store.sending_block_list(Some(&domain)).await?.len(),
            accounts: usage.accounts,
            aliases: usage.aliases,
            storage_bytes: usage.used_bytes,
            received: days.iter().map(|d| d.received).sum(),
            sent: days.iter().map(|d| d.sent).sum(),
            rejected: days.iter().map(|d| d.rejected).sum(),
            domain,
            days,
        })
    }
}
