//! The mandatory-2FA policy: a MailUser whose 2FA stays off for the grace
//! period (3 days by default) is disabled, with the reason recorded;
//! reminders go to the Inbox after each day before that. An account an
//! administrator re-enables must set up 2FA before anything else works.
//! On by default; a MasterAdmin may turn it off or change the period.

use std::sync::Arc;

use mailroom_store::{Account, AccountChange, Role};
use serde::Serialize;

use crate::mail::{InboundMessage, Mail, Resolved, Trace};
use crate::{CoreError, Directory, Result};

/// How a disabling by this policy starts its recorded reason.
pub const POLICY_REASON: &str = "2FA not enabled for";

const DAY: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TwoFactorPolicy {
    pub mandatory: bool,
    pub grace_days: u32,
}

impl Default for TwoFactorPolicy {
    fn default() -> Self {
        Self {
            mandatory: true,
            grace_days: 3,
        }
    }
}

/// What one run of the policy did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PolicyRun {
    pub reminded: Vec<String>,
    pub disabled: Vec<String>,
}

impl Directory {
    pub async fn two_factor_policy(&self) -> Result<TwoFactorPolicy> {
        let default = TwoFactorPolicy::default();
        Ok(TwoFactorPolicy {
            mandatory: self
                .store
                .setting_get("mandatory_2fa")
                .await?
                .map_or(default.mandatory, |v| v != 0),
            grace_days: self
                .store
                .setting_get("mandatory_2fa_days")
                .await?
                .map_or(default.grace_days, |v| v.clamp(1, 365) as u32),
        })
    }

    pub async fn set_two_factor_policy(
        &self,
        mandatory: Option<bool>,
        grace_days: Option<u32>,
    ) -> Result<TwoFactorPolicy> {
        if let Some(days) = grace_days {
            if !(1..=365).contains(&days) {
                return Err(CoreError::Invalid(
                    "the grace period is 1 to 365 days".into(),
                ));
            }
            self.store
                .setting_set("mandatory_2fa_days", i64::from(days))
                .await?;
        }
        if let Some(on) = mandatory {
            self.store
                .setting_set("mandatory_2fa", i64::from(on))
                .await?;
        }
        self.two_factor_policy().await
    }

    /// Reminds and disables as the policy says (the server runs this
    /// every hour; it is idempotent).
    pub async fn enforce_two_factor_policy(&self, mail: &Mail) -> Result<PolicyRun> {
        let policy = self.two_factor_policy().await?;
        let mut run = PolicyRun::default();
        if !policy.mandatory {
            return Ok(run);
        }
        let now = self.store.now();
        let grace = i64::from(policy.grace_days);
        for account in self.store.account_list(None).await? {
            if account.role != Role::MailUser || !account.enabled || account.two_factor {
                continue;
            }
            let Some(since) = account.two_factor_off_since else {
                continue;
            };
            let days_off = (now - since) / DAY;
            if days_off >= grace {
                let reason = format!("{POLICY_REASON} {grace} days");
                self.store
                    .account_update(
                        &account.email,
                        AccountChange {
                            enabled: Some(false),
                            disabled_reason: Some(Some(reason.clone())),
                            ..AccountChange::default()
                        },
                    )
                    .await?;
                self.audit(
                    Some(&account.email),
                    None,
                    None,
                    "account-disabled",
                    Some(reason),
                )
                .await;
                run.disabled.push(account.email.clone());
            } else if days_off >= 1 && i64::from(account.two_factor_notices) < days_off {
                let deadline = since + grace * DAY;
                self.remind(mail, &account, grace - days_off, deadline)
                    .await?;
                self.store
                    .account_update(
                        &account.email,
                        AccountChange {
                            two_factor_notices: Some(days_off as u32),
                            ..AccountChange::default()
                        },
                    )
                    .await?;
                run.reminded.push(account.email.clone());
            }
        }
        if !run.disabled.is_empty() {
            self.refresh_epoch().await;
        }
        Ok(run)
    }

    async fn remind(
        &self,
        mail: &Mail,
        account: &Account,
        days_left: i64,
        deadline: i64,
    ) -> Result<()> {
        let hostname = mail.settings().hostname.clone();
        let plural = if days_left == 1 { "day" } else { "days" };
        let body = format!(
            "From: Mail Security <postmaster@{hostname}>\r\n\
             To: <{email}>\r\n\
             Subject: Action needed: turn on two-factor authentication ({days_left} {plural} left)\r\n\
             Date: {date}\r\n\
             Message-ID: <2fa-reminder.{id}.{now}@{hostname}>\r\n\
             Auto-Submitted: auto-generated\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             Your account {email} does not have two-factor authentication (2FA) turned on.\r\n\
             This service requires it. If 2FA is still off on {deadline}, your account\r\n\
             will be disabled automatically and an administrator will have to enable it again.\r\n\
             \r\n\
             To turn it on: log in to the portal, open Security, choose \"Set up 2FA\" and scan\r\n\
             the code with an authenticator app. Then create a device password on the same\r\n\
             page for each mail program (phone, laptop): they use it instead of your password.\r\n",
            email = account.email,
            date = crate::time::rfc5322(self.store.now()),
            id = account.id,
            now = self.store.now(),
            deadline = crate::time::rfc5322(deadline),
        );
        let message = InboundMessage {
            body: Arc::new(body.into_bytes()),
            recipients: vec![Resolved {
                address: account.email.clone(),
                accounts: vec![account.clone()],
                forwards: Vec::new(),
            }],
            trace: Trace {
                helo: hostname.clone(),
                peer: std::net::IpAddr::from([127, 0, 0, 1]),
                protocol: "LOCAL",
                id: format!("2fa{}", account.id),
                return_path: String::new(),
            },
        };
        if let Err(refusal) = mail.deliver_inbound(message).await? {
            tracing::warn!(account = %account.email, ?refusal, "2FA reminder not delivered");
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
