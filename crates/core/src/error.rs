use mailroom_store::StoreError;

/// Errors of the application services; each front-end maps them to its
/// protocol's replies. Messages are safe to show to the user who asked.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The request itself is malformed (bad address, bad size, ...).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    PasswordPolicy(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The request is well-formed but breaks a rule in the current state.
    #[error("{0}")]
    Conflict(String),
    /// The account's storage quota would be exceeded.
    #[error("quota exceeded: {0}")]
    OverQuota(String),
    #[error("storage: {0}")]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => CoreError::NotFound(what),
            StoreError::AlreadyExists(what) => CoreError::AlreadyExists(what),
            StoreError::Conflict(why) => CoreError::Conflict(why),
            other => CoreError::Store(other),
        }
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
