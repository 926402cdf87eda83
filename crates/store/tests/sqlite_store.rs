//! The SQLite back-end against the behaviour callers rely on.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mailroom_store::*;

fn open(dir: &Path) -> SqliteStore {
    SqliteStore::open(dir, Arc::new(SystemClock)).expect("open store")
}

fn user(email: &str) -> NewAccount {
    NewAccount {
        email: email.into(),
        password_hash: "$argon2id$placeholder".into(),
        role: Role::MailUser,
        quota_bytes: None,
    }
}

fn to_inbox(account_id: i64, body: &[u8]) -> Delivery {
    Delivery {
        body: Arc::new(body.to_vec()),
        internal_date: 1_700_000_000,
        targets: vec![DeliveryTarget {
            account_id,
            folder: Folder::Special(SpecialUse::Inbox),
            prefix: b"Received: test\r\n".to_vec(),
            flags: Flags::default(),
        }],
    }
}

async fn inbox(store: &SqliteStore, account_id: i64) -> Mailbox {
    store
        .mailbox_list(account_id)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.special_use == Some(SpecialUse::Inbox))
        .expect("every account has an inbox")
}

#[tokio::test]
async fn fresh_store_is_migrated_and_reopening_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.domain_create("example.test").await.unwrap();
    store.close();
    drop(store);
    assert_eq!(
        SqliteStore::schema_version(dir.path()).unwrap(),
        SCHEMA_VERSION
    );
    // Re-running the migrations on an up-to-date store changes nothing.
    let store = open(dir.path());
    let names: Vec<_> = store
        .domain_list()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["example.test"]);
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let conn = rusqlite_set_version(dir.path(), SCHEMA_VERSION + 5);
    drop(conn);
    let err = match SqliteStore::open(dir.path(), Arc::new(SystemClock)) {
        Ok(_) => panic!("a newer schema must be refused"),
        Err(e) => e,
    };
    assert!(matches!(err, StoreError::SchemaTooNew { .. }));
    let text = err.to_string();
    assert!(text.contains("newer than this mailroom knows"), "{text}");
}

/// Sets `user_version` the way a future mailroom would have left it.
fn rusqlite_set_version(dir: &Path, version: i64) -> std::process::Output {
    std::process::Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3; c = sqlite3.connect('{}'); c.execute('PRAGMA user_version = {version}'); c.commit()",
            dir.join("mailroom.db").display()
        ))
        .output()
        .expect("python3 runs")
}

#[tokio::test]
async fn new_account_has_the_special_folders() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.domain_create("example.test").await.unwrap();
    let account = store.account_create(user("a@example.test")).await.unwrap();
    let names: Vec<_> = store
        .mailbox_list(account.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.name, m.special_use))
        .collect();
    assert_eq!(
        names,
        [
            ("INBOX".to_string(), Some(SpecialUse::Inbox)),
            ("Sent".to_string(), Some(SpecialUse::Sent)),
            ("Drafts".to_string(), Some(SpecialUse::Drafts)),
            ("Junk".to_string(), Some(SpecialUse::Junk)),
            ("Trash".to_string(), Some(SpecialUse::Trash)),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_commit_keeps_every_acknowledged_write_of_64_concurrent_writers() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.domain_create("example.test").await.unwrap();
    let mut accounts = Vec::new();
    for i in 0..8 {
        let a = store
            .account_create(user(&format!("u{i}@example.test")))
            .await
            .unwrap();
        accounts.push(a.id);
    }
    let mut writers = Vec::new();
    for w in 0..64 {
        let store = store.clone();
        let account = accounts[w % accounts.len()];
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..10 {
                let body = format!("Subject: writer {w} message {n}\r\n\r\nbody\r\n");
                let d = store
                    .deliver(to_inbox(account, body.as_bytes()))
                    .await
                    .unwrap();
                acknowledged.push((d[0].clone(), body));
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.unwrap());
    }
    store.close();
    drop(store);

    let store = open(dir.path());
    for account in &accounts {
        let inbox = inbox(&store, *account).await;
        let messages = store.message_list(inbox.id).await.unwrap();
        let mine: Vec<_> = acknowledged
            .iter()
            .filter(|(d, _)| d.account_id == *account)
            .collect();
        assert_eq!(messages.len(), mine.len());
        // UIDs are unique and dense, MODSEQ strictly increasing with UID.
        for (i, m) in messages.iter().enumerate() {
            assert_eq!(m.uid as usize, i + 1);
        }
        assert!(messages.windows(2).all(|w| w[0].modseq < w[1].modseq));
        assert_eq!(inbox.uidnext as usize, mine.len() + 1);
        for (delivered, body) in mine {
            let m = messages.iter().find(|m| m.uid == delivered.uid).unwrap();
            assert_eq!(store.blob_get(m.blob).await.unwrap(), body.as_bytes());
        }
    }
    assert_eq!(acknowledged.len(), 640);
}

#[tokio::test]
async fn one_blob_per_message_whatever_the_number_of_recipients() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.domain_create("example.test").await.unwrap();
    let a = store.account_create(user("a@example.test")).await.unwrap();
    let b = store.account_create(user("b@example.test")).await.unwrap();
    let mut delivery = to_inbox(a.id, b"Subject: shared\r\n\r\nhi\r\n");
    delivery.targets.push(DeliveryTarget {
        account_id: b.id,
        folder: Folder::Special(SpecialUse::Inbox),
        prefix: Vec::new(),
        flags: Flags::SEEN,
    });
    let delivered = store.deliver(delivery).await.unwrap();
    assert_eq!(delivered.len(), 2);
    let ma = &store.message_list(delivered[0].mailbox_id).await.unwrap()[0];
    let mb = &store.message_list(delivered[1].mailbox_id).await.unwrap()[0];
    assert_eq!(ma.blob, mb.blob);
    assert_eq!(mb.flags, Flags::SEEN);
    // The prefix counts towards the size a client sees, and the quota.
    assert_eq!(ma.size, mb.size + b"Received: test\r\n".len() as u64);
    let a = store.account_get("a@example.test").await.unwrap().unwrap();
    assert_eq!(a.used_bytes, ma.size);
    let db = rusqlite::Connection::open(dir.path().join("mailroom.db")).unwrap();
    let blobs: i64 = db
        .query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(blobs, 1);
}

