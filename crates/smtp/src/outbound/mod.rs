//! Outbound delivery: a task that takes due messages from the queue,
//! finds each recipient domain's hosts and hands the message over,
//! recording every reply; permanent failures go back to the sender as a
//! delivery status notification (the queue's rules are in core).

mod client;
mod route;
mod tls;

use std::collections::BTreeMap;
use std::time::Duration;

use mailroom_core::queue::{Failure, Queue};
use mailroom_core::store::{AttemptResult, Queued, RecipientStatus};
use mailroom_net::Shutdown;

pub use route::Router;

use client::{RemoteReply, Transfer};

/// Longest sleep between looks at the queue (the CLI changes it from
/// another process, so it is read again every few seconds).
const IDLE_WAIT: Duration = Duration::from_secs(5);

pub struct Outbound {
    pub queue: Queue,
    pub router: Router,
    /// The name we greet remote hosts with.
    pub hostname: String,
}

impl Outbound {
    pub async fn run(self, shutdown: Shutdown) {
        loop {
            match self.queue.due().await {
                Ok(due) => {
                    for queued in due {
                        self.deliver(&queued).await;
                    }
                }
                Err(error) => tracing::error!(%error, "cannot read the outbound queue"),
            }
            let wait = match self.queue.next_due().await {
                Ok(Some(at)) => Duration::from_secs((at - self.queue.now()).clamp(1, 5) as u64),
                _ => IDLE_WAIT,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.queue.woken() => {}
                _ = shutdown.triggered() => return,
            }
        }
    }

    async fn deliver(&self, queued: &Queued) {
        let now = self.queue.now();
        let content = match self.queue.content(queued.id).await {
            Ok(c) => c,
            Err(error) => {
                tracing::error!(id = queued.id, %error, "queued message unreadable");
                return;
            }
        };
        let mut by_domain: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for r in &queued.recipients {
            if r.status == RecipientStatus::Pending && r.next_attempt_at <= now {
                by_domain.entry(&r.domain).or_default().push(&r.address);
            }
        }
        let mut results = Vec::new();
        let mut failures = Vec::new();
        for (domain, recipients) in by_domain {
            let outcome = self.attempt(queued, domain, &recipients, &content).await;
            for (address, host, reply) in outcome {
                let attempts = queued
                    .recipients
                    .iter()
                    .find(|r| r.address == address)
                    .map_or(0, |r| r.attempts);
                let (status, next) = match &reply {
                    Reply::Remote(r) if r.is_success() => (RecipientStatus::Delivered, now),
                    Reply::Remote(r) if r.is_permanent() => (RecipientStatus::Failed, now),
                    Reply::NoHost {
                        permanent: true, ..
                    } => (RecipientStatus::Failed, now),
                    _ => self.queue.after_temporary_failure(queued, attempts),
                };
                let line = reply.line();
                tracing::info!(id = queued.id, to = %address, host = host.as_deref().unwrap_or("-"), reply = %line, ?status, "outbound attempt");
                if status == RecipientStatus::Failed {
                    failures.push(Failure {
                        recipient: address.clone(),
                        host: host.clone(),
                        reply: line.clone(),
                        status: reply.status(),
                    });
                }
                results.push(AttemptResult {
                    queue_id: queued.id,
                    address,
                    status,
                    next_attempt_at: next,
                    host,
                    reply: Some(line),
                });
            }
        }
        if let Err(error) = self.queue.record(queued, results, failures).await {
            tracing::error!(id = queued.id, %error, "cannot record delivery attempts");
        }
    }

    /// Tries a domain's hosts in order until one takes the conversation.
    async fn attempt(
        &self,
        queued: &Queued,
        domain: &str,
        recipients: &[&str],
        content: &[u8],
    ) -> Vec<(String, Option<String>, Reply)> {
        let all = |host: Option<String>, reply: Reply| {
            recipients
                .iter()
                .map(|r| (r.to_string(), host.clone(), reply.clone()))
                .collect::<Vec<_>>()
        };
        let hosts = match self.router.hosts(domain).await {
            Ok(h) => h,
            Err(no) => {
                return all(
                    None,
                    Reply::NoHost {
                        permanent: no.permanent,
                        reason: no.reason,
                        status: no.status,
                    },
                );
            }
        };
        let owned: Vec<String> = recipients.iter().map(|r| r.to_string()).collect();
        let mut last_problem = String::new();
        for (name, addr) in hosts {
            match client::transfer(&name, addr, &self.hostname, &queued.sender, &owned, content)
                .await
            {
                Ok(Transfer::Done(replies)) => {
                    return replies
                        .into_iter()
                        .map(|(r, reply)| (r, Some(name.clone()), Reply::Remote(reply)))
                        .collect();
                }
                // A host that refuses the transaction for good speaks for
                // the domain; a temporary refusal lets the next one try.
                Ok(Transfer::Refused(reply)) if reply.is_permanent() => {
                    return all(Some(name), Reply::Remote(reply));
                }
                Ok(Transfer::Refused(reply)) => last_problem = format!("{name}: {}", reply.line()),
                Err(error) => last_problem = format!("{name} ({addr}): {error}"),
            }
        }
        all(
            None,
            Reply::NoHost {
                permanent: false,
                reason: format!("no host took the message; last: {last_problem}"),
                status: "4.4.1",
            },
        )
    }
}

/// What a recipient's attempt came to.
#[derive(Debug, Clone)]
enum Reply {
    Remote(RemoteReply),
    NoHost {
        permanent: bool,
        reason: String,
        status: &'static str,
    },
}

impl Reply {
    fn line(&self) -> String {
        match self {
            Reply::Remote(r) => r.line(),
            Reply::NoHost { reason, .. } => reason.clone(),
        }
    }

    fn status(&self) -> String {
        match self {
            Reply::Remote(r) => r.status(),
            Reply::NoHost { status, .. } => status.to_string(),
        }
    }
}
