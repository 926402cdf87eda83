//! Recipient resolution: RCPT TO address -> the accounts that get a copy.

use std::collections::HashSet;

use mailroom_store::{Account, Role};

use super::Mail;
use crate::Result;

/// Alias chains deeper than this are a configuration error, not mail.
const MAX_DEPTH: usize = 16;

/// A recipient we accept, and where its copies go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The canonical address (lower-case, tag kept).
    pub address: String,
    /// Local accounts, each once.
    pub accounts: Vec<Account>,
    /// Addresses elsewhere the message is forwarded to (forwards, aliases
    /// pointing out, and bounces to rewritten senders going home).
    pub forwards: Vec<String>,
}

/// Why a recipient is refused; front-ends turn these into replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The domain is not hosted here (we are no open relay).
    NotHosted,
    /// The domain is hosted but nothing answers to the address.
    UnknownUser,
    /// The account exists but is disabled.
    Disabled,
    /// The domain is suspended: try again later.
    DomainSuspended,
    /// Over the storage quota: try again later.
    MailboxFull,
    /// A rewritten (SRS) address we did not make, or made too long ago.
    InvalidSrs,
}

struct Expansion {
    accounts: Vec<Account>,
    external: Vec<String>,
    disabled: usize,
}

impl Mail {
    /// Resolves a RCPT TO address. `declared_size` is the SIZE the client
    /// announced, checked against the quota early.
    pub async fn resolve(
        &self,
        address: &str,
        declared_size: Option<u64>,
    ) -> Result<std::result::Result<Resolved, Refusal>> {
        let Some((raw_local, domain)) = address.rsplit_once('@') else {
            return Ok(Err(Refusal::NotHosted));
        };
        // RFC 6531: under SMTPUTF8 the domain may come in its Unicode form.
        let domain = domain.trim_end_matches('.');
        let Some(domain) = crate::idna::to_ascii(domain) else {
            return Ok(Err(Refusal::NotHosted));
        };
        let local = raw_local.to_lowercase();
        let Some(hosted) = self.store.domain_get(&domain).await? else {
            return Ok(Err(Refusal::NotHosted));
        };
        if hosted.suspended {
            return Ok(Err(Refusal::DomainSuspended));
        }
        let canonical = format!("{local}@{domain}");
        // A reply or bounce to a sender we rewrote when forwarding.
        if let Some(reversed) = self.srs().await?.reverse(raw_local, self.now()) {
            return match reversed {
                Ok(original) => Box::pin(self.srs_destination(canonical, original)).await,
                Err(error) => {
                    tracing::info!(%address, ?error, "SRS address refused");
                    Ok(Err(Refusal::InvalidSrs))
                }
            };
        }
        let Some(expansion) = self.expand_recipient(&local, &domain).await? else {
            return Ok(Err(Refusal::UnknownUser));
        };
        if expansion.accounts.is_empty() && expansion.external.is_empty() {
            return Ok(Err(if expansion.disabled > 0 {
                Refusal::Disabled
            } else {
                Refusal::UnknownUser
            }));
        }
        let extra = declared_size.unwrap_or(0);
        if expansion.accounts.iter().any(|a| over_quota(a, extra)) {
            return Ok(Err(Refusal::MailboxFull));
        }
        Ok(Ok(Resolved {
            address: canonical,
            accounts: expansion.accounts,
            forwards: expansion.external,
        }))
    }

    /// Where mail to an SRS address goes: the original sender, which is
    /// elsewhere, or here (an SRS0 of ours inside an SRS1, or a sender of
    /// ours whose forwarded mail bounced).
    async fn srs_destination(
        &self,
        canonical: String,
        original: String,
    ) -> Result<std::result::Result<Resolved, Refusal>> {
        match self.resolve(&original, None).await? {
            Ok(mut resolved) => {
                resolved.address = canonical;
                Ok(Ok(resolved))
            }
            Err(Refusal::NotHosted) => Ok(Ok(Resolved {
                address: canonical,
                accounts: Vec::new(),
                forwards: vec![original],
            })),
            Err(refusal) => Ok(Err(refusal)),
        }
    }

