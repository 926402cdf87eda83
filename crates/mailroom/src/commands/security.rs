//! `mailroom device-password`, `mailroom 2fa` and `mailroom security`.

use anyhow::Context;
use mailroom_core::Directory;
use mailroom_core::time::rfc5322;
use mailroom_store::{ApiKey, Ban, DevicePassword, SecurityEvent};

use crate::cli::{ApiKeyCommand, DevicePasswordCommand, SecurityCommand, TwoFactorCommand};
use crate::output::Output;

fn when(at: Option<i64>) -> String {
    at.map_or_else(|| "never".into(), rfc5322)
}

pub async fn device_passwords(
    command: DevicePasswordCommand,
    directory: &Directory,
    out: &Output,
) -> anyhow::Result<()> {
    match command {
        DevicePasswordCommand::Add { email, name } => {
            let created = directory.add_device_password(&email, &name).await?;
            if out.json {
                println!("{}", serde_json::to_string_pretty(&created)?);
            } else {
                println!(
                    "device password {:?} for {}: {}\n\
                     Enter it in the mail client instead of the account password; it is not shown again.",
                    created.name,
                    email.to_lowercase(),
                    created.password
                );
            }
        }
        DevicePasswordCommand::List { email } => {
            let list = directory.device_passwords(&email).await?;
            out.list(
                &list,
                &["NAME", "CREATED", "LAST USED", "LAST IP", "PROTOCOL"],
                |d: &DevicePassword| {
                    vec![
                        d.name.clone(),
                        rfc5322(d.created_at),
                        when(d.last_used_at),
                        d.last_ip.clone().unwrap_or_default(),
                        d.last_protocol.clone().unwrap_or_default(),
                    ]
                },
            );
        }
        DevicePasswordCommand::Revoke { email, name } => {
            directory.revoke_device_password(&email, &name).await?;
            out.done(&format!("device password {name:?} revoked"));
        }
    }
    Ok(())
}

pub async fn api_keys(
    command: ApiKeyCommand,
    directory: &Directory,
    out: &Output,
) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Add {
            email,
            name,
            read_only,
            expires,
        } => {
            let expires_in = match expires {
                Some(text) => Some(
                    parse_age(&text)
                        .with_context(|| format!("--expires {text:?}: use e.g. 12h or 30d"))?,
                ),
                None => None,
            };
            let (key, secret) = directory
                .add_api_key(&email, &name, read_only, expires_in)
                .await?;
            if out.json {
                println!(
                    "{}",
                    serde_json::json!({ "name": key.name, "key": secret, "read_only": key.read_only, "expires_at": key.expires_at })
                );
            } else {
                println!(
                    "API key {:?} for {}: {secret}\n\
                     Send it as \"Authorization: Bearer <key>\"; it is not shown again.",
                    key.name,
                    email.to_lowercase()
                );
            }
        }
        ApiKeyCommand::List { email } => {
            let keys = directory.api_keys(&email).await?;
            out.list(
                &keys,
                &["NAME", "ACCESS", "CREATED", "EXPIRES", "LAST USED"],
                |k: &ApiKey| {
                    vec![
                        k.name.clone(),
                        if k.read_only {
                            "read-only"
                        } else {
                            "read-write"
                        }
                        .into(),
                        rfc5322(k.created_at),
                        k.expires_at.map_or_else(|| "never".into(), rfc5322),
                        when(k.last_used_at),
                    ]
                },
            );
        }
        ApiKeyCommand::Revoke { email, name } => {
            directory.revoke_api_key(&email, &name).await?;
            out.done(&format!("API key {name:?} revoked"));
        }
    }
    Ok(())
}

