//! What a caller may see and change: a MasterAdmin everything, a
//! DomainAdmin its domains and what is in them (MailUsers only), a
//! MailUser itself. Objects outside the scope answer 404, so nothing can
//! be found out by probing; actions on visible objects the caller may not
//! take answer 403.

use axum::http::StatusCode;
use mailroom_core::Directory;
use mailroom_core::address::domain_of;
use mailroom_core::store::{Account, Role};

use crate::error::ApiError;

pub enum Scope {
    Master,
    DomainAdmin(Vec<String>),
    User(String),
}

impl Scope {
    pub async fn of(directory: &Directory, account: &Account) -> Result<Scope, ApiError> {
        Ok(match account.role {
            Role::MasterAdmin => Scope::Master,
            Role::DomainAdmin => {
                Scope::DomainAdmin(directory.administered_domains(&account.email).await?)
            }
            Role::MailUser => Scope::User(account.email.clone()),
        })
    }

    pub fn is_master(&self) -> bool {
        matches!(self, Scope::Master)
    }

    /// May administer the domain and what is in it.
    pub fn admin_of(&self, domain: &str) -> bool {
        match self {
            Scope::Master => true,
            Scope::DomainAdmin(domains) => domains.iter().any(|d| d == domain),
            Scope::User(_) => false,
        }
    }

    /// May see the account.
    pub fn sees_account(&self, email: &str) -> bool {
        match self {
            Scope::User(own) => own == email,
            _ => self.admin_of(domain_of(email)),
        }
    }

    /// Lists of a resource type are for administrators.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            Scope::User(_) => Err(forbidden("only administrators may do this")),
            _ => Ok(()),
        }
    }

    /// A list of a resource type, optionally of one domain (`?domain=`).
    pub fn may_list(&self, domain: Option<&str>) -> Result<(), ApiError> {
        self.require_admin()?;
        match domain {
            Some(d) if !self.admin_of(&d.to_ascii_lowercase()) => Err(not_found("domain")),
            _ => Ok(()),
        }
    }

    pub fn require_master(&self) -> Result<(), ApiError> {
        if self.is_master() {
            Ok(())
        } else {
            Err(forbidden("only a MasterAdmin may do this"))
        }
    }
}

pub fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

pub fn not_found(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such {what}"),
    )
}
