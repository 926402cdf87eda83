//! The SMTP MX listener end to end: raw sockets, Python's smtplib and ssl,
//! and swaks against the real `mailroom serve`, and what each conversation
//! leaves in the store (read-only, through Python's sqlite3).

mod clients;
mod forwards;
mod limits;
mod outbound;
mod protocol;
mod recipients;
mod relay;
mod smuggling;
mod starttls;
pub(crate) mod submission;

use std::path::PathBuf;

use mailroom_testkit::{RawClient, Server};

/// The name every test server greets with (`mailroom_testkit` default).
pub const HOST: &str = "mail.example.test";
/// The envelope sender most tests use (a domain that is not hosted).
pub const SENDER: &str = "alice@sender.test";

/// One SMTP reply, every line as received (without CRLF).
#[derive(Debug, Clone)]
pub struct Reply {
    pub lines: Vec<String>,
}

impl Reply {
    pub fn code(&self) -> u16 {
        self.last()
            .get(..3)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("not an SMTP reply: {:?}", self.lines))
    }

    /// The last (or only) line, e.g. `250 2.0.0 OK`.
    pub fn last(&self) -> &str {
        self.lines.last().expect("a reply has a line")
    }

    /// The text after `NNN-` / `NNN ` on each line.
    pub fn texts(&self) -> Vec<&str> {
        self.lines
            .iter()
            .map(|l| l.get(4..).unwrap_or(""))
            .collect()
    }

    /// RFC 2034: every line of an error reply carries an enhanced status
    /// code whose class matches the reply code's first digit.
    pub fn assert_enhanced(&self, context: &str) {
        let class = &self.last()[..1];
        for line in &self.lines {
            let status = line.get(4..).unwrap_or("").split(' ').next().unwrap_or("");
            let parts: Vec<&str> = status.split('.').collect();
            let ok = parts.len() == 3
                && parts[0] == class
                && parts[1..]
                    .iter()
                    .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
            assert!(ok, "{context}: no enhanced status code in {line:?}");
        }
    }
}

/// A raw SMTP conversation over [`RawClient`].
pub struct Smtp {
    pub raw: RawClient,
}

impl Smtp {
    /// Connects and checks the greeting.
    pub fn connect(server: &Server) -> Smtp {
        let mut smtp = Smtp {
            raw: RawClient::connect(server.addr("smtp")),
        };
        let greeting = smtp.reply();
        assert_eq!(greeting.last(), format!("220 {HOST} ESMTP mailroom"));
        smtp
    }

    /// Connects, greets and says EHLO.
    pub fn ready(server: &Server) -> Smtp {
        let mut smtp = Smtp::connect(server);
        let ehlo = smtp.cmd("EHLO client.example");
        assert_eq!(ehlo.code(), 250, "{:?}", ehlo.lines);
        smtp
    }

    /// The next reply; panics if the server closed the connection.
    pub fn reply(&mut self) -> Reply {
        let mut lines = Vec::new();
        loop {
            let line = self.raw.read_line().unwrap_or_else(|| {
                panic!("the server closed the connection; reply so far: {lines:?}")
            });
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return Reply { lines };
            }
        }
    }

    pub fn send(&mut self, text: &str) {
        self.raw.send(text);
    }

    /// Sends one command line (CRLF added) and reads its reply.
    pub fn cmd(&mut self, line: &str) -> Reply {
        self.raw.send(&format!("{line}\r\n"));
        self.reply()
    }

    /// Sends a command and asserts that its reply's last line starts with
    /// `expected`.
    pub fn expect(&mut self, line: &str, expected: &str) -> Reply {
        let reply = self.cmd(line);
        assert!(
            reply.last().starts_with(expected),
            "{line:?}: expected {expected:?}, got {:?}",
            reply.lines
        );
        reply
    }

    /// Sends a message's content after a 354 (dot-stuffing it) with the end
    /// of data, and returns the reply to it.
    pub fn data_content(&mut self, message: &str) -> Reply {
        self.raw.send(&dot_stuff(message));
        self.raw.send(".\r\n");
        self.reply()
    }

    /// True if the server closed the connection without sending more.
    pub fn closed(&mut self) -> bool {
        match self.raw.read_line() {
            None => true,
            Some(line) => panic!("expected the connection to close, got {line:?}"),
        }
    }

    pub fn quit(mut self) {
        self.expect("QUIT", "221 2.0.0");
        assert!(self.closed());
    }
}

