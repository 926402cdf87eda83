//! Filing an accepted inbound message into the recipients' mailboxes.

use std::net::IpAddr;
use std::sync::Arc;

use mailroom_store::{Account, Delivery, DeliveryTarget, Flags, Folder, SpecialUse, StatKind};

use super::resolve::over_quota;
use super::{Mail, MailboxEvent, MessageState, Resolved};
use crate::Result;

/// Where a message came from, for its trace headers (RFC 5321 4.4).
#[derive(Debug, Clone)]
pub struct Trace {
    /// The name the client gave in HELO/EHLO.
    pub helo: String,
    pub peer: IpAddr,
    /// The client's reverse DNS name, when it resolves back.
    pub peer_name: Option<String>,
    /// `SMTP`, `ESMTP`, `ESMTPS`, `ESMTPA`, `ESMTPSA` (RFC 3848).
    pub protocol: &'static str,
    /// The id the SMTP session gave the message (also in its 250 reply).
    pub id: String,
    /// The envelope sender; empty for a bounce.
    pub return_path: String,
}

pub struct InboundMessage {
    /// The message as received (dot-unstuffed, CRLF line endings).
    pub body: Arc<Vec<u8>>,
    pub recipients: Vec<Resolved>,
    pub trace: Trace,
    /// What the spam filter decided per copy (empty: Inbox, no headers).
    pub filing: crate::spam::Filing,
}

/// Why a message was not filed (temporary: the sender should retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryRefusal {
    /// These recipients have no room for a message of this size.
    MailboxFull(Vec<String>),
}

impl Mail {
    /// Stores the message once, with a copy for each recipient account, and
    /// returns only when it is durable. Quotas are checked with the real
    /// size; if any recipient is over, nothing is filed and the sender is
    /// asked to retry, so no recipient loses the message.
    pub async fn deliver_inbound(
        &self,
        message: InboundMessage,
    ) -> Result<std::result::Result<usize, DeliveryRefusal>> {
        let now = self.clock.now();
        let size = message.body.len() as u64;
        // One copy per account, traced for the first address that reached it.
        let mut copies: Vec<(&Account, &str)> = Vec::new();
        for recipient in &message.recipients {
            for account in &recipient.accounts {
                if !copies.iter().any(|(a, _)| a.id == account.id) {
                    copies.push((account, &recipient.address));
                }
            }
        }
        let mut full = Vec::new();
        for (account, address) in &copies {
            // Fresh usage: other deliveries may have landed since RCPT.
            if let Some(current) = self.store.account_get(&account.email).await?
                && over_quota(&current, size)
            {
                full.push(address.to_string());
            }
        }
        if !full.is_empty() {
            return Ok(Err(DeliveryRefusal::MailboxFull(full)));
        }
        if copies.is_empty() {
            // Every recipient forwards elsewhere.
            return Ok(Ok(0));
        }
        let targets = copies
            .iter()
            .map(|(account, address)| {
                let mut prefix =
                    trace_headers(&self.settings.hostname, &message.trace, address, now);
                prefix.extend_from_slice(&message.filing.common);
                let (spam_headers, junk) = message
                    .filing
                    .accounts
                    .get(&account.id)
                    .map_or((&[][..], false), |(h, j)| (h.as_slice(), *j));
                prefix.extend_from_slice(spam_headers);
                DeliveryTarget {
                    account_id: account.id,
                    folder: Folder::Special(if junk {
                        SpecialUse::Junk
                    } else {
                        SpecialUse::Inbox
                    }),
                    prefix,
                    flags: Flags::default(),
                }
            })
            .collect::<Vec<_>>();
        let count = targets.len();
        let delivered = self
            .store
            .deliver(Delivery {
                body: message.body,
                internal_date: now,
                targets,
            })
            .await?;
        // Stats: one message received per domain it reached.
        let mut domains: Vec<&str> = copies
            .iter()
            .map(|(a, _)| crate::address::domain_of(&a.email))
            .collect();
        domains.sort_unstable();
        domains.dedup();
        for domain in domains {
            self.store.stats_count(domain, StatKind::Received);
        }
        for d in &delivered {
            self.events.publish(MailboxEvent::Appended {
                account_id: d.account_id,
                mailbox_id: d.mailbox_id,
                message: MessageState::from(d),
            });
        }
        Ok(Ok(count))
    }
}

/// `Return-Path` and `Received` for one recipient, as the final delivery
/// MTA adds them (RFC 5321 4.4).
fn trace_headers(hostname: &str, trace: &Trace, recipient: &str, now: i64) -> Vec<u8> {
    let mut out = format!("Return-Path: <{}>\r\n", sanitize(&trace.return_path)).into_bytes();
    out.extend_from_slice(&received_header(hostname, trace, recipient, now));
    out
}

/// This hop's `Received` line (RFC 5321 4.4), also put on forwarded mail.
pub(crate) fn received_header(hostname: &str, trace: &Trace, recipient: &str, now: i64) -> Vec<u8> {
    let helo = sanitize(&trace.helo);
    // RFC 5321 4.4 TCP-info: the looked-up name, then the address.
    let name = trace
        .peer_name
        .as_deref()
        .map(|n| format!("{} ", sanitize(n)))
        .unwrap_or_default();
    format!(
        "Received: from {helo} ({name}[{}])\r\n\tby {hostname} (mailroom) with {} id {}\r\n\tfor <{recipient}>; {}\r\n",
        trace.peer,
        trace.protocol,
        trace.id,
        crate::time::rfc5322(now)
    )
    .into_bytes()
}

/// Keeps client-supplied text from breaking the header it is put in.
fn sanitize(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(255).collect()
}
