//! One queued message's attempt: its due recipients grouped by domain,
//! each domain's hosts tried in order, and what every recipient got
//! recorded (a failure for good goes into the sender's report).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use mailroom_core::queue::Failure;
use mailroom_core::store::{AttemptResult, Queued, RecipientStatus};

use super::Shared;
use super::client::{Opened, RemoteReply, Session, Target, Transfer};

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

/// A host's answer to one message on one session.
enum HostOutcome {
    Transfer(Transfer),
    /// The host would not open a session (greeting, EHLO or login).
    Refused(RemoteReply),
}

impl Shared {
    pub(super) async fn deliver(&self, queued: &Queued) {
        let now = self.queue.now();
        let content = match self.queue.content(queued.id).await {
            Ok(c) => c,
            Err(error) => {
                tracing::error!(id = queued.id, %error, "queued message unreadable");
                return;
            }
        };
        let mut by_domain: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for r in &queued.recipients {
            if r.status == RecipientStatus::Pending && r.next_attempt_at <= now {
                by_domain
                    .entry(&r.domain)
                    .or_default()
                    .push(r.address.clone());
            }
        }
        let mut results = Vec::new();
        let mut failures = Vec::new();
        for (domain, recipients) in by_domain {
            let outcome = self.attempt(queued, domain, recipients, &content).await;
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
        let count = results.len();
        match self.queue.record(queued, results, failures).await {
            Ok(()) => tracing::info!(id = queued.id, count, "delivery attempts recorded"),
            Err(error) => {
                tracing::error!(id = queued.id, %error, "cannot record delivery attempts")
            }
        }
    }

    /// Tries a domain's hosts in order until one takes the conversation.
    async fn attempt(
        &self,
        queued: &Queued,
        domain: &str,
        recipients: Vec<String>,
        content: &[u8],
    ) -> Vec<(String, Option<String>, Reply)> {
        let all = |host: Option<String>, reply: Reply| {
            recipients
                .iter()
                .map(|r| (r.clone(), host.clone(), reply.clone()))
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
        let _slot = self.pool.slot(self.router.destination(domain)).await;
        let mut last_problem = String::new();
        for (name, addr) in hosts {
            match self
                .on_host(&name, addr, &queued.sender, &recipients, content)
                .await
            {
                Ok(HostOutcome::Transfer(Transfer::Done(replies))) => {
                    return replies
                        .into_iter()
                        .map(|(r, reply)| (r, Some(name.clone()), Reply::Remote(reply)))
                        .collect();
                }
                // A host that refuses for good speaks for the domain; a
                // temporary refusal lets the next one try.
                Ok(
                    HostOutcome::Transfer(Transfer::Refused(reply)) | HostOutcome::Refused(reply),
                ) if reply.is_permanent() => {
                    return all(Some(name), Reply::Remote(reply));
                }
                Ok(
                    HostOutcome::Transfer(Transfer::Refused(reply)) | HostOutcome::Refused(reply),
                ) => last_problem = format!("{name}: {}", reply.line()),
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

    /// Sends on an idle session to the host if there is one (once more on
    /// a fresh session if the host had closed it), else on a new session.
    async fn on_host(
        &self,
        name: &str,
        addr: SocketAddr,
        sender: &str,
        recipients: &[String],
        content: &[u8],
    ) -> std::io::Result<HostOutcome> {
        if let Some(mut session) = self.pool.take(addr)
            && let Ok(transfer) = session.send(sender, recipients, content).await
        {
            self.pool.put(addr, session);
            return Ok(HostOutcome::Transfer(transfer));
        }
        let relay = self.router.relay();
        let target = Target {
            host: name,
            addr,
            helo: &self.hostname,
            implicit_tls: relay.is_some_and(|r| r.implicit_tls),
            credentials: relay.and_then(|r| r.credentials.as_ref()),
        };
        let mut session: Session = match Session::open(target).await? {
            Opened::Ready(session) => session,
            Opened::Refused(reply) => return Ok(HostOutcome::Refused(reply)),
        };
        let transfer = session.send(sender, recipients, content).await?;
        self.pool.put(addr, session);
        Ok(HostOutcome::Transfer(transfer))
    }
}
