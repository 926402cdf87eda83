//! Notices the system files into an account's Inbox (2FA reminders,
//! sending blocks): plain text from postmaster, marked auto-generated so
//! no client answers them (RFC 3834).

use std::sync::Arc;

use mailroom_store::Account;

use super::{InboundMessage, Mail, Resolved, Trace};
use crate::Result;

impl Mail {
    /// Files a notice with `subject` and `text` (lines joined by CRLF).
    pub async fn deliver_notice(&self, account: &Account, subject: &str, text: &str) -> Result<()> {
        let hostname = self.settings().hostname.clone();
        let now = self.now();
        let clean = |s: &str| s.chars().filter(|c| !c.is_control()).collect::<String>();
        let body = format!(
            "From: Mail Security <postmaster@{hostname}>\r\n\
             To: <{email}>\r\n\
             Subject: {subject}\r\n\
             Date: {date}\r\n\
             Message-ID: <notice.{id}.{now}.{nonce:08x}@{hostname}>\r\n\
             Auto-Submitted: auto-generated\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             {text}\r\n",
            email = account.email,
            subject = clean(subject),
            date = crate::time::rfc5322(now),
            id = account.id,
            nonce = rand::random::<u32>(),
            text = text.replace("\r\n", "\n").replace('\n', "\r\n"),
        );
        let message = InboundMessage {
            body: Arc::new(body.into_bytes()),
            recipients: vec![Resolved {
                address: account.email.clone(),
                accounts: vec![account.clone()],
                forwards: Vec::new(),
            }],
            trace: Trace {
                helo: hostname,
                peer: std::net::IpAddr::from([127, 0, 0, 1]),
                peer_name: None,
                protocol: "LOCAL",
                id: format!("notice{}", account.id),
                return_path: String::new(),
            },
            filing: Default::default(),
        };
        if let Err(refusal) = self.deliver_inbound(message).await? {
            tracing::warn!(account = %account.email, ?refusal, "notice not delivered");
        }
        Ok(())
    }
}
