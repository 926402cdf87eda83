//! What a submission listener (RFC 6409) adds to the SMTP conversation:
//! the sender must be the authenticated user's, local recipients are
//! delivered directly, and the message is checked before it is accepted.

use std::sync::Arc;

use mailroom_core::mail::{SubmissionRefusal, Trace};
use mailroom_core::store::{Account, SendClass};

use crate::reply::Reply;
use crate::session::Session;

/// The product's sentence for a sender the user does not own.
const NOT_OWNED: &str = "Sender address not owned by user";
/// The product's sentence for an account blocked for abuse.
const SENDING_BLOCKED: &str =
    "Sending blocked for abusive activity; contact your domain administrator";

impl Session {
    /// MAIL FROM on submission: only after AUTH, and only from an address
    /// the user owns (its own or an alias that delivers to it).
    pub(crate) async fn check_sender(&self, sender: &str) -> Result<(), Reply> {
        let Some(account) = &self.account else {
            return Err(Reply::new(530, "5.7.0", "Authentication required"));
        };
        match self.server.mail.sending_block(account).await {
            Ok(None) => {}
            Ok(Some(_)) => return Err(Reply::new(550, "5.7.1", SENDING_BLOCKED)),
            Err(error) => {
                tracing::error!(%error, "sending block lookup failed");
                return Err(Reply::new(
                    451,
                    "4.3.0",
                    "Temporary lookup failure, try again later",
                ));
            }
        }
        match self.server.mail.owns_sender(account, sender).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                let shown: String = sender.chars().filter(|c| !c.is_control()).collect();
                Err(Reply::new(553, "5.7.1", format!("<{shown}>: {NOT_OWNED}")))
            }
            Err(error) => {
                tracing::error!(%error, "sender lookup failed");
                Err(Reply::new(
                    451,
                    "4.3.0",
                    "Temporary lookup failure, try again later",
                ))
            }
        }
    }

    /// On submission, counts a recipient against the user's sending quota
    /// for its class (RFC 6409 leaves the policy to us; 451 4.7.1 says
    /// when the next message is allowed). The MX listener counts nothing.
    pub(crate) async fn count_sending(&self, class: SendClass) -> Result<(), Reply> {
        let Some(account) = self
            .account
            .as_ref()
            .filter(|_| self.server.is_submission())
        else {
            return Ok(());
        };
        match self.server.mail.take_ip_sending(self.peer.ip()).await {
            Ok(None) => {}
            Ok(Some(wait)) => {
                return Err(Reply::new(
                    451,
                    "4.7.1",
                    format!(
                        "Too many recipients from your address {}: the next is allowed in {}",
                        self.peer.ip(),
                        human_wait(wait)
                    ),
                ));
            }
            Err(error) => {
                tracing::error!(%error, "sending quota check failed");
                return Err(Reply::new(
                    451,
                    "4.3.0",
                    "Temporary failure, try again later",
                ));
            }
        }
        match self.server.mail.take_sending(account, class).await {
            Ok(None) => Ok(()),
            Ok(Some(wait)) => {
                // A client that keeps hammering a full bucket gets the
                // account blocked (see mailroom_core::abuse).
                if let Err(error) = self.server.mail.note_limit_refused(account).await {
                    tracing::error!(%error, "abuse tracking failed");
                }
                Err(Reply::new(
                    451,
                    "4.7.1",
                    format!(
                        "Sending limit reached ({} mail): the next message is allowed in {}",
                        class.as_str(),
                        human_wait(wait)
                    ),
                ))
            }
            Err(error) => {
                tracing::error!(%error, "sending quota check failed");
                Err(Reply::new(
                    451,
                    "4.3.0",
                    "Temporary failure, try again later",
                ))
            }
        }
    }

    /// The message itself: From: owned, not blank or a placeholder.
    pub(crate) async fn check_content(&self, body: &[u8]) -> Result<(), Reply> {
        let Some(account) = &self.account else {
            return Err(Reply::new(530, "5.7.0", "Authentication required"));
        };
        match self.server.mail.check_submission(account, body).await {
            Ok(None) => self.check_spam(account, body).await,
            Ok(Some(SubmissionRefusal::NoFrom)) => Err(Reply::new(
                550,
                "5.6.0",
                "Message refused: it has no From: header; set your address as the sender",
            )),
            Ok(Some(SubmissionRefusal::NotOwned(address))) => {
                let shown: String = address.chars().filter(|c| !c.is_control()).collect();
                Err(Reply::new(
                    553,
                    "5.7.1",
                    format!("<{shown}> in From: {NOT_OWNED}"),
                ))
            }
            Ok(Some(SubmissionRefusal::Placeholder(why))) => Err(Reply::new(
                550,
                "5.7.1",
                format!(
                    "Message refused by the outbound filter: {why}. Blank, test and placeholder \
                     messages are not sent; write real content and send again"
                ),
            )),
            Err(error) => {
                tracing::error!(%error, "submission check failed");
                Err(Reply::new(
                    451,
                    "4.3.0",
                    "Temporary failure, try again later",
                ))
            }
        }
    }
}

