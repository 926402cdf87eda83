//! Checks on a message a user submits (RFC 6409): the From: header names
//! only addresses the user owns, and blank, test or placeholder messages
//! are refused before they hurt the sending domain's reputation.

use mail_parser::{Message, MimeHeaders, PartType};
use mailroom_store::Account;

use super::Mail;
use crate::Result;

/// Why a submitted message is refused; front-ends turn these into replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmissionRefusal {
    /// The message has no From: header (RFC 5322 3.6 requires one).
    NoFrom,
    /// A From: address the user does not own.
    NotOwned(String),
    /// A blank, test or placeholder message, and why it looks like one.
    Placeholder(&'static str),
}

impl Mail {
    /// `None` when the message may be sent.
    pub async fn check_submission(
        &self,
        account: &Account,
        body: &[u8],
    ) -> Result<Option<SubmissionRefusal>> {
        let Some(message) = mailroom_spam::mime_tree::parse(body) else {
            return Ok(Some(SubmissionRefusal::NoFrom));
        };
        let senders: Vec<String> = message
            .from()
            .map(|from| {
                from.iter()
                    .filter_map(|a| a.address.as_deref())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if senders.is_empty() {
            return Ok(Some(SubmissionRefusal::NoFrom));
        }
        for sender in senders {
            if !self.owns_sender(account, &sender).await? {
                return Ok(Some(SubmissionRefusal::NotOwned(sender)));
            }
        }
        Ok(placeholder(&message).map(SubmissionRefusal::Placeholder))
    }
}

/// Bodies that say nothing: what people type to "see if it works".
const PLACEHOLDER_BODIES: [&str; 14] = [
    "test",
    "testing",
    "test message",
    "test mail",
    "test email",
    "this is a test",
    "this is a test message",
    "this is a test email",
    "placeholder",
    "asdf",
    "hello world",
    "123",
    "xxx",
    "body",
];

/// Subjects that announce a test.
const TEST_SUBJECTS: [&str; 5] = ["test", "testing", "test message", "test mail", "test email"];

/// Why a message looks blank or like a placeholder, if it does. Messages
/// with attachments never do: sending a file with no text is normal.
fn placeholder(message: &Message<'_>) -> Option<&'static str> {
    let has_attachment = message.parts.iter().any(|p| {
        matches!(
            p.body,
            PartType::Binary(_) | PartType::InlineBinary(_) | PartType::Message(_)
        ) || p.attachment_name().is_some()
    });
    if has_attachment {
        return None;
    }
    let text: String = (0..message.text_body_count())
        .filter_map(|i| message.body_text(i))
        .collect::<Vec<_>>()
        .join("\n");
    let body = words(&text);
    let subject = words(message.subject().unwrap_or_default());
    if body.is_empty() && (subject.is_empty() || TEST_SUBJECTS.contains(&subject.as_str())) {
        return Some(if subject.is_empty() {
            "it has no subject and no text"
        } else {
            "it has no text and its subject only says \"test\""
        });
    }
    if PLACEHOLDER_BODIES.contains(&body.as_str()) || body.starts_with("lorem ipsum") {
        return Some("its text is only placeholder text");
    }
    None
}

/// Lower-case words separated by single spaces, punctuation dropped.
fn words(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(subject: &str, body: &str) -> Option<&'static str> {
        let raw = format!("From: a@example.test\r\nSubject: {subject}\r\n\r\n{body}");
        let message = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        placeholder(&message)
    }

    #[test]
    fn blank_and_placeholder_messages_are_recognised() {
        let refused = [
            ("", ""),
            ("test", ""),
            ("Test!", "  \r\n\r\n"),
            ("Hello", "test"),
            ("Quarterly numbers", "This is a test message."),
            ("Draft", "Lorem ipsum dolor sit amet, consectetur"),
            ("", "asdf"),
        ];
        for (subject, body) in refused {
            assert!(check(subject, body).is_some(), "{subject:?} / {body:?}");
        }
        let sent = [
            ("Lunch", ""),
            ("test results", "The tests passed on all machines."),
            ("", "Can you send me the report by Friday?"),
            ("Re: test", "Yes, I got it."),
        ];
        for (subject, body) in sent {
            assert!(check(subject, body).is_none(), "{subject:?} / {body:?}");
        }
    }

    #[test]
    fn an_attachment_is_never_blank() {
        let raw = "From: a@example.test\r\nSubject: \r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\r\n\
--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--b--\r\n";
        let message = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        assert_eq!(placeholder(&message), None);
    }
}
