//! Delivery status notifications (RFC 3464, in a RFC 6522 multipart/report):
//! a sentence a person can act on, the machine-readable status per
//! recipient naming the remote host and its reply, and the original
//! message's header.

use mailroom_store::Queued;

/// One recipient that will not get the message, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub recipient: String,
    /// The host that answered (or could not be reached).
    pub host: Option<String>,
    /// Its reply, e.g. `550 5.1.1 <x@far.test>: no such user`, or what
    /// went wrong locally.
    pub reply: String,
    /// RFC 3463 status, e.g. `5.1.1`.
    pub status: String,
}

/// What a report says about its recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Given up: the message will not reach them.
    Failed,
    /// Still trying (RFC 3464 `Action: delayed`), until `give_up_at`.
    Delayed { give_up_at: i64 },
}

pub fn build(
    hostname: &str,
    queued: &Queued,
    failures: &[Failure],
    original: &[u8],
    now: i64,
    report: Report,
) -> Vec<u8> {
    let date = crate::time::rfc5322(now);
    let boundary = format!("=_dsn_{}_{now}", queued.id);
    let header_end = original
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(original.len(), |p| p + 2);
    let subject = original_subject(&original[..header_end]);
    let (mut human, action, title) = match report {
        Report::Failed => (
            format!(
                "This is the mail system at {hostname}.\r\n\r\n\
                 Your message{subject} could not be delivered to the following recipients.\r\n\
                 The reason each one gives is below; the message was not sent to them.\r\n\r\n"
            ),
            "failed",
            "Undelivered Mail Returned to Sender",
        ),
        Report::Delayed { give_up_at } => (
            format!(
                "This is the mail system at {hostname}.\r\n\r\n\
                 Your message{subject} has not been delivered to the following recipients yet.\r\n\
                 This is only a warning: it will be tried again until {}.\r\n\
                 You do not need to send it again.\r\n\r\n",
                crate::time::rfc5322(give_up_at)
            ),
            "delayed",
            "Delayed Mail (still being retried)",
        ),
    };
    for f in failures {
        match &f.host {
            Some(host) => {
                human.push_str(&format!("<{}>: {host} said: {}\r\n", f.recipient, f.reply))
            }
            None => human.push_str(&format!("<{}>: {}\r\n", f.recipient, f.reply)),
        }
    }
    let mut status = format!(
        "Reporting-MTA: dns; {hostname}\r\nArrival-Date: {}\r\n",
        crate::time::rfc5322(queued.created_at)
    );
    for f in failures {
        status.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {}\r\nAction: {action}\r\nStatus: {}\r\n",
            f.recipient, f.status
        ));
        if let Some(host) = &f.host {
            status.push_str(&format!("Remote-MTA: dns; {host}\r\n"));
        }
        // RFC 3464 2.3.6: "smtp" only for a reply an SMTP server gave.
        let kind = if is_smtp_reply(&f.reply) {
            "smtp"
        } else {
            "X-mailroom"
        };
        status.push_str(&format!("Diagnostic-Code: {kind}; {}\r\n", f.reply));
    }
    let mut out = format!(
        "From: Mail Delivery System <MAILER-DAEMON@{hostname}>\r\n\
         To: <{sender}>\r\n\
         Subject: {title}\r\n\
         Date: {date}\r\n\
         Message-ID: <dsn.{id}.{now}@{hostname}>\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"{boundary}\"\r\n\
         \r\n\
         --{boundary}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         {human}\r\n\
         --{boundary}\r\n\
         Content-Type: message/delivery-status\r\n\r\n\
         {status}\r\n\
         --{boundary}\r\n\
         Content-Type: text/rfc822-headers\r\n\r\n",
        sender = queued.sender,
        id = queued.id,
    )
    .into_bytes();
    out.extend_from_slice(&original[..header_end]);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

fn is_smtp_reply(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b' '
}

/// ` "Subject line"`, or nothing without one.
fn original_subject(header: &[u8]) -> String {
    let text = String::from_utf8_lossy(header);
    text.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("subject")
                .then(|| format!(" \"{}\"", value.trim()))
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_the_host_its_reply_and_the_message() {
        let queued = Queued {
            id: 7,
            account_id: Some(1),
            sender: "bob@example.test".into(),
            created_at: 0,
            delay_notified: false,
            size: 10,
            recipients: Vec::new(),
        };
        let failures = [Failure {
            recipient: "x@far.test".into(),
            host: Some("mx.far.test".into()),
            reply: "550 5.1.1 <x@far.test>: no such user".into(),
            status: "5.1.1".into(),
        }];
        let out = build(
            "mail.example.test",
            &queued,
            &failures,
            b"Subject: Plans\r\nFrom: bob@example.test\r\n\r\nbody\r\n",
            60,
            Report::Failed,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Your message \"Plans\" could not be delivered"));
        assert!(
            text.contains("<x@far.test>: mx.far.test said: 550 5.1.1 <x@far.test>: no such user")
        );
        assert!(text.contains("Final-Recipient: rfc822; x@far.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.far.test"));
        assert!(text.contains("report-type=delivery-status"));
        assert!(!text.contains("body\r\n--"), "only the header is returned");
    }
}
