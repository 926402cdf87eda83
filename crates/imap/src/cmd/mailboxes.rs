//! CREATE, DELETE, RENAME, SUBSCRIBE, LIST, LSUB, STATUS (RFC 3501 6.3).

use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox as WireMailbox};
use imap_codec::imap_types::status::StatusDataItemName;
use mailroom_core::mail::DELIMITER;
use mailroom_core::store::{Flags, Mailbox, SpecialUse};

use super::refuse;
use crate::response::quote;
use crate::session::{Done, Session};

impl Session {
    fn account_id(&self) -> i64 {
        self.account.as_ref().map_or(0, |a| a.id)
    }

    pub(crate) async fn create(&mut self, mailbox: &WireMailbox<'_>) -> Done {
        let name = match self.mailbox_name(mailbox) {
            Ok(n) => n,
            Err(done) => return done,
        };
        // RFC 3501 6.3.3: a trailing delimiter only declares a parent.
        let name = name.trim_end_matches(DELIMITER).to_string();
        if name.eq_ignore_ascii_case("INBOX") {
            return Done::no("INBOX always exists").code("ALREADYEXISTS");
        }
        match self
            .server
            .mail
            .create_mailbox(self.account_id(), &name)
            .await
        {
            Ok(_) => Done::ok("CREATE completed"),
            Err(e) => refuse(e),
        }
    }

    pub(crate) async fn delete(&mut self, mailbox: &WireMailbox<'_>) -> Done {
        let name = match self.mailbox_name(mailbox) {
            Ok(n) => n,
            Err(done) => return done,
        };
        if self
            .selected
            .as_ref()
            .is_some_and(|v| v.mailbox.name == name)
        {
            self.selected = None;
        }
        match self
            .server
            .mail
            .delete_mailbox(self.account_id(), &name)
            .await
        {
            Ok(()) => Done::ok("DELETE completed"),
            Err(e) => refuse(e),
        }
    }

    pub(crate) async fn rename(&mut self, from: &WireMailbox<'_>, to: &WireMailbox<'_>) -> Done {
        let (from, to) = match (self.mailbox_name(from), self.mailbox_name(to)) {
            (Ok(f), Ok(t)) => (f, t),
            (Err(done), _) | (_, Err(done)) => return done,
        };
        if to.eq_ignore_ascii_case("INBOX") {
            return Done::no("INBOX already exists").code("ALREADYEXISTS");
        }
        match self
            .server
            .mail
            .rename_mailbox(self.account_id(), &from, &to)
            .await
        {
            Ok(()) => Done::ok("RENAME completed"),
            Err(e) => refuse(e),
        }
    }

    pub(crate) async fn subscribe(&mut self, mailbox: &WireMailbox<'_>, on: bool) -> Done {
        let name = match self.mailbox_name(mailbox) {
            Ok(n) => n,
            Err(done) => return done,
        };
        match self
            .server
            .mail
            .subscribe(self.account_id(), &name, on)
            .await
        {
            Ok(()) => Done::ok(if on {
                "SUBSCRIBE completed"
            } else {
                "UNSUBSCRIBE completed"
            }),
            Err(e) => refuse(e),
        }
    }

    pub(crate) async fn list(
        &mut self,
        reference: &WireMailbox<'_>,
        pattern: &ListMailbox<'_>,
        subscribed_only: bool,
    ) -> Done {
        let command = if subscribed_only { "LSUB" } else { "LIST" };
        let reference = match reference {
            WireMailbox::Inbox => "INBOX".to_string(),
            other => match self.mailbox_name(other) {
                Ok(n) => n,
                Err(done) => return done,
            },
        };
        let raw_pattern: &[u8] = match pattern {
            ListMailbox::Token(t) => t.as_ref(),
            ListMailbox::String(s) => s.as_ref(),
        };
        let Ok(raw_pattern) = std::str::from_utf8(raw_pattern) else {
            return Done::bad("Pattern is not UTF-8");
        };
        let pattern = if self.enabled.utf8 {
            raw_pattern.to_string()
        } else {
            match crate::utf7::decode(raw_pattern) {
                Some(p) => p,
                None => return Done::bad("Pattern is not valid modified UTF-7"),
            }
        };
        if pattern.is_empty() {
            // RFC 3501 6.3.8: the hierarchy delimiter and root.
            self.untagged(&format!("{command} (\\Noselect) \"/\" \"\""));
            return Done::ok(format!("{command} completed"));
        }
        let full = format!("{reference}{pattern}");
        let mailboxes = match self.server.mail.mailboxes(self.account_id()).await {
            Ok(m) => m,
            Err(e) => return refuse(e),
        };
        for mailbox in &mailboxes {
            if subscribed_only && !mailbox.subscribed {
                continue;
            }
            if !matches_pattern(&full, &mailbox.name) {
                continue;
            }
            let attributes = attributes(mailbox, &mailboxes);
            let line = format!(
                "{command} ({attributes}) \"/\" {}",
                quote(&self.wire_name(&mailbox.name))
            );
            self.untagged(&line);
        }
        Done::ok(format!("{command} completed"))
    }