/// RFC 5321 4.5.2: a line starting with "." gets another one.
pub fn dot_stuff(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 8);
    for line in message.split_inclusive("\r\n") {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
    }
    if !out.ends_with("\r\n") {
        out.push_str("\r\n");
    }
    out
}

/// A small message with CRLF line endings.
pub fn message(subject: &str, body: &str) -> String {
    format!(
        "From: <{SENDER}>\r\nTo: <bob@example.test>\r\nSubject: {subject}\r\nMessage-ID: <{}@sender.test>\r\n\r\n{body}\r\n",
        subject.replace(' ', ".")
    )
}

/// Runs one whole transaction; every RCPT must be accepted. Returns the
/// reply to the end of data.
pub fn transaction(server: &Server, from: &str, recipients: &[&str], content: &str) -> Reply {
    let mut smtp = Smtp::ready(server);
    smtp.expect(&format!("MAIL FROM:<{from}>"), "250 2.1.0");
    for rcpt in recipients {
        smtp.expect(&format!("RCPT TO:<{rcpt}>"), "250 2.1.5");
    }
    smtp.expect("DATA", "354");
    let reply = smtp.data_content(content);
    smtp.quit();
    reply
}

/// Delivers a message that must be accepted; returns the queue id of the
/// `250 2.0.0 OK: queued as ID` reply.
pub fn deliver(server: &Server, recipients: &[&str], content: &str) -> String {
    let reply = transaction(server, SENDER, recipients, content);
    queue_id(&reply)
}

pub fn queue_id(reply: &Reply) -> String {
    reply
        .last()
        .strip_prefix("250 2.0.0 OK: queued as ")
        .unwrap_or_else(|| panic!("not accepted: {:?}", reply.lines))
        .to_string()
}

/// The RCPT reply (last line) for `address` in a fresh session.
pub fn rcpt_reply(server: &Server, address: &str) -> String {
    let mut smtp = Smtp::ready(server);
    smtp.expect(&format!("MAIL FROM:<{SENDER}>"), "250 2.1.0");
    let reply = smtp.cmd(&format!("RCPT TO:<{address}>"));
    smtp.quit();
    reply.last().to_string()
}

/// One message as stored in a mailbox.
#[derive(Debug, Clone)]
pub struct Stored {
    pub uid: u32,
    pub modseq: u64,
    pub size: u64,
    pub blob_id: String,
    /// The headers added at delivery (Return-Path, Received).
    pub prefix: String,
    /// The message as received.
    pub body: Vec<u8>,
}

impl Stored {
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// What a client reading the message sees: prefix then body.
    pub fn full(&self) -> Vec<u8> {
        let mut all = self.prefix.as_bytes().to_vec();
        all.extend_from_slice(&self.body);
        all
    }

    /// Checks the trace headers (RFC 5321 4.4) added for `recipient`.
    pub fn assert_trace(&self, return_path: &str, helo: &str, protocol: &str, recipient: &str) {
        let after = trace_start(&self.prefix, return_path, helo);
        let head = format!("\r\n\tby {HOST} (mailroom) with {protocol} id ");
        assert!(
            after.starts_with(&head),
            "prefix {:?} should go on with {head:?}",
            self.prefix
        );
        let names = format!("\r\n\tfor <{recipient}>; ");
        assert!(
            self.prefix.contains(&names),
            "prefix {:?} should name the recipient ({names:?})",
            self.prefix
        );
        assert!(self.prefix.ends_with("\r\n"), "{:?}", self.prefix);
        assert_eq!(self.size, self.full().len() as u64, "size is prefix + body");
    }
}

