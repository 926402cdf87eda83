use mailroom_store::{Account, AccountChange, NewAccount, Pop3Delete, Role};

use super::{Directory, blocking};
use crate::{CoreError, Result, address, password};

/// A password as given to the directory.
#[derive(Clone)]
pub enum PasswordInput {
    /// A plain password: checked against the policy, then hashed.
    Plain(String),
    /// A hash imported from another system (see [`password::verify`]).
    Hash(String),
}

impl std::fmt::Debug for PasswordInput {
    // Never print a secret, even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordInput::Plain(_) => f.write_str("Plain(<redacted>)"),
            PasswordInput::Hash(_) => f.write_str("Hash(<redacted>)"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewAccountRequest {
    pub email: String,
    pub password: PasswordInput,
    pub role: Role,
    pub quota_bytes: Option<u64>,
}

/// Settings an administrator changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountSettings {
    pub enabled: Option<bool>,
    pub api_access: Option<bool>,
    /// `Some(None)` removes the quota.
    pub quota_bytes: Option<Option<u64>>,
    pub role: Option<Role>,
    pub pop3_delete: Option<Pop3Delete>,
}

async fn stored_hash(password: PasswordInput) -> Result<String> {
    match password {
        PasswordInput::Plain(plain) => {
            password::check_policy(&plain)?;
            blocking(move || password::hash(&plain)).await
        }
        PasswordInput::Hash(hash) => {
            if password::is_supported_hash(&hash) {
                Ok(hash)
            } else {
                Err(CoreError::Invalid(
                    "unsupported password hash: expected argon2id, {ARGON2ID}, {SHA512-CRYPT} or {BLF-CRYPT}"
                        .into(),
                ))
            }
        }
    }
}

/// The largest quota an account may have: 1 PiB, far above any disk,
/// and small enough that the store's sums over a domain's accounts (it
/// keeps sizes as 64-bit signed numbers) can never overflow.
pub const MAX_QUOTA: u64 = 1 << 50;

fn check_quota(quota: Option<u64>) -> Result<()> {
    match quota {
        Some(q) if q > MAX_QUOTA => Err(CoreError::Invalid(format!(
            "quota: at most {MAX_QUOTA} bytes (1 PiB); leave it empty for no quota"
        ))),
        _ => Ok(()),
    }
}

impl Directory {
    pub async fn add_account(&self, request: NewAccountRequest) -> Result<Account> {
        let email = address::email(&request.email)?;
        let domain = address::domain_of(&email).to_string();
        if self.store.domain_get(&domain).await?.is_none() {
            return Err(CoreError::NotFound(format!(
                "domain {domain} (add the domain first)"
            )));
        }
        check_quota(request.quota_bytes)?;
        self.check_limits(&domain, super::limits::Growth::Account(request.quota_bytes))
            .await?;
        let password_hash = stored_hash(request.password).await?;
        Ok(self
            .store
            .account_create(NewAccount {
                email,
                password_hash,
                role: request.role,
                quota_bytes: request.quota_bytes,
            })
            .await?)
    }

