//! One IMAP connection: the read loop, states (RFC 3501 3) and dispatch.

use std::net::SocketAddr;
use std::sync::Arc;

use bounded_static::IntoBoundedStatic;
use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::fragmentizer::DecodeMessageError;
use imap_codec::imap_types::command::{Command, CommandBody};
use mailroom_core::store::Account;
use mailroom_net::{Shutdown, Stream};

use crate::ext::Extension;
use crate::io::{ImapIo, Received};
use crate::server::ImapServer;
use crate::view::{Announce, MailboxView};

/// The end of a command: its tagged status line.
pub struct Done {
    pub status: &'static str,
    pub code: Option<String>,
    pub text: String,
}

impl Done {
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            status: "OK",
            code: None,
            text: text.into(),
        }
    }
    pub fn no(text: impl Into<String>) -> Self {
        Self {
            status: "NO",
            code: None,
            text: text.into(),
        }
    }
    pub fn bad(text: impl Into<String>) -> Self {
        Self {
            status: "BAD",
            code: None,
            text: text.into(),
        }
    }
    /// The command already answered itself (STARTTLS, AUTHENTICATE abort).
    pub fn silent() -> Self {
        Self {
            status: "",
            code: None,
            text: String::new(),
        }
    }
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

/// Extensions the client turned on with ENABLE (RFC 5161).
#[derive(Debug, Clone, Copy, Default)]
pub struct Enabled {
    pub condstore: bool,
    pub qresync: bool,
    pub utf8: bool,
    /// IMAP4rev2 (RFC 9051): ESEARCH results, no \\Recent, UTF-8 names.
    pub rev2: bool,
}

pub struct Session {
    pub server: Arc<ImapServer>,
    pub io: Option<ImapIo>,
    pub peer: SocketAddr,
    shutdown: Shutdown,
    pub account: Option<Account>,
    /// This session's slot among the account's sessions.
    pub account_slot: Option<mailroom_net::Permit<i64>>,
    /// What the user logged in with, re-checked when credentials change.
    pub access: Option<mailroom_core::security::Access>,
    pub selected: Option<MailboxView>,
    pub enabled: Enabled,
    /// Options of the current command that imap-codec does not parse.
    pub ext: Extension,
    /// The current command's set was `$` (RFC 5182), written out by us:
    /// an empty saved result is no error.
    pub set_was_saved: bool,
    bad_commands: u32,
    pub logout: bool,
}

impl Session {
    pub fn new(
        server: Arc<ImapServer>,
        stream: Stream,
        peer: SocketAddr,
        shutdown: Shutdown,
    ) -> Self {
        let max_literal = server.settings.max_literal;
        Self {
            server,
            io: Some(ImapIo::new(stream, max_literal)),
            peer,
            shutdown,
            account: None,
            account_slot: None,
            access: None,
            selected: None,
            enabled: Enabled::default(),
            ext: Extension::None,
            set_was_saved: false,
            bad_commands: 0,
            logout: false,
        }
    }

    pub fn io(&mut self) -> &mut ImapIo {
        self.io.as_mut().expect("the session has its connection")
    }

    pub fn untagged(&mut self, line: &str) {
        let io = self.io();
        io.write_str("* ");
        io.write_str(line);
        io.write_str("\r\n");
    }

    pub fn is_tls(&self) -> bool {
        self.io.as_ref().is_some_and(ImapIo::is_tls)
    }

    pub fn announce(&self, expunges: bool) -> Announce {
        Announce {
            expunges,
            vanished: self.enabled.qresync,
            modseq: self.enabled.condstore || self.enabled.qresync,
            recent: !self.enabled.rev2,
        }
    }