    pub(crate) async fn status(
        &mut self,
        mailbox: &WireMailbox<'_>,
        items: &[StatusDataItemName],
    ) -> Done {
        let name = match self.mailbox_name(mailbox) {
            Ok(n) => n,
            Err(done) => return done,
        };
        let mail = self.server.mail.clone();
        let mailbox = match mail.mailbox(self.account_id(), &name).await {
            Ok(Some(m)) => m,
            Ok(None) => return Done::no(format!("No mailbox {name}")).code("NONEXISTENT"),
            Err(e) => return refuse(e),
        };
        let messages = match mail.messages(mailbox.id).await {
            Ok(m) => m,
            Err(e) => return refuse(e),
        };
        let mut parts = Vec::new();
        for item in items {
            let part = match item {
                StatusDataItemName::Messages => format!("MESSAGES {}", messages.len()),
                StatusDataItemName::Recent => "RECENT 0".to_string(),
                StatusDataItemName::UidNext => format!("UIDNEXT {}", mailbox.uidnext),
                StatusDataItemName::UidValidity => format!("UIDVALIDITY {}", mailbox.uidvalidity),
                StatusDataItemName::Unseen => format!(
                    "UNSEEN {}",
                    messages
                        .iter()
                        .filter(|m| !m.flags.contains(Flags::SEEN))
                        .count()
                ),
                StatusDataItemName::HighestModSeq => {
                    format!("HIGHESTMODSEQ {}", mailbox.highestmodseq)
                }
                StatusDataItemName::Size => {
                    format!("SIZE {}", messages.iter().map(|m| m.size).sum::<u64>())
                }
                _ => continue,
            };
            parts.push(part);
        }
        let line = format!(
            "STATUS {} ({})",
            quote(&self.wire_name(&mailbox.name)),
            parts.join(" ")
        );
        self.untagged(&line);
        Done::ok("STATUS completed")
    }
}

/// LIST attributes: children (RFC 3348) and special use (RFC 6154).
fn attributes(mailbox: &Mailbox, all: &[Mailbox]) -> String {
    let prefix = format!("{}{DELIMITER}", mailbox.name);
    let has_children = all.iter().any(|m| m.name.starts_with(&prefix));
    let mut attrs = vec![if has_children {
        "\\HasChildren"
    } else {
        "\\HasNoChildren"
    }];
    match mailbox.special_use {
        Some(SpecialUse::Sent) => attrs.push("\\Sent"),
        Some(SpecialUse::Drafts) => attrs.push("\\Drafts"),
        Some(SpecialUse::Junk) => attrs.push("\\Junk"),
        Some(SpecialUse::Trash) => attrs.push("\\Trash"),
        Some(SpecialUse::Inbox) | None => {}
    }
    attrs.join(" ")
}

/// RFC 3501 6.3.8 wildcards: `*` matches anything, `%` anything but the
/// hierarchy delimiter. INBOX matches case-insensitively.
pub(crate) fn matches_pattern(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('%', rest)) => (0..=n.len())
                .take_while(|&i| i == 0 || n[i - 1] != DELIMITER)
                .any(|i| go(rest, &n[i..])),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let normalize = |s: &str| -> Vec<char> {
        match s.get(..5) {
            Some(head)
                if head.eq_ignore_ascii_case("INBOX")
                    && (s.len() == 5 || s[5..].starts_with(DELIMITER)) =>
            {
                format!("INBOX{}", &s[5..]).chars().collect()
            }
            _ => s.chars().collect(),
        }
    };
    go(&normalize(pattern), &normalize(name))
}

#[cfg(test)]
mod tests {
    use super::matches_pattern;

    #[test]
    fn wildcards_match_like_rfc3501() {
        let cases = [
            ("*", "INBOX", true),
            ("*", "Work/2026", true),
            ("%", "Work/2026", false),
            ("%", "Work", true),
            ("Work/%", "Work/2026", true),
            ("Work/%", "Work/2026/Q1", false),
            ("Work/*", "Work/2026/Q1", true),
            ("inbox", "INBOX", true),
            ("Inbox", "Inbox2", false),
            ("W*6", "Work/2026", true),
            ("Sent", "sent", false),
            ("Entw*", "Entwürfe", true),
            ("ü*", "üx", true),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                matches_pattern(pattern, name),
                expected,
                "{pattern} vs {name}"
            );
        }
    }
}
