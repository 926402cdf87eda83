//! Sending quotas: a leaky bucket per account for mail to hosted domains
//! (local) and one for mail elsewhere (external). Defaults apply unless a
//! MasterAdmin sets a global value or one for the account. Bounces, DSNs
//! and system notices are never counted: only user submissions call this.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use mailroom_store::{Account, SendClass, SendLimit, Store};
use serde::Serialize;

use crate::Result;
use crate::directory::Directory;
use crate::mail::Mail;

/// 200 messages, one more allowed every minute.
pub const DEFAULT_LOCAL: SendLimit = SendLimit {
    capacity: 200,
    drain_secs: 60,
};
/// 50 messages, one more allowed every 3.6 minutes.
pub const DEFAULT_EXTERNAL: SendLimit = SendLimit {
    capacity: 50,
    drain_secs: 216,
};

/// 500 recipients from one client address, one more every 7 seconds
/// (about 500 an hour).
pub const DEFAULT_PER_IP: SendLimit = SendLimit {
    capacity: 500,
    drain_secs: 7,
};

/// Store key of the global values.
const GLOBAL: i64 = 0;

fn default_for(class: SendClass) -> SendLimit {
    match class {
        SendClass::Local => DEFAULT_LOCAL,
        SendClass::External => DEFAULT_EXTERNAL,
        SendClass::PerIp => DEFAULT_PER_IP,
    }
}

/// A limit in force and where it was set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SendingLimit {
    pub class: SendClass,
    #[serde(serialize_with = "as_text")]
    pub limit: SendLimit,
    /// "account", "global" or "default".
    pub source: &'static str,
    /// Messages in the bucket now (only for an account).
    pub used: Option<f64>,
}

fn as_text<S: serde::Serializer>(limit: &SendLimit, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&limit.to_string())
}

async fn in_force(store: &dyn Store, account_id: i64, class: SendClass) -> Result<SendingLimit> {
    let own = if account_id == GLOBAL {
        None
    } else {
        store.send_limit_get(account_id, class).await?
    };
    let (limit, source) = if let Some(l) = own {
        (l, "account")
    } else if let Some(l) = store.send_limit_get(GLOBAL, class).await? {
        (l, "global")
    } else {
        (default_for(class), "default")
    };
    Ok(SendingLimit {
        class,
        limit,
        source,
        used: None,
    })
}

impl Mail {
    /// Counts one message to a recipient of `class`; `Some(seconds)` until
    /// the next is allowed when the bucket is full.
    pub async fn take_sending(&self, account: &Account, class: SendClass) -> Result<Option<u64>> {
        let limit = in_force(self.store.as_ref(), account.id, class)
            .await?
            .limit;
        Ok(self.store.send_take(account.id, class, limit, 1).await?)
    }

    /// Counts one recipient submitted from `ip`; `Some(seconds)` until the
    /// next is allowed when the address has sent too many. Kept in memory:
    /// it guards against a burst, not a budget to report.
    pub async fn take_ip_sending(&self, ip: IpAddr) -> Result<Option<u64>> {
        let limit = in_force(self.store.as_ref(), GLOBAL, SendClass::PerIp)
            .await?
            .limit;
        Ok(self.ip_buckets.take(ip, limit, self.now()))
    }
}

/// Leaky buckets per client address, in memory.
#[derive(Default)]
pub struct IpBuckets {
    levels: Mutex<HashMap<IpAddr, (f64, i64)>>,
}

/// Addresses remembered before empty buckets are forgotten.
const IP_BUCKETS_KEPT: usize = 10_000;

impl IpBuckets {
    fn take(&self, ip: IpAddr, limit: SendLimit, now: i64) -> Option<u64> {
        let drain = f64::from(limit.drain_secs);
        let level_at =
            |(level, at): (f64, i64)| (level - (now - at).max(0) as f64 / drain).max(0.0);
        let mut levels = self.levels.lock().unwrap_or_else(PoisonError::into_inner);
        if levels.len() > IP_BUCKETS_KEPT {
            levels.retain(|_, entry| level_at(*entry) > 0.0);
        }
        let level = levels.get(&ip).copied().map_or(0.0, level_at);
        let after = level + 1.0;
        if after > f64::from(limit.capacity) + 1e-9 {
            let wait = ((after - f64::from(limit.capacity)) * drain).ceil();
            return Some(wait.max(1.0) as u64);
        }
        levels.insert(ip, (after, now));
        None
    }
}

impl Directory {
    /// The limits in force for an account and how full its buckets are.
    pub async fn sending_limits(&self, email: &str) -> Result<Vec<SendingLimit>> {
        let account = self.account(email).await?;
        let mut limits = Vec::new();
        for class in SendClass::ACCOUNT {
            let mut found = in_force(self.store().as_ref(), account.id, class).await?;
            let level = self
                .store()
                .send_level(account.id, class, found.limit)
                .await?;
            found.used = Some((level * 10.0).round() / 10.0);
            limits.push(found);
        }
        Ok(limits)
    }

    /// The global values (defaults where none is set).
    pub async fn global_sending_limits(&self) -> Result<Vec<SendingLimit>> {
        let mut limits = Vec::new();
        for class in SendClass::ALL {
            limits.push(in_force(self.store().as_ref(), GLOBAL, class).await?);
        }
        Ok(limits)
    }

    /// Sets (or with `None` returns to the global value) an account's
    /// limit, or the global one when `email` is `None`.
    pub async fn set_sending_limit(
        &self,
        email: Option<&str>,
        class: SendClass,
        limit: Option<SendLimit>,
    ) -> Result<()> {
        let account_id = match email {
            Some(email) => self.account(email).await?.id,
            None => GLOBAL,
        };
        Ok(self
            .store()
            .send_limit_set(account_id, class, limit)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_bucket_fills_and_drains() {
        let buckets = IpBuckets::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let limit = SendLimit {
            capacity: 2,
            drain_secs: 10,
        };
        assert_eq!(buckets.take(ip, limit, 100), None);
        assert_eq!(buckets.take(ip, limit, 100), None);
        assert_eq!(buckets.take(ip, limit, 100), Some(10));
        assert_eq!(buckets.take(other, limit, 100), None);
        assert_eq!(buckets.take(ip, limit, 105), Some(5));
        assert_eq!(buckets.take(ip, limit, 110), None);
    }
}
