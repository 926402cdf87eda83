//! `mailroom relay-policy`: who may not send through this relay.

use mailroom_store::Store;
use serde::Serialize;

use crate::cli::RelayPolicyCommand;
use crate::output::Output;

#[derive(Serialize)]
struct Entry {
    kind: &'static str,
    value: String,
}

fn clean(value: &str) -> String {
    value.trim().trim_start_matches('.').to_ascii_lowercase()
}

pub async fn run(
    command: RelayPolicyCommand,
    store: &dyn Store,
    out: &Output,
) -> anyhow::Result<()> {
    use RelayPolicyCommand as C;
    let (kind, value, present, what) = match command {
        C::List => {
            let mut entries = Vec::new();
            for kind in ["tld", "exempt", "sender"] {
                for value in store.relay_policy(kind).await? {
                    entries.push(Entry { kind, value });
                }
            }
            out.list(&entries, &["KIND", "VALUE"], |e: &Entry| {
                vec![e.kind.to_string(), e.value.clone()]
            });
            return Ok(());
        }
        C::BlockTld { tld } => ("tld", tld, true, "blocked TLD"),
        C::UnblockTld { tld } => ("tld", tld, false, "blocked TLD"),
        C::Exempt { domain } => ("exempt", domain, true, "exempt domain"),
        C::Unexempt { domain } => ("exempt", domain, false, "exempt domain"),
        C::BlockSender { sender } => ("sender", sender, true, "blocked sender"),
        C::UnblockSender { sender } => ("sender", sender, false, "blocked sender"),
    };
    let value = clean(&value);
    if value.is_empty() || value.contains(char::is_whitespace) {
        anyhow::bail!("invalid value '{value}'");
    }
    let changed = store.relay_policy_set(kind, &value, present).await?;
    let message = match (present, changed) {
        (true, true) => format!("{what} {value} added"),
        (true, false) => format!("{what} {value} was already listed"),
        (false, true) => format!("{what} {value} removed"),
        (false, false) => anyhow::bail!("{value} is not a {what}"),
    };
    out.done(&message);
    Ok(())
}
