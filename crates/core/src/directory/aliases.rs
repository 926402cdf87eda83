use std::collections::HashSet;

use mailroom_store::Alias;

use super::Directory;
use crate::{CoreError, Result, address};

/// How deep alias chains may go; deeper is certainly a mistake.
const MAX_ALIAS_DEPTH: usize = 16;

impl Directory {
    /// Adds destinations to an alias (`local@domain` or catch-all
    /// `@domain`). Destinations in hosted domains must exist; mail to other
    /// domains is forwarded. Chains that would loop are refused.
    pub async fn add_alias(&self, source: &str, destinations: &[String]) -> Result<Alias> {
        let source = address::alias_source(source)?;
        let source_domain = address::domain_of(&source).to_string();
        if self.store.domain_get(&source_domain).await?.is_none() {
            return Err(CoreError::NotFound(format!(
                "domain {source_domain} (add the domain first)"
            )));
        }
        if destinations.is_empty() {
            return Err(CoreError::Invalid(
                "an alias needs at least one destination".into(),
            ));
        }
        if self.store.alias_get(&source).await?.is_none() {
            self.check_limits(&source_domain, super::limits::Growth::Alias)
                .await?;
        }
        let mut clean = Vec::with_capacity(destinations.len());
        for destination in destinations {
            let destination = address::email(destination)?;
            if destination == source {
                return Err(CoreError::Conflict(format!(
                    "alias loop: {source} -> {source}"
                )));
            }
            self.check_destination_exists(&destination).await?;
            if let Some(path) = self.path_back_to(&source, &destination).await? {
                return Err(CoreError::Conflict(format!(
                    "alias loop: {source} -> {}",
                    path.join(" -> ")
                )));
            }
            clean.push(destination);
        }
        Ok(self.store.alias_add(&source, &clean).await?)
    }

    pub(super) async fn check_destination_exists(&self, destination: &str) -> Result<()> {
        let domain = address::domain_of(destination);
        if self.store.domain_get(domain).await?.is_none() {
            return Ok(()); // forwarded to another system
        }
        if self.store.account_get(destination).await?.is_some()
            || self.store.alias_get(destination).await?.is_some()
        {
            return Ok(());
        }
        Err(CoreError::NotFound(format!(
            "destination {destination} (no such account or alias)"
        )))
    }

    /// Follows aliases from `start`; returns the path if it reaches `source`.
    async fn path_back_to(&self, source: &str, start: &str) -> Result<Option<Vec<String>>> {
        let mut seen = HashSet::new();
        let mut stack = vec![vec![start.to_string()]];
        while let Some(path) = stack.pop() {
            let last = path.last().expect("paths are never empty").clone();
            if last == source {
                return Ok(Some(path));
            }
            if path.len() > MAX_ALIAS_DEPTH {
                return Err(CoreError::Conflict(format!(
                    "alias chain from {source} is deeper than {MAX_ALIAS_DEPTH} steps"
                )));
            }
            if !seen.insert(last.clone()) {
                continue;
            }
            if let Some(alias) = self.store.alias_get(&last).await? {
                for next in alias.destinations {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
        Ok(None)
    }

    pub async fn alias(&self, source: &str) -> Result<Alias> {
        let source = address::alias_source(source)?;
        self.store
            .alias_get(&source)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("alias {source}")))
    }

    pub async fn list_aliases(&self, domain: Option<&str>) -> Result<Vec<Alias>> {
        let domain = domain.map(address::domain).transpose()?;
        Ok(self.store.alias_list(domain.as_deref()).await?)
    }

    pub async fn remove_alias(&self, source: &str) -> Result<()> {
        let source = address::alias_source(source)?;
        Ok(self.store.alias_remove(&source).await?)
    }
}

#[cfg(test)]
mod tests {
    use mailroom_store::Role;

    use crate::directory::test_support::directory;
    use crate::directory::{NewAccountRequest, PasswordInput};

    async fn setup() -> (crate::Directory, tempfile::TempDir) {
        let (dir, tmp) = directory();
        dir.add_domain("example.test").await.unwrap();
        for user in ["a@example.test", "b@example.test"] {
            dir.add_account(NewAccountRequest {
                email: user.into(),
                password: PasswordInput::Plain("Correct1HorseBattery".into()),
                role: Role::MailUser,
                quota_bytes: None,
            })
            .await
            .unwrap();
        }
        (dir, tmp)
    }

    fn dests(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn one_to_many_and_catch_all() {
        let (dir, _tmp) = setup().await;
        let team = dir
            .add_alias(
                "Team@example.test",
                &dests(&["a@example.test", "B@example.test", "ext@other.test"]),
            )
            .await
            .unwrap();
        assert_eq!(team.source, "team@example.test");
        assert_eq!(
            team.destinations,
            ["a@example.test", "b@example.test", "ext@other.test"]
        );
        let catch_all = dir
            .add_alias("@example.test", &dests(&["a@example.test"]))
            .await
            .unwrap();
        assert_eq!(catch_all.source, "@example.test");
        assert_eq!(
            dir.list_aliases(Some("example.test")).await.unwrap().len(),
            2
        );
    }

    #[tokio::test]
    async fn loops_are_refused_with_the_path() {
        let (dir, _tmp) = setup().await;
        dir.add_alias("x@example.test", &dests(&["a@example.test"]))
            .await
            .unwrap();
        dir.add_alias("y@example.test", &dests(&["x@example.test"]))
            .await
            .unwrap();
        let err = dir
            .add_alias("x@example.test", &dests(&["y@example.test"]))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "alias loop: x@example.test -> y@example.test -> x@example.test"
        );
        let err = dir
            .add_alias("z@example.test", &dests(&["z@example.test"]))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("alias loop"), "{err}");
    }

    #[tokio::test]
    async fn destinations_in_hosted_domains_must_exist() {
        let (dir, _tmp) = setup().await;
        let err = dir
            .add_alias("x@example.test", &dests(&["nobody@example.test"]))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("no such account or alias"),
            "{err}"
        );
        let err = dir
            .add_alias("x@unhosted.test", &dests(&["a@example.test"]))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("add the domain first"), "{err}");
        assert!(dir.add_alias("x@example.test", &[]).await.is_err());
    }
}
