//! Portal and API sessions, and API keys. A session comes from a login
//! (password, plus a code with 2FA); one account has one live session:
//! a new login ends the older one, whose next request is told so. API
//! keys are for scripts: named, read-only or read-write, optionally
//! expiring, revocable, and not ended by logins. Both are random 256-bit
//! tokens stored only as their BLAKE3 digest (too random to guess or to
//! recover from the digest; argon2 would cost a core per request).

use mailroom_store::{Account, ApiKey};

use super::Login;
use crate::{CoreError, Directory, Result};

/// A session's last use is written at most this often.
const TOUCH_EVERY: i64 = 60;

const SESSION_PREFIX: &str = "mrs_";
const KEY_PREFIX: &str = "mrk_";

/// Who a request is from, and through what.
#[derive(Debug, Clone)]
pub struct Authorized {
    pub account: Account,
    /// Read-only API keys may only read.
    pub read_only: bool,
    /// Re-enabled after the 2FA policy: may only set up 2FA.
    pub enrol_only: bool,
}

/// Why a request's credentials are not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unauthorized {
    /// `401 invalid_authorization` with this sentence.
    Invalid(&'static str),
    /// `403 api_access_disabled`.
    ApiAccessDisabled,
}

fn token(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

fn digest(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// The longest lifetime an API key may be given.
const MAX_KEY_LIFETIME_SECS: i64 = 10 * 365 * 86_400;

impl Directory {
    /// Starts the session of a login; the token is returned this once.
    pub async fn start_session(&self, login: &Login, ip: &str) -> Result<String> {
        let token = token(SESSION_PREFIX);
        self.store
            .session_start(login.account.id, &digest(&token), ip)
            .await?;
        Ok(token)
    }

    pub async fn end_session(&self, token: &str) -> Result<()> {
        if let Some(session) = self.store.session_get(&digest(token)).await? {
            self.store.session_end(session.id, "logout").await?;
        }
        Ok(())
    }

    /// Checks a session token or API key from a request.
    pub async fn authorize(
        &self,
        token: &str,
    ) -> Result<std::result::Result<Authorized, Unauthorized>> {
        let now = self.store.now();
        let (account_id, read_only) = if token.starts_with(KEY_PREFIX) {
            let Some(key) = self.store.api_key_get(&digest(token)).await? else {
                return Ok(Err(Unauthorized::Invalid(
                    "Invalid authorization: unknown or revoked API key",
                )));
            };
            if key.expires_at.is_some_and(|at| at <= now) {
                return Ok(Err(Unauthorized::Invalid(
                    "Invalid authorization: this API key has expired",
                )));
            }
            if key.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY) {
                self.store.api_key_used(key.id).await?;
            }
            (key.account_id, key.read_only)
        } else {
            let Some(session) = self.store.session_get(&digest(token)).await? else {
                return Ok(Err(Unauthorized::Invalid(
                    "Invalid authorization: please log in",
                )));
            };
            match session.ended.as_deref() {
                Some("replaced") => {
                    return Ok(Err(Unauthorized::Invalid(
                        "Invalid authorization: this session was ended by a newer login",
                    )));
                }
                Some("password-changed") => {
                    return Ok(Err(Unauthorized::Invalid(
                        "Invalid authorization: the password was changed; please log in again",
                    )));
                }
                Some(_) => {
                    return Ok(Err(Unauthorized::Invalid(
                        "Invalid authorization: this session has ended; please log in again",
                    )));
                }
                None => {}
            }
            if now - session.last_seen_at >= self.guard.settings.session_idle_secs {
                self.store.session_end(session.id, "expired").await?;
                return Ok(Err(Unauthorized::Invalid(
                    "Invalid authorization: the session expired after a long time without use; please log in again",
                )));
            }
            if now - session.last_seen_at >= TOUCH_EVERY {
                self.store.session_touch(session.id).await?;
            }
            (session.account_id, false)
        };
        let Some(account) = self.store.account_by_id(account_id).await? else {
            return Ok(Err(Unauthorized::Invalid(
                "Invalid authorization: the account no longer exists",
            )));
        };
        if !account.enabled {
            return Ok(Err(Unauthorized::Invalid(
                "Invalid authorization: the account is disabled",
            )));
        }
        if !account.api_access {
            return Ok(Err(Unauthorized::ApiAccessDisabled));
        }
        let enrol_only = account.must_enroll && !account.two_factor;
        Ok(Ok(Authorized {
            account,
            read_only,
            enrol_only,
        }))
    }

    /// A user changes its own password: the current one is required, and
    /// every other session of the account ends (`keep`: the caller's).
    pub async fn change_own_password(
        &self,
        email: &str,
        current: &str,
        new: &str,
        keep: Option<&str>,
    ) -> Result<()> {
        let mut account = self.account(email).await?;
        if !self.check_password(&mut account, current).await? {
            return Err(CoreError::Invalid(
                "the current password is not right".into(),
            ));
        }
        self.store_password(
            &account.email,
            crate::directory::PasswordInput::Plain(new.to_string()),
        )
        .await?;
        self.store
            .sessions_end_others(account.id, keep.map(digest).as_deref(), "password-changed")
            .await?;
        Ok(())
    }

    /// A new API key; the key is returned this once.
    pub async fn add_api_key(
        &self,
        email: &str,
        name: &str,
        read_only: bool,
        expires_in_secs: Option<i64>,
    ) -> Result<(ApiKey, String)> {
        let account = self.account(email).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(CoreError::Invalid(
                "an API key needs a name of 1 to 64 characters".into(),
            ));
        }
        // A lifetime from a minute to ten years: zero or negative would
        // make a key that never worked, a huge one would wrap around.
        if let Some(secs) = expires_in_secs
            && !(60..=MAX_KEY_LIFETIME_SECS).contains(&secs)
        {
            return Err(CoreError::Invalid(format!(
                "expires_in_secs: from 60 to {MAX_KEY_LIFETIME_SECS} (ten years), or none for a key that does not expire"
            )));
        }
        let now = self.store.now();
        let key = token(KEY_PREFIX);
        let stored = self
            .store
            .api_key_add(ApiKey {
                id: 0,
                account_id: account.id,
                name: name.to_string(),
                digest: digest(&key),
                read_only,
                created_at: now,
                expires_at: expires_in_secs.map(|s| now + s),
                last_used_at: None,
            })
            .await?;
        self.audit(
            Some(&account.email),
            None,
            None,
            "api-key-created",
            Some(name.to_string()),
        )
        .await;
        Ok((stored, key))
    }

    pub async fn api_keys(&self, email: &str) -> Result<Vec<ApiKey>> {
        let account = self.account(email).await?;
        Ok(self.store.api_key_list(account.id).await?)
    }

    pub async fn revoke_api_key(&self, email: &str, name: &str) -> Result<()> {
        let account = self.account(email).await?;
        if !self.store.api_key_remove(account.id, name.trim()).await? {
            return Err(CoreError::NotFound(format!(
                "API key {:?} of {}",
                name.trim(),
                account.email
            )));
        }
        self.audit(
            Some(&account.email),
            None,
            None,
            "api-key-revoked",
            Some(name.trim().to_string()),
        )
        .await;
        Ok(())
    }
}
