//! Header sanity: the sending host's name, From, Reply-To, Date,
//! Message-ID, and display names that spoof an address.

use super::{Context, Hit};
use crate::message::{HeaderState, View};

/// A day, in seconds: clocks may be wrong, not by this much.
const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

/// Spoofing of the recipient's own domain (inbound only).
pub(super) fn check_origin(view: &View, context: &Context, hits: &mut Vec<Hit>) {
    // The From: domain is the recipient's, yet the message came from
    // outside and fails the domain's own DMARC policy: spoofing. (Without
    // a DMARC record it may be a user's mail coming back through a
    // forward or a list: no verdict.)
    if let Some(domain) = view.from_mailbox().and_then(|m| m.domain())
        && context.recipient_domains.iter().any(|d| d == domain)
        && context.auth.is_some_and(|a| a.dmarc == super::Check::Fail)
    {
        hits.push("FROM_OWN_DOMAIN_UNAUTH");
    }
}

fn looks_like_address(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | '"' | '\''))
        .find(|w| {
            w.contains('@')
                && w.rsplit_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        })
        .map(|w| w.to_ascii_lowercase())
}

pub(super) fn check(view: &View, context: &Context, hits: &mut Vec<Hit>) {
    if !view.parsed {
        hits.push("MIME_UNPARSABLE");
        return;
    }
    match &view.from {
        HeaderState::Missing => hits.push("MISSING_FROM"),
        HeaderState::Invalid => hits.push("FROM_MALFORMED"),
        HeaderState::Valid(from) => {
            let domain = from.domain().unwrap_or("");
            if let Some(reply) = view.reply_to.as_ref().and_then(|r| r.domain())
                && !same_organisation(reply, domain)
                && !view.list_unsubscribe
            {
                hits.push("FROM_REPLYTO_DIFF");
            }
            if let Some(name) = &from.name {
                if let Some(shown) = looks_like_address(name)
                    && shown != from.address.clone().unwrap_or_default()
                {
                    hits.push("FROM_NAME_SPOOF");
                }
                let lower = name.to_ascii_lowercase();
                if context.recipient_domains.iter().any(|d| {
                    !d.is_empty() && lower.contains(d.as_str()) && !same_organisation(domain, d)
                }) {
                    hits.push("FROM_NAME_RCPT_DOMAIN");
                }
            }
        }
    }
    if view.from_count > 1 {
        hits.push("FROM_MULTIPLE");
    }
    // A message checked on its own may be old: its Date says nothing
    // then about today, only about when its last hop received it.
    let received = match context.direction {
        super::Direction::Standalone => view.received_at,
        _ => Some(context.now),
    };
    match view.date {
        HeaderState::Missing => hits.push("MISSING_DATE"),
        HeaderState::Invalid => hits.push("DATE_INVALID"),
        HeaderState::Valid(at) => match received {
            Some(now) if at > now + DAY => hits.push("DATE_IN_FUTURE"),
            // A sender's clock (or a forged Date) hours ahead.
            Some(now) if at > now + HOUR => hits.push("DATE_AHEAD"),
            Some(now)
                if context.direction != super::Direction::Standalone && at < now - 30 * DAY =>
            {
                hits.push("DATE_IN_PAST")
            }
            _ => {}
        },
    }
    if matches!(view.date, HeaderState::Valid(_)) && !names_a_zone(&view.date_raw) {
        hits.push("DATE_NO_ZONE");
    }
    if view.date_weekday_wrong {
        hits.push("DATE_WEEKDAY_WRONG");
    }
    if view.priority_high {
        hits.push("PRIORITY_HIGH");
    }
    match view.message_id {
        HeaderState::Missing => hits.push("MISSING_MID"),
        HeaderState::Invalid => hits.push("MID_MALFORMED"),
        HeaderState::Valid(()) => {}
    }
    if view.subject.as_deref().is_none_or(|s| s.trim().is_empty()) {
        hits.push("MISSING_SUBJECT");
    }
    if view.to_count == 0 {
        hits.push("MISSING_TO");
    }
    if (view.has_html || !view.attachments.is_empty()) && !view.mime_version {
        hits.push("MISSING_MIME_VERSION");
    }
    if view.list_unsubscribe || view.bulk_precedence {
        hits.push("BULK_MAIL");
        if !view.list_unsubscribe {
            hits.push("BULK_NO_UNSUBSCRIBE");
        }
    }
}

/// RFC 5322 3.3: a date ends with its zone after the time, `+0100` or
/// (obsolete) a name such as `GMT` or `EST`.
fn names_a_zone(date: &str) -> bool {
    // Anything after the time of day is a zone of some form (`+0100`,
    // `GMT`, `Z`, even a non-standard `CET`).
    let mut words = date.split_whitespace();
    words.by_ref().find(|w| w.contains(':')).is_some() && words.next().is_some()
}

/// The same registered domain (`mail.shop.example` and `shop.example`,
/// `a.shop.co.uk` and `shop.co.uk`).
fn same_organisation(a: &str, b: &str) -> bool {
    crate::domain::registered(a) == crate::domain::registered(b)
}
