//! LOGIN and AUTHENTICATE (RFC 3501 6.2, RFC 4616 PLAIN, RFC 4959 SASL-IR).

use bounded_static::IntoBoundedStatic;
use imap_codec::AuthenticateDataCodec;
use imap_codec::imap_types::auth::{AuthMechanism, AuthenticateData};

use mailroom_core::security::{Denial, LoginRequest, Protocol};

use crate::io::Received;
use crate::session::{Done, Session};

impl Session {
    pub(crate) async fn login(&mut self, username: &[u8], password: &[u8]) -> Done {
        if !self.is_tls() {
            return Done::no("Log in over TLS: use STARTTLS or the imaps port")
                .code("PRIVACYREQUIRED");
        }
        self.check_credentials(username, password).await
    }

    async fn check_credentials(&mut self, username: &[u8], password: &[u8]) -> Done {
        let (Ok(username), Ok(password)) =
            (std::str::from_utf8(username), std::str::from_utf8(password))
        else {
            return self.failed_login().await;
        };
        let request = LoginRequest {
            email: username,
            secret: password,
            code: None,
            protocol: Protocol::Imap,
            ip: self.peer.ip(),
        };
        match self.server.directory.login(request).await {
            Ok(Ok(login)) => {
                self.access = Some(self.server.directory.access(&login));
                let account = login.account;
                let Ok(slot) = self.server.per_account.try_acquire(account.id) else {
                    return Done::no("Too many connections for this account").code("LIMIT");
                };
                tracing::info!(account = %account.email, peer = %self.peer, "imap login");
                self.account_slot = Some(slot);
                self.account = Some(account);
                let caps = self.capabilities().join(" ");
                Done::ok("Logged in").code(format!("CAPABILITY {caps}"))
            }
            Ok(Err(denial)) if denial.hint().is_some() => {
                tokio::time::sleep(self.server.settings.auth_failure_delay).await;
                Done::no(denial.hint().unwrap_or_default()).code("AUTHENTICATIONFAILED")
            }
            Ok(Err(Denial::Banned { .. })) => {
                Done::no("Too many failed logins from your address; try again later")
                    .code("UNAVAILABLE")
            }
            Ok(Err(_)) => self.failed_login().await,
            Err(error) => {
                tracing::error!(%error, "login lookup failed");
                Done::no("Temporary authentication failure").code("UNAVAILABLE")
            }
        }
    }

    /// Wrong password, unknown or disabled account: the same answer, late.
    async fn failed_login(&mut self) -> Done {
        tracing::info!(peer = %self.peer, "imap login failed");
        tokio::time::sleep(self.server.settings.auth_failure_delay).await;
        Done::no("Authentication failed").code("AUTHENTICATIONFAILED")
    }

    pub(crate) async fn authenticate(
        &mut self,
        tag: &str,
        mechanism: AuthMechanism<'static>,
        initial: Option<Vec<u8>>,
    ) -> Done {
        if !self.is_tls() {
            return Done::no("Authenticate over TLS: use STARTTLS or the imaps port")
                .code("PRIVACYREQUIRED");
        }
        if mechanism != AuthMechanism::Plain {
            return Done::no("Unsupported mechanism; use PLAIN").code("CANNOT");
        }
        let response = match initial {
            Some(data) => data,
            None => {
                self.io().write_str("+ \r\n");
                match self.read_continuation().await {
                    Some(data) => data,
                    None => return Done::bad("Authentication cancelled"),
                }
            }
        };
        let _ = tag;
        // authzid NUL authcid NUL password
        let mut parts = response.split(|&b| b == 0);
        let (Some(authz), Some(user), Some(pass), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Done::bad("Malformed PLAIN response");
        };
        if !authz.is_empty() && authz != user {
            return self.failed_login().await;
        }
        self.check_credentials(user, pass).await
    }

    /// Reads one SASL continuation line; `None` when the client cancels.
    async fn read_continuation(&mut self) -> Option<Vec<u8>> {
        let wait = self.server.settings.login_timeout;
        match self.io().receive(wait).await {
            Ok(Received::Message) => {}
            _ => return None,
        }
        let io = self.io.as_ref()?;
        match io
            .fragments()
            .decode_message(&AuthenticateDataCodec::default())
        {
            Ok(AuthenticateData::Continue(data)) => Some(data.into_static().declassify().to_vec()),
            _ => None,
        }
    }
}