    pub async fn run(mut self) {
        let caps = self.capabilities().join(" ");
        self.untagged(&format!(
            "OK [CAPABILITY {caps}] {} IMAP ready",
            self.server.settings.hostname
        ));
        while !self.logout {
            let wait = if self.account.is_some() {
                self.server.settings.idle_timeout
            } else {
                self.server.settings.login_timeout
            };
            let shutdown = self.shutdown.clone();
            let received = tokio::select! {
                r = self.io().receive(wait) => r,
                _ = shutdown.triggered() => {
                    self.untagged("BYE [UNAVAILABLE] Server shutting down");
                    break;
                }
            };
            match received {
                Ok(Received::Message) => self.handle_message().await,
                Ok(Received::TooBig { tag }) => {
                    let tag = tag.unwrap_or_else(|| "*".into());
                    let line = format!("{tag} NO [TOOBIG] Literal too large\r\n");
                    self.io().write_str(&line);
                }
                Ok(Received::Closed) => break,
                Ok(Received::Unreadable { tag }) => {
                    let tag = tag.unwrap_or_else(|| "*".into());
                    let line = format!("{tag} BAD Literal too large to read\r\n");
                    self.io().write_str(&line);
                    self.untagged("BYE The rest of that command cannot be read");
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    self.untagged("BYE Autologout; idle for too long");
                    break;
                }
                Err(_) => return,
            }
            if self.bad_commands >= self.server.settings.max_bad_commands {
                self.untagged("BYE Too many invalid commands");
                break;
            }
        }
        if let Some(io) = self.io.take() {
            io.close().await;
        }
    }

    async fn handle_message(&mut self) {
        let decode = |bytes: &[u8], ext| match CommandCodec::default().decode(bytes) {
            Ok((_, command)) => Ok((command.into_static(), ext)),
            Err(_) => Err("BAD Syntax error in command".to_string()),
        };
        let mut failed_save = false;
        let (decoded, set_was_saved) = {
            let io = self.io.as_ref().expect("the session has its connection");
            let saved = crate::searchres::substitute(io.message(), self.selected.as_ref());
            let message = saved.as_deref().unwrap_or(io.message());
            let decoded = match crate::ext::rewrite(message) {
                Err(why) => Err(format!("BAD {why}")),
                Ok(Some((rewritten, ext))) => {
                    let saves =
                        matches!(&ext, Extension::SearchReturn(r) if r.iter().any(|o| o == "SAVE"));
                    let decoded = decode(&rewritten, ext);
                    failed_save = saves && decoded.is_err();
                    decoded
                }
                Ok(None) if saved.is_some() => decode(message, Extension::None),
                Ok(None) => match io.fragments().decode_message(&CommandCodec::default()) {
                    Ok(command) => Ok((command.into_static(), Extension::None)),
                    Err(DecodeMessageError::MessageTooLong { .. }) => {
                        Err("NO [TOOBIG] Command too long".to_string())
                    }
                    Err(_) => Err("BAD Syntax error in command".to_string()),
                },
            };
            (decoded, saved.is_some())
        };
        // RFC 5182 2.1: a SEARCH ... SAVE whose criteria are malformed
        // leaves `$` empty too.
        if let (true, Some(view)) = (failed_save, self.selected.as_mut()) {
            view.saved.clear();
        }
        if !self.access_still_allowed().await {
            self.untagged("BYE [ALERT] Access was revoked or the account disabled; log in again");
            self.logout = true;
            return;
        }
        match decoded {
            Ok((command, ext)) => {
                self.ext = ext;
                self.set_was_saved = set_was_saved;
                self.execute(command).await;
                self.ext = Extension::None;
                self.set_was_saved = false;
            }
            Err(answer) => {
                self.bad_commands += 1;
                let tag = self
                    .io
                    .as_ref()
                    .and_then(|io| io.fragments().decode_tag())
                    .map_or_else(|| "*".to_string(), |t| t.inner().to_string());
                let line = format!("{tag} {answer}\r\n");
                self.io().write_str(&line);
            }
        }
    }

    /// False once the device password this session used is revoked, the
    /// account disabled, or 2FA turned on under an account-password login.
    async fn access_still_allowed(&mut self) -> bool {
        let directory = self.server.directory.clone();
        match self.access.as_mut() {
            Some(access) => directory.still_allowed(access).await,
            None => true,
        }
    }

