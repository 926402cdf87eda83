//! Two-factor authentication by TOTP (RFC 6238: SHA-1, 6 digits, 30 s
//! steps, one step of clock skew either way), with single-use recovery
//! codes. A code is accepted once: its step is recorded and older or equal
//! steps are refused afterwards (RFC 6238 5.2).

use mailroom_store::{Account, TotpState};
use totp_rs::{Builder, Secret, Totp};

use super::secrets;
use crate::directory::blocking;
use crate::{CoreError, Directory, Result, password};

const RECOVERY_CODES: usize = 10;

/// What a user needs to set up an authenticator app.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Enrolment {
    /// Base32, to type in by hand.
    pub secret: String,
    /// `otpauth://totp/...`, what the QR code carries.
    pub uri: String,
    /// The QR code of `uri`, as an SVG document.
    pub qr_svg: String,
}

impl Enrolment {
    fn new(secret: String, issuer: &str, account: &str) -> Result<Self> {
        let uri = totp(&secret, issuer, account)?
            .to_url()
            .map_err(|e| CoreError::Internal(format!("TOTP URI: {e:?}")))?;
        let qr_svg = super::qr::svg(&uri)?;
        Ok(Self {
            secret,
            uri,
            qr_svg,
        })
    }

    /// The QR code as a PNG image.
    pub fn qr_png(&self) -> Result<Vec<u8>> {
        super::qr::png(&self.uri)
    }
}

fn totp(secret: &str, issuer: &str, account: &str) -> Result<Totp> {
    let bytes = Secret::try_from_base32(secret)
        .map_err(|e| CoreError::Internal(format!("stored TOTP secret: {e:?}")))?;
    Builder::new()
        .with_secret(bytes)
        .with_account_name(account)
        .with_issuer(Some(issuer))
        .build()
        .map_err(|e| CoreError::Internal(format!("TOTP: {e:?}")))
}

impl Directory {
    /// Starts enrolment: a new secret, not in force until confirmed.
    pub async fn totp_setup(&self, email: &str, issuer: &str) -> Result<Enrolment> {
        let account = self.account(email).await?;
        if account.two_factor {
            return Err(CoreError::Conflict(format!(
                "2FA is already on for {}; turn it off first to set up a new app",
                account.email
            )));
        }
        let bytes: [u8; 20] = rand::random();
        let secret = Secret::from(bytes.to_vec()).to_base32();
        let enrolment = Enrolment::new(secret.clone(), issuer, &account.email)?;
        self.store
            .totp_set(
                account.id,
                Some(TotpState {
                    secret: secret.clone(),
                    confirmed: false,
                    last_step: None,
                }),
            )
            .await?;
        Ok(enrolment)
    }

    /// The enrolment started and not yet confirmed, if any.
    pub async fn totp_pending(&self, email: &str, issuer: &str) -> Result<Option<Enrolment>> {
        let account = self.account(email).await?;
        match self.store.totp_get(account.id).await? {
            Some(state) if !state.confirmed => {
                Ok(Some(Enrolment::new(state.secret, issuer, &account.email)?))
            }
            _ => Ok(None),
        }
    }

    /// Turns 2FA on once a code from the app matches; returns the
    /// recovery codes (shown this once, stored hashed).
    pub async fn totp_confirm(&self, email: &str, code: &str) -> Result<Vec<String>> {
        let account = self.account(email).await?;
        let Some(mut state) = self.store.totp_get(account.id).await? else {
            return Err(CoreError::Invalid(
                "2FA setup was not started for this account".into(),
            ));
        };
        if state.confirmed {
            return Err(CoreError::Conflict(format!(
                "2FA is already on for {}",
                account.email
            )));
        }
        let Some(step) = totp(&state.secret, "mailroom", &account.email)?
            .check(code.trim(), self.store.now().max(0) as u64)
        else {
            return Err(CoreError::Invalid(
                "that code does not match; check the device's clock and try the current code"
                    .into(),
            ));
        };
        state.confirmed = true;
        state.last_step = Some(step as i64);
        self.store.totp_set(account.id, Some(state)).await?;
        let codes = self.new_recovery_codes(account.id).await?;
        self.audit(Some(&account.email), None, None, "2fa-enabled", None)
            .await;
        self.refresh_epoch().await;
        Ok(codes)
    }

