//! CREATE, DELETE, RENAME, SUBSCRIBE, LIST, LSUB, STATUS (RFC 3501 6.3).

use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox as WireMailbox};
use imap_codec::imap_types::status::StatusDataItemName;
use mailroom_core::CoreError;
use mailroom_core::mail::DELIMITER;
use mailroom_core::store::{Flags, Mailbox, SpecialUse};

use super::refuse;
use crate::ext::{Extension, ListOptions};
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
        let special_use = match std::mem::take(&mut self.ext) {
            Extension::CreateUse(uses) => match special_use_of(&uses) {
                Ok(u) => u,
                Err(done) => return done,
            },
            _ => None,
        };
        match self
            .server
            .mail
            .create_special_mailbox(self.account_id(), &name, special_use)
            .await
        {
            Ok(_) => Done::ok("CREATE completed"),
            // RFC 6154 3: the use cannot be given to this mailbox.
            Err(CoreError::Conflict(why)) if special_use.is_some() => Done::no(why).code("USEATTR"),
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
        let options = match std::mem::take(&mut self.ext) {
            Extension::List(options) => options,
            _ => {
                let raw: &[u8] = match pattern {
                    ListMailbox::Token(t) => t.as_ref(),
                    ListMailbox::String(s) => s.as_ref(),
                };
                ListOptions {
                    select_subscribed: subscribed_only,
                    patterns: vec![raw.to_vec()],
                    ..ListOptions::default()
                }
            }
        };
        let mut patterns = Vec::new();
        for raw in &options.patterns {
            let Ok(raw) = std::str::from_utf8(raw) else {
                return Done::bad("Pattern is not UTF-8");
            };
            let pattern = if self.enabled.utf8 {
                raw.to_string()
            } else {
                match crate::utf7::decode(raw) {
                    Some(p) => p,
                    None => return Done::bad("Pattern is not valid modified UTF-7"),
                }
            };
            patterns.push(pattern);
        }
        let status_items = match options.return_status.as_deref().map(status_items) {
            Some(Ok(items)) => Some(items),
            Some(Err(done)) => return done,
            None => None,
        };
        if patterns.len() == 1 && patterns[0].is_empty() {
            // RFC 3501 6.3.8: the hierarchy delimiter and root.
            self.untagged(&format!("{command} (\\Noselect) \"/\" \"\""));
            return Done::ok(format!("{command} completed"));
        }
        let full: Vec<String> = patterns.iter().map(|p| format!("{reference}{p}")).collect();
        let mailboxes = match self.server.mail.mailboxes(self.account_id()).await {
            Ok(m) => m,
            Err(e) => return refuse(e),
        };
        let selected = |m: &Mailbox| {
            (!options.select_subscribed || m.subscribed)
                && (!options.select_special_use
                    || m.special_use.and_then(SpecialUse::attribute).is_some())
        };
        for mailbox in &mailboxes {
            if !full.iter().any(|p| matches_pattern(p, &mailbox.name)) {
                continue;
            }
            let mut child_info = "";
            if !selected(mailbox) {
                // RFC 5258 3.5: a parent of selected mailboxes, with CHILDINFO.
                let prefix = format!("{}{DELIMITER}", mailbox.name);
                let parent_of_match = options.recursive_match
                    && mailboxes
                        .iter()
                        .any(|m| m.name.starts_with(&prefix) && selected(m));
                if !parent_of_match {
                    continue;
                }
                child_info = if options.select_subscribed {
                    " (\"CHILDINFO\" (\"SUBSCRIBED\"))"
                } else {
                    " (\"CHILDINFO\" (\"SPECIAL-USE\"))"
                };
            }
            let mut attributes = attributes(mailbox, &mailboxes);
            if !subscribed_only
                && mailbox.subscribed
                && (options.select_subscribed || options.return_subscribed)
            {
                attributes.push_str(" \\Subscribed");
            }
            let name = quote(&self.wire_name(&mailbox.name));
            self.untagged(&format!(
                "{command} ({attributes}) \"/\" {name}{child_info}"
            ));
            if let Some(items) = &status_items {
                // RFC 5819: the STATUS of each listed mailbox follows it.
                match self.status_line(mailbox, items, false).await {
                    Ok(line) => self.untagged(&line),
                    Err(done) => return done,
                }
            }
        }
        if options.select_subscribed {
            let extra = match self
                .subscribed_without_mailbox(&mailboxes, &full, subscribed_only)
                .await
            {
                Ok(extra) => extra,
                Err(done) => return done,
            };
            for (name, attributes) in extra {
                let name = quote(&self.wire_name(&name));
                self.untagged(&format!("{command} ({attributes}) \"/\" {name}"));
            }
        }
        // RFC 3501 6.3.8: a level of the hierarchy that is no mailbox
        // (a parent deleted, or never created) is listed as one that
        // cannot be selected, so clients can walk down to its children.
        if !options.select_subscribed && !options.select_special_use {
            for name in missing_parents(&mailboxes) {
                if full.iter().any(|p| matches_pattern(p, &name)) {
                    let name = quote(&self.wire_name(&name));
                    self.untagged(&format!(
                        "{command} (\\Noselect \\HasChildren) \"/\" {name}"
                    ));
                }
            }
        }
        Done::ok(format!("{command} completed"))
    }

    /// Names LSUB or LIST (SUBSCRIBED) shows beyond the subscribed
    /// mailboxes: subscriptions whose mailbox is gone (RFC 3501 6.3.6 keeps
    /// them; RFC 5258 3.1 \\NonExistent), and for LSUB the unsubscribed
    /// parent a `%` reaches above a subscribed name (RFC 3501 6.3.9).
    async fn subscribed_without_mailbox(
        &self,
        mailboxes: &[Mailbox],
        patterns: &[String],
        lsub: bool,
    ) -> Result<std::collections::BTreeMap<String, &'static str>, Done> {
        let subscribed = match self.server.mail.subscriptions(self.account_id()).await {
            Ok(s) => s,
            Err(e) => return Err(refuse(e)),
        };
        let matches = |name: &str| patterns.iter().any(|p| matches_pattern(p, name));
        let exists = |name: &str| mailboxes.iter().any(|m| m.name == name);
        let mut extra = std::collections::BTreeMap::new();
        for name in &subscribed {
            if !exists(name) && matches(name) {
                let attributes = if lsub {
                    "\\Noselect"
                } else {
                    "\\NonExistent \\Subscribed"
                };
                extra.insert(name.clone(), attributes);
            }
            if lsub && !matches(name) {
                let mut ancestor = name.as_str();
                while let Some((parent, _)) = ancestor.rsplit_once(DELIMITER) {
                    if matches(parent) && !subscribed.iter().any(|s| s == parent) {
                        extra.insert(parent.to_string(), "\\Noselect");
                    }
                    ancestor = parent;
                }
            }
        }
        Ok(extra)
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
        // RFC 7889 4: APPENDLIMIT, taken out of the items before parsing;
        // when it was the only one, the stand-in item goes too.
        let (items, append_limit) = match std::mem::take(&mut self.ext) {
            Extension::StatusAppendLimit(only) => (if only { &[][..] } else { items }, true),
            _ => (items, false),
        };
        match self.status_line(&mailbox, items, append_limit).await {
            Ok(line) => {
                self.untagged(&line);
                Done::ok("STATUS completed")
            }
            Err(done) => done,
        }
    }

    /// `STATUS name (MESSAGES 3 UNSEEN 1)` (RFC 3501 7.2.4).
    async fn status_line(
        &self,
        mailbox: &Mailbox,
        items: &[StatusDataItemName],
        append_limit: bool,
    ) -> Result<String, Done> {
        let messages = self
            .server
            .mail
            .messages(mailbox.id)
            .await
            .map_err(refuse)?;
        let count = |flag: Flags, set: bool| {
            messages
                .iter()
                .filter(|m| m.flags.contains(flag) == set)
                .count()
        };
        let mut parts = Vec::new();
        for item in items {
            let part = match item {
                StatusDataItemName::Messages => format!("MESSAGES {}", messages.len()),
                StatusDataItemName::Recent => {
                    // RFC 3501 6.3.10: what the next SELECT would find recent.
                    let from = self.server.mail.recent_from(mailbox);
                    let recent = messages.iter().filter(|m| m.uid >= from).count();
                    format!("RECENT {recent}")
                }
                StatusDataItemName::UidNext => format!("UIDNEXT {}", mailbox.uidnext),
                StatusDataItemName::UidValidity => format!("UIDVALIDITY {}", mailbox.uidvalidity),
                StatusDataItemName::Unseen => format!("UNSEEN {}", count(Flags::SEEN, false)),
                StatusDataItemName::Deleted => format!("DELETED {}", count(Flags::DELETED, true)),
                StatusDataItemName::DeletedStorage => format!(
                    "DELETED-STORAGE {}",
                    messages
                        .iter()
                        .filter(|m| m.flags.contains(Flags::DELETED))
                        .map(|m| m.size)
                        .sum::<u64>()
                ),
                StatusDataItemName::HighestModSeq => {
                    format!("HIGHESTMODSEQ {}", mailbox.highestmodseq)
                }
                StatusDataItemName::Size => {
                    format!("SIZE {}", messages.iter().map(|m| m.size).sum::<u64>())
                }
            };
            parts.push(part);
        }
        if append_limit {
            // The largest message APPEND takes here.
            parts.push(format!("APPENDLIMIT {}", self.server.settings.max_literal));
        }
        Ok(format!(
            "STATUS {} ({})",
            quote(&self.wire_name(&mailbox.name)),
            parts.join(" ")
        ))
    }
}

