//! The security log: who logged in (or failed to) from where over which
//! protocol, and every change to how an account is protected.

use mailroom_store::{SecurityEvent, Store};

use crate::Directory;

/// Records an event; a failure to record is logged, never fatal.
pub(crate) async fn record(
    store: &dyn Store,
    account: Option<&str>,
    ip: Option<&str>,
    protocol: Option<&str>,
    event: &str,
    detail: Option<String>,
) {
    let entry = SecurityEvent {
        at: store.now(),
        account: account.map(str::to_string),
        ip: ip.map(str::to_string),
        protocol: protocol.map(str::to_string),
        event: event.to_string(),
        detail,
    };
    if let Err(error) = store.security_event_add(entry).await {
        tracing::error!(%error, event, "cannot record a security event");
    }
}

impl Directory {
    /// Records an event; a failure to record is logged, never fatal.
    pub async fn audit(
        &self,
        account: Option<&str>,
        ip: Option<&str>,
        protocol: Option<&str>,
        event: &str,
        detail: Option<String>,
    ) {
        record(self.store.as_ref(), account, ip, protocol, event, detail).await;
    }

    /// Newest first; `since` in seconds since the epoch.
    pub async fn security_log(
        &self,
        account: Option<&str>,
        since: Option<i64>,
        limit: usize,
    ) -> crate::Result<Vec<SecurityEvent>> {
        let account = match account {
            Some(a) => Some(crate::address::email(a)?),
            None => None,
        };
        Ok(self
            .store
            .security_events(account.as_deref(), since, limit)
            .await?)
    }
}
