//! The outbound queue: durable messages with per-recipient retry state,
//! leaving the queue (and freeing the body) once every recipient settled.

use std::sync::Arc;

use mailroom_store::*;

#[tokio::test]
async fn queued_messages_are_tried_recorded_and_leave_when_settled() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_000));
    let store = SqliteStore::open(dir.path(), clock.clone()).unwrap();
    let id = store
        .queue_add(NewQueued {
            account_id: None,
            sender: "a@example.test".into(),
            recipients: vec!["x@far.test".into(), "y@other.test".into()],
            prefix: b"Received: by us\r\n".to_vec(),
            body: Arc::new(b"Subject: hi\r\n\r\nbody\r\n".to_vec()),
        })
        .await
        .unwrap();
    let due = store.queue_due(Vec::new(), 100).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].recipients.len(), 2);
    assert_eq!(due[0].recipients[0].domain, "far.test");
    assert_eq!(
        store.queue_content(id).await.unwrap(),
        b"Received: by us\r\nSubject: hi\r\n\r\nbody\r\n"
    );
    let attempt = |address: &str, status, next| AttemptResult {
        queue_id: id,
        address: address.into(),
        status,
        next_attempt_at: next,
        host: Some("mx.far.test".into()),
        reply: Some("250 ok".into()),
    };
    store
        .queue_record(vec![
            attempt("x@far.test", RecipientStatus::Delivered, 1_000),
            attempt("y@other.test", RecipientStatus::Pending, 1_060),
        ])
        .await
        .unwrap();
    assert!(
        store.queue_due(Vec::new(), 100).await.unwrap().is_empty(),
        "not due yet"
    );
    assert_eq!(store.queue_next_due().await.unwrap(), Some(1_060));
    clock.advance(60);
    assert_eq!(store.queue_due(Vec::new(), 100).await.unwrap().len(), 1);
    let listed = store.queue_list().await.unwrap();
    assert_eq!(listed[0].recipients[1].attempts, 1);
    store
        .queue_record(vec![attempt(
            "y@other.test",
            RecipientStatus::Failed,
            1_060,
        )])
        .await
        .unwrap();
    assert!(
        store.queue_list().await.unwrap().is_empty(),
        "settled messages leave"
    );
    assert!(matches!(
        store.queue_content(id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.queue_remove(id).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn due_messages_come_in_batches_that_skip_those_in_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1_000))).unwrap();
    let mut ids = Vec::new();
    for n in 0..5 {
        let id = store
            .queue_add(NewQueued {
                account_id: None,
                sender: "a@example.test".into(),
                // Several recipients each: one message, several rows.
                recipients: vec![format!("x{n}@far.test"), format!("y{n}@far.test")],
                prefix: Vec::new(),
                body: Arc::new(format!("Subject: {n}\r\n\r\nbody\r\n").into_bytes()),
            })
            .await
            .unwrap();
        ids.push(id);
    }
    let first: Vec<i64> = store
        .queue_due(Vec::new(), 2)
        .await
        .unwrap()
        .iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(first, ids[..2]);
    let next: Vec<i64> = store
        .queue_due(first.clone(), 10)
        .await
        .unwrap()
        .iter()
        .map(|q| q.id)
        .collect();
    assert_eq!(next, ids[2..], "the two in delivery are skipped");
}
