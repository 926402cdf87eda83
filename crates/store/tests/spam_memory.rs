//! The spam filter's memory: Bayes counts trained idempotently (moving a
//! message back and forth never double-counts), score overrides, and the
//! greylist (deferred, passed after the delay, remembered).

use std::sync::Arc;

use mailroom_store::*;

#[tokio::test]
async fn training_is_idempotent_and_moves_between_classes() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1_000_000))).unwrap();
    let tokens = Arc::new(vec![1u64, 2, u64::MAX]);
    let owners = vec![0, 7];
    assert!(
        store
            .bayes_train(owners.clone(), "m1".into(), tokens.clone(), true)
            .await
            .unwrap()
    );
    assert!(
        !store
            .bayes_train(owners.clone(), "m1".into(), tokens.clone(), true)
            .await
            .unwrap()
    );
    let (totals, counts) = store.bayes_lookup(7, tokens.clone()).await.unwrap();
    assert_eq!(totals, BayesCounts { spam: 1, ham: 0 });
    assert_eq!(counts, vec![BayesCounts { spam: 1, ham: 0 }; 3]);
    // Moved out of Junk: now ham, and not spam any more.
    assert!(
        store
            .bayes_train(owners.clone(), "m1".into(), tokens.clone(), false)
            .await
            .unwrap()
    );
    let (totals, counts) = store.bayes_lookup(0, tokens.clone()).await.unwrap();
    assert_eq!(totals, BayesCounts { spam: 0, ham: 1 });
    assert_eq!(counts[2], BayesCounts { spam: 0, ham: 1 });
    assert_eq!(store.bayes_trained(7, "m1").await.unwrap(), Some(false));
    assert_eq!(store.bayes_trained(7, "m2").await.unwrap(), None);
    let (_, unknown) = store.bayes_lookup(0, Arc::new(vec![99])).await.unwrap();
    assert_eq!(unknown, vec![BayesCounts::default()]);
}

#[tokio::test]
async fn greylisting_defers_then_passes_and_remembers() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_000_000));
    let store = SqliteStore::open(dir.path(), clock.clone()).unwrap();
    let t = "192.0.2.0/24 a@b.example c@d.example";
    assert_eq!(
        store.greylist(t, 300).await.unwrap(),
        Greylisting::Wait(300)
    );
    clock.advance(100);
    assert_eq!(
        store.greylist(t, 300).await.unwrap(),
        Greylisting::Wait(200)
    );
    clock.advance(200);
    assert_eq!(store.greylist(t, 300).await.unwrap(), Greylisting::Pass);
    clock.advance(10 * 86_400);
    assert_eq!(store.greylist(t, 300).await.unwrap(), Greylisting::Pass);
    // A triplet never retried is forgotten after two days.
    let other = "192.0.2.0/24 x@b.example c@d.example";
    assert_eq!(
        store.greylist(other, 300).await.unwrap(),
        Greylisting::Wait(300)
    );
    clock.advance(3 * 86_400);
    assert_eq!(
        store.greylist(other, 300).await.unwrap(),
        Greylisting::Wait(300)
    );

    store
        .spam_score_set("MISSING_MID", Some(2.5))
        .await
        .unwrap();
    assert_eq!(
        store.spam_scores().await.unwrap(),
        vec![("MISSING_MID".to_string(), 2.5)]
    );
    store.spam_score_set("MISSING_MID", None).await.unwrap();
    assert!(store.spam_scores().await.unwrap().is_empty());
}
