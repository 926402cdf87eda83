//! Sending limits: leaky buckets that fill per message and drain with
//! time, stored so every process sees the same level.

use std::sync::Arc;

use mailroom_store::*;

#[tokio::test]
async fn buckets_fill_refuse_with_a_wait_and_drain_with_time() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_000_000));
    let store = SqliteStore::open(dir.path(), clock.clone()).unwrap();
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
    let limit: SendLimit = "3/60s".parse().unwrap();
    let local = SendClass::Local;
    for _ in 0..3 {
        assert_eq!(
            store.send_take(account.id, local, limit, 1).await.unwrap(),
            None
        );
    }
    // Full: the next message fits once one has drained (60 s).
    assert_eq!(
        store.send_take(account.id, local, limit, 1).await.unwrap(),
        Some(60)
    );
    assert_eq!(
        store.send_level(account.id, local, limit).await.unwrap(),
        3.0
    );
    // The other class has its own bucket.
    assert_eq!(
        store
            .send_take(account.id, SendClass::External, limit, 2)
            .await
            .unwrap(),
        None
    );
    clock.advance(90);
    assert_eq!(
        store.send_level(account.id, local, limit).await.unwrap(),
        1.5
    );
    assert_eq!(
        store.send_take(account.id, local, limit, 1).await.unwrap(),
        None
    );
    assert_eq!(
        store.send_take(account.id, local, limit, 1).await.unwrap(),
        Some(30)
    );

    // Limits: per account, global under account 0, removable.
    assert_eq!(store.send_limit_get(account.id, local).await.unwrap(), None);
    store.send_limit_set(0, local, Some(limit)).await.unwrap();
    store
        .send_limit_set(account.id, local, Some("10/1m".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(store.send_limit_get(0, local).await.unwrap(), Some(limit));
    assert_eq!(
        store.send_limit_get(account.id, local).await.unwrap(),
        Some(SendLimit {
            capacity: 10,
            drain_secs: 60
        })
    );
    store.send_limit_set(account.id, local, None).await.unwrap();
    assert_eq!(store.send_limit_get(account.id, local).await.unwrap(), None);
}

#[test]
fn limits_parse_and_print() {
    let cases = [
        ("200/60s", Some((200, 60))),
        ("50/3.6m", Some((50, 216))),
        ("20/1h", Some((20, 3600))),
        ("0/60s", None),
        ("5/0s", None),
        ("5/60", None),
        ("five/60s", None),
    ];
    for (text, expected) in cases {
        let parsed = text
            .parse::<SendLimit>()
            .ok()
            .map(|l| (l.capacity, l.drain_secs));
        assert_eq!(parsed, expected, "{text}");
    }
    assert_eq!(
        SendLimit {
            capacity: 50,
            drain_secs: 216
        }
        .to_string(),
        "50/216s"
    );
}
