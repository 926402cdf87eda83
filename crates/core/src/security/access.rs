//! Open sessions and revoked credentials: a session keeps what it logged
//! in with, and before each command asks whether that still holds. The
//! question costs nothing until some credential changes anywhere (a
//! counter in the store, followed every two seconds and bumped at once
//! for changes made in this process); then the session re-reads its
//! account once.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{Credential, Login};
use crate::Directory;

/// How often the server looks for changes made by other processes.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);

/// What an open session logged in with.
#[derive(Debug, Clone)]
pub struct Access {
    email: String,
    credential: Credential,
    /// The password hash at login: a password change ends the session.
    password_hash: String,
    epoch: u64,
}

impl Directory {
    pub fn access(&self, login: &Login) -> Access {
        Access {
            email: login.account.email.clone(),
            credential: login.credential.clone(),
            password_hash: login.account.password_hash.clone(),
            epoch: self.epoch.load(Ordering::Acquire),
        }
    }

    /// False once the account is disabled or removed, the device password
    /// revoked, or, for a session that used the account password, the
    /// password changed or 2FA turned on: the session should end.
    pub async fn still_allowed(&self, access: &mut Access) -> bool {
        let now = self.epoch.load(Ordering::Acquire);
        if now == access.epoch {
            return true;
        }
        access.epoch = now;
        let account = match self.store.account_get(&access.email).await {
            Ok(Some(a)) => a,
            Ok(None) => return false,
            Err(error) => {
                tracing::warn!(%error, "cannot re-check a session; keeping it");
                return true;
            }
        };
        if !account.enabled {
            return false;
        }
        match &access.credential {
            Credential::Password => {
                !account.two_factor && account.password_hash == access.password_hash
            }
            Credential::Device(name) => match self.store.device_password_list(account.id).await {
                Ok(devices) => devices.iter().any(|d| &d.name == name),
                Err(_) => true,
            },
        }
    }

    /// Reads the store's counter now (after a change made here).
    pub(crate) async fn refresh_epoch(&self) {
        if let Ok(value) = self.store.credentials_epoch().await {
            self.epoch.fetch_max(value, Ordering::AcqRel);
        }
    }

    /// Follows changes made by other processes (the CLI, other nodes).
    pub async fn follow_credentials(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            self.refresh_epoch().await;
            tokio::select! {
                _ = tokio::time::sleep(FOLLOW_EVERY) => {}
                _ = &mut shutdown => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::sync::Arc;

    use mailroom_store::{Role, SqliteStore, SystemClock};

    use crate::Directory;
    use crate::directory::{NewAccountRequest, PasswordInput};
    use crate::security::{LoginRequest, Protocol};

    // The server and the CLI as two processes: each opens the store.
    #[tokio::test]
    async fn a_change_made_by_another_process_counts_once_the_store_is_read() {
        let tmp = tempfile::tempdir().unwrap();
        let open = || {
            Directory::new(Arc::new(
                SqliteStore::open(tmp.path(), Arc::new(SystemClock)).unwrap(),
            ))
        };
        let (server, cli) = (open(), open());
        cli.add_domain("example.test").await.unwrap();
        cli.add_account(NewAccountRequest {
            email: "bob@example.test".into(),
            password: PasswordInput::Plain("Correct1HorseBattery".into()),
            role: Role::MailUser,
            quota_bytes: None,
        })
        .await
        .unwrap();
        let device = cli
            .add_device_password("bob@example.test", "Laptop")
            .await
            .unwrap();
        server.refresh_epoch().await;
        let login = server
            .login(LoginRequest {
                email: "bob@example.test",
                secret: &device.password,
                code: None,
                protocol: Protocol::Imap,
                ip: IpAddr::from([192, 0, 2, 1]),
            })
            .await
            .unwrap()
            .unwrap();
        let mut access = server.access(&login);
        cli.revoke_device_password("bob@example.test", "Laptop")
            .await
            .unwrap();
        assert!(
            server.still_allowed(&mut access).await,
            "not seen before the server reads the store again"
        );
        // What `follow_credentials` does every two seconds.
        server.refresh_epoch().await;
        assert!(!server.still_allowed(&mut access).await);
    }
}
