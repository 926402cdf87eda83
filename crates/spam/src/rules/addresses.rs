//! Addresses that mass mailers use: numbered senders, replies diverted to
//! a free mailbox, hidden or long recipient lists.

use super::{Context, Hit};
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

/// Mail that reached a recipient who is in neither To: nor Cc: was sent
/// blind (Bcc) to a list of addresses: what a mass mailer does with
/// addresses it gathered. Mailing lists and bulk senders say so in their
/// headers and are left alone, and so is mail a forwarder passed on with
/// an ARC seal, and mail that names no recipient at all (hidden
/// recipients, an empty group). A mailbox of the same name counts as
/// addressed (forwarding `ann@old.example` to `ann@new.example`), with
/// any subaddress aside (`ann+news`, `ann-news`: RFC 5233, and the `-`
/// of qmail and Postfix).
pub(super) fn check_recipients(view: &View, context: &Context, hits: &mut Vec<Hit>) {
    let recipients = if context.recipients.is_empty() {
        &view.delivered_to
    } else {
        &context.recipients
    };
    let list_mail = view.list_unsubscribe
        || view.bulk_precedence
        || view
            .header_names
            .iter()
            .any(|n| matches!(n.as_str(), "list-id" | "mailing-list" | "arc-seal"));
    if recipients.is_empty()
        || view.addressed.is_empty()
        || list_mail
        || hits.contains(&"TO_UNDISCLOSED")
    {
        return;
    }
    let mailbox = |address: &str| -> String {
        let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
        local.split(['+', '-']).next().unwrap_or(local).to_string()
    };
    let addressed: std::collections::HashSet<String> =
        view.addressed.iter().map(|a| mailbox(a)).collect();
    if !recipients.iter().any(|r| addressed.contains(&mailbox(r))) {
        hits.push("RCPT_NOT_ADDRESSED");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blind(headers: &str, recipients: &[&str]) -> bool {
        let raw = format!("From: a@sender.example\r\n{headers}Subject: hi\r\n\r\nhello\r\n");
        let view = View::parse(raw.as_bytes());
        let mut context = Context::standalone(0);
        context.recipients = recipients.iter().map(|r| r.to_string()).collect();
        let mut hits = Vec::new();
        check(&view, &mut hits);
        check_recipients(&view, &context, &mut hits);
        hits.contains(&"RCPT_NOT_ADDRESSED")
    }

    #[test]
    fn mail_sent_blind_to_a_stranger() {
        assert!(blind("To: someone@else.example\r\n", &["ann@example.test"]));
        // Naming nobody is hiding the recipients (MISSING_TO and
        // TO_UNDISCLOSED say so), not naming someone else.
        assert!(!blind("", &["ann@example.test"]));
        assert!(!blind(
            "To: unlisted-recipients:;\r\n",
            &["ann@example.test"]
        ));
        assert!(!blind(
            "To: x@y.example\r\nResent-To: ann@example.test\r\n",
            &["ann@example.test"]
        ));
        assert!(!blind(
            "To: ann+x@example.test\r\n",
            &["ann+y@example.test"]
        ));
        // Named in To: or Cc:, under a subaddress, or forwarded from a
        // mailbox of the same name.
        assert!(!blind(
            "To: Ann <ann@example.test>\r\n",
            &["ann@example.test"]
        ));
        assert!(!blind(
            "To: x@y.example\r\nCc: ann@example.test\r\n",
            &["ann@example.test"]
        ));
        assert!(!blind(
            "To: ann+news@example.test\r\n",
            &["ann@example.test"]
        ));
        assert!(!blind(
            "To: ann-lists@example.test\r\n",
            &["ann@example.test"]
        ));
        assert!(!blind("To: ann@old.example\r\n", &["ann@example.test"]));
        // Lists, bulk senders and sealed forwards say why.
        assert!(!blind(
            "To: list@lists.example\r\nList-Id: <l.lists.example>\r\n",
            &["ann@example.test"]
        ));
        assert!(!blind(
            "To: news@shop.example\r\nPrecedence: bulk\r\n",
            &["ann@example.test"]
        ));
        assert!(!blind(
            "To: x@y.example\r\nARC-Seal: i=1; a=rsa-sha256; cv=none; d=fwd.example; s=s; b=x\r\n",
            &["ann@example.test"]
        ));
        // Hidden recipients are TO_UNDISCLOSED already.
        assert!(!blind(
            "To: undisclosed-recipients:;\r\n",
            &["ann@example.test"]
        ));
        // Nobody known: nothing to say.
        assert!(!blind("To: someone@else.example\r\n", &[]));
    }

    #[test]
    fn the_receiving_site_records_the_recipient() {
        let raw = b"Delivered-To: ann@example.test\r\nReceived: from a (a [198.51.100.1]) by mx.example.test with ESMTP id 1\r\n\tfor <bob@example.test>; Sat, 28 Nov 2026 10:00:00 +0000\r\nTo: x@y.example\r\n\r\nhi\r\n";
        assert_eq!(View::parse(raw).delivered_to, ["ann@example.test"]);
        let raw = b"Received: from a (a [198.51.100.1]) by mx.example.test with ESMTP id 1\r\n\tfor <Bob@Example.test>; Sat, 28 Nov 2026 10:00:00 +0000\r\nTo: x@y.example\r\n\r\nhi\r\n";
        assert_eq!(View::parse(raw).delivered_to, ["bob@example.test"]);
    }
}
