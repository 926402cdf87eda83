//! The one decision "may this account log in, with this secret, over this
//! protocol": every front-end asks here and turns the answer into its own
//! reply. Wrong addresses, wrong passwords and disabled accounts get the
//! same answer; the specific hints (use a device password, API access is
//! off, a code is needed) are only given to someone who knew the password.

use std::net::IpAddr;
use std::sync::OnceLock;

use mailroom_store::Account;

use crate::directory::blocking;
use crate::{Directory, Result, address, password};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Imap,
    Pop3,
    Smtp,
    Portal,
    Api,
    Webmail,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Smtp => "smtp",
            Protocol::Portal => "portal",
            Protocol::Api => "api",
            Protocol::Webmail => "webmail",
        }
    }

    /// Third-party mail clients: device passwords, no TOTP prompt.
    fn is_mail_client(self) -> bool {
        matches!(self, Protocol::Imap | Protocol::Pop3 | Protocol::Smtp)
    }
}

pub struct LoginRequest<'a> {
    pub email: &'a str,
    pub secret: &'a str,
    /// A TOTP or recovery code (portal, API, webmail).
    pub code: Option<&'a str>,
    pub protocol: Protocol,
    pub ip: IpAddr,
}

/// What the user logged in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Password,
    /// A device password, by name.
    Device(String),
}

#[derive(Debug, Clone)]
pub struct Login {
    pub account: Account,
    pub credential: Credential,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// Unknown address, wrong secret or disabled account: one answer.
    Invalid,
    /// The account password over IMAP/POP3/SMTP while 2FA is on.
    DevicePasswordRequired,
    /// The account may not use the API or the portal.
    ApiAccessDisabled,
    /// 2FA is on: a code is needed (`given` says whether a wrong one came).
    CodeRequired { given: bool },
    /// Too many failures from this address.
    Banned { until: i64 },
    /// Re-enabled after the 2FA policy disabled it: 2FA must be set up
    /// (in the portal) before anything else works.
    EnrolmentRequired,
}

impl Denial {
    /// What to tell a mail client's user, for the denials that come only
    /// after a right password (so they reveal nothing to a guesser).
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Denial::DevicePasswordRequired => Some("Use a device password (2FA is enabled)"),
            Denial::EnrolmentRequired => {
                Some("Set up 2FA in the portal first (the account was disabled for not having it)")
            }
            _ => None,
        }
    }

    fn counts_as_failure(&self) -> bool {
        matches!(self, Denial::Invalid | Denial::CodeRequired { given: true })
    }

    fn describe(&self) -> &'static str {
        match self {
            Denial::Invalid => "wrong address or secret, or account disabled",
            Denial::DevicePasswordRequired => "account password used while 2FA is on",
            Denial::ApiAccessDisabled => "API access is off",
            Denial::CodeRequired { given: false } => "second factor needed",
            Denial::CodeRequired { given: true } => "wrong second factor",
            Denial::Banned { .. } => "address banned",
            Denial::EnrolmentRequired => "2FA must be set up first",
        }
    }
}

impl Directory {
    pub async fn login(&self, req: LoginRequest<'_>) -> Result<std::result::Result<Login, Denial>> {
        let ip = req.ip.to_string();
        let email = address::email(req.email).unwrap_or_else(|_| req.email.to_lowercase());
        let protocol = req.protocol.as_str();
        if let Some(ban) = self.active_ban(&ip).await? {
            self.audit(
                Some(&email),
                Some(&ip),
                Some(protocol),
                "login-refused",
                Some("address banned".into()),
            )
            .await;
            return Ok(Err(Denial::Banned { until: ban.until }));
        }
        self.pace(&email, &ip).await;
        let outcome = self.decide(&email, &req).await?;
        match &outcome {
            Ok(login) => {
                self.login_succeeded(&email, &ip);
                let detail = match &login.credential {
                    Credential::Password => None,
                    Credential::Device(name) => Some(format!("device password {name:?}")),
                };
                self.audit(Some(&email), Some(&ip), Some(protocol), "login-ok", detail)
                    .await;
            }
            Err(denial) => {
                self.audit(
                    Some(&email),
                    Some(&ip),
                    Some(protocol),
                    "login-failed",
                    Some(denial.describe().into()),
                )
                .await;
                if denial.counts_as_failure() {
                    self.login_failed(&email, &ip).await?;
                }
            }
        }
        Ok(outcome)
    }

    async fn decide(
        &self,
        email: &str,
        req: &LoginRequest<'_>,
    ) -> Result<std::result::Result<Login, Denial>> {
        let mut account = match self.store.account_get(email).await? {
            Some(a) => a,
            None => {
                // As slow as a real check, so timing does not tell.
                let secret = req.secret.to_string();
                blocking(move || Ok(password::verify(dummy_hash(), &secret))).await?;
                return Ok(Err(Denial::Invalid));
            }
        };
        let must_enrol = account.must_enroll && !account.two_factor;
        if req.protocol.is_mail_client()
            && let Some(device) = self.matching_device(&account, req.secret).await?
        {
            if !account.enabled {
                return Ok(Err(Denial::Invalid));
            }
            if must_enrol {
                return Ok(Err(Denial::EnrolmentRequired));
            }
            self.store
                .device_password_used(device.id, &req.ip.to_string(), req.protocol.as_str())
                .await?;
            return Ok(Ok(Login {
                account,
                credential: Credential::Device(device.name),
            }));
        }
        if !self.check_password(&mut account, req.secret).await? || !account.enabled {
            return Ok(Err(Denial::Invalid));
        }
        // The portal lets such a user in, to set up 2FA and nothing else.
        if must_enrol && req.protocol != Protocol::Portal {
            return Ok(Err(Denial::EnrolmentRequired));
        }
        if req.protocol.is_mail_client() {
            if account.two_factor {
                return Ok(Err(Denial::DevicePasswordRequired));
            }
        } else {
            if matches!(req.protocol, Protocol::Api | Protocol::Portal) && !account.api_access {
                return Ok(Err(Denial::ApiAccessDisabled));
            }
            if account.two_factor {
                let Some(code) = req.code else {
                    return Ok(Err(Denial::CodeRequired { given: false }));
                };
                if !self.second_factor_ok(&account, code).await? {
                    return Ok(Err(Denial::CodeRequired { given: true }));
                }
            }
        }
        Ok(Ok(Login {
            account,
            credential: Credential::Password,
        }))
    }
}

/// A hash of nothing in particular, checked against for unknown accounts.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| password::hash("no such account here").unwrap_or_default())
}