    async fn execute(&mut self, command: Command<'static>) {
        let tag = command.tag.inner().to_string();
        let body = command.body;
        // RFC 3501 7.4.1: no EXPUNGE while answering FETCH, STORE or SEARCH
        // (their UID forms may).
        let expunges_allowed = !matches!(
            body,
            CommandBody::Fetch { uid: false, .. }
                | CommandBody::Store { uid: false, .. }
                | CommandBody::Search { uid: false, .. }
                | CommandBody::Sort { uid: false, .. }
                | CommandBody::Thread { uid: false, .. }
        );
        if self.selected_mailbox_deleted() {
            return;
        }
        let done = self.dispatch(&tag, body).await;
        if done.status.is_empty() || self.io.is_none() {
            return;
        }
        if done.status == "BAD" {
            self.bad_commands += 1;
        }
        // RFC 5182 2.1: a SEARCH ... SAVE refused before it ran (a charset
        // we lack) leaves `$` empty too.
        if let Extension::SearchReturn(returns) = &self.ext
            && returns.iter().any(|r| r == "SAVE")
            && done.status != "OK"
            && let Some(view) = self.selected.as_mut()
        {
            view.saved.clear();
        }
        if self.selected.is_some() && done.status != "BAD" {
            self.sync_selected(expunges_allowed).await;
        }
        let code = done.code.map(|c| format!("[{c}] ")).unwrap_or_default();
        let line = format!("{tag} {} {code}{}\r\n", done.status, done.text);
        self.io().write_str(&line);
    }

    /// The selected mailbox was deleted elsewhere: its messages and
    /// numbers are gone, and nothing a command could do with them is
    /// true any more. The session ends, as Dovecot's does; the client
    /// reconnects and sees the mailboxes as they are.
    pub fn selected_mailbox_deleted(&mut self) -> bool {
        if !self.selected.as_mut().is_some_and(MailboxView::deleted) {
            return false;
        }
        self.untagged("BYE The selected mailbox was deleted by another session");
        self.logout = true;
        true
    }

    /// Announces what changed in the selected mailbox.
    pub async fn sync_selected(&mut self, expunges: bool) {
        let announce = self.announce(expunges);
        let mail = self.server.mail.clone();
        let Some(view) = self.selected.as_mut() else {
            return;
        };
        let before = view.uidnext;
        let mut lines = view.sync(announce);
        if view.uidnext > before {
            // New mail: \Recent here if this session is the first to see
            // it (RFC 3501 2.3.2); EXAMINE looks without taking.
            let from = if view.read_only {
                Some(mail.recent_from(&view.mailbox).max(before))
            } else {
                let up_to = view.uidnext;
                match mail.claim_recent(&view.mailbox, view.shared(), up_to).await {
                    // Never what this session was already told of.
                    Ok(from) => from.map(|f| f.max(before)),
                    Err(error) => {
                        tracing::warn!(%error, "claiming recent messages failed");
                        None
                    }
                }
            };
            if let Some(from) = from {
                view.add_recent(from, view.uidnext);
            }
            if announce.recent {
                lines.push(format!("* {} RECENT", view.recent_count()));
            }
        }
        let io = self.io.as_mut().expect("the session has its connection");
        for line in lines {
            io.write_str(&line);
            io.write_str("\r\n");
        }
    }

