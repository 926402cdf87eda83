//! Sending quotas: a leaky bucket per account for mail to hosted domains
//! (local) and one for mail elsewhere (external). Defaults apply unless a
//! MasterAdmin sets a global value or one for the account. Bounces, DSNs
//! and system notices are never counted: only user submissions call this.

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

/// Store key of the global values.
const GLOBAL: i64 = 0;

fn default_for(class: SendClass) -> SendLimit {
    match class {
        SendClass::Local => DEFAULT_LOCAL,
        SendClass::External => DEFAULT_EXTERNAL,
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
}

impl Directory {
    /// The limits in force for an account and how full its buckets are.
    pub async fn sending_limits(&self, email: &str) -> Result<Vec<SendingLimit>> {
        let account = self.account(email).await?;
        let mut limits = Vec::new();
        for class in SendClass::ALL {
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
