//! Account security: the one place that decides whether a login succeeds
//! over a given protocol (`login.rs`), second factors (`totp.rs`), device
//! passwords for mail clients (`devices.rs`), lock-outs after repeated
//! failures (`guard.rs`) and the security log (`audit.rs`).

mod access;
pub(crate) mod audit;
mod devices;
mod guard;
mod login;
mod policy;
pub mod qr;
mod secrets;
mod sessions;
mod totp;

pub use access::Access;
pub use devices::NewDevicePassword;
pub use guard::{Guard, GuardSettings};
pub use login::{Credential, Denial, Login, LoginRequest, Protocol};
pub use policy::{POLICY_REASON, PolicyRun, TwoFactorPolicy};
pub use sessions::{Authorized, Unauthorized};
pub use totp::Enrolment;
