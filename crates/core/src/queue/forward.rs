//! Mail accepted for a hosted address: filed into the local accounts and
//! queued, with a rewritten sender (SRS), for the addresses it is
//! forwarded to; forwarding loops end in a bounce.

use std::sync::Arc;

use mailroom_store::{NewQueued, Queued};

use super::Queue;
use super::dsn::{Failure, Report};
use crate::Result;
use crate::mail::{
    DeliveryRefusal, InboundMessage, MAX_FORWARD_HOPS, Trace, received_count, received_header,
};

impl Queue {
    /// Delivers a received message: local copies first (a full mailbox
    /// refuses the whole message, so nothing is half-done), then the
    /// forwarded copies, each durable before this returns.
    pub async fn accept(
        &self,
        message: InboundMessage,
    ) -> Result<std::result::Result<usize, DeliveryRefusal>> {
        let forwards: Vec<(String, Vec<String>)> = message
            .recipients
            .iter()
            .filter(|r| !r.forwards.is_empty())
            .map(|r| (r.address.clone(), r.forwards.clone()))
            .collect();
        let (body, trace) = (message.body.clone(), message.trace.clone());
        let delivered = self.mail.deliver_inbound(message).await?;
        if delivered.is_err() {
            return Ok(delivered);
        }
        for (via, targets) in forwards {
            self.forward(&via, targets, &trace, &body).await?;
        }
        Ok(delivered)
    }

    /// Queues a copy for `targets`, sent from `via` (the hosted address
    /// that forwards) with the sender rewritten into `via`'s domain.
    async fn forward(
        &self,
        via: &str,
        targets: Vec<String>,
        trace: &Trace,
        body: &Arc<Vec<u8>>,
    ) -> Result<()> {
        let now = self.now();
        let hops = received_count(body);
        if hops >= MAX_FORWARD_HOPS {
            tracing::warn!(%via, hops, "forwarding loop: bounced");
            let queued = Queued {
                id: 0,
                account_id: None,
                sender: trace.return_path.clone(),
                created_at: now,
                delay_notified: false,
                size: body.len() as u64,
                recipients: Vec::new(),
            };
            let failures: Vec<Failure> = targets
                .into_iter()
                .map(|recipient| Failure {
                    recipient,
                    host: None,
                    reply: format!(
                        "554 5.4.6 Too many hops ({hops}): mail forwarding loop detected at <{via}>"
                    ),
                    status: "5.4.6".into(),
                })
                .collect();
            return self.bounce(&queued, &failures, body, Report::Failed).await;
        }
        let via_domain = crate::address::domain_of(via);
        let sender = self
            .mail
            .srs()
            .await?
            .forward(&trace.return_path, via_domain, now);
        let hostname = self.mail.settings().hostname.clone();
        let id = self
            .store
            .queue_add(NewQueued {
                // Forwarded mail is not the account's own sending.
                account_id: None,
                sender,
                recipients: targets,
                prefix: received_header(&hostname, trace, via, now),
                body: body.clone(),
            })
            .await?;
        tracing::info!(%via, queue_id = id, "forwarded copy queued");
        self.wake.notify_one();
        Ok(())
    }
}
