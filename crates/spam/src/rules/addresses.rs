//! Addresses that mass mailers use: numbered senders, replies diverted to
//! a free mailbox, hidden or long recipient lists.

use super::Hit;
use crate::message::View;

/// Free mailbox providers: anyone can open an address there in a minute,
/// so replies diverted to one from another sender's domain are a scam's
/// way of keeping the answers.
const FREEMAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "ymail.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "mail.com",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "web.de",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "icloud.com",
    "me.com",
    "proton.me",
    "protonmail.com",
    "zoho.com",
    "excite.com",
    "lycos.com",
    "juno.com",
    "netscape.net",
    "usa.net",
    "qq.com",
    "163.com",
    "126.com",
    "rediffmail.com",
];

/// A free mailbox domain, including national variants (`yahoo.co.uk`).
pub(super) fn is_freemail(domain: &str) -> bool {
    let domain = domain.to_ascii_lowercase();
    FREEMAIL.iter().any(|f| {
        domain == *f || {
            let brand = f.split('.').next().unwrap_or(f);
            domain.starts_with(&format!("{brand}.")) && brand.len() >= 5
        }
    })
}

pub(super) fn check(view: &View, hits: &mut Vec<Hit>) {
    if let Some(from) = view.from_mailbox() {
        let local = from
            .address
            .as_deref()
            .and_then(|a| a.rsplit_once('@'))
            .map_or("", |(l, _)| l);
        if local.chars().filter(char::is_ascii_digit).count() >= 3 {
            hits.push("FROM_LOCAL_DIGITS");
        }
        let from_domain = from.domain().unwrap_or("");
        if let Some(reply) = view.reply_to.as_ref().and_then(|r| r.domain())
            && is_freemail(reply)
            && !reply.eq_ignore_ascii_case(from_domain)
        {
            hits.push("REPLYTO_FREEMAIL");
        }
    }
    let to = view.to_raw.to_ascii_lowercase();
    if to.contains("undisclosed") || to.contains("recipient list suppressed") {
        hits.push("TO_UNDISCLOSED");
    }
    if view.to_count >= 5 {
        hits.push("TO_MANY");
    }
}
