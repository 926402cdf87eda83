//! One POP3 conversation: AUTHORIZATION, TRANSACTION and UPDATE states
//! (RFC 1939 3), with CAPA and response codes (RFC 2449), STLS (RFC 2595)
//! and AUTH PLAIN (RFC 5034).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_core::sasl;
use mailroom_core::security::{Denial, LoginRequest, Protocol};
use mailroom_net::{Line, LineIo, Shutdown, Stream};

use crate::command::{self, Command};
use crate::locks::MaildropLock;
use crate::maildrop::Maildrop;
use crate::server::Pop3Server;

/// RFC 2449 4: command lines are at most 255 octets; allow some slack.
const MAX_COMMAND_LINE: usize = 1024;
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Session {
    server: Arc<Pop3Server>,
    io: Option<LineIo>,
    peer: SocketAddr,
    shutdown: Shutdown,
    user: Option<String>,
    maildrop: Option<(Maildrop, MaildropLock)>,
    /// What the user logged in with, re-checked when credentials change.
    access: Option<mailroom_core::security::Access>,
    errors: u32,
}

enum Next {
    Continue,
    Close,
}

impl Session {
    pub fn new(
        server: Arc<Pop3Server>,
        stream: Stream,
        peer: SocketAddr,
        shutdown: Shutdown,
    ) -> Self {
        Self {
            server,
            io: Some(LineIo::new(stream)),
            peer,
            shutdown,
            user: None,
            maildrop: None,
            access: None,
            errors: 0,
        }
    }

    fn io(&mut self) -> &mut LineIo {
        self.io.as_mut().expect("the session has its connection")
    }

    fn ok(&mut self, text: &str) {
        let line = format!("+OK {text}\r\n");
        self.io().queue(line.as_bytes());
    }

    fn err(&mut self, text: &str) {
        self.errors += 1;
        let line = format!("-ERR {text}\r\n");
        self.io().queue(line.as_bytes());
    }

    fn is_tls(&self) -> bool {
        self.io.as_ref().is_some_and(LineIo::is_tls)
    }

