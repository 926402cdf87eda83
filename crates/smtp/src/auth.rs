//! AUTH on submission listeners (RFC 4954): PLAIN (RFC 4616) and LOGIN,
//! only once TLS is on. Every failure gets the same answer, late.

use mailroom_core::sasl;
use mailroom_core::security::{Denial, LoginRequest, Protocol};
use mailroom_net::Line;

use crate::reply::Reply;
use crate::session::{Next, Session};

/// RFC 4954 4: a SASL response line may be up to 12,288 octets.
const MAX_RESPONSE_LINE: usize = 12_288;

/// What reading a SASL response produced.
enum Response {
    Text(String),
    Cancelled,
    /// Longer than a SASL answer may be here.
    TooLong,
    Lost,
}

impl Session {
    pub(crate) async fn auth(&mut self, mechanism: String, initial: Option<String>) -> Next {
        let Some(directory) = self.server.directory.clone() else {
            return self.continue_if(Reply::new(
                503,
                "5.5.1",
                "AUTH not available on this port; use submission",
            ));
        };
        if self.account.is_some() {
            return self.continue_if(Reply::new(503, "5.5.1", "Error: already authenticated"));
        }
        if self.envelope.is_some() {
            return self.continue_if(Reply::new(
                503,
                "5.5.1",
                "Error: AUTH not allowed during a mail transaction",
            ));
        }
        if !self.io().is_tls() {
            return self.continue_if(Reply::new(
                538,
                "5.7.11",
                "Encryption required for requested authentication mechanism; use STARTTLS",
            ));
        }
        let credentials = match mechanism.as_str() {
            "PLAIN" => {
                let response = match initial {
                    // RFC 4954 4: "=" is an empty initial response.
                    Some(r) => Response::Text(if r == "=" { String::new() } else { r }),
                    None => self.challenge("").await,
                };
                match response {
                    Response::Text(r) => match sasl::base64_decode(&r) {
                        Some(bytes) => sasl::plain_credentials(&bytes),
                        None => return self.continue_if(bad_base64()),
                    },
                    Response::Cancelled => return self.cancelled(),
                    Response::TooLong => return self.continue_if(too_long()),
                    Response::Lost => return Next::Close,
                }
            }
            "LOGIN" => {
                let user = match initial {
                    Some(r) => Response::Text(r),
                    // "Username:" and "Password:", as every client expects.
                    None => self.challenge("VXNlcm5hbWU6").await,
                };
                let user = match user {
                    Response::Text(u) => u,
                    Response::Cancelled => return self.cancelled(),
                    Response::TooLong => return self.continue_if(too_long()),
                    Response::Lost => return Next::Close,
                };
                let password = match self.challenge("UGFzc3dvcmQ6").await {
                    Response::Text(p) => p,
                    Response::Cancelled => return self.cancelled(),
                    Response::TooLong => return self.continue_if(too_long()),
                    Response::Lost => return Next::Close,
                };
                let (Some(user), Some(password)) =
                    (sasl::base64_decode(&user), sasl::base64_decode(&password))
                else {
                    return self.continue_if(bad_base64());
                };
                String::from_utf8(user)
                    .ok()
                    .zip(String::from_utf8(password).ok())
            }
            _ => {
                return self.continue_if(Reply::new(
                    504,
                    "5.5.4",
                    "Unrecognized authentication type; use PLAIN or LOGIN",
                ));
            }
        };
        let outcome = match credentials {
            Some((user, password)) => {
                let request = LoginRequest {
                    email: &user,
                    secret: &password,
                    code: None,
                    protocol: Protocol::Smtp,
                    ip: self.peer.ip(),
                };
                match directory.login(request).await {
                    Ok(outcome) => outcome,
                    Err(error) => {
                        tracing::error!(%error, "smtp auth lookup failed");
                        return self.continue_if(Reply::new(
                            454,
                            "4.7.0",
                            "Temporary authentication failure, try again later",
                        ));
                    }
                }
            }
            None => Err(Denial::Invalid),
        };
        match outcome {
            Ok(login) => {
                tracing::info!(account = %login.account.email, peer = %self.peer, "smtp auth");
                self.access = Some(directory.access(&login));
                self.account = Some(login.account);
                self.continue_if(Reply::new(235, "2.7.0", "Authentication successful"))
            }
            Err(Denial::Banned { .. }) => self.continue_if(Reply::new(
                454,
                "4.7.0",
                "Too many failed logins from your address; try again later",
            )),
            Err(denial) => {
                tracing::info!(peer = %self.peer, "smtp auth failed");
                tokio::time::sleep(self.server.settings.auth_failure_delay).await;
                let text = match denial.hint() {
                    Some(hint) => format!(
                        "Authentication credentials invalid: {}{}",
                        hint[..1].to_lowercase(),
                        &hint[1..]
                    ),
                    None => "Authentication credentials invalid".to_string(),
                };
                self.continue_if(Reply::new(535, "5.7.8", text))
            }
        }
    }

    fn cancelled(&mut self) -> Next {
        self.continue_if(Reply::new(501, "5.0.0", "Authentication cancelled"))
    }

    /// Sends a `334` challenge and reads the client's one-line answer.
    async fn challenge(&mut self, text: &str) -> Response {
        self.send(&Reply::plain(334, vec![text.to_string()]));
        let timeout = self.server.settings.command_timeout;
        match self.io().read_line(MAX_RESPONSE_LINE, timeout).await {
            Ok(Line::Complete(range)) => {
                let raw = self.io().bytes(range);
                let text = String::from_utf8_lossy(raw);
                let text = text.trim_end_matches(['\r', '\n']).trim();
                if text == "*" {
                    Response::Cancelled
                } else {
                    Response::Text(text.to_string())
                }
            }
            Ok(Line::TooLong) => Response::TooLong,
            Ok(Line::Closed) | Err(_) => Response::Lost,
        }
    }
}

/// RFC 4954 4: an answer longer than the server takes.
fn too_long() -> Reply {
    Reply::new(500, "5.5.6", "Authentication Exchange line is too long")
}

/// RFC 4954 4: a response that is not base64 is a syntax error, not a
/// wrong password.
fn bad_base64() -> Reply {
    Reply::new(
        501,
        "5.5.2",
        "Invalid base64 data in the authentication response",
    )
}
