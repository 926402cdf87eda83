//! Training the classifier: a message a user moves into Junk is spam, one
//! moved out of Junk (not to Trash) is ham. Both the account's own
//! classifier and the global one learn. A message is known by its content
//! (the blob id), so copies and moves back and forth count once.

use std::sync::Arc;

use mailroom_spam::{View, tokens};
use mailroom_store::Delivered;

use crate::Result;
use crate::mail::Mail;

impl Mail {
    /// Trains `body` (known as `key`) for `account_id`; says whether the
    /// classifier changed.
    pub async fn train(
        &self,
        account_id: i64,
        key: &str,
        body: &[u8],
        as_spam: bool,
    ) -> Result<bool> {
        let tokens = Arc::new(tokens::tokens(&View::parse(body)));
        Ok(self
            .store
            .bayes_train(vec![account_id, 0], key.to_string(), tokens, as_spam)
            .await?)
    }

    /// Trains copies a user moved into (spam) or out of (ham) Junk; a
    /// failure is logged, never fails the move.
    pub(crate) async fn train_delivered(
        &self,
        account_id: i64,
        delivered: &[Delivered],
        as_spam: bool,
    ) {
        let mut trained = 0;
        for d in delivered {
            let outcome = match self.store.blob_get(d.blob).await {
                Ok(body) => {
                    self.train(account_id, &d.blob.to_hex(), &body, as_spam)
                        .await
                }
                Err(error) => Err(error.into()),
            };
            match outcome {
                Ok(changed) => trained += usize::from(changed),
                Err(error) => tracing::warn!(%error, account_id, "training failed"),
            }
        }
        tracing::info!(account_id, trained, spam = as_spam, "classifier trained");
    }

    /// Trains a stored message of `account` (the API's train action).
    pub async fn train_stored(
        &self,
        account: &mailroom_store::Account,
        mailbox: &str,
        uid: u32,
        as_spam: bool,
    ) -> Result<bool> {
        let folder = self
            .store
            .mailbox_get(account.id, mailbox)
            .await?
            .ok_or_else(|| crate::CoreError::NotFound(format!("mailbox {mailbox}")))?;
        let meta = self
            .store
            .messages_from_uid(folder.id, uid)
            .await?
            .into_iter()
            .find(|m| m.uid == uid && m.expunged_at.is_none())
            .ok_or_else(|| crate::CoreError::NotFound(format!("message {uid}")))?;
        let body = self.store.blob_get(meta.blob).await?;
        self.train(account.id, &meta.blob.to_hex(), &body, as_spam)
            .await
    }

    /// Trains only the global classifier (the corpus trainer and the CLI).
    pub async fn train_global(&self, key: &str, body: &[u8], as_spam: bool) -> Result<bool> {
        let tokens = Arc::new(tokens::tokens(&View::parse(body)));
        Ok(self
            .store
            .bayes_train(vec![0], key.to_string(), tokens, as_spam)
            .await?)
    }
}