/// STATUS item names given as words (LIST RETURN (STATUS (...))).
fn status_items(names: &[String]) -> Result<Vec<StatusDataItemName>, Done> {
    names
        .iter()
        .map(|name| {
            Ok(match name.as_str() {
                "MESSAGES" => StatusDataItemName::Messages,
                "RECENT" => StatusDataItemName::Recent,
                "UIDNEXT" => StatusDataItemName::UidNext,
                "UIDVALIDITY" => StatusDataItemName::UidValidity,
                "UNSEEN" => StatusDataItemName::Unseen,
                "DELETED" => StatusDataItemName::Deleted,
                "DELETED-STORAGE" => StatusDataItemName::DeletedStorage,
                "HIGHESTMODSEQ" => StatusDataItemName::HighestModSeq,
                "SIZE" => StatusDataItemName::Size,
                other => return Err(Done::bad(format!("Unknown STATUS item {other}"))),
            })
        })
        .collect()
}

/// Hierarchy levels above existing mailboxes that are no mailbox
/// themselves (`Work` when only `Work/Sub` exists), each once, in order.
fn missing_parents(all: &[Mailbox]) -> Vec<String> {
    let existing: std::collections::HashSet<&str> = all.iter().map(|m| m.name.as_str()).collect();
    let mut missing = std::collections::BTreeSet::new();
    for mailbox in all {
        for (at, _) in mailbox.name.match_indices(DELIMITER) {
            let parent = &mailbox.name[..at];
            if !parent.is_empty() && !existing.contains(parent) {
                missing.insert(parent.to_string());
            }
        }
    }
    missing.into_iter().collect()
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
    if let Some(attribute) = mailbox.special_use.and_then(SpecialUse::attribute) {
        attrs.push(attribute);
    }
    attrs.join(" ")
}

/// The one special use a CREATE asks for (RFC 6154 3); we keep one per
/// mailbox and have no virtual \\All or \\Flagged folders.
fn special_use_of(attributes: &[String]) -> Result<Option<SpecialUse>, Done> {
    let mut wanted = None;
    for attribute in attributes {
        let found = SpecialUse::ALL.into_iter().find(|u| {
            u.attribute()
                .is_some_and(|a| a.eq_ignore_ascii_case(attribute))
        });
        match (found, wanted) {
            (Some(u), None) => wanted = Some(u),
            (Some(_), Some(_)) => {
                return Err(Done::no("A mailbox can have only one special use").code("USEATTR"));
            }
            (None, _) => {
                return Err(
                    Done::no(format!("Special use {attribute} is not supported")).code("USEATTR"),
                );
            }
        }
    }
    Ok(wanted)
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