    pub async fn run(mut self) {
        let greeting = format!("mailroom POP3 ready on {}", self.server.settings.hostname);
        self.ok(&greeting);
        loop {
            let wait = self.server.settings.idle_timeout;
            let shutdown = self.shutdown.clone();
            let line = tokio::select! {
                line = self.io().read_line(MAX_COMMAND_LINE, wait) => line,
                _ = shutdown.triggered() => {
                    self.err("[SYS/TEMP] Server shutting down");
                    break;
                }
            };
            let next = match line {
                Ok(Line::Complete(range)) => {
                    let raw = self.io().bytes(range).to_vec();
                    let text = raw.strip_suffix(b"\n").unwrap_or(&raw);
                    let text = text.strip_suffix(b"\r").unwrap_or(text);
                    match command::parse(text) {
                        Ok(command) => self.dispatch(command).await,
                        Err(why) => {
                            self.err(why);
                            Next::Continue
                        }
                    }
                }
                Ok(Line::TooLong) => {
                    self.err("Line too long");
                    Next::Continue
                }
                Ok(Line::Closed) => break,
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    // RFC 1939 3: autologout without entering UPDATE.
                    self.err("Autologout; idle for too long");
                    break;
                }
                Err(_) => return,
            };
            if matches!(next, Next::Close) {
                break;
            }
            // Errors of a logged-in client ("no such message") harm no
            // one, and closing would skip the UPDATE its QUIT asks for
            // (RFC 1939 6): only a runaway one is stopped.
            let limit = self.server.settings.max_errors;
            let limit = if self.maildrop.is_some() {
                limit.saturating_mul(10)
            } else {
                limit
            };
            if self.errors >= limit {
                let line = b"-ERR Too many errors, closing\r\n";
                self.io().queue(line);
                break;
            }
        }
        if let Some(io) = self.io.take() {
            io.close().await;
        }
    }

    async fn dispatch(&mut self, command: Command) -> Next {
        match command {
            Command::Capa => self.capa(),
            Command::Quit => return self.quit().await,
            Command::Noop if self.maildrop.is_some() => self.ok(""),
            Command::Stls => return self.stls().await,
            Command::User(name) if self.maildrop.is_none() => self.user(name),
            Command::Pass(password) if self.maildrop.is_none() => self.pass(password).await,
            Command::Auth(mechanism, initial) if self.maildrop.is_none() => {
                self.auth(&mechanism, initial).await
            }
            Command::AuthMechanisms if self.maildrop.is_none() => self.mechanisms(),
            _ if self.maildrop.is_none() => self.err("Log in first"),
            Command::User(_) | Command::Pass(_) | Command::Auth(..) | Command::AuthMechanisms => {
                self.err("Already logged in")
            }
            command => {
                let directory = self.server.directory.clone();
                if let Some(access) = self.access.as_mut()
                    && !directory.still_allowed(access).await
                {
                    // Ends without UPDATE: nothing marked is deleted.
                    self.err("[AUTH] Access was revoked or the account disabled; log in again");
                    return Next::Close;
                }
                self.transaction(command).await
            }
        }
        Next::Continue
    }

    fn capa(&mut self) {
        let mut lines = vec![
            "Capability list follows",
            "TOP",
            "UIDL",
            "RESP-CODES",
            "AUTH-RESP-CODE",
            "PIPELINING",
        ];
        if self.is_tls() {
            lines.extend(["USER", "SASL PLAIN"]);
        } else {
            // RFC 2595 4: no clear-text passwords before TLS.
            lines.push("STLS");
        }
        lines.push("IMPLEMENTATION mailroom");
        let mut out = format!("+OK {}\r\n", lines[0]);
        for line in &lines[1..] {
            out.push_str(line);
            out.push_str("\r\n");
        }
        out.push_str(".\r\n");
        self.io().queue(out.as_bytes());
    }

    /// The SASL mechanisms, as CAPA's SASL line gives them: none before
    /// TLS (RFC 2595 4).
    fn mechanisms(&mut self) {
        if self.is_tls() {
            self.io().queue(b"+OK Mechanisms follow\r\nPLAIN\r\n.\r\n");
        } else {
            self.err("Use STLS first");
        }
    }

    async fn stls(&mut self) -> Next {
        if self.is_tls() || self.maildrop.is_some() {
            self.err("STLS not allowed now");
            return Next::Continue;
        }
        self.ok("Begin TLS negotiation");
        let acceptor = self.server.tls.acceptor();
        let io = self.io.take().expect("the session has its connection");
        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, io.start_tls(&acceptor)).await {
            Ok(Ok(io)) => {
                self.io = Some(io);
                self.user = None;
                Next::Continue
            }
            _ => Next::Close,
        }
    }

    fn require_tls(&mut self) -> bool {
        if !self.is_tls() {
            self.err("Log in over TLS: use STLS or the pop3s port");
            return false;
        }
        true
    }

    fn user(&mut self, name: String) {
        if self.require_tls() {
            self.user = Some(name);
            self.ok("Send PASS");
        }
    }

    async fn pass(&mut self, password: String) {
        if !self.require_tls() {
            return;
        }
        let Some(user) = self.user.take() else {
            self.err("Send USER first");
            return;
        };
        self.log_in(&user, &password).await;
    }

    async fn auth(&mut self, mechanism: &str, initial: Option<String>) {
        if !self.require_tls() {
            return;
        }
        if mechanism != "PLAIN" {
            self.err("Unsupported mechanism; use PLAIN");
            return;
        }
        let encoded = match initial {
            // RFC 5034 4: "=" is an empty initial response.
            Some(text) if text == "=" => String::new(),
            Some(text) => text,
            None => {
                self.io().queue(b"+ \r\n");
                let wait = self.server.settings.idle_timeout;
                match self.io().read_line(MAX_COMMAND_LINE, wait).await {
                    Ok(Line::Complete(range)) => String::from_utf8_lossy(self.io().bytes(range))
                        .trim()
                        .to_string(),
                    _ => String::new(),
                }
            }
        };
        if encoded == "*" {
            self.err("Authentication cancelled");
            return;
        }
        match sasl::base64_decode(&encoded)
            .as_deref()
            .and_then(sasl::plain_credentials)
        {
            Some((user, password)) => self.log_in(&user, &password).await,
            None => self.failed_login().await,
        }
    }

    async fn failed_login(&mut self) {
        tracing::info!(peer = %self.peer, "pop3 login failed");
        tokio::time::sleep(self.server.settings.auth_failure_delay).await;
        self.err("[AUTH] Authentication failed");
    }

    async fn log_in(&mut self, user: &str, password: &str) {
        let request = LoginRequest {
            email: user,
            secret: password,
            code: None,
            protocol: Protocol::Pop3,
            ip: self.peer.ip(),
        };
        let account = match self.server.directory.login(request).await {
            Ok(Ok(login)) => {
                self.access = Some(self.server.directory.access(&login));
                login.account
            }
            Ok(Err(denial)) if denial.hint().is_some() => {
                tokio::time::sleep(self.server.settings.auth_failure_delay).await;
                let hint = denial.hint().unwrap_or_default();
                return self.err(&format!("[AUTH] {hint}"));
            }
            Ok(Err(Denial::Banned { .. })) => {
                return self
                    .err("[SYS/TEMP] Too many failed logins from your address; try again later");
            }
            Ok(Err(_)) => return self.failed_login().await,
            Err(error) => {
                tracing::error!(%error, "pop3 login lookup failed");
                return self.err("[SYS/TEMP] Temporary failure, try again later");
            }
        };
        let Some(lock) = self.server.locks.try_lock(account.id) else {
            return self.err("[IN-USE] Mailbox is in use by another POP3 session");
        };
        let ip = self.peer.ip().to_string();
        if let Err(error) = self
            .server
            .directory
            .store()
            .account_note_pop3_use(account.id, &ip)
            .await
        {
            tracing::warn!(%error, "could not record POP3 use");
        }
        match Maildrop::open(&self.server.mail, account).await {
            Ok(maildrop) => {
                tracing::info!(account = %maildrop.account.email, peer = %self.peer, "pop3 login");
                let (count, size) = maildrop.stat();
                self.maildrop = Some((maildrop, lock));
                self.ok(&format!("Logged in, {count} messages ({size} octets)"));
            }
            Err(error) => {
                tracing::error!(%error, "pop3 maildrop failed to open");
                self.err("[SYS/TEMP] Cannot open the mailbox, try again later");
            }
        }
    }

    async fn transaction(&mut self, command: Command) {
        let mail = self.server.mail.clone();
        let Some((maildrop, _)) = self.maildrop.as_mut() else {
            return;
        };
        match command {
            Command::Stat => {
                let (n, size) = maildrop.stat();
                self.ok(&format!("{n} {size}"));
            }
            Command::List(Some(n)) => match maildrop.get(n) {
                Some(e) => {
                    let line = format!("{n} {}", e.size);
                    self.ok(&line);
                }
                None => self.err("No such message"),
            },
            Command::Uidl(Some(n)) => match maildrop.get(n) {
                Some(e) => {
                    let line = format!("{n} {}", e.uid);
                    self.ok(&line);
                }
                None => self.err("No such message"),
            },
            Command::List(None) | Command::Uidl(None) => {
                let uidl = matches!(command, Command::Uidl(None));
                let mut out = String::from("+OK\r\n");
                for (n, e) in maildrop.live() {
                    // UIDL is the IMAP UID: stable, never reused.
                    let value = if uidl { u64::from(e.uid) } else { e.size };
                    out.push_str(&format!("{n} {value}\r\n"));
                }
                out.push_str(".\r\n");
                self.io().queue(out.as_bytes());
            }
            Command::Retr(n) | Command::Top(n, _) => {
                let Some(entry) = maildrop.get(n) else {
                    return self.err("No such message");
                };
                let uid = entry.uid;
                let content = match maildrop.content(&mail, entry).await {
                    Ok(c) => c,
                    Err(_) => return self.err("[SYS/TEMP] Message unavailable"),
                };
                let (text, is_retr) = match command {
                    Command::Top(_, lines) => (top(&content, lines), false),
                    _ => (content, true),
                };
                if is_retr && let Err(error) = maildrop.mark_seen(&mail, uid).await {
                    tracing::warn!(%error, "could not mark a POP3 message seen");
                }
                let mut out = format!("+OK {} octets\r\n", text.len()).into_bytes();
                stuff(&mut out, &text);
                self.io().queue(&out);
            }
            Command::Dele(n) => {
                if maildrop.delete(n) {
                    self.ok(&format!("Message {n} deleted"));
                } else {
                    self.err("No such message");
                }
            }
            Command::Rset => {
                maildrop.reset();
                let (n, size) = maildrop.stat();
                self.ok(&format!("{n} messages ({size} octets)"));
            }
            _ => self.err("Not allowed now"),
        }
    }

    async fn quit(&mut self) -> Next {
        let Some((maildrop, lock)) = self.maildrop.take() else {
            self.ok("Bye");
            return Next::Close;
        };
        // RFC 1939 6: UPDATE state; the lock is released after it.
        match maildrop.commit(&self.server.mail).await {
            Ok(()) => self.ok("Bye"),
            Err(error) => {
                tracing::error!(%error, "pop3 update failed");
                self.err("[SYS/TEMP] Some deleted messages were not removed");
            }
        }
        drop(lock);
        Next::Close
    }
}

