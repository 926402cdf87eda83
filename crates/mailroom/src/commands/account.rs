use mailroom_core::Directory;
use mailroom_core::directory::{AccountSettings, NewAccountRequest};
use mailroom_core::sending::SendingLimit;
use mailroom_core::size;
use mailroom_store::{Account, Pop3Delete, Role, SendClass};

use super::{read_password, yes_no};
use crate::cli::AccountCommand;
use crate::output::Output;

fn parse_role(text: &str) -> anyhow::Result<Role> {
    text.parse::<Role>().map_err(anyhow::Error::msg)
}

fn pop3_last_used(account: &Account) -> String {
    match (account.pop3_last_used_at, &account.pop3_last_ip) {
        (Some(at), ip) => format!(
            "{} from {}",
            mailroom_core::time::rfc5322(at),
            ip.as_deref().unwrap_or("?")
        ),
        (None, _) => "never".into(),
    }
}

fn quota_text(account: &Account) -> String {
    account.quota_bytes.map_or("unlimited".into(), size::format)
}

pub async fn run(
    command: AccountCommand,
    directory: &Directory,
    out: &Output,
) -> anyhow::Result<()> {
    match command {
        AccountCommand::Add {
            email,
            role,
            quota,
            password,
        } => {
            let role = parse_role(&role)?;
            let quota_bytes = quota.as_deref().map(size::parse).transpose()?.flatten();
            let password = read_password(password)?;
            let account = directory
                .add_account(NewAccountRequest {
                    email,
                    password,
                    role,
                    quota_bytes,
                })
                .await?;
            out.done(&format!(
                "account {} added ({})",
                account.email, account.role
            ));
        }
        AccountCommand::List { domain } => {
            let accounts = directory.list_accounts(domain.as_deref()).await?;
            out.list(
                &accounts,
                &["EMAIL", "ROLE", "ENABLED", "API", "USED", "QUOTA"],
                |a: &Account| {
                    vec![
                        a.email.clone(),
                        a.role.to_string(),
                        yes_no(a.enabled),
                        yes_no(a.api_access),
                        size::format(a.used_bytes),
                        quota_text(a),
                    ]
                },
            );
        }
        AccountCommand::Show { email } => {
            let a = directory.account(&email).await?;
            let domains = if a.role == Role::DomainAdmin {
                directory.administered_domains(&a.email).await?.join(", ")
            } else {
                "-".into()
            };
            let sending = directory.sending_limits(&a.email).await?;
            let mut rows = vec![
                ("email", a.email.clone()),
                ("role", a.role.to_string()),
                (
                    "enabled",
                    match (&a.disabled_reason, a.enabled) {
                        (Some(reason), false) => format!("no (disabled: {reason})"),
                        _ => yes_no(a.enabled),
                    },
                ),
                ("api access", yes_no(a.api_access)),
                (
                    "2fa",
                    if a.two_factor {
                        "on".to_string()
                    } else if a.must_enroll {
                        "off (must be set up before anything else works)".to_string()
                    } else {
                        "off".to_string()
                    },
                ),
                ("used", size::format(a.used_bytes)),
                ("quota", quota_text(&a)),
                ("administers", domains),
                ("pop3 delete", a.pop3_delete.as_str().to_string()),
                ("pop3 last used", pop3_last_used(&a)),
            ];
            for limit in &sending {
                rows.push((
                    match limit.class {
                        SendClass::Local => "sending (local)",
                        SendClass::External => "sending (external)",
                        SendClass::PerIp => "sending (per address)",
                    },
                    super::sending_text(limit),
                ));
            }
            #[derive(serde::Serialize)]
            struct Shown<'a> {
                #[serde(flatten)]
                account: &'a Account,
                sending: &'a [SendingLimit],
            }
            out.one(
                &Shown {
                    account: &a,
                    sending: &sending,
                },
                &rows,
            );
        }
        AccountCommand::Set {
            email,
            enabled,
            api_access,
            quota,
            role,
            pop3_delete,
            send_local,
            send_external,
        } => {
            let settings = AccountSettings {
                enabled,
                api_access,
                quota_bytes: quota.as_deref().map(size::parse).transpose()?,
                role: role.as_deref().map(parse_role).transpose()?,
                pop3_delete: pop3_delete
                    .as_deref()
                    .map(|p| p.parse::<Pop3Delete>().map_err(anyhow::Error::msg))
                    .transpose()?,
            };
            let limits = vec![
                (SendClass::Local, send_local),
                (SendClass::External, send_external),
            ];
            let limits = super::parse_limits(limits)?;
            let account = directory.update_account(&email, settings).await?;
            for (class, limit) in limits {
                directory
                    .set_sending_limit(Some(&account.email), class, limit)
                    .await?;
            }
            out.done(&format!("account {} updated", account.email));
        }
        AccountCommand::Passwd { email, password } => {
            let password = read_password(password)?;
            directory.set_password(&email, password).await?;
            out.done(&format!(
                "password of {} changed; its sessions ended, its API keys and device passwords were revoked",
                email.to_ascii_lowercase()
            ));
        }
        AccountCommand::Remove { email, force } => {
            directory.remove_account(&email, force).await?;
            out.done(&format!("account {} removed", email.to_ascii_lowercase()));
        }
    }
    Ok(())
}