    /// Finds what answers to `local@domain`: the exact address, then without
    /// its +tag, then the domain's catch-all, then postmaster's fallback.
    async fn expand_recipient(&self, local: &str, domain: &str) -> Result<Option<Expansion>> {
        let mut candidates = vec![format!("{local}@{domain}")];
        let delimiter = &self.settings.recipient_delimiter;
        if !delimiter.is_empty()
            && let Some((base, _tag)) = local.split_once(delimiter.as_str())
            && !base.is_empty()
        {
            candidates.push(format!("{base}@{domain}"));
        }
        candidates.push(format!("@{domain}"));
        for candidate in &candidates {
            if let Some(expansion) = self.expand(candidate).await? {
                return Ok(Some(expansion));
            }
        }
        // RFC 5321 4.5.1: every domain accepts mail for postmaster.
        if local == "postmaster" {
            let masters = self
                .store
                .account_list(None)
                .await?
                .into_iter()
                .filter(|a| a.role == Role::MasterAdmin && a.enabled)
                .take(1)
                .collect::<Vec<_>>();
            if !masters.is_empty() {
                return Ok(Some(Expansion {
                    accounts: masters,
                    external: Vec::new(),
                    disabled: 0,
                }));
            }
        }
        Ok(None)
    }

    /// Expands an account or alias address into accounts and external
    /// addresses; `None` if nothing has that address.
    async fn expand(&self, start: &str) -> Result<Option<Expansion>> {
        let mut expansion = Expansion {
            accounts: Vec::new(),
            external: Vec::new(),
            disabled: 0,
        };
        let mut seen = HashSet::new();
        let mut accounts_seen = HashSet::new();
        let mut stack = vec![(start.to_string(), 0usize)];
        let mut found = false;
        while let Some((address, depth)) = stack.pop() {
            if depth > MAX_DEPTH || !seen.insert(address.clone()) {
                continue;
            }
            if let Some(account) = self.store.account_get(&address).await? {
                found = true;
                if !account.enabled {
                    expansion.disabled += 1;
                    continue;
                }
                if !accounts_seen.insert(account.id) {
                    continue;
                }
                match self.store.forward_get(account.id).await? {
                    Some(forwarding) => {
                        for next in forwarding.destinations {
                            stack.push((next, depth + 1));
                        }
                        if forwarding.keep_copy {
                            expansion.accounts.push(account);
                        }
                    }
                    None => expansion.accounts.push(account),
                }
                continue;
            }
            if let Some(alias) = self.store.alias_get(&address).await? {
                found = true;
                for next in alias.destinations {
                    stack.push((next, depth + 1));
                }
                continue;
            }
            if depth > 0 {
                let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
                if self.store.domain_get(domain).await?.is_none()
                    && !expansion.external.contains(&address)
                {
                    expansion.external.push(address);
                }
                // A hosted destination that vanished is skipped.
            }
        }
        Ok(found.then_some(expansion))
    }
}

