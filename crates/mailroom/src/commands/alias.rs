use mailroom_core::Directory;
use mailroom_store::Alias;

use crate::cli::AliasCommand;
use crate::output::Output;

pub async fn run(command: AliasCommand, directory: &Directory, out: &Output) -> anyhow::Result<()> {
    match command {
        AliasCommand::Add {
            source,
            destinations,
        } => {
            let alias = directory.add_alias(&source, &destinations).await?;
            out.done(&format!(
                "alias {} -> {}",
                alias.source,
                alias.destinations.join(", ")
            ));
        }
        AliasCommand::List { domain } => {
            let aliases = directory.list_aliases(domain.as_deref()).await?;
            out.list(&aliases, &["SOURCE", "DESTINATIONS"], |a: &Alias| {
                vec![a.source.clone(), a.destinations.join(", ")]
            });
        }
        AliasCommand::Remove { source } => {
            directory.remove_alias(&source).await?;
            out.done(&format!("alias {} removed", source.to_ascii_lowercase()));
        }
    }
    Ok(())
}