/// Header and the first `lines` lines of the body (RFC 1939 7 TOP).
fn top(content: &[u8], lines: usize) -> Vec<u8> {
    let header_end = content
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(content.len(), |p| p + 4);
    let mut out = content[..header_end].to_vec();
    let body = &content[header_end..];
    out.extend(body.split_inclusive(|&b| b == b'\n').take(lines).flatten());
    out
}

/// Multi-line response body (RFC 1939 3): dot-stuffed, every line ended
/// with CRLF (a stored bare LF too, so the closing "." is always found
/// after a CRLF), then ".".
fn stuff(out: &mut Vec<u8>, text: &[u8]) {
    for line in text.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_and_stuffing() {
        let msg = b"Subject: x\r\n\r\nline 1\r\n.line 2\r\nline 3";
        assert_eq!(top(msg, 2), b"Subject: x\r\n\r\nline 1\r\n.line 2\r\n");
        assert_eq!(top(msg, 0), b"Subject: x\r\n\r\n");
        let mut out = Vec::new();
        stuff(&mut out, msg);
        assert_eq!(
            out,
            b"Subject: x\r\n\r\nline 1\r\n..line 2\r\nline 3\r\n.\r\n"
        );
        // A bare LF stored in a message still ends its line with CRLF, so
        // the client finds the closing dot.
        let mut out = Vec::new();
        stuff(&mut out, b"Subject: y\r\n\r\nA\n.\n");
        assert_eq!(out, b"Subject: y\r\n\r\nA\r\n..\r\n.\r\n");
    }
}
