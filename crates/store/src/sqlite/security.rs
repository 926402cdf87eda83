//! Account security in SQLite: TOTP enrolment, recovery codes, device
//! passwords, the security log and banned client addresses.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{Ban, DevicePassword, Result, SecurityEvent, TotpState};

pub(crate) fn totp_get(conn: &Connection, account_id: i64) -> Result<Option<TotpState>> {
    Ok(conn
        .prepare_cached("SELECT secret, confirmed, last_step FROM totp WHERE account_id = ?1")?
        .query_row([account_id], |r| {
            Ok(TotpState {
                secret: r.get(0)?,
                confirmed: r.get(1)?,
                last_step: r.get(2)?,
            })
        })
        .optional()?)
}

pub(crate) fn totp_set(
    conn: &Connection,
    account_id: i64,
    state: Option<&TotpState>,
    now: i64,
) -> Result<()> {
    match state {
        Some(s) => {
            conn.execute(
                "INSERT INTO totp (account_id, secret, confirmed, last_step, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (account_id) DO UPDATE SET secret = ?2, confirmed = ?3, last_step = ?4",
                params![account_id, s.secret, s.confirmed, s.last_step, now],
            )?;
        }
        None => {
            conn.execute("DELETE FROM totp WHERE account_id = ?1", [account_id])?;
            conn.execute(
                "DELETE FROM recovery_codes WHERE account_id = ?1",
                [account_id],
            )?;
        }
    }
    let on = state.is_some_and(|s| s.confirmed);
    // Turning 2FA on ends the policy's count and any enrolment duty;
    // turning it off starts the count again.
    conn.execute(
        "UPDATE accounts SET two_factor = ?2,
             two_factor_off_since = CASE WHEN ?2 THEN NULL
                 ELSE coalesce(two_factor_off_since, ?3) END,
             two_factor_notices = CASE WHEN ?2 THEN 0 ELSE two_factor_notices END,
             must_enroll = CASE WHEN ?2 THEN 0 ELSE must_enroll END
         WHERE id = ?1",
        params![account_id, on, now],
    )?;
    bump_credentials(conn)
}

/// Tells open sessions (through `credentials_epoch`) to check again.
pub(crate) fn bump_credentials(conn: &Connection) -> Result<()> {
    conn.prepare_cached("UPDATE server_settings SET value = value + 1 WHERE name = 'credentials'")?
        .execute([])?;
    Ok(())
}

pub(crate) fn credentials_epoch(conn: &Connection) -> Result<u64> {
    let value: i64 = conn
        .prepare_cached("SELECT value FROM server_settings WHERE name = 'credentials'")?
        .query_row([], |r| r.get(0))?;
    Ok(value as u64)
}

pub(crate) fn totp_use_step(conn: &Connection, account_id: i64, step: i64) -> Result<bool> {
    let changed = conn.execute(
        "UPDATE totp SET last_step = ?2
         WHERE account_id = ?1 AND (last_step IS NULL OR last_step < ?2)",
        params![account_id, step],
    )?;
    Ok(changed == 1)
}

pub(crate) fn recovery_codes_set(
    conn: &Connection,
    account_id: i64,
    codes: &[(String, String)],
) -> Result<()> {
    conn.execute(
        "DELETE FROM recovery_codes WHERE account_id = ?1",
        [account_id],
    )?;
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO recovery_codes (account_id, lookup, hash) VALUES (?1, ?2, ?3)",
    )?;
    for (lookup, hash) in codes {
        insert.execute(params![account_id, lookup, hash])?;
    }
    Ok(())
}

pub(crate) fn recovery_code_get(
    conn: &Connection,
    account_id: i64,
    lookup: &str,
) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT hash FROM recovery_codes
             WHERE account_id = ?1 AND lookup = ?2 AND used_at IS NULL",
        )?
        .query_row(params![account_id, lookup], |r| r.get(0))
        .optional()?)
}

pub(crate) fn recovery_code_use(
    conn: &Connection,
    account_id: i64,
    lookup: &str,
    now: i64,
) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE recovery_codes SET used_at = ?3
         WHERE account_id = ?1 AND lookup = ?2 AND used_at IS NULL",
        params![account_id, lookup, now],
    )? == 1)
}

pub(crate) fn recovery_codes_left(conn: &Connection, account_id: i64) -> Result<usize> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM recovery_codes WHERE account_id = ?1 AND used_at IS NULL",
        [account_id],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

const DEVICE_COLUMNS: &str = "id, account_id, name, lookup, hash, created_at, last_used_at, \
                              last_ip, last_protocol";

