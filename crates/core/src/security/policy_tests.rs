//! The whole mandatory-2FA story on an injected clock: reminders after
//! day 1 and day 2, disabled on day 3 with the reason, re-enabled only to
//! set up 2FA, then back to normal.

use std::net::IpAddr;

use crate::directory::AccountSettings;
use crate::security::{Denial, LoginRequest, Protocol};

use crate::test_world::{DAY, PASSWORD, World, world};

impl World {
    async fn login(&self, protocol: Protocol) -> Result<(), Denial> {
        self.directory
            .login(LoginRequest {
                email: "bob@example.test",
                secret: PASSWORD,
                code: None,
                protocol,
                ip: IpAddr::from([192, 0, 2, 1]),
            })
            .await
            .unwrap()
            .map(drop)
    }
}

#[tokio::test]
async fn reminders_then_disabled_then_only_enrolment_until_2fa_is_on() {
    let w = world().await;
    w.clock.advance(DAY / 2);
    let run = w
        .directory
        .enforce_two_factor_policy(&w.mail)
        .await
        .unwrap();
    assert!(
        run.reminded.is_empty() && run.disabled.is_empty(),
        "{run:?}"
    );

    w.clock.advance(DAY / 2 + 60);
    let run = w
        .directory
        .enforce_two_factor_policy(&w.mail)
        .await
        .unwrap();
    assert_eq!(
        run.reminded,
        ["bob@example.test"],
        "MasterAdmins are not subject"
    );
    // Running again the same day sends nothing more.
    let again = w
        .directory
        .enforce_two_factor_policy(&w.mail)
        .await
        .unwrap();
    assert!(again.reminded.is_empty(), "{again:?}");

    w.clock.advance(DAY);
    let run = w
        .directory
        .enforce_two_factor_policy(&w.mail)
        .await
        .unwrap();
    assert_eq!(run.reminded, ["bob@example.test"]);
    assert_eq!(
        w.inbox_subjects("bob@example.test").await,
        [
            "Action needed: turn on two-factor authentication (2 days left)",
            "Action needed: turn on two-factor authentication (1 day left)",
        ]
    );
    assert_eq!(
        w.login(Protocol::Imap).await,
        Ok(()),
        "still works on day 2"
    );

    w.clock.advance(DAY);
    let run = w
        .directory
        .enforce_two_factor_policy(&w.mail)
        .await
        .unwrap();
    assert_eq!(run.disabled, ["bob@example.test"]);
    let bob = w.directory.account("bob@example.test").await.unwrap();
    assert!(!bob.enabled);
    assert_eq!(
        bob.disabled_reason.as_deref(),
        Some("2FA not enabled for 3 days")
    );
    assert_eq!(w.login(Protocol::Imap).await, Err(Denial::Invalid));

    // An admin enables it again: the portal lets bob in to set up 2FA,
    // nothing else does.
    w.directory
        .update_account(
            "bob@example.test",
            AccountSettings {
                enabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let bob = w.directory.account("bob@example.test").await.unwrap();
    assert!(bob.enabled && bob.must_enroll && bob.disabled_reason.is_none());
    assert_eq!(w.login(Protocol::Portal).await, Ok(()));
    for protocol in [Protocol::Imap, Protocol::Smtp, Protocol::Api] {
        assert_eq!(
            w.login(protocol).await,
            Err(Denial::EnrolmentRequired),
            "{protocol:?}"
        );
    }
    // A new grace period: the next run does not disable it again...
    let run = w
        .directory
        .enforce_two_factor_policy(&w.mail)
        .await
        .unwrap();
    assert!(run.disabled.is_empty(), "{run:?}");
    w.enable_2fa("bob@example.test").await;
    let bob = w.directory.account("bob@example.test").await.unwrap();
    assert!(bob.two_factor && !bob.must_enroll && bob.two_factor_off_since.is_none());
    // ...and with 2FA on, mail clients need a device password.
    assert_eq!(
        w.login(Protocol::Imap).await,
        Err(Denial::DevicePasswordRequired)
    );
    w.clock.advance(10 * DAY);
    let run = w
        .directory
        .enforce_two_factor_policy(&w.mail)
        .await
        .unwrap();
    assert!(run.disabled.is_empty(), "{run:?}");
}

#[tokio::test]
async fn a_master_admin_can_turn_the_policy_off_or_lengthen_it() {
    let w = world().await;
    let policy = w
        .directory
        .set_two_factor_policy(None, Some(7))
        .await
        .unwrap();
    assert!(policy.mandatory && policy.grace_days == 7);
    w.clock.advance(5 * DAY);
    let run = w
        .directory
        .enforce_two_factor_policy(&w.mail)
        .await
        .unwrap();
    assert!(run.disabled.is_empty() && run.reminded == ["bob@example.test"]);
    w.directory
        .set_two_factor_policy(Some(false), None)
        .await
        .unwrap();
    w.clock.advance(5 * DAY);
    let run = w
        .directory
        .enforce_two_factor_policy(&w.mail)
        .await
        .unwrap();
    assert!(run.disabled.is_empty() && run.reminded.is_empty());
    assert!(
        w.directory
            .set_two_factor_policy(None, Some(0))
            .await
            .is_err()
    );
}