    async fn dispatch(&mut self, tag: &str, body: CommandBody<'static>) -> Done {
        use CommandBody as C;
        let authenticated = self.account.is_some();
        let selected = self.selected.is_some();
        match body {
            C::Capability => self.capability(),
            C::Noop => Done::ok("NOOP completed"),
            // RFC 3501 6.4.1: CHECK is a command of the selected state.
            C::Check if selected => Done::ok("CHECK completed"),
            C::Check => Done::bad("No mailbox selected"),
            C::Logout => {
                self.untagged("BYE Logging out");
                self.logout = true;
                Done::ok("LOGOUT completed")
            }
            C::Id { .. } => {
                self.untagged("ID (\"name\" \"mailroom\")");
                Done::ok("ID completed")
            }
            C::StartTLS => self.start_tls(tag).await,
            C::Login { username, password } if !authenticated => {
                self.login(username.as_ref(), password.declassify().as_ref())
                    .await
            }
            C::Authenticate {
                mechanism,
                initial_response,
            } if !authenticated => {
                self.authenticate(
                    tag,
                    mechanism,
                    initial_response.map(|r| r.declassify().to_vec()),
                )
                .await
            }
            C::Login { .. } | C::Authenticate { .. } => Done::bad("Already authenticated"),
            _ if !authenticated => Done::bad("Log in first"),
            C::Enable { capabilities } => self.enable(capabilities.as_ref()),
            C::Namespace => {
                self.untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
                Done::ok("NAMESPACE completed")
            }
            C::Select {
                mailbox,
                parameters,
            } => self.select(&mailbox, false, parameters).await,
            C::Examine {
                mailbox,
                parameters,
            } => self.select(&mailbox, true, parameters).await,
            C::Create { mailbox } => self.create(&mailbox).await,
            C::Delete { mailbox } => self.delete(&mailbox).await,
            C::Rename { from, to } => self.rename(&from, &to).await,
            C::Subscribe { mailbox } => self.subscribe(&mailbox, true).await,
            C::Unsubscribe { mailbox } => self.subscribe(&mailbox, false).await,
            C::List {
                reference,
                mailbox_wildcard,
            } => self.list(&reference, &mailbox_wildcard, false).await,
            C::Lsub {
                reference,
                mailbox_wildcard,
            } => self.list(&reference, &mailbox_wildcard, true).await,
            C::Status {
                mailbox,
                item_names,
            } => self.status(&mailbox, item_names.as_ref()).await,
            // RFC 6855 4: the UTF8 form is for clients that enabled it.
            C::Append { .. } if matches!(self.ext, Extension::Utf8Append) && !self.enabled.utf8 => {
                Done::bad("APPEND ... UTF8 needs ENABLE UTF8=ACCEPT first")
            }
            C::Append {
                mailbox,
                flags,
                date,
                message,
            } => self.append(&mailbox, flags, date, message).await,
            C::Idle => self.idle(tag).await,
            C::GetQuota { root } => self.get_quota(root.as_ref()).await,
            C::GetQuotaRoot { mailbox } => self.get_quota_root(&mailbox).await,
            C::SetQuota { .. } => Done::no("Quotas are set by an administrator").code("NOPERM"),
            _ if !selected => Done::bad("Select a mailbox first"),
            C::Close => self.close(true).await,
            C::Unselect => self.close(false).await,
            C::Expunge => self.expunge(None).await,
            C::ExpungeUid { sequence_set } => self.expunge(Some(&sequence_set)).await,
            C::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
                modifiers,
            } => {
                self.fetch(&sequence_set, macro_or_item_names, uid, &modifiers)
                    .await
            }
            C::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
                modifiers,
            } => {
                self.store(&sequence_set, kind, response, flags, uid, &modifiers)
                    .await
            }
            C::Copy {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(&sequence_set, &mailbox, uid, false).await,
            C::Move {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(&sequence_set, &mailbox, uid, true).await,
            // RFC 6855 3: after ENABLE UTF8=ACCEPT, SEARCH names no charset.
            C::Search {
                charset: Some(_), ..
            } if self.enabled.utf8 => Done::bad("No CHARSET after ENABLE UTF8=ACCEPT"),
            C::Search {
                charset: Some(charset),
                ..
            }
            | C::Sort { charset, .. }
            | C::Thread { charset, .. }
                if !known_charset(charset.as_ref()) =>
            {
                // RFC 3501 6.4.4: a charset we cannot search in is refused,
                // naming those we can.
                Done::no(format!("Unknown charset {}", charset.as_ref()))
                    .code("BADCHARSET (US-ASCII UTF-8)")
            }
            C::Search { criteria, uid, .. } => self.search(tag, criteria.as_ref(), uid).await,
            C::Sort {
                sort_criteria,
                search_criteria,
                uid,
                ..
            } => {
                self.sort(sort_criteria.as_ref(), search_criteria.as_ref(), uid)
                    .await
            }
            C::Thread {
                algorithm,
                search_criteria,
                uid,
                ..
            } => self.thread(&algorithm, search_criteria.as_ref(), uid).await,
            _ => Done::bad("Command not supported"),
        }
    }
}

/// Charsets SEARCH, SORT and THREAD accept: text in commands is read as
/// UTF-8, of which US-ASCII is a part.
fn known_charset(name: &str) -> bool {
    ["UTF-8", "US-ASCII", "UTF8"]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(name))
}