    /// Turns 2FA off; needs a current code (or a recovery code).
    pub async fn totp_disable(&self, email: &str, code: &str) -> Result<()> {
        let account = self.account(email).await?;
        if !account.two_factor {
            return Err(CoreError::Invalid(format!(
                "2FA is not on for {}",
                account.email
            )));
        }
        if !self.second_factor_ok(&account, code).await? {
            return Err(CoreError::Invalid(
                "that code does not match (or was already used)".into(),
            ));
        }
        self.store.totp_set(account.id, None).await?;
        self.audit(Some(&account.email), None, None, "2fa-disabled", None)
            .await;
        Ok(())
    }

    /// An administrator turns 2FA off for a user who lost the device.
    pub async fn totp_reset(&self, email: &str) -> Result<()> {
        let account = self.account(email).await?;
        self.store.totp_set(account.id, None).await?;
        self.audit(Some(&account.email), None, None, "2fa-reset", None)
            .await;
        Ok(())
    }

    /// New recovery codes in place of the old ones (lost or used up);
    /// needs a current code, shown this once.
    pub async fn recovery_codes_renew(&self, email: &str, code: &str) -> Result<Vec<String>> {
        let account = self.account(email).await?;
        if !account.two_factor {
            return Err(CoreError::Invalid(format!(
                "2FA is not on for {}",
                account.email
            )));
        }
        if !self.second_factor_ok(&account, code).await? {
            return Err(CoreError::Invalid(
                "that code does not match (or was already used)".into(),
            ));
        }
        let codes = self.new_recovery_codes(account.id).await?;
        self.audit(
            Some(&account.email),
            None,
            None,
            "recovery-codes-renewed",
            None,
        )
        .await;
        Ok(codes)
    }

    pub async fn recovery_codes_left(&self, email: &str) -> Result<usize> {
        let account = self.account(email).await?;
        Ok(self.store.recovery_codes_left(account.id).await?)
    }

    /// A TOTP code not used before, or an unused recovery code (used up).
    pub(crate) async fn second_factor_ok(&self, account: &Account, code: &str) -> Result<bool> {
        let Some(state) = self.store.totp_get(account.id).await? else {
            return Ok(false);
        };
        let trimmed = code.trim();
        if trimmed.len() == 6 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            let now = self.store.now().max(0) as u64;
            return Ok(
                match totp(&state.secret, "mailroom", &account.email)?.check(trimmed, now) {
                    Some(step) => self.store.totp_use_step(account.id, step as i64).await?,
                    None => false,
                },
            );
        }
        let normalized = secrets::normalize(trimmed);
        let lookup = secrets::lookup(&normalized);
        let Some(hash) = self.store.recovery_code_get(account.id, &lookup).await? else {
            return Ok(false);
        };
        let matches = blocking(move || Ok(password::verify(&hash, &normalized).matches)).await?;
        if matches && self.store.recovery_code_use(account.id, &lookup).await? {
            self.audit(Some(&account.email), None, None, "recovery-code-used", None)
                .await;
            return Ok(true);
        }
        Ok(false)
    }

    async fn new_recovery_codes(&self, account_id: i64) -> Result<Vec<String>> {
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| secrets::generate(2, 5))
            .collect();
        let plain = codes.clone();
        let stored = blocking(move || {
            plain
                .iter()
                .map(|code| {
                    let normalized = secrets::normalize(code);
                    Ok((secrets::lookup(&normalized), password::hash(&normalized)?))
                })
                .collect::<Result<Vec<_>>>()
        })
        .await?;
        self.store.recovery_codes_set(account_id, stored).await?;
        Ok(codes)
    }
}
