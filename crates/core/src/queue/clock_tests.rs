//! The queue's rules over a real store with a hand-moved clock: retries
//! back off, a warning after 4 hours, a bounce after 5 days.

use std::sync::Arc;

use mailroom_store::{AttemptResult, ManualClock, RecipientStatus, Role, SqliteStore};

use super::{Failure, Queue};
use crate::Directory;
use crate::directory::{NewAccountRequest, PasswordInput};
use crate::mail::{ChangeBus, Mail, MailSettings};

async fn setup() -> (Queue, Mail, Arc<ManualClock>, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let store = Arc::new(SqliteStore::open(tmp.path(), clock.clone()).unwrap());
    let directory = Directory::new(store.clone());
    directory.add_domain("example.test").await.unwrap();
    directory
        .add_account(NewAccountRequest {
            email: "bob@example.test".into(),
            password: PasswordInput::Plain("Correct1HorseBattery".into()),
            role: Role::MailUser,
            quota_bytes: None,
        })
        .await
        .unwrap();
    let mail = Mail::new(
        store.clone(),
        clock.clone(),
        ChangeBus::default(),
        MailSettings {
            hostname: "mx.example.test".into(),
            recipient_delimiter: "+".into(),
        },
    );
    (Queue::new(store, mail.clone()), mail, clock, tmp)
}

async fn inbox(mail: &Mail) -> Vec<String> {
    let account = mail
        .store
        .account_get("bob@example.test")
        .await
        .unwrap()
        .unwrap();
    let inbox = mail.mailbox(account.id, "INBOX").await.unwrap().unwrap();
    let mut texts = Vec::new();
    for m in mail.messages(inbox.id).await.unwrap() {
        let raw = mail.content(inbox.id, m.uid).await.unwrap();
        texts.push(String::from_utf8_lossy(&raw).into_owned());
    }
    texts
}

/// One failed attempt at every due recipient, as the delivery task
/// would record a dead host.
async fn fail_attempt(queue: &Queue) -> usize {
    let due = queue.due(Vec::new(), 100).await.unwrap();
    for queued in &due {
        let mut results = Vec::new();
        let mut failures = Vec::new();
        for r in &queued.recipients {
            let (status, next) = queue.after_temporary_failure(queued, r.attempts);
            let reply = "connection refused".to_string();
            if status == RecipientStatus::Failed {
                failures.push(Failure {
                    recipient: r.address.clone(),
                    host: None,
                    reply: reply.clone(),
                    status: "4.4.1".into(),
                });
            }
            results.push(AttemptResult {
                queue_id: queued.id,
                address: r.address.clone(),
                status,
                next_attempt_at: next,
                host: None,
                reply: Some(reply),
            });
        }
        queue.record(queued, results, failures).await.unwrap();
    }
    due.len()
}

#[tokio::test]
async fn retries_back_off_then_warn_then_give_up_after_five_days() {
    let (queue, mail, clock, _tmp) = setup().await;
    let account = mail
        .store
        .account_get("bob@example.test")
        .await
        .unwrap()
        .unwrap();
    queue
        .enqueue(
            &account,
            "bob@example.test",
            vec!["x@far.test".into()],
            Vec::new(),
            Arc::new(
                b"From: bob@example.test\r\nSubject: Plans\r\n\r\nSee you Monday.\r\n".to_vec(),
            ),
        )
        .await
        .unwrap();
    // 1 min, 5 min, 15 min after each failure: due exactly then, not before.
    for wait in [60, 300, 900] {
        assert_eq!(fail_attempt(&queue).await, 1);
        clock.advance(wait - 1);
        assert_eq!(fail_attempt(&queue).await, 0, "not due {wait} s early");
        clock.advance(1);
    }
    assert!(
        inbox(&mail).await.is_empty(),
        "no notice in the first hours"
    );
    // Past 4 hours: one warning, not repeated.
    clock.advance(4 * 3600);
    fail_attempt(&queue).await;
    let texts = inbox(&mail).await;
    assert_eq!(texts.len(), 1);
    assert!(
        texts[0].contains("Subject: Delayed Mail (still being retried)"),
        "{}",
        texts[0]
    );
    assert!(
        texts[0].contains("Action: delayed")
            && texts[0].contains("You do not need to send it again")
    );
    clock.advance(4 * 3600);
    fail_attempt(&queue).await;
    assert_eq!(inbox(&mail).await.len(), 1, "one warning only");
    // Five days after queueing: given up, the sender is told, the queue is empty.
    clock.advance(5 * 86_400);
    fail_attempt(&queue).await;
    let texts = inbox(&mail).await;
    assert_eq!(texts.len(), 2);
    assert!(texts[1].contains("Subject: Undelivered Mail Returned to Sender"));
    assert!(
        texts[1].contains("<x@far.test>: connection refused"),
        "{}",
        texts[1]
    );
    assert!(texts[1].contains("Action: failed"));
    assert!(queue.list().await.unwrap().is_empty());
}
