//! A small world for unit tests of core services: a store in a temporary
//! directory on a manual clock, one domain, a MailUser and a MasterAdmin.

use std::sync::Arc;

use mailroom_store::{ManualClock, Role, SqliteStore, Store};

use crate::Directory;
use crate::directory::{NewAccountRequest, PasswordInput};
use crate::mail::{ChangeBus, Mail, MailSettings};

pub const START: i64 = 1_800_000_000;
pub const DAY: i64 = 86_400;
pub const PASSWORD: &str = "Correct1HorseBattery";

pub struct World {
    pub directory: Directory,
    pub mail: Mail,
    pub clock: ManualClock,
    pub store: Arc<SqliteStore>,
    _tmp: tempfile::TempDir,
}

pub async fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(START);
    let store = Arc::new(SqliteStore::open(tmp.path(), Arc::new(clock.clone())).unwrap());
    let directory = Directory::new(store.clone());
    let mail = Mail::new(
        store.clone(),
        Arc::new(clock.clone()),
        ChangeBus::default(),
        MailSettings {
            hostname: "mx.example.test".into(),
            recipient_delimiter: "+".into(),
        },
    );
    directory.add_domain("example.test").await.unwrap();
    for (email, role) in [
        ("bob@example.test", Role::MailUser),
        ("root@example.test", Role::MasterAdmin),
    ] {
        directory
            .add_account(NewAccountRequest {
                email: email.into(),
                password: PasswordInput::Plain(PASSWORD.into()),
                role,
                quota_bytes: None,
            })
            .await
            .unwrap();
    }
    World {
        directory,
        mail,
        clock,
        store,
        _tmp: tmp,
    }
}

impl World {
    /// Subjects of the messages in an account's Inbox.
    pub async fn inbox_subjects(&self, email: &str) -> Vec<String> {
        let account = self.store.account_get(email).await.unwrap().unwrap();
        let inbox = self
            .store
            .mailbox_get(account.id, "INBOX")
            .await
            .unwrap()
            .unwrap();
        let mut subjects = Vec::new();
        for meta in self.store.messages_from_uid(inbox.id, 1).await.unwrap() {
            let content = self
                .store
                .message_content(inbox.id, meta.uid)
                .await
                .unwrap();
            let text = String::from_utf8_lossy(&content).to_string();
            if let Some(line) = text.lines().find(|l| l.starts_with("Subject: ")) {
                subjects.push(line["Subject: ".len()..].to_string());
            }
        }
        subjects
    }

    /// Sets up and confirms 2FA with a code computed here.
    pub async fn enable_2fa(&self, email: &str) {
        let enrolment = self
            .directory
            .totp_setup(email, "mx.example.test")
            .await
            .unwrap();
        let code = totp_rs::Builder::new()
            .with_secret(totp_rs::Secret::try_from_base32(&enrolment.secret).unwrap())
            .with_account_name(email)
            .with_issuer(Some("mx.example.test"))
            .build()
            .unwrap()
            .generate(self.store.now() as u64)
            .to_string();
        self.directory.totp_confirm(email, &code).await.unwrap();
    }
}
