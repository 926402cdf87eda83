//! Message transfer: DATA (RFC 5321 4.1.1.4) and BDAT (RFC 3030), then
//! delivery. The 250 goes out only once the message is durable.

use std::sync::Arc;

use mailroom_core::mail::{
    DeliveryRefusal, InboundMessage, MAX_HOPS, Resolved, Trace, received_count,
};
use mailroom_core::spam::{Filing, InboundCheck, Inspection};
use mailroom_core::store::StatKind;
use rand::Rng;
use tokio::time::Instant;

use crate::data::BodyDecoder;
use crate::reply::Reply;
use crate::session::{Next, Session};
use crate::submission::complete_headers;
use mailroom_net::Line;

impl Session {
    /// Checks that a transaction is ready for its content.
    fn ready_for_content(&self) -> Result<(), Reply> {
        match &self.envelope {
            None => Err(Reply::new(503, "5.5.1", "Error: need MAIL command")),
            Some(e) if e.recipients.is_empty() && e.remote.is_empty() => {
                Err(Reply::new(554, "5.5.1", "Error: no valid recipients"))
            }
            Some(_) => Ok(()),
        }
    }

    pub(crate) async fn data(&mut self) -> Next {
        if let Err(reply) = self.ready_for_content() {
            return self.continue_if(reply);
        }
        // RFC 3463: enhanced codes are for 2xx, 4xx and 5xx replies only.
        self.send(&Reply::plain(
            354,
            vec!["End data with <CR><LF>.<CR><LF>".into()],
        ));
        let settings = &self.server.settings;
        let (limits, block_timeout) = (settings.body.clone(), settings.data_timeout);
        let deadline = Instant::now() + settings.data_deadline;
        let mut decoder = BodyDecoder::new(limits.clone());
        loop {
            let wait = block_timeout.min(deadline.saturating_duration_since(Instant::now()));
            // Lines longer than the limit are flagged by the decoder; the
            // reader only needs a bound to protect memory.
            match self
                .io()
                .read_line(limits.max_line.max(1000) * 4, wait)
                .await
            {
                Ok(Line::Complete(range)) => {
                    let io = self.io.as_ref().expect("the session has its connection");
                    if decoder.feed_line(io.bytes(range)) {
                        break;
                    }
                }
                Ok(Line::TooLong) => decoder.line_too_long(),
                Ok(Line::Closed) | Err(_) => return self.lost_connection_in_data(),
            }
        }
        self.finish_message(decoder).await
    }

    pub(crate) async fn bdat(&mut self, size: u64, last: bool) -> Next {
        // RFC 3030 2 via RFC 1869 4: CHUNKING exists only after EHLO. The
        // chunk is read all the same, to stay in step with the client.
        let refusal = if self.esmtp {
            self.ready_for_content().err()
        } else {
            Some(Reply::new(503, "5.5.1", "BDAT needs EHLO, not HELO"))
        };
        let settings = &self.server.settings;
        let (limits, block_timeout) = (settings.body.clone(), settings.data_timeout);
        let deadline = Instant::now() + settings.data_deadline;
        let mut decoder = self
            .envelope
            .as_mut()
            .and_then(|e| e.chunks.take())
            .unwrap_or_else(|| BodyDecoder::new(limits));
        // The chunk is read in every case, to stay in step with the client.
        let complete = self
            .io()
            .read_chunk(size, block_timeout, deadline, |piece| {
                decoder.feed_chunk(piece)
            })
            .await;
        match complete {
            Ok(true) => {}
            Ok(false) | Err(_) => return self.lost_connection_in_data(),
        }
        if let Some(reply) = refusal {
            self.envelope = None;
            return self.continue_if(reply);
        }
        if !last {
            let received = decoder.size();
            if let Some(envelope) = self.envelope.as_mut() {
                envelope.chunks = Some(decoder);
            }
            return self.continue_if(Reply::new(
                250,
                "2.0.0",
                format!("{size} octets received, {received} in total"),
            ));
        }
        self.finish_message(decoder).await
    }

    fn lost_connection_in_data(&mut self) -> Next {
        // Nothing was acknowledged, so nothing is lost: the sender retries.
        tracing::info!(peer = %self.peer, "connection lost or timed out during message transfer");
        let bye = Reply::new(
            421,
            "4.4.2",
            format!("{} Error: timeout exceeded", self.server.settings.hostname),
        );
        self.send(&bye);
        Next::Close
    }