impl Session {
    /// The outbound filter: mail scoring over the sender's domain's reject
    /// threshold is refused, and counts towards blocking the account.
    async fn check_spam(&self, account: &Account, body: &[u8]) -> Result<(), Reply> {
        let check = match self.server.mail.check_outbound(account, body).await {
            Ok(check) => check,
            Err(error) => {
                tracing::error!(%error, "outbound spam check failed");
                return Ok(());
            }
        };
        if !check.refused() {
            return Ok(());
        }
        let id =
            mailroom_core::abuse::message_id_of(body).unwrap_or_else(|| "(no Message-ID)".into());
        tracing::warn!(peer = %self.peer, account = %account.email, score = check.report.score, "submission refused as spam");
        if let Err(error) = self.server.mail.note_spam_refused(account, &id).await {
            tracing::error!(%error, "abuse tracking failed");
        }
        Err(Reply::new(
            550,
            "5.7.1",
            format!(
                "Message refused as spam by the outbound filter (score {:.1}, limit {:.1}): {}",
                check.report.score,
                check.reject_at,
                check.report.tests_text()
            ),
        ))
    }
}

impl Session {
    /// Hands recipients in other domains to the outbound queue; durable
    /// before the 250 (the same rule as local delivery).
    pub(crate) async fn enqueue(
        &self,
        sender: &str,
        recipients: Vec<String>,
        trace: &Trace,
        body: Arc<Vec<u8>>,
    ) -> Result<(), Reply> {
        let (queue, Some(account)) = (&self.server.queue, &self.account) else {
            return Err(Reply::new(
                451,
                "4.3.0",
                "Error: outbound queue unavailable, try again later",
            ));
        };
        let now = self.server.mail.now();
        // RFC 5321 4.4: this hop's Received line.
        let prefix = format!(
            "Received: from {} ([{}])\r\n\tby {} with {} id {};\r\n\t{}\r\n",
            trace.helo,
            trace.peer,
            self.server.settings.hostname,
            trace.protocol,
            trace.id,
            mailroom_core::time::rfc5322(now)
        );
        match queue
            .enqueue(account, sender, recipients, prefix.into_bytes(), body)
            .await
        {
            Ok(queue_id) => {
                tracing::info!(peer = %self.peer, id = %trace.id, queue_id, "message queued");
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, "queueing failed");
                Err(Reply::new(
                    451,
                    "4.3.0",
                    "Error: could not queue the message, try again later",
                ))
            }
        }
    }
}

/// `45 seconds`, `4 minutes`, `2 hours 5 minutes`.
pub(crate) fn human_wait(seconds: u64) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if seconds < 60 {
        return plural(seconds.max(1), "second");
    }
    // Rounded up to whole minutes, so 3,599 s reads as 1 hour.
    let minutes = seconds.div_ceil(60);
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => plural(m, "minute"),
        (h, 0) => plural(h, "hour"),
        (h, m) => format!("{} {}", plural(h, "hour"), plural(m, "minute")),
    }
}

/// RFC 6409 8.3 and 8.4: a submitted message without Date or Message-ID
/// gets them from the submission server.
pub(crate) fn complete_headers(body: Vec<u8>, hostname: &str, id: &str, now: i64) -> Vec<u8> {
    let end = crate::forged::header_section_end(&body);
    let header = &body[..end];
    let has = |name: &str| {
        header.split(|&b| b == b'\n').any(|line| {
            line.len() > name.len()
                && line[..name.len()].eq_ignore_ascii_case(name.as_bytes())
                && line[name.len()] == b':'
        })
    };
    let mut added = String::new();
    if !has("date") {
        added.push_str(&format!("Date: {}\r\n", mailroom_core::time::rfc5322(now)));
    }
    if !has("message-id") {
        added.push_str(&format!("Message-ID: <{id}.{now}@{hostname}>\r\n"));
    }
    if added.is_empty() {
        return body;
    }
    let mut out = added.into_bytes();
    out.extend_from_slice(&body);
    out
}

/// Where the header ends (the blank line), or the whole message.
#[cfg(test)]
mod tests {
    use super::{complete_headers, human_wait};

    #[test]
    fn waits_read_like_a_person_wrote_them() {
        assert_eq!(human_wait(1), "1 second");
        assert_eq!(human_wait(45), "45 seconds");
        assert_eq!(human_wait(61), "2 minutes");
        assert_eq!(human_wait(3600), "1 hour");
        assert_eq!(human_wait(7500), "2 hours 5 minutes");
        assert_eq!(human_wait(3599), "1 hour");
    }

    #[test]
    fn date_and_message_id_are_added_only_when_missing() {
        let out = complete_headers(b"Subject: hi\r\n\r\nbody\r\n".to_vec(), "mx.test", "ABC", 0);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "Date: Thu, 1 Jan 1970 00:00:00 +0000\r\nMessage-ID: <ABC.0@mx.test>\r\nSubject: hi"
            ),
            "{text}"
        );
        let full = b"Date: x\r\nMessage-Id: <a@b>\r\n\r\nbody: not a header\r\n".to_vec();
        assert_eq!(complete_headers(full.clone(), "mx.test", "ABC", 0), full);
    }
}
