//! The directory as JSON resources: domains, accounts, aliases and
//! forwards, each call authorised by role and domain (`crate::scope`).

pub mod accounts;
pub mod admin;
pub mod aliases;
pub mod antispam;
pub mod credentials;
pub mod domains;
pub mod forwards;
pub mod security;
pub mod sending;
pub mod spam;
pub mod stats;

use axum::http::StatusCode;

use crate::error::ApiError;

/// Writes need a session or a read-write key, and a caller who has set
/// up 2FA if the policy requires it.
pub fn writable(caller: &crate::auth::Caller) -> Result<(), ApiError> {
    key_may_write(caller)?;
    usable(caller)
}

/// A read-only API key may not write.
pub fn key_may_write(caller: &crate::auth::Caller) -> Result<(), ApiError> {
    if caller.0.read_only {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "read_only_key",
            "this API key may only read",
        ));
    }
    Ok(())
}

/// Everything but 2FA enrolment is closed to an account that must set
/// it up first.
pub fn usable(caller: &crate::auth::Caller) -> Result<(), ApiError> {
    if caller.0.enrol_only {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "enrolment_required",
            "set up 2FA first: until then nothing else can be used",
        ));
    }
    Ok(())
}
