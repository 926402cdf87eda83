//! Device passwords: one generated password per mail client (phone,
//! laptop), so 2FA users can still use IMAP, POP3 and SMTP, and a lost
//! device can be cut off alone.

use mailroom_store::{Account, DevicePassword};

use super::secrets;
use crate::directory::blocking;
use crate::{CoreError, Directory, Result, password};

/// A created device password: the secret is shown this once.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewDevicePassword {
    pub name: String,
    pub password: String,
}

impl Directory {
    pub async fn add_device_password(&self, email: &str, name: &str) -> Result<NewDevicePassword> {
        let account = self.account(email).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(CoreError::Invalid(
                "a device password needs a name of 1 to 64 characters".into(),
            ));
        }
        // 24 characters from a 31-letter alphabet: about 119 bits.
        let secret = secrets::generate(6, 4);
        let normalized = secrets::normalize(&secret);
        let lookup = secrets::lookup(&normalized);
        let hash = blocking(move || password::hash(&normalized)).await?;
        self.store
            .device_password_add(DevicePassword {
                id: 0,
                account_id: account.id,
                name: name.to_string(),
                lookup,
                hash,
                created_at: self.store.now(),
                last_used_at: None,
                last_ip: None,
                last_protocol: None,
            })
            .await?;
        self.audit(
            Some(&account.email),
            None,
            None,
            "device-password-created",
            Some(name.to_string()),
        )
        .await;
        Ok(NewDevicePassword {
            name: name.to_string(),
            password: secret,
        })
    }

    pub async fn device_passwords(&self, email: &str) -> Result<Vec<DevicePassword>> {
        let account = self.account(email).await?;
        Ok(self.store.device_password_list(account.id).await?)
    }

    pub async fn revoke_device_password(&self, email: &str, name: &str) -> Result<()> {
        let account = self.account(email).await?;
        if !self
            .store
            .device_password_remove(account.id, name.trim())
            .await?
        {
            return Err(CoreError::NotFound(format!(
                "device password {:?} of {}",
                name.trim(),
                account.email
            )));
        }
        self.audit(
            Some(&account.email),
            None,
            None,
            "device-password-revoked",
            Some(name.trim().to_string()),
        )
        .await;
        self.refresh_epoch().await;
        Ok(())
    }

    /// The account's device password this secret is, if any.
    pub(crate) async fn matching_device(
        &self,
        account: &Account,
        secret: &str,
    ) -> Result<Option<DevicePassword>> {
        let normalized = secrets::normalize(secret);
        // Generated ones are 24 characters; anything else is not one.
        if normalized.len() != 24 {
            return Ok(None);
        }
        let lookup = secrets::lookup(&normalized);
        for device in self.store.device_password_find(&lookup).await? {
            if device.account_id != account.id {
                continue;
            }
            let hash = device.hash.clone();
            let given = normalized.clone();
            if blocking(move || Ok(password::verify(&hash, &given).matches)).await? {
                return Ok(Some(device));
            }
        }
        Ok(None)
    }
}
