use mailroom_core::Directory;
use mailroom_core::dkim::DnsRecord;
use mailroom_store::Domain;

use super::yes_no;
use crate::cli::DomainCommand;
use crate::output::Output;

pub async fn run(
    command: DomainCommand,
    directory: &Directory,
    hostname: &str,
    out: &Output,
) -> anyhow::Result<()> {
    match command {
        DomainCommand::Add { name } => {
            let domain = directory.add_domain(&name).await?;
            out.done(&format!("domain {} added", domain.name));
        }
        DomainCommand::List => {
            let domains = directory.list_domains().await?;
            out.list(&domains, &["DOMAIN", "SUSPENDED"], |d: &Domain| {
                vec![d.name.clone(), yes_no(d.suspended)]
            });
        }
        DomainCommand::Remove { name, force } => {
            directory.remove_domain(&name, force).await?;
            out.done(&format!("domain {} removed", name.to_ascii_lowercase()));
        }
        DomainCommand::Suspend { name } => {
            let domain = directory.set_domain_suspended(&name, true).await?;
            out.done(&format!(
                "domain {} suspended; its data is kept",
                domain.name
            ));
        }
        DomainCommand::Resume { name } => {
            let domain = directory.set_domain_suspended(&name, false).await?;
            out.done(&format!("domain {} resumed", domain.name));
        }
        DomainCommand::Dns { name } => {
            let records = directory.dns_records(&name, hostname).await?;
            out.list(&records, &["NAME", "TYPE", "VALUE"], |r: &DnsRecord| {
                vec![r.name.clone(), r.kind.to_string(), r.value.clone()]
            });
        }
    }
    Ok(())
}
