//! Who may send as whom: an authenticated user sends only from addresses
//! that are theirs (the product's "Sender address not owned by user").

use mailroom_store::Account;

use super::Mail;
use crate::{Result, address};

impl Mail {
    /// Whether `sender` belongs to `account`: its own address (with or
    /// without a +tag), or an alias that delivers to it. A catch-all does
    /// not count: receiving anything@domain is not a licence to send as
    /// every address of the domain.
    pub async fn owns_sender(&self, account: &Account, sender: &str) -> Result<bool> {
        let Ok(sender) = address::email(sender) else {
            return Ok(false);
        };
        if sender == account.email {
            return Ok(true);
        }
        let (local, domain) = sender.rsplit_once('@').unwrap_or((&sender, ""));
        let delimiter = &self.settings.recipient_delimiter;
        if !delimiter.is_empty()
            && let Some((base, _tag)) = local.split_once(delimiter.as_str())
            && format!("{base}@{domain}") == account.email
        {
            return Ok(true);
        }
        let alias = self.store.alias_get(&sender).await?;
        Ok(alias.is_some_and(|a| a.destinations.contains(&account.email)))
    }
}