pub async fn two_factor(
    command: TwoFactorCommand,
    directory: &Directory,
    hostname: &str,
    out: &Output,
) -> anyhow::Result<()> {
    match command {
        TwoFactorCommand::Setup { email, qr_png } => {
            let enrolment = directory.totp_setup(&email, hostname).await?;
            if let Some(path) = qr_png {
                std::fs::write(&path, enrolment.qr_png()?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            out.one(
                &enrolment,
                &[
                    ("secret", enrolment.secret.clone()),
                    ("uri", enrolment.uri.clone()),
                    (
                        "next",
                        format!(
                            "add it to an authenticator app, then: mailroom 2fa confirm {email} CODE"
                        ),
                    ),
                ],
            );
        }
        TwoFactorCommand::Confirm { email, code } => {
            let codes = directory.totp_confirm(&email, &code).await?;
            if out.json {
                println!(
                    "{}",
                    serde_json::json!({ "ok": true, "recovery_codes": codes })
                );
            } else {
                println!(
                    "2FA is on for {}. Mail clients now need a device password.\n\
                     Recovery codes (each works once; keep them safe, they are not shown again):",
                    email.to_lowercase()
                );
                for code in codes {
                    println!("  {code}");
                }
            }
        }
        TwoFactorCommand::Disable { email, code } => {
            directory.totp_disable(&email, &code).await?;
            out.done(&format!("2FA is off for {}", email.to_lowercase()));
        }
        TwoFactorCommand::Reset { email } => {
            directory.totp_reset(&email).await?;
            out.done(&format!(
                "2FA was reset for {}: it is off until set up again",
                email.to_lowercase()
            ));
        }
        TwoFactorCommand::Status { email } => {
            let account = directory.account(&email).await?;
            let left = directory.recovery_codes_left(&email).await?;
            let status = serde_json::json!({
                "account": account.email,
                "two_factor": account.two_factor,
                "recovery_codes_left": left,
            });
            out.one(
                &status,
                &[
                    ("account", account.email.clone()),
                    ("2fa", if account.two_factor { "on" } else { "off" }.into()),
                    ("recovery codes left", left.to_string()),
                ],
            );
        }
    }
    Ok(())
}

pub async fn run(
    command: SecurityCommand,
    directory: &Directory,
    out: &Output,
) -> anyhow::Result<()> {
    match command {
        SecurityCommand::Log {
            account,
            since,
            limit,
        } => {
            let since = match since {
                Some(text) => {
                    let secs = parse_age(&text)
                        .with_context(|| format!("--since {text:?}: use e.g. 30m, 24h or 7d"))?;
                    Some(directory.store().now() - secs)
                }
                None => None,
            };
            let events = directory
                .security_log(account.as_deref(), since, limit)
                .await?;
            out.list(
                &events,
                &["TIME", "EVENT", "ACCOUNT", "IP", "PROTOCOL", "DETAIL"],
                |e: &SecurityEvent| {
                    vec![
                        rfc5322(e.at),
                        e.event.clone(),
                        e.account.clone().unwrap_or_default(),
                        e.ip.clone().unwrap_or_default(),
                        e.protocol.clone().unwrap_or_default(),
                        e.detail.clone().unwrap_or_default(),
                    ]
                },
            );
        }
        SecurityCommand::Bans => {
            let bans = directory.bans().await?;
            out.list(&bans, &["IP", "UNTIL", "STRIKES", "REASON"], |b: &Ban| {
                vec![
                    b.ip.clone(),
                    rfc5322(b.until),
                    b.strikes.to_string(),
                    b.reason.clone(),
                ]
            });
        }
        SecurityCommand::Policy {
            mandatory_2fa,
            grace_days,
        } => {
            let policy = directory
                .set_two_factor_policy(mandatory_2fa, grace_days)
                .await?;
            out.one(
                &policy,
                &[
                    (
                        "mandatory 2fa",
                        if policy.mandatory { "on" } else { "off" }.into(),
                    ),
                    ("grace days", policy.grace_days.to_string()),
                ],
            );
        }
        SecurityCommand::Unban { ip } => {
            directory.unban(&ip).await?;
            out.done(&format!("{} may log in again", ip.trim()));
        }
    }
    Ok(())
}

/// `30m`, `24h`, `7d`, `90s` → seconds.
fn parse_age(text: &str) -> Option<i64> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = number.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    Some(n * scale)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_parse() {
        assert_eq!(super::parse_age("30m"), Some(1800));
        assert_eq!(super::parse_age("7d"), Some(604_800));
        assert_eq!(super::parse_age("7"), None);
        assert_eq!(super::parse_age("x"), None);
    }
}