pub(crate) fn over_quota(account: &Account, extra: u64) -> bool {
    account.quota_bytes.is_some_and(|quota| {
        account.used_bytes >= quota || account.used_bytes.saturating_add(extra) > quota
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mailroom_store::{Role, SqliteStore, SystemClock};

    use super::*;
    use crate::Directory;
    use crate::directory::{AccountSettings, NewAccountRequest, PasswordInput};
    use crate::mail::{ChangeBus, MailSettings};

    async fn setup() -> (Mail, Directory, tempfile::TempDir) {
        let tmp = tempfile::tempdir().unwrap();
        let store: Arc<SqliteStore> =
            Arc::new(SqliteStore::open(tmp.path(), Arc::new(SystemClock)).unwrap());
        let directory = Directory::new(store.clone());
        let mail = Mail::new(
            store,
            Arc::new(SystemClock),
            ChangeBus::default(),
            MailSettings {
                hostname: "mx.example.test".into(),
                recipient_delimiter: "+".into(),
            },
        );
        directory.add_domain("example.test").await.unwrap();
        for (email, role) in [
            ("a@example.test", Role::MailUser),
            ("b@example.test", Role::MailUser),
            ("root@example.test", Role::MasterAdmin),
        ] {
            directory
                .add_account(NewAccountRequest {
                    email: email.into(),
                    password: PasswordInput::Plain("Correct1HorseBattery".into()),
                    role,
                    quota_bytes: None,
                })
                .await
                .unwrap();
        }
        (mail, directory, tmp)
    }

    fn emails(r: &Resolved) -> Vec<&str> {
        r.accounts.iter().map(|a| a.email.as_str()).collect()
    }

    #[tokio::test]
    async fn addresses_resolve_to_accounts() {
        let (mail, directory, _tmp) = setup().await;
        let team = ["a@example.test".to_string(), "b@example.test".to_string()];
        directory
            .add_alias("team@example.test", &team)
            .await
            .unwrap();
        let resolve = |a: &'static str| {
            let mail = mail.clone();
            async move { mail.resolve(a, None).await.unwrap() }
        };
        assert_eq!(
            emails(&resolve("A@Example.TEST").await.unwrap()),
            ["a@example.test"]
        );
        assert_eq!(
            emails(&resolve("a+news@example.test").await.unwrap()),
            ["a@example.test"]
        );
        assert_eq!(
            resolve("a+news@example.test").await.unwrap().address,
            "a+news@example.test"
        );
        let team = resolve("team@example.test").await.unwrap();
        let mut team_members = emails(&team);
        team_members.sort();
        assert_eq!(team_members, ["a@example.test", "b@example.test"]);
        assert_eq!(
            emails(&resolve("postmaster@example.test").await.unwrap()),
            ["root@example.test"]
        );
        assert_eq!(
            resolve("nobody@example.test").await,
            Err(Refusal::UnknownUser)
        );
        assert_eq!(resolve("a@elsewhere.test").await, Err(Refusal::NotHosted));
        assert_eq!(resolve("no-at-sign").await, Err(Refusal::NotHosted));

        directory
            .add_alias("@example.test", &["b@example.test".to_string()])
            .await
            .unwrap();
        assert_eq!(
            emails(&resolve("nobody@example.test").await.unwrap()),
            ["b@example.test"]
        );
    }

    #[tokio::test]
    async fn disabled_suspended_full_and_forwarded_are_refused() {
        let (mail, directory, _tmp) = setup().await;
        directory
            .update_account(
                "b@example.test",
                AccountSettings {
                    enabled: Some(false),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            mail.resolve("b@example.test", None).await.unwrap(),
            Err(Refusal::Disabled)
        );
        directory
            .update_account(
                "a@example.test",
                AccountSettings {
                    quota_bytes: Some(Some(1000)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(
            mail.resolve("a@example.test", Some(1000))
                .await
                .unwrap()
                .is_ok()
        );
        assert_eq!(
            mail.resolve("a@example.test", Some(1001)).await.unwrap(),
            Err(Refusal::MailboxFull)
        );
        directory
            .add_alias("fwd@example.test", &["someone@other.test".to_string()])
            .await
            .unwrap();
        let forwarded = mail
            .resolve("fwd@example.test", None)
            .await
            .unwrap()
            .unwrap();
        assert!(forwarded.accounts.is_empty());
        assert_eq!(forwarded.forwards, ["someone@other.test"]);
        directory
            .set_domain_suspended("example.test", true)
            .await
            .unwrap();
        assert_eq!(
            mail.resolve("a@example.test", None).await.unwrap(),
            Err(Refusal::DomainSuspended)
        );
    }
}
