//! `mailroom sending-limits`: the global sending quotas.

use mailroom_core::Directory;
use mailroom_core::sending::SendingLimit;
use mailroom_store::SendClass;

use crate::cli::SendingLimitsCommand;
use crate::output::Output;

pub async fn run(
    command: SendingLimitsCommand,
    directory: &Directory,
    out: &Output,
) -> anyhow::Result<()> {
    match command {
        SendingLimitsCommand::Show => {
            let limits = directory.global_sending_limits().await?;
            out.list(&limits, &["CLASS", "LIMIT", "SET"], |l: &SendingLimit| {
                vec![
                    l.class.as_str().to_string(),
                    l.limit.to_string(),
                    l.source.to_string(),
                ]
            });
        }
        SendingLimitsCommand::Set {
            local,
            external,
            per_ip,
        } => {
            let changes = super::parse_limits(vec![
                (SendClass::Local, local),
                (SendClass::External, external),
                (SendClass::PerIp, per_ip),
            ])?;
            if changes.is_empty() {
                anyhow::bail!("nothing to set: give --local, --external or --per-ip");
            }
            for (class, limit) in changes {
                directory.set_sending_limit(None, class, limit).await?;
            }
            out.done("global sending limits updated");
        }
    }
    Ok(())
}
