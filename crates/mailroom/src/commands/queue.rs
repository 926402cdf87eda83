//! `mailroom queue`: what waits for other domains, and what to do with it.
//! Works on the store directly; a running server picks changes up within
//! seconds.

use std::sync::Arc;

use anyhow::Context;
use mailroom_core::time::rfc5322;
use mailroom_store::{Queued, QueuedRecipient, Store};

use crate::cli::QueueCommand;
use crate::output::Output;

fn recipients_text(q: &Queued) -> String {
    q.recipients
        .iter()
        .map(|r| format!("{} ({})", r.address, r.status.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn run(command: QueueCommand, store: Arc<dyn Store>, out: &Output) -> anyhow::Result<()> {
    match command {
        QueueCommand::List => {
            let queued = store.queue_list().await?;
            out.list(
                &queued,
                &["ID", "SENDER", "SIZE", "QUEUED", "RECIPIENTS"],
                |q: &Queued| {
                    vec![
                        q.id.to_string(),
                        q.sender.clone(),
                        mailroom_core::size::format(q.size),
                        rfc5322(q.created_at),
                        recipients_text(q),
                    ]
                },
            );
        }
        QueueCommand::Show { id } => {
            let q = store
                .queue_get(id)
                .await?
                .with_context(|| format!("no queued message {id}"))?;
            out.list(
                &q.recipients,
                &[
                    "RECIPIENT",
                    "STATUS",
                    "ATTEMPTS",
                    "NEXT ATTEMPT",
                    "LAST HOST",
                    "LAST REPLY",
                ],
                |r: &QueuedRecipient| {
                    vec![
                        r.address.clone(),
                        r.status.as_str().to_string(),
                        r.attempts.to_string(),
                        rfc5322(r.next_attempt_at),
                        r.last_host.clone().unwrap_or_else(|| "-".into()),
                        r.last_reply.clone().unwrap_or_else(|| "-".into()),
                    ]
                },
            );
        }
        QueueCommand::Retry { id } => {
            let n = store.queue_retry(Some(id)).await?;
            if n == 0 {
                anyhow::bail!("no pending recipients in queued message {id}");
            }
            out.done(&format!(
                "{n} recipient(s) of message {id} will be tried again now"
            ));
        }
        QueueCommand::Delete { id } => {
            store.queue_remove(id).await?;
            out.done(&format!("queued message {id} deleted"));
        }
        QueueCommand::Flush => {
            let n = store.queue_retry(None).await?;
            out.done(&format!("{n} pending recipient(s) will be tried again now"));
        }
    }
    Ok(())
}
