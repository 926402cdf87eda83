use mailroom_store::Forwarding;

use super::Directory;
use crate::{CoreError, Result, address};

impl Directory {
    /// Forwards an account's mail to more addresses (here or elsewhere);
    /// `keep_copy` says whether the account still gets its own copy.
    pub async fn add_forward(
        &self,
        email: &str,
        destinations: &[String],
        keep_copy: bool,
    ) -> Result<Forwarding> {
        let account = self.account(email).await?;
        if destinations.is_empty() {
            return Err(CoreError::Invalid(
                "a forward needs at least one destination".into(),
            ));
        }
        let mut all = self
            .store
            .forward_get(account.id)
            .await?
            .map(|f| f.destinations)
            .unwrap_or_default();
        for destination in destinations {
            let destination = address::email(destination)?;
            if destination == account.email {
                return Err(CoreError::Conflict(format!(
                    "forward loop: {destination} -> {destination}"
                )));
            }
            self.check_destination_exists(&destination).await?;
            if !all.contains(&destination) {
                all.push(destination);
            }
        }
        self.store
            .forward_set(&account.email, all, keep_copy)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("forwards of {}", account.email)))
    }

    /// Replaces an account's forwards (an empty list removes them).
    pub async fn set_forwards(
        &self,
        email: &str,
        destinations: &[String],
        keep_copy: bool,
    ) -> Result<Option<Forwarding>> {
        let account = self.account(email).await?;
        let mut clean: Vec<String> = Vec::with_capacity(destinations.len());
        for destination in destinations {
            let destination = address::email(destination)?;
            if destination == account.email {
                return Err(CoreError::Conflict(format!(
                    "forward loop: {destination} -> {destination}"
                )));
            }
            self.check_destination_exists(&destination).await?;
            if !clean.contains(&destination) {
                clean.push(destination);
            }
        }
        Ok(self
            .store
            .forward_set(&account.email, clean, keep_copy)
            .await?)
    }

    /// An account's forwards, if any.
    pub async fn forwards(&self, email: &str) -> Result<Option<Forwarding>> {
        let account = self.account(email).await?;
        Ok(self.store.forward_get(account.id).await?)
    }

    /// Stops forwarding to `destinations`, or to everything when empty.
    pub async fn remove_forward(&self, email: &str, destinations: &[String]) -> Result<()> {
        let account = self.account(email).await?;
        let Some(current) = self.store.forward_get(account.id).await? else {
            return Err(CoreError::NotFound(format!(
                "forwards of {}",
                account.email
            )));
        };
        let mut remove = Vec::with_capacity(destinations.len());
        for destination in destinations {
            let destination = address::email(destination)?;
            if !current.destinations.contains(&destination) {
                return Err(CoreError::NotFound(format!(
                    "forward {} -> {destination}",
                    account.email
                )));
            }
            remove.push(destination);
        }
        let kept = if remove.is_empty() {
            Vec::new()
        } else {
            current
                .destinations
                .into_iter()
                .filter(|d| !remove.contains(d))
                .collect()
        };
        self.store
            .forward_set(&account.email, kept, current.keep_copy)
            .await?;
        Ok(())
    }

    pub async fn list_forwards(&self, domain: Option<&str>) -> Result<Vec<Forwarding>> {
        let domain = domain.map(str::to_ascii_lowercase);
        Ok(self.store.forward_list(domain.as_deref()).await?)
    }
}
