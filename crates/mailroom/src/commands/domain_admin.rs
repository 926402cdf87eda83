use mailroom_core::Directory;

use crate::cli::DomainAdminCommand;
use crate::output::Output;

pub async fn run(
    command: DomainAdminCommand,
    directory: &Directory,
    out: &Output,
) -> anyhow::Result<()> {
    match command {
        DomainAdminCommand::Grant { email, domain } => {
            directory.grant_domain_admin(&email, &domain).await?;
            out.done(&format!(
                "{} now administers {}",
                email.to_ascii_lowercase(),
                domain.to_ascii_lowercase()
            ));
        }
        DomainAdminCommand::Revoke { email, domain } => {
            directory.revoke_domain_admin(&email, &domain).await?;
            out.done(&format!(
                "{} no longer administers {}",
                email.to_ascii_lowercase(),
                domain.to_ascii_lowercase()
            ));
        }
        DomainAdminCommand::List { email } => {
            let domains = directory.administered_domains(&email).await?;
            out.list(&domains, &["DOMAIN"], |d: &String| vec![d.clone()]);
        }
    }
    Ok(())
}