    pub async fn account(&self, email: &str) -> Result<Account> {
        let email = address::email(email)?;
        self.store
            .account_get(&email)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("account {email}")))
    }

    pub async fn list_accounts(&self, domain: Option<&str>) -> Result<Vec<Account>> {
        let domain = domain.map(address::domain).transpose()?;
        if let Some(d) = &domain
            && self.store.domain_get(d).await?.is_none()
        {
            return Err(CoreError::NotFound(format!("domain {d}")));
        }
        Ok(self.store.account_list(domain.as_deref()).await?)
    }

    pub async fn update_account(&self, email: &str, settings: AccountSettings) -> Result<Account> {
        let account = self.account(email).await?;
        let stays_master = settings.role.unwrap_or(account.role) == Role::MasterAdmin
            && settings.enabled.unwrap_or(account.enabled);
        if account.role == Role::MasterAdmin && account.enabled && !stays_master {
            self.ensure_other_master(&account, "disable or demote")
                .await?;
        }
        if let Some(new) = settings.quota_bytes {
            check_quota(new)?;
        }
        if let Some(new) = settings.quota_bytes
            && new != account.quota_bytes
        {
            self.check_limits(
                address::domain_of(&account.email),
                super::limits::Growth::Quota {
                    old: account.quota_bytes,
                    new,
                },
            )
            .await?;
        }
        // Back from a lock-out by the 2FA policy: 2FA first.
        let back_for_enrolment = settings.enabled == Some(true)
            && !account.enabled
            && account
                .disabled_reason
                .as_deref()
                .is_some_and(|r| r.starts_with(crate::security::POLICY_REASON));
        let updated = self
            .store
            .account_update(
                &account.email,
                AccountChange {
                    enabled: settings.enabled,
                    api_access: settings.api_access,
                    quota_bytes: settings.quota_bytes,
                    role: settings.role,
                    password_hash: None,
                    pop3_delete: settings.pop3_delete,
                    disabled_reason: None,
                    two_factor_notices: back_for_enrolment.then_some(0),
                    must_enroll: back_for_enrolment.then_some(true),
                    // A new grace period to set 2FA up in.
                    two_factor_off_since: back_for_enrolment.then(|| self.store.now()),
                },
            )
            .await?;
        self.refresh_epoch().await;
        if updated.enabled != account.enabled {
            let event = if updated.enabled {
                "account-enabled"
            } else {
                "account-disabled"
            };
            self.audit(Some(&updated.email), None, None, event, None)
                .await;
        }
        Ok(updated)
    }

    /// A new password set by an administrator (or the CLI). A reset
    /// usually follows a leak, and whoever held the old password could
    /// have made credentials that outlive it: the sessions opened with it
    /// end, and the account's API keys and device passwords are revoked
    /// (the user makes new ones after logging in).
    pub async fn set_password(&self, email: &str, password: PasswordInput) -> Result<()> {
        let account = self.store_password(email, password).await?;
        self.store
            .sessions_end_others(account.id, None, "password-reset")
            .await?;
        // Until none is left: a key still valid while the first ones go
        // could make another.
        let mut revoked = Vec::new();
        for _ in 0..10 {
            let keys = self.store.api_key_list(account.id).await?;
            let devices = self.store.device_password_list(account.id).await?;
            if keys.is_empty() && devices.is_empty() {
                break;
            }
            for key in keys {
                if self.store.api_key_remove(account.id, &key.name).await? {
                    revoked.push(format!("API key {:?}", key.name));
                }
            }
            for device in devices {
                let name = &device.name;
                if self.store.device_password_remove(account.id, name).await? {
                    revoked.push(format!("device password {name:?}"));
                }
            }
        }
        if !revoked.is_empty() {
            let detail = format!("revoked by the password reset: {}", revoked.join(", "));
            self.audit(
                Some(&account.email),
                None,
                None,
                "credentials-revoked",
                Some(detail),
            )
            .await;
        }
        self.refresh_epoch().await;
        Ok(())
    }

    /// Stores a new password, nothing else.
    pub(crate) async fn store_password(
        &self,
        email: &str,
        password: PasswordInput,
    ) -> Result<Account> {
        let account = self.account(email).await?;
        let password_hash = stored_hash(password).await?;
        self.store
            .account_update(
                &account.email,
                AccountChange {
                    password_hash: Some(password_hash),
                    ..AccountChange::default()
                },
            )
            .await?;
        self.audit(Some(&account.email), None, None, "password-changed", None)
            .await;
        self.refresh_epoch().await;
        Ok(account)
    }

    pub async fn remove_account(&self, email: &str, force: bool) -> Result<()> {
        let account = self.account(email).await?;
        if account.role == Role::MasterAdmin && account.enabled {
            self.ensure_other_master(&account, "remove").await?;
        }
        Ok(self.store.account_remove(&account.email, force).await?)
    }

    /// Refuses to leave the service without an enabled MasterAdmin.
    async fn ensure_other_master(&self, account: &Account, action: &str) -> Result<()> {
        let others = self
            .store
            .account_list(None)
            .await?
            .into_iter()
            .any(|a| a.role == Role::MasterAdmin && a.enabled && a.id != account.id);
        if others {
            Ok(())
        } else {
            Err(CoreError::Conflict(format!(
                "cannot {action} {}: it is the last enabled master-admin",
                account.email
            )))
        }
    }

    pub async fn grant_domain_admin(&self, email: &str, domain: &str) -> Result<()> {
        let account = self.account(email).await?;
        let domain = address::domain(domain)?;
        if account.role != Role::DomainAdmin {
            return Err(CoreError::Conflict(format!(
                "{} is a {}; give it the domain-admin role first",
                account.email, account.role
            )));
        }
        Ok(self
            .store
            .domain_admin_grant(&account.email, &domain)
            .await?)
    }

    pub async fn revoke_domain_admin(&self, email: &str, domain: &str) -> Result<()> {
        let email = address::email(email)?;
        let domain = address::domain(domain)?;
        Ok(self.store.domain_admin_revoke(&email, &domain).await?)
    }

    /// Hands every domain of one DomainAdmin to another (a customer's
    /// admin leaves); returns the domains moved.
    pub async fn transfer_domains(&self, from: &str, to: &str) -> Result<Vec<String>> {
        let from = self.account(from).await?;
        let to = self.account(to).await?;
        if from.id == to.id {
            return Err(CoreError::Invalid(
                "the two DomainAdmins are the same account".into(),
            ));
        }
        let domains = self.administered_domains(&from.email).await?;
        for domain in &domains {
            self.grant_domain_admin(&to.email, domain).await?;
        }
        for domain in &domains {
            self.revoke_domain_admin(&from.email, domain).await?;
        }
        Ok(domains)
    }

    /// The domains a DomainAdmin manages.
    pub async fn administered_domains(&self, email: &str) -> Result<Vec<String>> {
        let email = address::email(email)?;
        Ok(self.store.domain_admin_domains(&email).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::test_support::directory;

    fn request(email: &str, role: Role) -> NewAccountRequest {
        NewAccountRequest {
            email: email.into(),
            password: PasswordInput::Plain("Correct1HorseBattery".into()),
            role,
            quota_bytes: None,
        }
    }

    #[tokio::test]
    async fn accounts_are_unique_case_insensitively_and_need_their_domain() {
        let (dir, _tmp) = directory();
        let err = dir
            .add_account(request("a@example.test", Role::MailUser))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("add the domain first"), "{err}");
        dir.add_domain("Example.TEST").await.unwrap();
        let a = dir
            .add_account(request("Alice@Example.test", Role::MailUser))
            .await
            .unwrap();
        assert_eq!(a.email, "alice@example.test");
        let err = dir
            .add_account(request("ALICE@example.test", Role::MailUser))
            .await
            .unwrap_err();
        assert!(matches!(err, CoreError::AlreadyExists(_)), "{err}");
        assert!(dir.add_domain("example.test").await.is_err());
    }

    #[tokio::test]
    async fn weak_passwords_are_refused() {
        let (dir, _tmp) = directory();
        dir.add_domain("example.test").await.unwrap();
        let mut weak = request("a@example.test", Role::MailUser);
        weak.password = PasswordInput::Plain("short".into());
        let err = dir.add_account(weak).await.unwrap_err();
        assert!(matches!(err, CoreError::PasswordPolicy(_)));
        assert!(dir.account("a@example.test").await.is_err());
    }

    #[tokio::test]
    async fn the_last_master_admin_cannot_be_removed_disabled_or_demoted() {
        let (dir, _tmp) = directory();
        dir.add_domain("example.test").await.unwrap();
        dir.add_account(request("root@example.test", Role::MasterAdmin))
            .await
            .unwrap();
        let disable = AccountSettings {
            enabled: Some(false),
            ..Default::default()
        };
        let demote = AccountSettings {
            role: Some(Role::MailUser),
            ..Default::default()
        };
        for settings in [disable.clone(), demote] {
            let err = dir
                .update_account("root@example.test", settings)
                .await
                .unwrap_err();
            assert!(
                err.to_string().contains("last enabled master-admin"),
                "{err}"
            );
        }
        assert!(dir.remove_account("root@example.test", true).await.is_err());
        assert!(dir.remove_domain("example.test", true).await.is_err());
        dir.add_account(request("second@example.test", Role::MasterAdmin))
            .await
            .unwrap();
        dir.update_account("root@example.test", disable)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn only_domain_admins_get_domains() {
        let (dir, _tmp) = directory();
        dir.add_domain("example.test").await.unwrap();
        dir.add_account(request("user@example.test", Role::MailUser))
            .await
            .unwrap();
        dir.add_account(request("boss@example.test", Role::DomainAdmin))
            .await
            .unwrap();
        let err = dir
            .grant_domain_admin("user@example.test", "example.test")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("domain-admin role first"), "{err}");
        dir.grant_domain_admin("boss@example.test", "example.test")
            .await
            .unwrap();
        assert_eq!(
            dir.administered_domains("boss@example.test").await.unwrap(),
            ["example.test"]
        );
        // Changing the role drops the assignments.
        dir.update_account(
            "boss@example.test",
            AccountSettings {
                role: Some(Role::MailUser),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            dir.administered_domains("boss@example.test")
                .await
                .unwrap()
                .is_empty()
        );
    }
}
