//! Blocking accounts that send abusively, on an injected clock: each sign
//! trips at its limit and not before, old events are forgotten, the user
//! and the domain's administrators are told, and the block is lifted only
//! once the password is new and 2FA is on.

use mailroom_store::{Role, Store};

use crate::CoreError;
use crate::abuse::AbuseSettings;
use crate::directory::{NewAccountRequest, PasswordInput};
use crate::test_world::{PASSWORD, World, world};

async fn bob(w: &World) -> mailroom_store::Account {
    w.directory.account("bob@example.test").await.unwrap()
}

async fn blocked(w: &World) -> bool {
    w.mail.sending_block(&bob(w).await).await.unwrap().is_some()
}

#[tokio::test]
async fn hammering_the_sending_limit_blocks_only_past_the_hourly_count() {
    let w = world().await;
    w.directory
        .set_abuse_settings(AbuseSettings {
            limit_refusals_per_hour: 3,
            ..AbuseSettings::default()
        })
        .await
        .unwrap();
    w.directory
        .add_account(NewAccountRequest {
            email: "da@example.test".into(),
            password: PasswordInput::Plain(PASSWORD.into()),
            role: Role::DomainAdmin,
            quota_bytes: None,
        })
        .await
        .unwrap();
    w.directory
        .grant_domain_admin("da@example.test", "example.test")
        .await
        .unwrap();
    let account = bob(&w).await;
    for _ in 0..3 {
        w.mail.note_limit_refused(&account).await.unwrap();
    }
    // An hour later those three are forgotten.
    w.clock.advance(3601);
    for _ in 0..3 {
        w.mail.note_limit_refused(&account).await.unwrap();
    }
    assert!(
        !blocked(&w).await,
        "three in the hour is the limit, not over it"
    );
    w.mail.note_limit_refused(&account).await.unwrap();
    let block = w.mail.sending_block(&account).await.unwrap().unwrap();
    assert_eq!(block.reason, "sending limit hammered");
    assert_eq!(
        block.evidence,
        ["4 submissions refused by the sending limit within an hour"]
    );
    assert_eq!(
        w.inbox_subjects("bob@example.test").await,
        ["Your account is blocked from sending"]
    );
    assert_eq!(
        w.inbox_subjects("da@example.test").await,
        ["Blocked from sending: bob@example.test"]
    );
    let listed = w
        .directory
        .sending_blocks(Some("example.test"))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    // Another refusal while blocked changes nothing and tells no one again.
    w.mail.note_limit_refused(&account).await.unwrap();
    assert_eq!(w.inbox_subjects("bob@example.test").await.len(), 1);
}

#[tokio::test]
async fn a_day_with_too_many_hard_bounces_blocks() {
    let w = world().await;
    let id = bob(&w).await.id;
    let sample = Some("<m1@example.test>".to_string());
    // Half of 19 recipients bounced: too few recipients to judge.
    w.mail
        .note_outcomes(id, 19, 10, sample.clone())
        .await
        .unwrap();
    assert!(!blocked(&w).await);
    // A new day starts afresh: 20 recipients, 30% bounced is the limit.
    w.clock.advance(86_400);
    w.mail
        .note_outcomes(id, 20, 6, sample.clone())
        .await
        .unwrap();
    assert!(!blocked(&w).await, "30% is allowed");
    w.mail.note_outcomes(id, 1, 1, sample).await.unwrap();
    let block = w.mail.sending_block(&bob(&w).await).await.unwrap().unwrap();
    assert_eq!(block.reason, "too many hard bounces");
    assert_eq!(block.evidence, ["7 of 21 recipients today bounced (33%)"]);
    assert_eq!(
        block.message_ids,
        ["<m1@example.test>", "<m1@example.test>"]
    );
}

#[tokio::test]
async fn spam_refusals_block_and_unblocking_needs_a_new_password_and_2fa() {
    let w = world().await;
    let account = bob(&w).await;
    for n in 1..=3 {
        assert!(!blocked(&w).await);
        w.mail
            .note_spam_refused(&account, &format!("<spam{n}@example.test>"))
            .await
            .unwrap();
    }
    let block = w.mail.sending_block(&account).await.unwrap().unwrap();
    assert_eq!(
        block.evidence,
        ["3 outbound messages refused as spam within an hour"]
    );
    assert_eq!(block.message_ids[0], "<spam3@example.test>");

    let refusal = w
        .directory
        .unblock_sending("bob@example.test", "root@example.test")
        .await
        .unwrap_err();
    assert!(
        matches!(&refusal, CoreError::Conflict(m) if m.contains("password changed: no, 2FA: off")),
        "{refusal}"
    );
    w.clock.advance(60);
    w.directory
        .set_password(
            "bob@example.test",
            PasswordInput::Plain("Another2GoodPassword".into()),
        )
        .await
        .unwrap();
    let refusal = w
        .directory
        .unblock_sending("bob@example.test", "root@example.test")
        .await
        .unwrap_err();
    assert!(
        refusal
            .to_string()
            .contains("password changed: yes, 2FA: off"),
        "{refusal}"
    );
    w.enable_2fa("bob@example.test").await;
    w.directory
        .unblock_sending("bob@example.test", "root@example.test")
        .await
        .unwrap();
    assert!(!blocked(&w).await);
    let log = w
        .store
        .security_events(Some("bob@example.test"), None, 10)
        .await
        .unwrap();
    assert!(log.iter().any(|e| e.event == "sending_unblocked"));
    assert!(log.iter().any(|e| e.event == "sending_blocked"));
}
