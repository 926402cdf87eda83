//! QUOTA (RFC 9208): one quota root, "", holding the account's storage.

use imap_codec::imap_types::mailbox::Mailbox as WireMailbox;

use super::refuse;
use crate::response::quote;
use crate::session::{Done, Session};

impl Session {
    /// `* QUOTA "" (STORAGE used limit)` in KiB, if the account has a quota.
    async fn quota_line(&mut self) -> Result<Option<String>, Done> {
        let Some(account) = self.account.as_ref() else {
            return Err(Done::bad("Log in first"));
        };
        let email = account.email.clone();
        let fresh = self
            .server
            .directory
            .account(&email)
            .await
            .map_err(refuse)?;
        Ok(fresh.quota_bytes.map(|limit| {
            format!(
                "QUOTA \"\" (STORAGE {} {})",
                fresh.used_bytes.div_ceil(1024),
                limit / 1024
            )
        }))
    }

    pub(crate) async fn get_quota(&mut self, root: &[u8]) -> Done {
        if !root.is_empty() {
            return Done::no("No such quota root").code("NONEXISTENT");
        }
        match self.quota_line().await {
            Ok(Some(line)) => {
                self.untagged(&line);
                Done::ok("GETQUOTA completed")
            }
            Ok(None) => Done::no("No quota is set for this account").code("NONEXISTENT"),
            Err(done) => done,
        }
    }

    pub(crate) async fn get_quota_root(&mut self, mailbox: &WireMailbox<'_>) -> Done {
        let name = match self.mailbox_name(mailbox) {
            Ok(n) => n,
            Err(done) => return done,
        };
        let account_id = self.account.as_ref().map_or(0, |a| a.id);
        match self.server.mail.mailbox(account_id, &name).await {
            Ok(Some(_)) => {}
            Ok(None) => return Done::no(format!("No mailbox {name}")).code("NONEXISTENT"),
            Err(e) => return refuse(e),
        }
        let wire = quote(&self.wire_name(&name));
        match self.quota_line().await {
            Ok(Some(line)) => {
                self.untagged(&format!("QUOTAROOT {wire} \"\""));
                self.untagged(&line);
            }
            Ok(None) => self.untagged(&format!("QUOTAROOT {wire}")),
            Err(done) => return done,
        }
        Done::ok("GETQUOTAROOT completed")
    }
}
