//! The mandatory-2FA policy: a MailUser whose 2FA stays off for the grace
//! period (3 days by default) is disabled, with the reason recorded;
//! reminders go to the Inbox after each day before that. An account an
//! administrator re-enables must set up 2FA before anything else works.
//! On by default; a MasterAdmin may turn it off or change the period.

use mailroom_store::{Account, AccountChange, Role};
use serde::Serialize;

use crate::mail::Mail;
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
        let plural = if days_left == 1 { "day" } else { "days" };
        let text = format!(
            "Your account {email} does not have two-factor authentication (2FA) turned on.\n\
             This service requires it. If 2FA is still off on {deadline}, your account\n\
             will be disabled automatically and an administrator will have to enable it again.\n\
             \n\
             To turn it on: log in to the portal, open My account, choose \"Set up 2FA\" and scan\n\
             the code with an authenticator app. Then create a device password on the same\n\
             page for each mail program (phone, laptop): they use it instead of your password.",
            email = account.email,
            deadline = crate::time::rfc5322(deadline),
        );
        let subject =
            format!("Action needed: turn on two-factor authentication ({days_left} {plural} left)");
        mail.deliver_notice(account, &subject, &text).await?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
