use mailroom_core::Directory;
use mailroom_store::Forwarding;

use crate::cli::ForwardCommand;
use crate::output::Output;

pub async fn run(
    command: ForwardCommand,
    directory: &Directory,
    out: &Output,
) -> anyhow::Result<()> {
    match command {
        ForwardCommand::Add {
            account,
            destinations,
            keep_copy,
        } => {
            let f = directory
                .add_forward(&account, &destinations, keep_copy)
                .await?;
            out.done(&format!(
                "{} forwards to {} ({})",
                f.account,
                f.destinations.join(", "),
                copy_note(f.keep_copy)
            ));
        }
        ForwardCommand::List { domain } => {
            let forwards = directory.list_forwards(domain.as_deref()).await?;
            out.list(
                &forwards,
                &["ACCOUNT", "DESTINATIONS", "LOCAL COPY"],
                |f: &Forwarding| {
                    vec![
                        f.account.clone(),
                        f.destinations.join(", "),
                        if f.keep_copy { "yes" } else { "no" }.into(),
                    ]
                },
            );
        }
        ForwardCommand::Remove {
            account,
            destinations,
        } => {
            directory.remove_forward(&account, &destinations).await?;
            let what = if destinations.is_empty() {
                "every forward".to_string()
            } else {
                destinations.join(", ")
            };
            out.done(&format!(
                "{}: stopped forwarding to {what}",
                account.to_ascii_lowercase()
            ));
        }
    }
    Ok(())
}

fn copy_note(keep_copy: bool) -> &'static str {
    if keep_copy {
        "a copy stays in the account's Inbox"
    } else {
        "no copy is kept"
    }
}