    async fn finish_message(&mut self, decoder: BodyDecoder) -> Next {
        let Some(envelope) = self.envelope.take() else {
            return self.continue_if(Reply::new(503, "5.5.1", "Error: need MAIL command"));
        };
        let mut body = match decoder.finish() {
            Ok(body) => body,
            Err(problem) => {
                tracing::info!(peer = %self.peer, ?problem, "message refused");
                return self.continue_if(problem.reply(&self.server.settings.body));
            }
        };
        // RFC 5322 2.1: every line ends with CRLF; BDAT carries the last
        // one only if the client sent it (DATA's end always has it).
        if !body.is_empty() && !body.ends_with(b"\n") {
            let missing: &[u8] = if body.ends_with(b"\r") {
                b"\n"
            } else {
                b"\r\n"
            };
            body.extend_from_slice(missing);
        }
        let id = message_id();
        // RFC 5321 6.3: a message that passed this many hosts is looping.
        let hops = received_count(&body);
        if hops >= MAX_HOPS {
            tracing::info!(peer = %self.peer, hops, "message refused: too many hops");
            return self.continue_if(Reply::new(
                554,
                "5.4.6",
                format!("Too many hops ({hops}): mail loop detected"),
            ));
        }
        let body = if self.server.is_submission() {
            if let Err(reply) = self.check_content(&body).await {
                tracing::info!(peer = %self.peer, %id, reply = %reply.to_wire().trim_end(), "submission refused");
                return self.continue_if(reply);
            }
            let now = self.server.mail.now();
            complete_headers(body, &self.server.settings.hostname, &id, now)
        } else {
            body
        };
        // RFC 3848: the A marks an authenticated submission; RFC 6531
        // 3.7.3: UTF8SMTP when the transaction asked for SMTPUTF8.
        let utf8 = envelope.from.smtputf8;
        let protocol = match (self.esmtp, utf8, self.io().is_tls(), self.account.is_some()) {
            (false, ..) => "SMTP",
            (true, false, false, _) => "ESMTP",
            (true, false, true, false) => "ESMTPS",
            (true, false, true, true) => "ESMTPSA",
            (true, true, false, false) => "UTF8SMTP",
            (true, true, false, true) => "UTF8SMTPA",
            (true, true, true, false) => "UTF8SMTPS",
            (true, true, true, true) => "UTF8SMTPSA",
        };
        let body = Arc::new(body);
        let sender = envelope.from.address;
        let mut trace = Trace {
            helo: self.helo.clone().unwrap_or_default(),
            peer: self.peer.ip(),
            peer_name: None,
            protocol,
            id: id.clone(),
            return_path: sender.clone(),
        };
        if !envelope.recipients.is_empty() {
            let filing = if self.server.is_submission() {
                Filing::default()
            } else {
                match self.inspect(&body, &sender, &envelope.recipients).await {
                    Ok(filing) => {
                        trace.peer_name = filing.client_name.clone();
                        filing
                    }
                    Err(reply) => return self.continue_if(reply),
                }
            };
            // Checked as it came (signatures cover it); stored without the
            // results a sender wrote in our name.
            let stored = if self.server.is_submission() {
                body.clone()
            } else {
                crate::forged::without_forged_results(&body, &self.server.settings.hostname)
                    .map_or_else(|| body.clone(), Arc::new)
            };
            let message = InboundMessage {
                body: stored,
                recipients: envelope.recipients,
                trace: trace.clone(),
                filing,
            };
            let refused = match self.server.queue.accept(message).await {
                Ok(Ok(copies)) => {
                    tracing::info!(peer = %self.peer, %id, copies, "message delivered");
                    None
                }
                Ok(Err(DeliveryRefusal::MailboxFull(who))) => Some({
                    for address in &who {
                        self.server.mail.count(address, StatKind::Rejected);
                    }
                    Reply::new(
                        452,
                        "4.2.2",
                        format!("<{}>: Mailbox full", who.join(">, <")),
                    )
                }),
                Err(error) => {
                    tracing::error!(peer = %self.peer, %error, "delivery failed");
                    Some(Reply::new(
                        451,
                        "4.3.0",
                        "Error: local delivery failed, try again later",
                    ))
                }
            };
            if let Some(reply) = refused {
                return self.continue_if(reply);
            }
        }
        if !envelope.remote.is_empty()
            && let Err(reply) = self.enqueue(&sender, envelope.remote, &trace, body).await
        {
            return self.continue_if(reply);
        }
        if let Some(account) = self
            .account
            .as_ref()
            .filter(|_| self.server.is_submission())
        {
            self.server.mail.count(&account.email, StatKind::Sent);
        }
        self.continue_if(Reply::new(250, "2.0.0", format!("OK: queued as {id}")))
    }
}

impl Session {
    /// The spam filter on mail from another server: how each copy is
    /// filed, or the reply that refuses or defers the message.
    async fn inspect(
        &self,
        body: &[u8],
        sender: &str,
        recipients: &[Resolved],
    ) -> Result<Filing, Reply> {
        let check = InboundCheck {
            body,
            ip: self.peer.ip(),
            helo: self.helo.as_deref().unwrap_or(""),
            mail_from: sender,
            recipients,
        };
        match self.server.mail.inspect_inbound(check).await {
            Ok(Inspection::Deliver { filing, score }) => {
                tracing::debug!(peer = %self.peer, score, "message scored");
                Ok(filing)
            }
            Ok(Inspection::Greylist { wait, score }) => {
                tracing::info!(peer = %self.peer, %sender, score, "message greylisted");
                Err(Reply::new(
                    451,
                    "4.7.1",
                    format!(
                        "Greylisted: please try again in {}",
                        crate::submission::human_wait(wait.max(1) as u64)
                    ),
                ))
            }
            Ok(Inspection::Reject { reason, score }) => {
                tracing::info!(peer = %self.peer, %sender, score, %reason, "message refused");
                for r in recipients {
                    self.server.mail.count(&r.address, StatKind::Rejected);
                }
                Err(Reply::new(550, "5.7.1", reason))
            }
            Err(error) => {
                // The filter failing must not lose mail: file it unscored.
                tracing::error!(%error, "spam filter failed; message filed without a score");
                Ok(Filing::default())
            }
        }
    }
}

/// A short random id for logs, the Received header and the 250 reply.
fn message_id() -> String {
    const ALPHABET: &[u8] = b"0123456789BCDFGHJKLMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    (0..12)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
