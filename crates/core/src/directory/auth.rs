use mailroom_store::{Account, AccountChange, Role};

use super::{Directory, NewAccountRequest, PasswordInput, blocking};
use crate::{Result, address, password};

impl Directory {
    /// Checks a password alone (no 2FA, device or protocol rules: those
    /// are `login`'s). Returns the account only if it exists, is enabled
    /// and the password matches; callers cannot tell which check failed.
    pub async fn verify_password(&self, email: &str, secret: &str) -> Result<Option<Account>> {
        let Ok(email) = address::email(email) else {
            return Ok(None);
        };
        let Some(mut account) = self.store.account_get(&email).await? else {
            return Ok(None);
        };
        if !self.check_password(&mut account, secret).await? || !account.enabled {
            return Ok(None);
        }
        Ok(Some(account))
    }

    /// Whether `secret` is the account's password. An imported hash is
    /// replaced by argon2id on a match (in the store and in `account`).
    pub(crate) async fn check_password(&self, account: &mut Account, secret: &str) -> Result<bool> {
        let (stored, given) = (account.password_hash.clone(), secret.to_string());
        let verified = blocking(move || Ok(password::verify(&stored, &given))).await?;
        if verified.matches && verified.needs_rehash {
            let plain = secret.to_string();
            let fresh = blocking(move || password::hash(&plain)).await?;
            self.store
                .account_update(
                    &account.email,
                    AccountChange {
                        password_hash: Some(fresh.clone()),
                        ..AccountChange::default()
                    },
                )
                .await?;
            account.password_hash = fresh;
            tracing::info!(account = %account.email, "re-hashed an imported password as argon2id");
        }
        Ok(verified.matches)
    }

    /// On a fresh service, creates `admin@<hostname>` (and the hostname's
    /// domain) with a random password, returned once for the operator.
    pub async fn ensure_master_admin(&self, hostname: &str) -> Result<Option<(String, String)>> {
        let any_master = self
            .store
            .account_list(None)
            .await?
            .iter()
            .any(|a| a.role == Role::MasterAdmin);
        if any_master {
            return Ok(None);
        }
        let domain = address::domain(hostname)?;
        if self.store.domain_get(&domain).await?.is_none() {
            self.store.domain_create(&domain).await?;
            self.add_dkim_keys(&domain).await?;
        }
        let email = format!("admin@{domain}");
        let secret = password::generate();
        self.add_account(NewAccountRequest {
            email: email.clone(),
            password: PasswordInput::Plain(secret.clone()),
            role: Role::MasterAdmin,
            quota_bytes: None,
        })
        .await?;
        Ok(Some((email, secret)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::test_support::directory;

    #[tokio::test]
    async fn login_checks_password_and_enabled_flag() {
        let (dir, _tmp) = directory();
        dir.add_domain("example.test").await.unwrap();
        dir.add_account(NewAccountRequest {
            email: "a@example.test".into(),
            password: PasswordInput::Plain("Correct1HorseBattery".into()),
            role: Role::MailUser,
            quota_bytes: None,
        })
        .await
        .unwrap();
        assert!(
            dir.verify_password("A@example.test", "Correct1HorseBattery")
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            dir.verify_password("a@example.test", "wrong")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            dir.verify_password("nobody@example.test", "Correct1HorseBattery")
                .await
                .unwrap()
                .is_none()
        );
        dir.update_account(
            "a@example.test",
            crate::directory::AccountSettings {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            dir.verify_password("a@example.test", "Correct1HorseBattery")
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn imported_hash_is_rehashed_as_argon2id_on_login() {
        let (dir, _tmp) = directory();
        dir.add_domain("example.test").await.unwrap();
        let sha = sha_crypt::sha512_simple(
            "Imported1Secret",
            &sha_crypt::Sha512Params::new(5000).unwrap(),
        )
        .unwrap();
        dir.add_account(NewAccountRequest {
            email: "old@example.test".into(),
            password: PasswordInput::Hash(format!("{{SHA512-CRYPT}}{sha}")),
            role: Role::MailUser,
            quota_bytes: None,
        })
        .await
        .unwrap();
        // A failed login changes nothing.
        dir.verify_password("old@example.test", "Wrong1Password1")
            .await
            .unwrap();
        let before = dir.account("old@example.test").await.unwrap().password_hash;
        assert!(before.starts_with("{SHA512-CRYPT}"));
        assert!(
            dir.verify_password("old@example.test", "Imported1Secret")
                .await
                .unwrap()
                .is_some()
        );
        let after = dir.account("old@example.test").await.unwrap().password_hash;
        assert!(after.starts_with("$argon2id$"), "{after}");
        assert!(
            dir.verify_password("old@example.test", "Imported1Secret")
                .await
                .unwrap()
                .is_some()
        );
    }

    #[tokio::test]
    async fn master_admin_is_created_once() {
        let (dir, _tmp) = directory();
        let (email, secret) = dir
            .ensure_master_admin("Mail.Example.test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(email, "admin@mail.example.test");
        password::check_policy(&secret).unwrap();
        let admin = dir.verify_password(&email, &secret).await.unwrap().unwrap();
        assert_eq!(admin.role, Role::MasterAdmin);
        assert!(
            dir.ensure_master_admin("mail.example.test")
                .await
                .unwrap()
                .is_none()
        );
    }
}
