//! The rules: each looks at the message (and what the caller learned
//! about its origin) and emits named tags; [`crate::ScoreTable`] gives
//! each tag its score. Inbound mail gets every rule; outbound mail
//! (submitted by our own users) skips those about the sending host and
//! about spoofing the recipient.

mod addresses;
mod attachments;
mod auth;
mod content;
mod disguise;
mod headers;
mod html;
mod links;
mod phrases;
mod topics;

use std::net::IpAddr;

use crate::message::View;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received from another server (MX).
    Inbound,
    /// Submitted by one of our users.
    Outbound,
    /// Checked on its own (the spam check tool): where it came from is
    /// unknown, so no rule about the sending host or authentication.
    Standalone,
}

/// The result of an authentication check (RFC 8601 result names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Check {
    Pass,
    Fail,
    SoftFail,
    Neutral,
    /// Nothing to check: no record, no signature.
    #[default]
    None,
    /// A DNS or syntax error: no conclusion.
    Error,
}

/// The authentication results of an inbound message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Auth {
    pub spf: Check,
    pub dkim: Check,
    pub dmarc: Check,
    pub arc: Check,
    /// Reverse DNS of the client that matches forward (RFC 8601 iprev).
    pub iprev: Check,
}

/// What the caller knows besides the message itself.
#[derive(Debug, Clone)]
pub struct Context {
    pub direction: Direction,
    /// EHLO/HELO name.
    pub helo: String,
    pub ip: Option<IpAddr>,
    /// `None` when the checks could not run (no DNS configured).
    pub auth: Option<Auth>,
    /// Domains the message is addressed to here (for spoofing checks).
    pub recipient_domains: Vec<String>,
    /// Now, seconds since the epoch (for Date checks).
    pub now: i64,
}

impl Context {
    /// A context for a message checked on its own (the spam check tool).
    pub fn standalone(now: i64) -> Context {
        Context {
            direction: Direction::Standalone,
            helo: String::new(),
            ip: None,
            auth: None,
            recipient_domains: Vec::new(),
            now,
        }
    }
}

/// At most the first `max` bytes of `text`, cut at a character boundary
/// (rules look at bounded pieces of hostile input).
pub(crate) fn head(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// One rule that fired.
pub type Hit = &'static str;

/// Every tag the message earns (the Bayes tag is added by the caller).
pub fn evaluate(view: &View, context: &Context) -> Vec<Hit> {
    let mut hits = Vec::new();
    if context.direction == Direction::Inbound {
        auth::check(context, &mut hits);
        headers::check_origin(view, context, &mut hits);
    }
    headers::check(view, context, &mut hits);
    addresses::check(view, &mut hits);
    content::check(view, &mut hits);
    html::check(view, &mut hits);
    disguise::check(view, &mut hits);
    phrases::check(view, &mut hits);
    topics::check(view, &mut hits);
    links::check(view, &mut hits);
    attachments::check(view, &mut hits);
    hits.sort_unstable();
    hits.dedup();
    hits
}
