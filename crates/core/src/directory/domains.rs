use mailroom_store::Domain;

use super::Directory;
use crate::dkim::{self, DnsRecord};
use crate::{CoreError, Result, address};

impl Directory {
    /// Adds a domain with its DKIM keys (RSA-2048 and Ed25519).
    pub async fn add_domain(&self, name: &str) -> Result<Domain> {
        let name = address::domain(name)?;
        let domain = self.store.domain_create(&name).await?;
        self.add_dkim_keys(&name).await?;
        Ok(domain)
    }

    pub(crate) async fn add_dkim_keys(&self, domain: &str) -> Result<()> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let keys = super::blocking(move || dkim::generate(now)).await?;
        Ok(self.store.dkim_keys_add(domain, keys).await?)
    }

    /// The DNS records a domain must publish, with its DKIM keys.
    pub async fn dns_records(&self, name: &str, hostname: &str) -> Result<Vec<DnsRecord>> {
        let name = address::domain(name)?;
        self.domain(&name).await?;
        let keys = self.store.dkim_keys(&name).await?;
        Ok(dkim::records(&name, hostname, &keys))
    }

    /// The domain's DKIM keys (the private halves are never serialised).
    pub async fn dkim_keys(&self, name: &str) -> Result<Vec<mailroom_store::DkimKey>> {
        let name = address::domain(name)?;
        Ok(self.store.dkim_keys(&name).await?)
    }

    pub async fn domain(&self, name: &str) -> Result<Domain> {
        let name = address::domain(name)?;
        self.store
            .domain_get(&name)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("domain {name}")))
    }

    pub async fn list_domains(&self) -> Result<Vec<Domain>> {
        Ok(self.store.domain_list().await?)
    }

    /// Suspending keeps every account and message; mail for the domain is
    /// deferred until it is resumed.
    pub async fn set_domain_suspended(&self, name: &str, suspended: bool) -> Result<Domain> {
        let name = address::domain(name)?;
        Ok(self.store.domain_set_suspended(&name, suspended).await?)
    }

    pub async fn remove_domain(&self, name: &str, force: bool) -> Result<()> {
        let name = address::domain(name)?;
        let is_master =
            |a: &mailroom_store::Account| a.role == mailroom_store::Role::MasterAdmin && a.enabled;
        let accounts = self.store.account_list(None).await?;
        let (inside, outside): (Vec<_>, Vec<_>) = accounts
            .iter()
            .filter(|a| is_master(a))
            .partition(|a| address::domain_of(&a.email) == name);
        if !inside.is_empty() && outside.is_empty() {
            return Err(CoreError::Conflict(format!(
                "domain {name} holds the last enabled master-admin; create another one first"
            )));
        }
        Ok(self.store.domain_remove(&name, force).await?)
    }
}