/// What follows `Return-Path: <..>` and `Received: from HELO (NAME
/// [127.0.0.1])`: RFC 5321 4.4 TCP-info, the client's address with the
/// name its reverse DNS gives (here whatever the hosts file maps 127.0.0.1
/// to, which differs between machines).
pub fn trace_start<'a>(prefix: &'a str, return_path: &str, helo: &str) -> &'a str {
    let start = format!("Return-Path: <{return_path}>\r\nReceived: from {helo} (");
    let rest = prefix
        .strip_prefix(&start)
        .unwrap_or_else(|| panic!("prefix {prefix:?} should start with {start:?}"));
    let (tcp_info, after) = rest
        .split_once("[127.0.0.1])")
        .unwrap_or_else(|| panic!("prefix {prefix:?} should give the client's address"));
    let name = tcp_info.strip_suffix(' ').unwrap_or(tcp_info);
    assert!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')),
        "the client's name {name:?} in {prefix:?}"
    );
    after
}

fn db_path(server: &Server) -> String {
    serde_json::to_string(&server.data_dir.join("mailroom.db")).expect("a path as JSON")
}

/// Runs a read-only query script on the store; it prints JSON.
fn query(server: &Server, body: &str) -> serde_json::Value {
    let script = format!(
        "import json, pathlib, sqlite3\n\
         db = sqlite3.connect(pathlib.Path({}).as_uri() + '?mode=ro', uri=True)\n\
         {body}\n",
        db_path(server)
    );
    let out = server.python(&script).ok();
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("query output is not JSON ({e}): {}", out.stdout))
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

pub fn blob_path(server: &Server, blob_id: &str) -> PathBuf {
    server
        .data_dir
        .join("blobs")
        .join(&blob_id[..2])
        .join(&blob_id[2..])
}

/// The live messages of `email`'s INBOX in UID order. A body is taken
/// from its `blobs` row when stored inline there (a `data` column), else
/// from its file under `data_dir/blobs`.
pub fn inbox(server: &Server, email: &str) -> Vec<Stored> {
    let rows = query(
        server,
        &format!(
            "inline = any(c[1] == 'data' for c in db.execute('PRAGMA table_info(blobs)'))\n\
             data = 'bl.data' if inline else 'NULL'\n\
             rows = db.execute('''SELECT m.uid, m.modseq, m.size, m.blob_id, m.prefix, ''' + data + '''
                 FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
                 JOIN accounts a ON a.id = b.account_id
                 LEFT JOIN blobs bl ON bl.id = m.blob_id
                 WHERE a.email = ? AND b.name = 'INBOX' AND b.deleted_at IS NULL
                   AND m.expunged_at IS NULL ORDER BY m.uid''', ({},)).fetchall()\n\
             hexed = lambda v: None if v is None else bytes(v).hex()\n\
             print(json.dumps([[r[0], r[1], r[2], r[3], hexed(r[4]), hexed(r[5])] for r in rows]))",
            serde_json::to_string(email).expect("JSON")
        ),
    );
    rows.as_array()
        .expect("a list of rows")
        .iter()
        .map(|r| {
            let blob_id = r[3].as_str().expect("blob id").to_string();
            let body = match r[5].as_str() {
                Some(inline) => unhex(inline),
                None => std::fs::read(blob_path(server, &blob_id))
                    .unwrap_or_else(|e| panic!("blob {blob_id}: {e}")),
            };
            Stored {
                uid: r[0].as_u64().expect("uid") as u32,
                modseq: r[1].as_u64().expect("modseq"),
                size: r[2].as_u64().expect("size"),
                blob_id,
                prefix: String::from_utf8(unhex(r[4].as_str().expect("prefix")))
                    .expect("a UTF-8 prefix"),
                body,
            }
        })
        .collect()
}

/// Messages stored anywhere, for every account.
pub fn message_count(server: &Server) -> u64 {
    query(
        server,
        "print(db.execute('SELECT count(*) FROM messages').fetchone()[0])",
    )
    .as_u64()
    .expect("a count")
}

/// The account's storage use as the CLI shows it.
pub fn used_bytes(server: &Server, email: &str) -> u64 {
    server
        .cli(&["--json", "account", "show", email])
        .ok()
        .json()["used_bytes"]
        .as_u64()
        .expect("used_bytes")
}

/// A server with the given `[smtp]` settings (TOML lines).
pub fn server_with(smtp: &str) -> Server {
    crate::builder().config(&format!("[smtp]\n{smtp}")).start()
}