#[tokio::test]
async fn large_bodies_are_files_stored_once_and_collected() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.domain_create("example.test").await.unwrap();
    let a = store.account_create(user("a@example.test")).await.unwrap();
    let b = store.account_create(user("b@example.test")).await.unwrap();
    let body = format!("Subject: big\r\n\r\n{}", "x".repeat(400 * 1024));
    let mut delivery = to_inbox(a.id, body.as_bytes());
    delivery.targets.push(DeliveryTarget {
        account_id: b.id,
        folder: Folder::Special(SpecialUse::Inbox),
        prefix: Vec::new(),
        flags: Flags::default(),
    });
    let delivered = store.deliver(delivery).await.unwrap();
    let meta = &store.message_list(delivered[0].mailbox_id).await.unwrap()[0];
    let file = BlobStore::open(dir.path().join("blobs"))
        .unwrap()
        .path_of(meta.blob);
    assert!(file.exists());
    assert_eq!(store.blob_get(meta.blob).await.unwrap(), body.as_bytes());
    store.domain_remove("example.test", true).await.unwrap();
    assert_eq!(store.gc_blobs(Duration::ZERO).await.unwrap(), 1);
    assert!(!file.exists());
}

#[tokio::test]
async fn removing_a_domain_is_refused_while_it_owns_data_and_forcing_leaves_no_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.domain_create("gone.test").await.unwrap();
    store.domain_create("stays.test").await.unwrap();
    let a = store.account_create(user("a@gone.test")).await.unwrap();
    store.account_create(user("b@stays.test")).await.unwrap();
    store
        .alias_add(
            "all@stays.test",
            &["a@gone.test".into(), "b@stays.test".into()],
        )
        .await
        .unwrap();
    let delivered = store.deliver(to_inbox(a.id, b"only copy")).await.unwrap();
    let blob = store.message_list(delivered[0].mailbox_id).await.unwrap()[0].blob;

    let err = store.domain_remove("gone.test", false).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(store.domain_get("gone.test").await.unwrap().is_some());

    store.domain_remove("gone.test", true).await.unwrap();
    assert!(store.domain_get("gone.test").await.unwrap().is_none());
    assert!(store.account_get("a@gone.test").await.unwrap().is_none());
    assert!(store.mailbox_list(a.id).await.unwrap().is_empty());
    // The alias elsewhere no longer points at the removed account.
    let alias = store.alias_get("all@stays.test").await.unwrap().unwrap();
    assert_eq!(alias.destinations, ["b@stays.test"]);
    // The blob is unreferenced and collected.
    assert_eq!(store.gc_blobs(Duration::ZERO).await.unwrap(), 1);
    assert!(matches!(
        store.blob_get(blob).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn account_removal_needs_force_when_it_holds_mail() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.domain_create("example.test").await.unwrap();
    let a = store.account_create(user("a@example.test")).await.unwrap();
    store.deliver(to_inbox(a.id, b"mail")).await.unwrap();
    let err = store
        .account_remove("a@example.test", false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("still holds 1 message"), "{err}");
    store.account_remove("a@example.test", true).await.unwrap();
    assert!(store.account_get("a@example.test").await.unwrap().is_none());
}

#[tokio::test]
async fn blobs_still_referenced_are_not_collected() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.domain_create("example.test").await.unwrap();
    let a = store.account_create(user("a@example.test")).await.unwrap();
    let b = store.account_create(user("b@example.test")).await.unwrap();
    store.deliver(to_inbox(a.id, b"same body")).await.unwrap();
    let d = store.deliver(to_inbox(b.id, b"same body")).await.unwrap();
    store.account_remove("a@example.test", true).await.unwrap();
    assert_eq!(store.gc_blobs(Duration::ZERO).await.unwrap(), 0);
    let m = &store.message_list(d[0].mailbox_id).await.unwrap()[0];
    assert_eq!(store.blob_get(m.blob).await.unwrap(), b"same body");
}

#[tokio::test]
async fn accounts_and_aliases_cannot_share_an_address() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.domain_create("example.test").await.unwrap();
    store.account_create(user("a@example.test")).await.unwrap();
    let err = store
        .alias_add("a@example.test", &["x@elsewhere.test".into()])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));
    store
        .alias_add("b@example.test", &["a@example.test".into()])
        .await
        .unwrap();
    let err = store
        .account_create(user("b@example.test"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));
    let err = store
        .account_create(user("a@example.test"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists(_)));
}

#[tokio::test]
async fn a_failing_write_does_not_spoil_the_others_in_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        // Every third write names the same domain and all but one must fail.
        let name = if i % 3 == 0 {
            "dup.test".to_string()
        } else {
            format!("d{i}.test")
        };
        tasks.push(tokio::spawn(
            async move { store.domain_create(&name).await },
        ));
    }
    let mut failures = 0;
    for t in tasks {
        if t.await.unwrap().is_err() {
            failures += 1;
        }
    }
    assert_eq!(failures, 6);
    assert_eq!(store.domain_list().await.unwrap().len(), 14);
}
