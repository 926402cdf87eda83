//! Relay policy: senders whose mail this relay will not pass on. Such mail
//! is accepted and then bounced with a notification (not refused during
//! the SMTP transaction), with the exact sentences the product promises.

use mailroom_store::Store;

use crate::{Result, address};

pub const TLD_BLOCKED: &str = "Your domain's TLD is blacklisted from sending through this relay";
pub const SENDER_BLOCKED: &str =
    "Sender email or domain is blacklisted from sending through this relay";

/// Why a sender may not relay, if it may not.
pub async fn refusal(store: &dyn Store, sender: &str) -> Result<Option<&'static str>> {
    let sender = sender.to_ascii_lowercase();
    let domain = address::domain_of(&sender).to_string();
    let blocked = store.relay_policy("sender").await?;
    // A blocked domain covers its subdomains too.
    let domain_blocked =
        |entry: &String| domain == *entry || domain.ends_with(&format!(".{entry}"));
    if blocked.iter().any(|b| *b == sender || domain_blocked(b)) {
        return Ok(Some(SENDER_BLOCKED));
    }
    let tld = domain.rsplit('.').next().unwrap_or("");
    if store.relay_policy("tld").await?.iter().any(|t| t == tld)
        && !store.relay_policy("exempt").await?.contains(&domain)
    {
        return Ok(Some(TLD_BLOCKED));
    }
    Ok(None)
}
