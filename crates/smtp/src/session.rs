//! One SMTP conversation: the command loop and the envelope commands.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_core::mail::{Refusal, Resolved};
use mailroom_core::store::{Account, SendClass, StatKind};
use mailroom_net::{Shutdown, Stream};

use crate::command::{self, Command, MailFrom};
use crate::data::BodyDecoder;
use crate::reply::Reply;
use crate::server::SmtpServer;
use mailroom_net::{Line, LineIo};

/// RFC 5321 4.5.3.1.4 allows 512 octets; extensions' parameters need more.
const MAX_COMMAND_LINE: usize = 1024;
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) struct Envelope {
    pub from: MailFrom,
    pub recipients: Vec<Resolved>,
    /// Submission only: recipients in other domains, for the queue.
    pub remote: Vec<String>,
    /// A BDAT transfer in progress.
    pub chunks: Option<BodyDecoder>,
}

/// What the loop does after a command.
pub(crate) enum Next {
    Continue,
    Close,
}

pub(crate) struct Session {
    pub server: Arc<SmtpServer>,
    pub io: Option<LineIo>,
    pub peer: SocketAddr,
    shutdown: Shutdown,
    pub helo: Option<String>,
    pub esmtp: bool,
    pub envelope: Option<Envelope>,
    /// The user who authenticated (submission listeners only).
    pub account: Option<Account>,
    /// What the user logged in with, re-checked when credentials change.
    pub access: Option<mailroom_core::security::Access>,
    errors: u32,
}

impl Session {
    pub fn new(
        server: Arc<SmtpServer>,
        stream: Stream,
        peer: SocketAddr,
        shutdown: Shutdown,
    ) -> Self {
        Self {
            server,
            io: Some(LineIo::new(stream)),
            peer,
            shutdown,
            helo: None,
            esmtp: false,
            envelope: None,
            account: None,
            access: None,
            errors: 0,
        }
    }

    pub fn io(&mut self) -> &mut LineIo {
        self.io.as_mut().expect("the session has its connection")
    }

    /// Queues a reply; it is sent when the session next waits for input.
    pub fn send(&mut self, reply: &Reply) {
        reply.write_to(self.io().out());
    }

    fn host(&self) -> &str {
        &self.server.settings.hostname
    }

    /// Queues a reply, counting errors; false once the client has caused
    /// too many and must go. The recipient limit's 452 is ours, not the
    /// client's error (RFC 5321 4.5.3.1.10: it sends the rest later). A
    /// transaction that has recipients is let finish, so refused ones do
    /// not cost the accepted their mail, up to a hard bound that stops a
    /// client probing addresses behind one good one.
    pub fn reply(&mut self, reply: Reply) -> bool {
        self.send(&reply);
        if reply.is_error() && !(reply.code == 452 && reply.status == Some("4.5.3")) {
            self.errors += 1;
            let limit = self.server.settings.max_errors;
            let finishing = self
                .envelope
                .as_ref()
                .is_some_and(|e| !e.recipients.is_empty() || !e.remote.is_empty());
            if self.errors >= limit && (!finishing || self.errors >= limit.saturating_mul(5)) {
                let bye = Reply::new(
                    421,
                    "4.7.0",
                    format!("{} Error: too many errors", self.host()),
                );
                self.send(&bye);
                return false;
            }
        }
        true
    }

