//! Brute-force protection for every protocol: failed logins counted per
//! client address and per account in a sliding window. Too many from one
//! address bans it (recorded in the store, so every process and the CLI
//! see it), each ban in a row twice as long; too many against one account
//! slow down its logins from addresses it has not logged in from.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use mailroom_store::Ban;

use crate::{CoreError, Directory, Result};

#[derive(Debug, Clone)]
pub struct GuardSettings {
    /// Failures from one address within the window that ban it.
    pub ip_failures: usize,
    /// Failures against one account within the window that slow it down.
    pub account_failures: usize,
    pub window_secs: i64,
    /// The first ban; each further one doubles, up to a week.
    pub ban_secs: i64,
    /// The pause for an attacked account's logins from new addresses.
    pub slowdown: Duration,
    /// Portal/API sessions end after this long without a request.
    pub session_idle_secs: i64,
}

impl Default for GuardSettings {
    fn default() -> Self {
        Self {
            ip_failures: 10,
            account_failures: 20,
            window_secs: 600,
            ban_secs: 900,
            slowdown: Duration::from_secs(3),
            session_idle_secs: 12 * 3600,
        }
    }
}

const MAX_BAN_SECS: i64 = 7 * 86_400;

#[derive(Default)]
pub struct Guard {
    pub(crate) settings: GuardSettings,
    ip_failures: Mutex<HashMap<String, Vec<i64>>>,
    account_failures: Mutex<HashMap<String, Vec<i64>>>,
    /// Addresses each account logged in from successfully.
    known: Mutex<HashMap<String, HashSet<String>>>,
}

impl Guard {
    pub fn new(settings: GuardSettings) -> Self {
        Self {
            settings,
            ..Self::default()
        }
    }

    /// Adds a failure at `now`; the count within the window.
    fn count(map: &Mutex<HashMap<String, Vec<i64>>>, key: &str, now: i64, window: i64) -> usize {
        let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
        let times = map.entry(key.to_string()).or_default();
        times.retain(|&t| now - t < window);
        times.push(now);
        times.len()
    }

    fn recent(map: &Mutex<HashMap<String, Vec<i64>>>, key: &str, now: i64, window: i64) -> usize {
        let map = map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .map_or(0, |t| t.iter().filter(|&&t| now - t < window).count())
    }
}

impl Directory {
    /// The ban on `ip`, if one is in force.
    pub async fn active_ban(&self, ip: &str) -> Result<Option<Ban>> {
        let now = self.store.now();
        Ok(self.store.ban_get(ip).await?.filter(|b| b.until > now))
    }

    /// Waits if the account is under attack and `ip` is new to it.
    pub(crate) async fn pace(&self, email: &str, ip: &str) {
        let guard = &self.guard;
        let s = &guard.settings;
        let under_attack = Guard::recent(
            &guard.account_failures,
            email,
            self.store.now(),
            s.window_secs,
        ) >= s.account_failures;
        let known = guard
            .known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(email)
            .is_some_and(|ips| ips.contains(ip));
        if under_attack && !known {
            tokio::time::sleep(s.slowdown).await;
        }
    }

    pub(crate) fn login_succeeded(&self, email: &str, ip: &str) {
        let mut known = self.guard.known.lock().unwrap_or_else(|e| e.into_inner());
        known
            .entry(email.to_string())
            .or_default()
            .insert(ip.to_string());
        self.guard
            .ip_failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(ip);
    }

    /// Counts a failure; bans the address when it had too many.
    pub(crate) async fn login_failed(&self, email: &str, ip: &str) -> Result<()> {
        let now = self.store.now();
        let s = self.guard.settings.clone();
        Guard::count(&self.guard.account_failures, email, now, s.window_secs);
        let failures = Guard::count(&self.guard.ip_failures, ip, now, s.window_secs);
        if failures < s.ip_failures {
            return Ok(());
        }
        self.guard
            .ip_failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(ip);
        // Repeat offenders (banned within the last day) get twice as long.
        let strikes = match self.store.ban_get(ip).await? {
            Some(previous) if now - previous.until < 86_400 => previous.strikes + 1,
            _ => 1,
        };
        let secs = (s.ban_secs << (strikes - 1).min(20)).min(MAX_BAN_SECS);
        let reason = format!("{failures} failed logins in {} minutes", s.window_secs / 60);
        self.store
            .ban_set(Ban {
                ip: ip.to_string(),
                until: now + secs,
                strikes,
                reason: reason.clone(),
                created_at: now,
            })
            .await?;
        tracing::warn!(%ip, strikes, secs, "address banned after failed logins");
        self.audit(
            None,
            Some(ip),
            None,
            "banned",
            Some(format!("{reason}; for {} minutes", secs / 60)),
        )
        .await;
        Ok(())
    }

    /// Bans in force, for administrators.
    pub async fn bans(&self) -> Result<Vec<Ban>> {
        let now = self.store.now();
        Ok(self
            .store
            .ban_list()
            .await?
            .into_iter()
            .filter(|b| b.until > now)
            .collect())
    }

    pub async fn unban(&self, ip: &str) -> Result<()> {
        let ip = ip.trim();
        match self.active_ban(ip).await? {
            Some(mut ban) => {
                // Keep the row (expired) so a relapse still counts as one.
                ban.until = self.store.now();
                self.store.ban_set(ban).await?;
                self.audit(None, Some(ip), None, "unbanned", None).await;
                Ok(())
            }
            None => Err(CoreError::NotFound(format!("ban of {ip}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use mailroom_store::{Role, SqliteStore, SystemClock};

    use super::GuardSettings;
    use crate::Directory;
    use crate::directory::{NewAccountRequest, PasswordInput};
    use crate::security::{LoginRequest, Protocol};

    async fn attempt(directory: &Directory, secret: &str, ip: [u8; 4]) -> Duration {
        let start = tokio::time::Instant::now();
        directory
            .login(LoginRequest {
                email: "bob@example.test",
                secret,
                code: None,
                protocol: Protocol::Imap,
                ip: IpAddr::from(ip),
            })
            .await
            .unwrap()
            .ok();
        start.elapsed()
    }

    // Paused time: a sleep in the guard shows as exactly its length.
    #[tokio::test(start_paused = true)]
    async fn an_attacked_account_is_slow_only_for_addresses_it_does_not_know() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(tmp.path(), Arc::new(SystemClock)).unwrap());
        let directory = Directory::with_guard(
            store,
            GuardSettings {
                ip_failures: 100,
                account_failures: 3,
                slowdown: Duration::from_secs(5),
                ..GuardSettings::default()
            },
        );
        directory.add_domain("example.test").await.unwrap();
        directory
            .add_account(NewAccountRequest {
                email: "bob@example.test".into(),
                password: PasswordInput::Plain("Correct1HorseBattery".into()),
                role: Role::MailUser,
                quota_bytes: None,
            })
            .await
            .unwrap();
        let home = [192, 0, 2, 1];
        assert!(attempt(&directory, "Correct1HorseBattery", home).await < Duration::from_secs(1));
        for n in 0..3 {
            attempt(&directory, "Wrong1Password2", [198, 51, 100, n]).await;
        }
        let elsewhere = attempt(&directory, "Correct1HorseBattery", [203, 0, 113, 9]).await;
        assert!(elsewhere >= Duration::from_secs(5), "{elsewhere:?}");
        let known = attempt(&directory, "Correct1HorseBattery", home).await;
        assert!(known < Duration::from_secs(1), "{known:?}");
    }
}