fn device_from_row(r: &Row<'_>) -> rusqlite::Result<DevicePassword> {
    Ok(DevicePassword {
        id: r.get(0)?,
        account_id: r.get(1)?,
        name: r.get(2)?,
        lookup: r.get(3)?,
        hash: r.get(4)?,
        created_at: r.get(5)?,
        last_used_at: r.get(6)?,
        last_ip: r.get(7)?,
        last_protocol: r.get(8)?,
    })
}

pub(crate) fn device_add(conn: &Connection, d: &DevicePassword) -> Result<DevicePassword> {
    conn.execute(
        "INSERT INTO device_passwords (account_id, name, lookup, hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![d.account_id, d.name, d.lookup, d.hash, d.created_at],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            crate::StoreError::Conflict(format!("a device password named {:?} exists", d.name))
        }
        other => other.into(),
    })?;
    let id = conn.last_insert_rowid();
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {DEVICE_COLUMNS} FROM device_passwords WHERE id = ?1"
        ))?
        .query_row([id], device_from_row)?)
}

pub(crate) fn device_find(conn: &Connection, lookup: &str) -> Result<Vec<DevicePassword>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {DEVICE_COLUMNS} FROM device_passwords WHERE lookup = ?1"
    ))?;
    let rows = stmt.query_map([lookup], device_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn device_list(conn: &Connection, account_id: i64) -> Result<Vec<DevicePassword>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {DEVICE_COLUMNS} FROM device_passwords WHERE account_id = ?1 ORDER BY name"
    ))?;
    let rows = stmt.query_map([account_id], device_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn device_remove(conn: &Connection, account_id: i64, name: &str) -> Result<bool> {
    let removed = conn.execute(
        "DELETE FROM device_passwords WHERE account_id = ?1 AND name = ?2",
        params![account_id, name],
    )? == 1;
    if removed {
        bump_credentials(conn)?;
    }
    Ok(removed)
}

pub(crate) fn device_used(
    conn: &Connection,
    id: i64,
    ip: &str,
    protocol: &str,
    now: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE device_passwords SET last_used_at = ?2, last_ip = ?3, last_protocol = ?4
         WHERE id = ?1",
        params![id, now, ip, protocol],
    )?;
    Ok(())
}

pub(crate) fn event_add(conn: &Connection, e: &SecurityEvent) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO security_events (at, account, ip, protocol, event, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        e.at, e.account, e.ip, e.protocol, e.event, e.detail
    ])?;
    Ok(())
}

pub(crate) fn events(
    conn: &Connection,
    account: Option<&str>,
    since: Option<i64>,
    limit: usize,
) -> Result<Vec<SecurityEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, account, ip, protocol, event, detail FROM security_events
         WHERE (?1 IS NULL OR account = ?1) AND (?2 IS NULL OR at >= ?2)
         ORDER BY at DESC, id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![account, since, limit as i64], |r| {
        Ok(SecurityEvent {
            at: r.get(0)?,
            account: r.get(1)?,
            ip: r.get(2)?,
            protocol: r.get(3)?,
            event: r.get(4)?,
            detail: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn ban_from_row(r: &Row<'_>) -> rusqlite::Result<Ban> {
    Ok(Ban {
        ip: r.get(0)?,
        until: r.get(1)?,
        strikes: r.get(2)?,
        reason: r.get(3)?,
        created_at: r.get(4)?,
    })
}

pub(crate) fn ban_get(conn: &Connection, ip: &str) -> Result<Option<Ban>> {
    Ok(conn
        .prepare_cached("SELECT ip, until, strikes, reason, created_at FROM ip_bans WHERE ip = ?1")?
        .query_row([ip], ban_from_row)
        .optional()?)
}

pub(crate) fn ban_set(conn: &Connection, ban: &Ban) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO ip_bans (ip, until, strikes, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ban.ip, ban.until, ban.strikes, ban.reason, ban.created_at],
    )?;
    Ok(())
}

pub(crate) fn ban_remove(conn: &Connection, ip: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM ip_bans WHERE ip = ?1", [ip])? == 1)
}

pub(crate) fn ban_list(conn: &Connection) -> Result<Vec<Ban>> {
    let mut stmt = conn
        .prepare_cached("SELECT ip, until, strikes, reason, created_at FROM ip_bans ORDER BY ip")?;
    let rows = stmt.query_map([], ban_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn setting_get(conn: &Connection, name: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT value FROM server_settings WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

pub(crate) fn setting_set(conn: &Connection, name: &str, value: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO server_settings (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = ?2",
        params![name, value],
    )?;
    Ok(())
}