    pub async fn run(mut self) {
        let greeting = Reply::plain(220, vec![format!("{} ESMTP mailroom", self.host())]);
        self.send(&greeting);
        loop {
            let timeout = self.server.settings.command_timeout;
            let shutdown = self.shutdown.clone();
            let line = tokio::select! {
                line = self.io().read_line(MAX_COMMAND_LINE, timeout) => line,
                _ = shutdown.triggered() => {
                    let bye = Reply::new(421, "4.3.2", format!("{} Service shutting down, closing transmission channel", self.host()));
                    self.send(&bye);
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
                        Err(reply) => self.continue_if(reply),
                    }
                }
                Ok(Line::TooLong) => {
                    self.continue_if(Reply::new(500, "5.5.2", "Error: line too long"))
                }
                Ok(Line::Closed) => break,
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    let bye = Reply::new(
                        421,
                        "4.4.2",
                        format!("{} Error: timeout exceeded", self.host()),
                    );
                    self.send(&bye);
                    break;
                }
                Err(_) => return,
            };
            if matches!(next, Next::Close) {
                break;
            }
        }
        if let Some(io) = self.io.take() {
            io.close().await;
        }
    }

    pub fn continue_if(&mut self, reply: Reply) -> Next {
        if self.reply(reply) {
            Next::Continue
        } else {
            Next::Close
        }
    }

    async fn dispatch(&mut self, command: Command) -> Next {
        // RFC 3030 2: once BDAT has started, only BDAT, RSET or QUIT.
        if self.envelope.as_ref().is_some_and(|e| e.chunks.is_some())
            && !matches!(
                command,
                Command::Bdat { .. } | Command::Rset | Command::Quit | Command::Noop
            )
        {
            return self.continue_if(Reply::new(503, "5.5.1", "Error: BDAT transfer in progress"));
        }
        match command {
            Command::Ehlo(name) => self.hello(name, true),
            Command::Helo(name) => self.hello(name, false),
            Command::Mail(from) => self.mail(from).await,
            Command::Rcpt(to) => self.rcpt(to).await,
            Command::Data => self.data().await,
            Command::Bdat { size, last } => self.bdat(size, last).await,
            Command::Rset => {
                self.envelope = None;
                self.continue_if(Reply::new(250, "2.0.0", "OK"))
            }
            Command::Noop => self.continue_if(Reply::new(250, "2.0.0", "OK")),
            Command::Quit => {
                let bye = Reply::new(221, "2.0.0", format!("{} closing connection", self.host()));
                self.send(&bye);
                Next::Close
            }
            Command::Help => self.continue_if(Reply::new(
                214,
                "2.0.0",
                "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY STARTTLS",
            )),
            // RFC 5321 3.5.3: 252 neither confirms nor denies an address.
            Command::Vrfy => self.continue_if(Reply::new(
                252,
                "2.5.0",
                "Cannot VRFY user, but will accept message and attempt delivery",
            )),
            Command::Expn => self.continue_if(Reply::new(502, "5.5.1", "EXPN not available")),
            Command::Auth { mechanism, initial } => self.auth(mechanism, initial).await,
            Command::StartTls => self.start_tls().await,
        }
    }

    fn hello(&mut self, name: String, extended: bool) -> Next {
        // RFC 5321 4.1.4: EHLO/HELO also reset the transaction.
        self.envelope = None;
        self.esmtp = extended;
        let mut lines = vec![format!("{} Hello {name} [{}]", self.host(), self.peer.ip())];
        if extended {
            lines.push("PIPELINING".into());
            lines.push(format!("SIZE {}", self.server.settings.body.max_size));
            lines.push("8BITMIME".into());
            lines.push("SMTPUTF8".into());
            lines.push("ENHANCEDSTATUSCODES".into());
            lines.push("CHUNKING".into());
            if !self.io().is_tls() {
                lines.push("STARTTLS".into());
            } else if self.server.is_submission() && self.account.is_none() {
                // RFC 4954: offered only where it may be used (over TLS).
                lines.push("AUTH PLAIN LOGIN".into());
            }
            lines.push("HELP".into());
        }
        self.helo = Some(name);
        self.continue_if(Reply::plain(250, lines))
    }

    async fn mail(&mut self, from: MailFrom) -> Next {
        if self.helo.is_none() {
            return self.continue_if(Reply::new(503, "5.5.1", "Error: send HELO/EHLO first"));
        }
        if self.envelope.is_some() {
            return self.continue_if(Reply::new(503, "5.5.1", "Error: nested MAIL command"));
        }
        if from.parameters && !self.esmtp {
            // RFC 1869 4: service extensions exist only after EHLO.
            return self.continue_if(Reply::new(
                555,
                "5.5.4",
                "MAIL parameters need EHLO, not HELO",
            ));
        }
        if let (Some(directory), Some(access)) = (&self.server.directory, self.access.as_mut())
            && !directory.still_allowed(access).await
        {
            self.reply(Reply::new(
                421,
                "4.7.0",
                "Access was revoked or the account disabled; log in again",
            ));
            return Next::Close;
        }
        if self.server.is_submission()
            && let Err(reply) = self.check_sender(&from.address).await
        {
            return self.continue_if(reply);
        }
        let max = self.server.settings.body.max_size as u64;
        if from.size.is_some_and(|s| s > max) {
            return self.continue_if(Reply::new(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            ));
        }
        // RFC 6531 3.4: a non-ASCII address needs the SMTPUTF8 parameter.
        if !from.address.is_ascii() && !from.smtputf8 {
            return self.continue_if(Reply::new(
                553,
                "5.6.7",
                "Non-ASCII address requires SMTPUTF8",
            ));
        }
        self.envelope = Some(Envelope {
            from,
            recipients: Vec::new(),
            remote: Vec::new(),
            chunks: None,
        });
        self.continue_if(Reply::new(250, "2.1.0", "OK"))
    }

    async fn rcpt(&mut self, to: String) -> Next {
        if self.server.is_submission() && self.account.is_none() {
            return self.continue_if(Reply::new(530, "5.7.0", "Authentication required"));
        }
        let Some(envelope) = &self.envelope else {
            return self.continue_if(Reply::new(503, "5.5.1", "Error: need MAIL command"));
        };
        if envelope.recipients.len() + envelope.remote.len() >= self.server.settings.max_recipients
        {
            return self.continue_if(Reply::new(452, "4.5.3", "Error: too many recipients"));
        }
        if !to.is_ascii() && !envelope.from.smtputf8 {
            return self.continue_if(Reply::new(
                553,
                "5.6.7",
                "Non-ASCII address requires SMTPUTF8",
            ));
        }
        let size = envelope.from.size;
        let address = if to == "postmaster" {
            format!("postmaster@{}", self.host())
        } else {
            to.clone()
        };
        let shown: String = to.chars().filter(|c| !c.is_control()).collect();
        let resolved = match self.server.mail.resolve(&address, size).await {
            Ok(resolved) => resolved,
            Err(error) => {
                tracing::error!(%error, "recipient lookup failed");
                return self.continue_if(Reply::new(
                    451,
                    "4.3.0",
                    format!("<{shown}>: Temporary lookup failure, try again later"),
                ));
            }
        };
        let reply = match resolved {
            Ok(recipient) => {
                if let Err(reply) = self.count_sending(SendClass::Local).await {
                    return self.continue_if(reply);
                }
                if let Some(envelope) = self.envelope.as_mut() {
                    envelope.recipients.push(recipient);
                }
                Reply::new(250, "2.1.5", "OK")
            }
            // Submission to another domain: the outbound queue takes it.
            Err(Refusal::NotHosted) if self.server.is_submission() => {
                if let Err(reply) = self.count_sending(SendClass::External).await {
                    return self.continue_if(reply);
                }
                if let Some(envelope) = self.envelope.as_mut() {
                    envelope.remote.push(address.clone());
                }
                Reply::new(250, "2.1.5", "OK")
            }
            Err(refusal) => {
                if refusal != Refusal::NotHosted {
                    self.server.mail.count(&address, StatKind::Rejected);
                }
                refusal_reply(&refusal, &shown)
            }
        };
        self.continue_if(reply)
    }

    async fn start_tls(&mut self) -> Next {
        if self.io().is_tls() {
            return self.continue_if(Reply::new(503, "5.5.1", "Error: TLS already active"));
        }
        self.send(&Reply::new(220, "2.0.0", "Ready to start TLS"));
        let acceptor = self.server.tls.acceptor();
        let io = self.io.take().expect("the session has its connection");
        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, io.start_tls(&acceptor)).await {
            Ok(Ok(io)) => {
                self.io = Some(io);
                // RFC 3207 4.2: forget everything learned before TLS.
                self.helo = None;
                self.esmtp = false;
                self.envelope = None;
                Next::Continue
            }
            Ok(Err(error)) => {
                tracing::debug!(peer = %self.peer, %error, "STARTTLS handshake failed");
                Next::Close
            }
            Err(_) => Next::Close,
        }
    }
}

/// The replies a refused recipient gets (texts as the product specifies).
fn refusal_reply(refusal: &Refusal, address: &str) -> Reply {
    match refusal {
        Refusal::NotHosted => Reply::new(554, "5.7.1", format!("<{address}>: Relay access denied")),
        Refusal::UnknownUser => Reply::new(
            550,
            "5.1.1",
            format!(
                "<{address}>: Recipient address rejected: undeliverable address (User doesn't exist)"
            ),
        ),
        Refusal::Disabled => Reply::new(
            550,
            "5.2.1",
            format!("<{address}>: Recipient address rejected: mailbox disabled"),
        ),
        Refusal::DomainSuspended => Reply::new(
            451,
            "4.3.2",
            format!(
                "<{address}>: Recipient address rejected: domain temporarily suspended, try again later"
            ),
        ),
        Refusal::MailboxFull => Reply::new(452, "4.2.2", format!("<{address}>: Mailbox full")),
        Refusal::InvalidSrs => Reply::new(
            550,
            "5.1.1",
            format!(
                "<{address}>: Recipient address rejected: invalid or expired forwarding (SRS) address"
            ),
        ),
    }
}
