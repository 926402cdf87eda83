//! Mailbox management and message changes as IMAP and POP3 use them.

use std::sync::Arc;

use mailroom_store::*;

async fn setup() -> (SqliteStore, Account, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), Arc::new(SystemClock)).unwrap();
    store.domain_create("example.test").await.unwrap();
    let account = store
        .account_create(NewAccount {
            email: "a@example.test".into(),
            password_hash: "x".into(),
            role: Role::MailUser,
            quota_bytes: None,
        })
        .await
        .unwrap();
    (store, account, dir)
}

async fn mailbox(store: &SqliteStore, account: &Account, name: &str) -> Mailbox {
    store.mailbox_get(account.id, name).await.unwrap().unwrap()
}

async fn append(store: &SqliteStore, mailbox: &Mailbox, text: &str) -> Delivered {
    store
        .append(
            mailbox.id,
            Arc::new(text.as_bytes().to_vec()),
            Flags::default(),
            vec![],
            1_700_000_000,
        )
        .await
        .unwrap()
}

async fn live(store: &SqliteStore, mailbox: &Mailbox) -> Vec<MessageMeta> {
    store
        .message_list(mailbox.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.expunged_at.is_none())
        .collect()
}

#[tokio::test]
async fn create_rename_with_children_subscribe_and_delete() {
    let (store, account, _dir) = setup().await;
    store
        .mailbox_create(account.id, "Work", None)
        .await
        .unwrap();
    store
        .mailbox_create(account.id, "Work/2026", None)
        .await
        .unwrap();
    assert!(matches!(
        store.mailbox_create(account.id, "Work", None).await,
        Err(StoreError::AlreadyExists(_))
    ));
    store
        .mailbox_rename(account.id, "Work", "Jobs")
        .await
        .unwrap();
    let names: Vec<String> = store
        .mailbox_list(account.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert!(names.contains(&"Jobs".to_string()) && names.contains(&"Jobs/2026".to_string()));
    assert!(!names.contains(&"Work".to_string()));
    // "inbox" in any case names INBOX.
    assert_eq!(mailbox(&store, &account, "inbox").await.name, "INBOX");

    store
        .mailbox_subscribe(account.id, "Jobs", false)
        .await
        .unwrap();
    assert!(!mailbox(&store, &account, "Jobs").await.subscribed);

    let jobs = mailbox(&store, &account, "Jobs").await;
    append(&store, &jobs, "Subject: kept\r\n\r\n").await;
    store.mailbox_delete(account.id, "Jobs").await.unwrap();
    assert!(
        store
            .mailbox_get(account.id, "Jobs")
            .await
            .unwrap()
            .is_none()
    );
    // The name is free again, and the old messages are tombstones, not gone.
    store
        .mailbox_create(account.id, "Jobs", None)
        .await
        .unwrap();
    // Within the same second, yet a new UIDVALIDITY (RFC 3501 2.3.1.1): a
    // client must not take the new mailbox's UID 1 for the old one's.
    let again = mailbox(&store, &account, "Jobs").await;
    assert!(again.uidvalidity > jobs.uidvalidity, "{again:?} {jobs:?}");
    let old = store.message_list(jobs.id).await.unwrap();
    assert_eq!(old.len(), 1);
    assert!(old[0].expunged_at.is_some());
    assert_eq!(
        store
            .account_get("a@example.test")
            .await
            .unwrap()
            .unwrap()
            .used_bytes,
        0
    );

    let err = store.mailbox_delete(account.id, "Trash").await.unwrap_err();
    assert!(err.to_string().contains("special folder"), "{err}");
}

#[tokio::test]
async fn renaming_inbox_moves_its_messages_and_leaves_it_empty() {
    let (store, account, _dir) = setup().await;
    let inbox = mailbox(&store, &account, "INBOX").await;
    append(&store, &inbox, "one").await;
    append(&store, &inbox, "two").await;
    store
        .mailbox_rename(account.id, "INBOX", "Old")
        .await
        .unwrap();
    assert!(live(&store, &inbox).await.is_empty());
    let old = mailbox(&store, &account, "Old").await;
    assert_eq!(live(&store, &old).await.len(), 2);
    // New mail still arrives in INBOX.
    append(&store, &inbox, "three").await;
    assert_eq!(live(&store, &inbox).await[0].uid, 3);
}

#[tokio::test]
async fn flags_change_with_modseq_and_unchangedsince() {
    let (store, account, _dir) = setup().await;
    let inbox = mailbox(&store, &account, "INBOX").await;
    let first = append(&store, &inbox, "one").await;
    append(&store, &inbox, "two").await;
    let add = FlagChange {
        uids: vec![1, 2, 99],
        op: FlagOp::Add,
        flags: Flags::SEEN,
        keywords: vec!["$Important".into()],
        unchanged_since: None,
    };
    let outcome = store.set_flags(inbox.id, add.clone()).await.unwrap();
    assert_eq!(outcome.updated.len(), 2);
    assert!(outcome.updated[0].modseq > first.modseq);
    assert!(outcome.updated[1].modseq > outcome.updated[0].modseq);
    // Setting what is already set changes nothing (and no MODSEQ).
    assert!(
        store
            .set_flags(inbox.id, add)
            .await
            .unwrap()
            .updated
            .is_empty()
    );

    let stale = FlagChange {
        uids: vec![1],
        op: FlagOp::Replace,
        flags: Flags::FLAGGED,
        keywords: vec![],
        unchanged_since: Some(first.modseq),
    };
    let outcome = store.set_flags(inbox.id, stale).await.unwrap();
    assert_eq!(outcome.modified, vec![1]);
    let remove = FlagChange {
        uids: vec![1],
        op: FlagOp::Remove,
        flags: Flags::SEEN,
        keywords: vec!["$important".into()],
        unchanged_since: None,
    };
    let outcome = store.set_flags(inbox.id, remove).await.unwrap();
    assert_eq!(outcome.updated[0].flags, Flags::default());
    assert!(outcome.updated[0].keywords.is_empty());
    let messages = live(&store, &inbox).await;
    assert_eq!(messages[1].keywords, vec!["$Important".to_string()]);
}

#[tokio::test]
async fn expunge_copy_and_move_keep_uids_quota_and_content() {
    let (store, account, _dir) = setup().await;
    let inbox = mailbox(&store, &account, "INBOX").await;
    let trash = mailbox(&store, &account, "Trash").await;
    for text in [
        "Subject: 1\r\n\r\na",
        "Subject: 2\r\n\r\nbb",
        "Subject: 3\r\n\r\nccc",
    ] {
        append(&store, &inbox, text).await;
    }
    let used = |s: SqliteStore| async move {
        s.account_get("a@example.test")
            .await
            .unwrap()
            .unwrap()
            .used_bytes
    };
    let before = used(store.clone()).await;

    let copied = store
        .copy_messages(inbox.id, vec![3, 1], trash.id, false)
        .await
        .unwrap();
    assert_eq!(copied.pairs, vec![(1, 1), (3, 2)]);
    assert_eq!(copied.uidvalidity, trash.uidvalidity);
    assert!(used(store.clone()).await > before);
    assert_eq!(
        store.message_content(trash.id, 2).await.unwrap(),
        b"Subject: 3\r\n\r\nccc"
    );

    let moved = store
        .copy_messages(inbox.id, vec![2], trash.id, true)
        .await
        .unwrap();
    assert_eq!(moved.pairs, vec![(2, 3)]);
    assert_eq!(moved.expunged.uids, vec![2]);
    let remaining: Vec<u32> = live(&store, &inbox).await.iter().map(|m| m.uid).collect();
    assert_eq!(remaining, vec![1, 3]);

    let expunged = store.expunge(inbox.id, vec![1, 3, 7]).await.unwrap();
    assert_eq!(expunged.uids, vec![1, 3]);
    assert!(live(&store, &inbox).await.is_empty());
    assert!(matches!(
        store.message_content(inbox.id, 1).await,
        Err(StoreError::NotFound(_))
    ));
    // Only Trash's three copies count now.
    let trash_size: u64 = live(&store, &trash).await.iter().map(|m| m.size).sum();
    assert_eq!(used(store.clone()).await, trash_size);
    // UIDs are never reused.
    assert_eq!(append(&store, &inbox, "four").await.uid, 4);
}
